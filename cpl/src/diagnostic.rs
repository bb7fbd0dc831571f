//! Diagnostics: errors and warnings with a primary source span, secondary spans, notes and
//! help, rendered in the rustc/hurl style (`error: …`, ` --> file:line:column`, the source line
//! and a caret) by `annotate-snippets`, the renderer rustc itself uses.

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use crate::span::{Location, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A span of the source with the text shown under its caret (may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// One finding about a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub file: String,
    /// Where the finding is; `None` for findings about the whole file.
    pub primary: Option<Label>,
    pub secondary: Vec<Label>,
    pub notes: Vec<String>,
    pub help: Vec<String>,
    /// A stable identifier of the kind of finding (`unknown-name`, `undefined-reference` …),
    /// the rule id in SARIF.
    pub code: &'static str,
}

impl Diagnostic {
    pub fn error(file: &str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, file, message.into())
    }

    pub fn warning(file: &str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, file, message.into())
    }

    fn new(severity: Severity, file: &str, message: String) -> Self {
        Self {
            severity,
            message,
            file: file.to_owned(),
            primary: None,
            secondary: Vec::new(),
            notes: Vec::new(),
            help: Vec::new(),
            code: "cpl",
        }
    }

    /// Sets [`Diagnostic::code`].
    pub fn code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    pub fn at(mut self, span: Span, label: impl Into<String>) -> Self {
        self.primary = Some(Label {
            span,
            text: label.into(),
        });
        self
    }

    pub fn also_at(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            text: label.into(),
        });
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help.push(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:column` of the primary span, if there is one.
    pub fn location(&self) -> Option<Location> {
        self.primary
            .as_ref()
            .map(|label| Location::new(&self.file, label.span))
    }

    /// The diagnostic as rustc would print it, without colours. `source` is the text the
    /// spans point into; spans that do not fit it are left out rather than trusted.
    pub fn render(&self, source: &str) -> String {
        Renderer::plain().render(&[self.group(source)])
    }

    fn group<'a>(&'a self, source: &'a str) -> Group<'a> {
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let fits = |label: &&Label| {
            label.span.start <= label.span.end
                && source.get(label.span.range()).is_some()
                && !label.span.range().is_empty()
        };
        let mut group = Group::with_title(level.primary_title(self.message.as_str()));
        match self.primary.as_ref().filter(fits) {
            Some(primary) => {
                let mut snippet = Snippet::source(source).path(self.file.as_str()).annotation(
                    AnnotationKind::Primary
                        .span(primary.span.range())
                        .label(non_empty(&primary.text)),
                );
                for label in self.secondary.iter().filter(fits) {
                    snippet = snippet.annotation(
                        AnnotationKind::Context
                            .span(label.span.range())
                            .label(non_empty(&label.text)),
                    );
                }
                group = group.element(snippet);
            }
            None => group = group.element(Origin::path(self.file.as_str())),
        }
        for note in &self.notes {
            group = group.element(Level::NOTE.message(note.as_str()));
        }
        for help in &self.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        group
    }
}

fn non_empty(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// Every diagnostic, one after the other, then a summary line such as
/// `policies/cpl/x.cpl: 2 errors, 1 warning`.
pub fn render_report(diagnostics: &[Diagnostic], source: &str, file: &str) -> String {
    let mut report = String::new();
    for diagnostic in diagnostics {
        report.push_str(&diagnostic.render(source));
        report.push_str("\n\n");
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    report.push_str(&format!(
        "{file}: {}, {}\n",
        count(errors, "error"),
        count(warnings, "warning")
    ));
    report
}

pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::LineIndex;

    #[test]
    fn renders_file_line_column_the_line_and_a_caret() {
        let source = "<Proxy>\nurl.domain=x deny\n";
        let start = source.find("deny").unwrap();
        let span = LineIndex::new(source).span(source, start..start + 4);
        let text = Diagnostic::error("p.cpl", "denied")
            .at(span, "here")
            .help("allow it")
            .render(source);
        assert_eq!(
            text,
            "error: denied\n --> p.cpl:2:14\n  |\n2 | url.domain=x deny\n  |              ^^^^ here\n  |\n  = help: allow it"
        );
    }

    #[test]
    fn a_span_outside_the_source_renders_as_a_file_level_finding() {
        let span = Span {
            line: 9,
            column: 1,
            start: 100,
            end: 104,
        };
        let text = Diagnostic::warning("p.cpl", "odd")
            .at(span, "")
            .render("short");
        assert!(text.starts_with("warning: odd\n"), "{text}");
        assert!(text.contains("p.cpl"), "{text}");
    }
}
