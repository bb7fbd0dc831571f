//! The parser: builds the [`Policy`] tree from the lexer's logical lines — definitions
//! (`define … condition NAME` … `end`), layers (`<Proxy>`, `<Cache>`, `<SSL-Intercept>`, …
//! with guards), sections (`[Rule]`, `[url.domain]`, …) and rules of triggers, properties and
//! `ALLOW`/`DENY` — case-insensitively, keeping every node's span. Hand-written (no CPL crate
//! exists). Mistakes that still leave a usable tree (a malformed token, a missing `end`)
//! become diagnostics carried by the policy; only input that is not a policy at all (empty,
//! binary, or mostly unparsable) fails the parse.

use crate::ast::{
    Action, ActionKind, Atom, ConditionDefinition, ConditionEntry, ConditionKind, Item, Layer,
    LayerKind, Malformed, Name, OtherDefinition, Policy, Property, Rule, Section, SectionKind,
    Trigger, ValueExpr,
};
use crate::diagnostic::{count, Diagnostic};
use crate::lexer::{lex, Token, TokenKind};
use crate::reference;
use crate::span::{LineIndex, Span};
use crate::trigger_test::Test;

/// Past this many errors, when they also outnumber half the lines, the input is not CPL.
const TOO_MANY_ERRORS: usize = 20;

/// Parses `source`, naming it `file_name` in spans and diagnostics.
///
/// `Err` only when the text is not a policy at all; recoverable mistakes are kept in
/// [`Policy::parse_diagnostics`].
pub fn parse(source: &str, file_name: &str) -> Result<Policy, Vec<Diagnostic>> {
    if source.contains('\0') {
        return Err(vec![Diagnostic::error(
            file_name,
            "not a text policy: the file contains NUL bytes",
        )]);
    }
    if source.trim().is_empty() {
        return Err(vec![Diagnostic::error(
            file_name,
            "the file is empty: there is no policy to read",
        )]);
    }
    let index = LineIndex::new(source);
    let mut diagnostics = Vec::new();
    let lines = lex(source, &index, file_name, &mut diagnostics);
    if lines.is_empty() && diagnostics.is_empty() {
        return Err(vec![Diagnostic::error(
            file_name,
            "the file holds only comments: no layer, rule or definition",
        )]);
    }
    let mut parser = Parser {
        file: file_name,
        layers: Vec::new(),
        conditions: Vec::new(),
        other_definitions: Vec::new(),
        open_definition: None,
        in_layer: false,
        diagnostics,
    };
    for line in &lines {
        let before = parser.diagnostics.len();
        parser.line(&line.tokens);
        parser.keep_first_error(before);
    }
    parser.finish(source, &index);
    // One error per line: the lexer's and the parser's findings on the same line are usually
    // one mistake seen twice.
    let mut lines_with_errors = std::collections::HashSet::new();
    parser.diagnostics.retain(|d| {
        !d.is_error()
            || d.primary
                .as_ref()
                .is_none_or(|label| lines_with_errors.insert(label.span.line))
    });
    let errors = parser.diagnostics.iter().filter(|d| d.is_error()).count();
    if errors > TOO_MANY_ERRORS && errors * 2 > lines.len() {
        let mut first: Vec<Diagnostic> = parser
            .diagnostics
            .into_iter()
            .filter(Diagnostic::is_error)
            .take(10)
            .collect();
        first.push(Diagnostic::error(
            file_name,
            format!(
                "this does not look like CPL: {} in {} lines; showing the first 10",
                count(errors, "error"),
                lines.len()
            ),
        ));
        return Err(first);
    }
    let mut policy = Policy {
        file_name: file_name.to_owned(),
        source: source.to_owned(),
        layers: parser.layers,
        conditions: parser.conditions,
        other_definitions: parser.other_definitions,
        parse_diagnostics: parser.diagnostics,
        condition_index: Default::default(),
        index: Default::default(),
    };
    policy.index_conditions();
    Ok(policy)
}

enum OpenDefinition {
    Condition(ConditionDefinition),
    Other(OtherDefinition),
}

/// Where an item list appears: what it may hold depends on it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Rule,
    Guard,
    Definition,
}

struct Parser<'f> {
    file: &'f str,
    layers: Vec<Layer>,
    conditions: Vec<ConditionDefinition>,
    other_definitions: Vec<OtherDefinition>,
    open_definition: Option<OpenDefinition>,
    /// Whether rules now belong to the last layer (or to a stray section's layer).
    in_layer: bool,
    diagnostics: Vec<Diagnostic>,
}

fn line_span(tokens: &[Token]) -> Span {
    tokens[0].span.until(tokens[tokens.len() - 1].span)
}

fn atom(token: &Token) -> Atom {
    Atom {
        text: token.text.clone(),
        quoted: token.kind == TokenKind::Quoted,
        span: token.span,
    }
}

fn name(token: &Token) -> Name {
    Name {
        text: token.text.clone(),
        span: token.span,
    }
}

impl Parser<'_> {
    /// One mistake on a line is reported once: later errors on the same line are usually its
    /// consequences.
    fn keep_first_error(&mut self, before: usize) {
        let mut seen_error = false;
        let mut index = before;
        while index < self.diagnostics.len() {
            if self.diagnostics[index].is_error() {
                if seen_error {
                    self.diagnostics.remove(index);
                    continue;
                }
                seen_error = true;
            }
            index += 1;
        }
    }

    fn error(&mut self, span: Span, message: impl Into<String>, label: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::error(self.file, message).at(span, label));
    }

    fn line(&mut self, tokens: &[Token]) {
        let first = &tokens[0];
        if self.open_definition.is_some() {
            if first.is_word("end") {
                return self.end_definition(tokens);
            }
            if first.is_word("define") || first.kind == TokenKind::OpenAngle {
                self.missing_end("the next layer or definition starts here", first.span);
            } else {
                return self.definition_entry(tokens);
            }
        }
        match first.kind {
            TokenKind::OpenAngle => self.layer_header(tokens),
            TokenKind::OpenBracket => self.section_header(tokens),
            _ if first.is_word("define") => self.define(tokens),
            _ if first.is_word("end") => self.error(
                line_span(tokens),
                "`end` without a `define`",
                "nothing to end here",
            ),
            _ => self.rule(tokens),
        }
    }

    fn layer_header(&mut self, tokens: &[Token]) {
        let Some(close) = tokens.iter().position(|t| t.kind == TokenKind::CloseAngle) else {
            return self.error(line_span(tokens), "layer header without `>`", "");
        };
        let header = &tokens[..=close];
        let span = line_span(header);
        let words = &header[1..close];
        let well_formed = words.first().is_some_and(|t| t.kind == TokenKind::Word)
            && words[1..]
                .iter()
                .all(|t| matches!(t.kind, TokenKind::Word | TokenKind::Quoted));
        if !well_formed {
            self.error(
                span,
                "malformed layer header",
                "expected `<Type>` or `<Type label>`",
            );
            // Keep a layer open so the rules that follow are not reported again.
            self.layers.push(Layer {
                kind: LayerKind::Unknown(
                    words
                        .iter()
                        .map(Token::written)
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                label: None,
                guard: Vec::new(),
                sections: Vec::new(),
                span,
            });
            self.in_layer = true;
            return;
        }
        if words.len() > 2 {
            self.error(
                words[2].span,
                "a layer header holds a type and at most one label",
                "unexpected",
            );
        }
        let kind = LayerKind::from_header(&words[0].text);
        if let LayerKind::Unknown(written) = &kind {
            let known = LayerKind::KNOWN.map(|k| format!("<{k}>")).join(", ");
            let mut diagnostic =
                Diagnostic::error(self.file, format!("unknown layer type `<{written}>`"))
                    .code("unknown-name")
                    .at(words[0].span, "not a CPL layer")
                    .note(format!("CPL layers are {known}"));
            if let Some(near) = reference::closest(written, reference::LAYER_TYPES.iter().copied())
            {
                diagnostic = diagnostic.help(format!("did you mean `<{near}>`?"));
            }
            self.diagnostics.push(diagnostic);
        }
        let guard = self.items(&tokens[close + 1..], Context::Guard);
        self.layers.push(Layer {
            kind,
            label: words.get(1).map(name),
            guard,
            sections: Vec::new(),
            span,
        });
        self.in_layer = true;
    }

    fn section_header(&mut self, tokens: &[Token]) {
        let Some(close) = tokens
            .iter()
            .position(|t| t.kind == TokenKind::CloseBracket)
        else {
            return self.error(line_span(tokens), "section header without `]`", "");
        };
        let span = line_span(&tokens[..=close]);
        let words = &tokens[1..close];
        let well_formed = matches!(words.len(), 1 | 2)
            && words[0].kind == TokenKind::Word
            && words[1..]
                .iter()
                .all(|t| matches!(t.kind, TokenKind::Word | TokenKind::Quoted));
        if !well_formed {
            return self.error(
                span,
                "malformed section header",
                "expected `[Type]` or `[Type label]`",
            );
        }
        let kind = SectionKind::from_header(&words[0].text);
        if let SectionKind::Unknown(written) = &kind {
            let mut diagnostic = Diagnostic::error(
                self.file,
                format!("unknown section type `[{written}]`"),
            )
            .code("unknown-name")
            .at(words[0].span, "not a CPL section")
            .note("CPL sections are [Rule], [url], [url.domain], [url.regex], [server_url.domain]");
            if let Some(near) =
                reference::closest(written, reference::SECTION_TYPES.iter().copied())
            {
                diagnostic = diagnostic.help(format!("did you mean `[{near}]`?"));
            }
            self.diagnostics.push(diagnostic);
        }
        let guard = self.items(&tokens[close + 1..], Context::Guard);
        let section = Section {
            kind,
            guard,
            rules: Vec::new(),
            span: Some(span),
        };
        if !self.in_layer {
            self.error(
                span,
                "section outside any layer",
                "no layer header before this section",
            );
            self.layers.push(Layer {
                kind: LayerKind::Outside,
                label: None,
                guard: Vec::new(),
                sections: Vec::new(),
                span,
            });
            self.in_layer = true;
        }
        if let Some(layer) = self.layers.last_mut() {
            layer.sections.push(section);
        }
    }

    fn rule(&mut self, tokens: &[Token]) {
        let span = line_span(tokens);
        let pattern_trigger = self
            .in_layer
            .then(|| self.layers.last())
            .flatten()
            .and_then(|layer| layer.sections.last())
            .and_then(|section| section.kind.pattern_trigger());
        let mut items = Vec::new();
        let mut rest = tokens;
        if let Some(trigger_name) = pattern_trigger {
            let first = &tokens[0];
            if matches!(first.kind, TokenKind::Word | TokenKind::Quoted) {
                items.push(Item::Trigger(Trigger {
                    test: Test::of(trigger_name),
                    name: Name {
                        text: trigger_name.to_owned(),
                        span: first.span,
                    },
                    negated: false,
                    value: ValueExpr::Atom(atom(first)),
                    span: first.span,
                }));
                rest = &tokens[1..];
            }
        }
        items.extend(self.items(rest, Context::Rule));
        let rule = Rule { items, span };
        if !self.in_layer {
            self.layers.push(Layer {
                kind: LayerKind::Outside,
                label: None,
                guard: Vec::new(),
                sections: vec![Section {
                    kind: SectionKind::Implicit,
                    guard: Vec::new(),
                    rules: vec![rule],
                    span: None,
                }],
                span,
            });
            return;
        }
        let Some(layer) = self.layers.last_mut() else {
            return;
        };
        if layer.sections.is_empty() {
            layer.sections.push(Section {
                kind: SectionKind::Implicit,
                guard: Vec::new(),
                rules: Vec::new(),
                span: None,
            });
        }
        if let Some(section) = layer.sections.last_mut() {
            section.rules.push(rule);
        }
    }

    fn define(&mut self, tokens: &[Token]) {
        let span = line_span(tokens);
        let words = &tokens[1..];
        if let Some(odd) = words.iter().find(|t| t.kind != TokenKind::Word) {
            self.error(odd.span, "unexpected token in a `define` line", "");
        }
        let keyword_count = words.iter().position(|t| t.is_word("condition"));
        let Some(keyword_count) = keyword_count else {
            // `define subnet`, `define action` … : kept, not modelled; the body runs to `end`.
            self.open_definition = Some(OpenDefinition::Other(OtherDefinition {
                keywords: words.first().map(|t| t.text.clone()).unwrap_or_default(),
                name: words.get(1).map(name),
                span,
            }));
            return;
        };
        let keywords: Vec<String> = words[..keyword_count]
            .iter()
            .map(|t| t.text.to_ascii_lowercase())
            .collect();
        let kind = match keywords.join(" ").as_str() {
            "" => ConditionKind::Condition,
            "url" => ConditionKind::Url,
            "url.domain" => ConditionKind::UrlDomain,
            "server_url.domain" => ConditionKind::ServerUrlDomain,
            "url.regex" => ConditionKind::UrlRegex,
            other => {
                let other = other.to_owned();
                self.open_definition = Some(OpenDefinition::Other(OtherDefinition {
                    keywords: format!("{other} condition"),
                    name: words.get(keyword_count + 1).map(name),
                    span,
                }));
                return;
            }
        };
        let Some(label) = words.get(keyword_count + 1) else {
            return self.error(span, "a condition definition needs a name", "name missing");
        };
        if let Some(extra) = words.get(keyword_count + 2) {
            self.error(
                extra.span,
                "unexpected words after the condition's name",
                "entries go on the following lines",
            );
        }
        self.open_definition = Some(OpenDefinition::Condition(ConditionDefinition {
            kind,
            name: name(label),
            entries: Vec::new(),
            span,
            end: None,
        }));
    }

    fn definition_entry(&mut self, tokens: &[Token]) {
        let span = line_span(tokens);
        let Some(OpenDefinition::Condition(definition)) = &self.open_definition else {
            return; // bodies of unmodelled definitions are skipped
        };
        let entry = if definition.kind == ConditionKind::Condition {
            ConditionEntry {
                pattern: None,
                items: self.items(tokens, Context::Definition),
                span,
            }
        } else if matches!(tokens[0].kind, TokenKind::Word | TokenKind::Quoted) {
            ConditionEntry {
                pattern: Some(atom(&tokens[0])),
                items: self.items(&tokens[1..], Context::Definition),
                span,
            }
        } else {
            return self.error(tokens[0].span, "expected a URL or domain pattern", "");
        };
        if let Some(OpenDefinition::Condition(definition)) = &mut self.open_definition {
            definition.entries.push(entry);
        }
    }

    fn end_definition(&mut self, tokens: &[Token]) {
        let span = line_span(tokens);
        match self.open_definition.take() {
            Some(OpenDefinition::Condition(mut definition)) => {
                definition.end = Some(span);
                self.check_end_words(&definition, &tokens[1..]);
                self.conditions.push(definition);
            }
            Some(OpenDefinition::Other(definition)) => self.other_definitions.push(definition),
            None => {}
        }
    }

    /// `end`, `end condition NAME`, `end url.domain condition NAME`: what follows `end` must
    /// agree with the `define` it closes.
    fn check_end_words(&mut self, definition: &ConditionDefinition, words: &[Token]) {
        if words.is_empty() {
            return;
        }
        let span = line_span(words);
        let mut keywords: Vec<String> = words.iter().map(|t| t.text.to_ascii_lowercase()).collect();
        let label = match keywords.last() {
            Some(last) if last != "condition" => keywords.pop(),
            _ => None,
        };
        let expected = definition.kind.keywords();
        let written = keywords.join(" ");
        let label_matches = label.as_deref().is_none_or(|l| definition.name.is(l));
        if (!written.is_empty() && written != expected) || !label_matches {
            self.diagnostics.push(
                Diagnostic::warning(
                    self.file,
                    format!(
                        "`end {}` does not match `define {expected} {}`",
                        words
                            .iter()
                            .map(|t| t.text.as_str())
                            .collect::<Vec<_>>()
                            .join(" "),
                        definition.name.text
                    ),
                )
                .at(span, "")
                .also_at(definition.span, "the definition it closes")
                .help(format!(
                    "write `end {expected} {}`, or just `end`",
                    definition.name.text
                )),
            );
        }
    }

    fn missing_end(&mut self, label: &str, at: Span) {
        let definition_span = match self.open_definition.take() {
            Some(OpenDefinition::Condition(definition)) => {
                let span = definition.span;
                self.conditions.push(definition);
                span
            }
            Some(OpenDefinition::Other(definition)) => {
                let span = definition.span;
                self.other_definitions.push(definition);
                span
            }
            None => return,
        };
        self.diagnostics.push(
            Diagnostic::error(self.file, "definition without `end`")
                .at(definition_span, "this `define` is never closed")
                .also_at(at, label),
        );
    }

    fn finish(&mut self, source: &str, index: &LineIndex) {
        if self.open_definition.is_some() {
            let trimmed = source.trim_end();
            let last_char = trimmed.char_indices().last().map_or(0, |(at, _)| at);
            let end = index.span(source, last_char..trimmed.len());
            self.missing_end("the file ends here", end);
        }
    }

    /// Triggers, properties and actions of a rule, guard or condition-definition line.
    fn items(&mut self, tokens: &[Token], context: Context) -> Vec<Item> {
        let mut items = Vec::new();
        let mut at = 0;
        while at < tokens.len() {
            let (item, next) = self.item(tokens, at);
            at = next.max(at + 1);
            let Some(item) = item else { continue };
            if context == Context::Definition && !matches!(item, Item::Trigger(_)) {
                self.error(
                    item.span(),
                    "a condition definition holds conditions, not properties or actions",
                    "not a trigger",
                );
                continue;
            }
            items.push(item);
        }
        items
    }

    /// The item starting at `tokens[at]` and the index after it.
    fn item(&mut self, tokens: &[Token], at: usize) -> (Option<Item>, usize) {
        let token = &tokens[at];
        let next = tokens.get(at + 1);
        match token.kind {
            TokenKind::Word => match next.map(|t| t.kind) {
                Some(TokenKind::Equals) => self.trigger(tokens, at, false),
                Some(TokenKind::Bang)
                    if tokens
                        .get(at + 2)
                        .is_some_and(|t| t.kind == TokenKind::Equals && !t.spaced) =>
                {
                    self.not_equals(tokens, at)
                }
                Some(TokenKind::OpenParen) => self.property(tokens, at),
                Some(TokenKind::Quoted) if next.is_some_and(|t| !t.spaced) => {
                    let quoted = &tokens[at + 1];
                    let span = token.span.until(quoted.span);
                    let text = format!("{}{}", token.text, quoted.written());
                    self.diagnostics.push(
                        Diagnostic::error(self.file, format!("malformed token `{text}`"))
                            .at(span, "a word runs into a quoted string")
                            .note("CPL reads this as neither an action nor a trigger, so the rule never matches")
                            .help(format!(
                                "separate `{}` from the string; a quoted string is only a value, as in `name=\"…\"`",
                                token.text
                            )),
                    );
                    (Some(Item::Malformed(Malformed { text, span })), at + 2)
                }
                _ => (self.bare_word(token), at + 1),
            },
            TokenKind::Bang
                if next.is_some_and(|t| t.kind == TokenKind::Word)
                    && tokens
                        .get(at + 2)
                        .is_some_and(|t| t.kind == TokenKind::Equals) =>
            {
                let (item, end) = self.trigger(tokens, at + 1, true);
                let item = item.map(|item| match item {
                    Item::Trigger(mut trigger) => {
                        trigger.span = token.span.until(trigger.span);
                        Item::Trigger(trigger)
                    }
                    other => other,
                });
                (item, end)
            }
            TokenKind::Quoted => {
                self.error(
                    token.span,
                    "a quoted string outside a trigger or property",
                    "a value without a name",
                );
                (
                    Some(Item::Malformed(Malformed {
                        text: token.written(),
                        span: token.span,
                    })),
                    at + 1,
                )
            }
            _ => {
                self.error(token.span, format!("unexpected `{}`", token.text), "");
                (
                    Some(Item::Malformed(Malformed {
                        text: token.text.clone(),
                        span: token.span,
                    })),
                    at + 1,
                )
            }
        }
    }

    /// `name!=value`: CPL has no `!=`; one error that says what to write, and the trigger read
    /// as the negation it meant.
    fn not_equals(&mut self, tokens: &[Token], at: usize) -> (Option<Item>, usize) {
        let name = &tokens[at];
        let operator = tokens[at + 1].span.until(tokens[at + 2].span);
        let value: String = tokens.get(at + 3).map(Token::written).unwrap_or_default();
        self.diagnostics.push(
            Diagnostic::error(self.file, "CPL has no `!=` operator")
                .code("syntax")
                .at(operator, "not a CPL operator")
                .help(format!(
                    "negate the value instead: `{}=!{value}` (or `!{}={value}`)",
                    name.text, name.text
                )),
        );
        let mut rewritten = vec![name.clone(), tokens[at + 2].clone()];
        rewritten.extend(tokens[at + 3..].iter().cloned());
        let (item, end) = self.trigger(&rewritten, 0, true);
        (item, at + 1 + end)
    }

    fn bare_word(&mut self, token: &Token) -> Option<Item> {
        let kind = match token.text.to_ascii_lowercase().as_str() {
            "allow" => Some(ActionKind::Allow),
            "deny" | "force_deny" | "deny.unauthorized" => Some(ActionKind::Deny),
            _ => None,
        };
        match kind {
            Some(kind) => Some(Item::Action(Action {
                kind,
                text: token.text.clone(),
                span: token.span,
            })),
            None => {
                let mut diagnostic =
                    Diagnostic::error(self.file, format!("unexpected word `{}`", token.text))
                        .code("syntax")
                        .at(token.span, "not a trigger, property or action");
                diagnostic = match reference::closest(&token.text, reference::BARE_ACTIONS.iter().copied()) {
                    Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
                    None => diagnostic.help("a trigger is `name=value`, a property `name(value)`, an action `ALLOW` or `DENY`"),
                };
                self.diagnostics.push(diagnostic);
                Some(Item::Malformed(Malformed {
                    text: token.text.clone(),
                    span: token.span,
                }))
            }
        }
    }

    /// `name=value` starting at `tokens[at]` (the name).
    fn trigger(&mut self, tokens: &[Token], at: usize, negated: bool) -> (Option<Item>, usize) {
        let equals = &tokens[at + 1];
        let mut cursor = at + 2;
        match value_expr(tokens, &mut cursor) {
            Ok(value) => {
                let last = &tokens[cursor - 1];
                let trigger = Trigger {
                    test: Test::of(&tokens[at].text),
                    name: name(&tokens[at]),
                    negated,
                    value,
                    span: tokens[at].span.until(last.span),
                };
                (Some(Item::Trigger(trigger)), cursor)
            }
            Err((span, message)) => {
                let span = span.unwrap_or(equals.span);
                self.error(span, message, "");
                let end = cursor.max(at + 2).min(tokens.len());
                let malformed_span = tokens[at].span.until(tokens[end - 1].span);
                (
                    Some(Item::Malformed(Malformed {
                        text: tokens[at..end]
                            .iter()
                            .map(Token::written)
                            .collect::<String>(),
                        span: malformed_span,
                    })),
                    end,
                )
            }
        }
    }

    /// `name(arg, …)` starting at `tokens[at]` (the name).
    fn property(&mut self, tokens: &[Token], at: usize) -> (Option<Item>, usize) {
        let open = &tokens[at + 1];
        let mut args = Vec::new();
        let mut cursor = at + 2;
        let mut expect_value = true;
        loop {
            let Some(token) = tokens.get(cursor) else {
                self.error(open.span, "unclosed `(`", "no matching `)`");
                let span = tokens[at].span.until(tokens[tokens.len() - 1].span);
                return (
                    Some(Item::Malformed(Malformed {
                        text: tokens[at].text.clone(),
                        span,
                    })),
                    tokens.len(),
                );
            };
            cursor += 1;
            match token.kind {
                TokenKind::CloseParen => break,
                TokenKind::Comma if !expect_value => expect_value = true,
                TokenKind::Word | TokenKind::Quoted if expect_value => {
                    args.push(atom(token));
                    expect_value = false;
                }
                _ => self.error(
                    token.span,
                    format!(
                        "unexpected `{}` in the value of `{}`",
                        token.text, tokens[at].text
                    ),
                    "",
                ),
            }
        }
        let span = tokens[at].span.until(tokens[cursor - 1].span);
        if args.is_empty() {
            self.error(span, format!("`{}()` has no value", tokens[at].text), "");
        }
        let property = Property {
            name: name(&tokens[at]),
            args,
            span,
            spaced: open.spaced,
        };
        (Some(Item::Property(property)), cursor)
    }
}

type ValueError = (Option<Span>, String);

/// A trigger's value: `value`, `!value`, or a parenthesised list joined by `,` / `||` (any)
/// and `&&` (all).
fn value_expr(tokens: &[Token], cursor: &mut usize) -> Result<ValueExpr, ValueError> {
    let Some(token) = tokens.get(*cursor) else {
        return Err((None, "a trigger without a value".to_owned()));
    };
    *cursor += 1;
    match token.kind {
        TokenKind::Word | TokenKind::Quoted => Ok(ValueExpr::Atom(atom(token))),
        TokenKind::Bang => Ok(ValueExpr::Not(Box::new(value_expr(tokens, cursor)?))),
        TokenKind::OpenParen => {
            let list = any_of(tokens, cursor)?;
            match tokens.get(*cursor) {
                Some(close) if close.kind == TokenKind::CloseParen => {
                    *cursor += 1;
                    Ok(list)
                }
                _ => Err((
                    Some(token.span),
                    "unclosed `(` in a trigger's value".to_owned(),
                )),
            }
        }
        _ => Err((
            Some(token.span),
            format!("expected a value, found `{}`", token.text),
        )),
    }
}

fn any_of(tokens: &[Token], cursor: &mut usize) -> Result<ValueExpr, ValueError> {
    let mut alternatives = vec![all_of(tokens, cursor)?];
    while tokens
        .get(*cursor)
        .is_some_and(|t| matches!(t.kind, TokenKind::Comma | TokenKind::Or))
    {
        *cursor += 1;
        alternatives.push(all_of(tokens, cursor)?);
    }
    Ok(single_or(alternatives, ValueExpr::Any))
}

fn all_of(tokens: &[Token], cursor: &mut usize) -> Result<ValueExpr, ValueError> {
    let mut terms = vec![value_expr(tokens, cursor)?];
    while tokens
        .get(*cursor)
        .is_some_and(|t| t.kind == TokenKind::And)
    {
        *cursor += 1;
        terms.push(value_expr(tokens, cursor)?);
    }
    Ok(single_or(terms, ValueExpr::All))
}

fn single_or(mut list: Vec<ValueExpr>, combine: fn(Vec<ValueExpr>) -> ValueExpr) -> ValueExpr {
    if list.len() == 1 {
        list.remove(0)
    } else {
        combine(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(source: &str) -> Policy {
        parse(source, "t.cpl").expect("parses")
    }

    #[test]
    fn layers_sections_rules_and_guards() {
        let policy = policy(
            "<Proxy> client.address=10.0.0.0/8\n[Rule] url.domain=a.com\ndeny\n<Cache>\nurl.domain=b.com cache(no)\n",
        );
        assert!(
            policy.parse_diagnostics.is_empty(),
            "{:?}",
            policy.parse_diagnostics
        );
        assert_eq!(policy.layers.len(), 2);
        assert_eq!(policy.layers[0].kind, LayerKind::Proxy);
        assert_eq!(policy.layers[0].guard.len(), 1);
        assert_eq!(policy.layers[0].sections[0].kind, SectionKind::Rule);
        assert_eq!(policy.layers[0].sections[0].guard.len(), 1);
        assert_eq!(policy.layers[1].kind, LayerKind::Cache);
        let (_, _, rule) = policy.rules().last().unwrap();
        assert_eq!(rule.properties().next().unwrap().value(), "no");
    }

    #[test]
    fn keywords_layers_and_names_are_case_insensitive() {
        let policy = policy(
            "DEFINE URL.DOMAIN CONDITION Wu\nexample.com\nEND\n<proxy>\nCondition=WU ALLOW Authenticate(No)\n<SSL-INTERCEPT>\ncondition=wu ssl.forward_proxy(no)\n",
        );
        assert!(
            policy.parse_diagnostics.is_empty(),
            "{:?}",
            policy.parse_diagnostics
        );
        assert_eq!(policy.conditions[0].kind, ConditionKind::UrlDomain);
        assert!(policy.condition("wU").is_some());
        assert_eq!(policy.layers[0].kind, LayerKind::Proxy);
        assert_eq!(policy.layers[1].kind, LayerKind::SslIntercept);
        let (_, _, rule) = policy.rules().next().unwrap();
        assert!(matches!(
            rule.items[1],
            Item::Action(Action {
                kind: ActionKind::Allow,
                ..
            })
        ));
        assert_eq!(rule.properties().next().unwrap().value(), "no");
    }

    #[test]
    fn a_continued_rule_is_one_rule_with_spans_on_each_line() {
        let policy =
            policy("<Proxy>\nurl.domain=a.com \\\n  authenticate(no) \\\n\tbypass_cache(yes)\n");
        let rules: Vec<_> = policy.rules().collect();
        assert_eq!(rules.len(), 1);
        let rule = rules[0].2;
        assert_eq!((rule.span.line, rule.span.column), (2, 1));
        let spans: Vec<(usize, usize)> = rule
            .items
            .iter()
            .map(|i| (i.span().line, i.span().column))
            .collect();
        assert_eq!(spans, [(2, 1), (3, 3), (4, 2)]);
        assert_eq!(
            policy.text_of(rule.span),
            "url.domain=a.com authenticate(no) bypass_cache(yes)"
        );
    }

    #[test]
    fn trigger_values_lists_negation_and_quotes() {
        let policy =
            policy("<Proxy>\nurl.domain=(a.com, b.com || c.com) user=!\"John Doe\" deny\n");
        let (_, _, rule) = policy.rules().next().unwrap();
        let triggers: Vec<_> = rule.triggers().collect();
        let atoms: Vec<_> = triggers[0]
            .atoms()
            .iter()
            .map(|(a, _)| a.text.clone())
            .collect();
        assert_eq!(atoms, ["a.com", "b.com", "c.com"]);
        let (john, negated) = triggers[1].atoms()[0];
        assert!(negated && john.quoted && john.text == "John Doe");
    }

    #[test]
    fn rules_before_any_layer_get_an_outside_layer_each() {
        let policy = policy("url.domain=a.com deny\nallow\n<Proxy>\ndeny\n");
        let kinds: Vec<_> = policy.layers.iter().map(|l| l.kind.clone()).collect();
        assert_eq!(
            kinds,
            [LayerKind::Outside, LayerKind::Outside, LayerKind::Proxy]
        );
    }

    #[test]
    fn a_word_glued_to_a_string_is_malformed_and_reported() {
        let policy = policy("<Proxy>\nAllow\"Microsoft Update\"  authenticate (no)\n");
        let (_, _, rule) = policy.rules().next().unwrap();
        assert!(
            matches!(&rule.items[0], Item::Malformed(m) if m.text == "Allow\"Microsoft Update\"")
        );
        let property = rule.properties().next().unwrap();
        assert!(property.spaced && property.value() == "no");
        let error = &policy.parse_diagnostics[0];
        assert_eq!(error.message, "malformed token `Allow\"Microsoft Update\"`");
        assert_eq!(error.location().unwrap().column, 1);
    }

    #[test]
    fn definitions_keep_entries_and_report_a_missing_end() {
        let policy = policy(
            "define url.domain condition A\na.com\n\"b.com\" client.address=10.0.0.1\n<Proxy>\n",
        );
        assert_eq!(policy.conditions[0].entries.len(), 2);
        assert_eq!(policy.conditions[0].entries[1].items.len(), 1);
        assert_eq!(
            policy.parse_diagnostics[0].message,
            "definition without `end`"
        );
    }

    #[test]
    fn an_end_that_names_another_kind_is_a_warning() {
        let policy = policy("define url condition A\nend condition A\n");
        let warning = &policy.parse_diagnostics[0];
        assert!(!warning.is_error());
        assert!(
            warning.help[0].contains("end url condition A"),
            "{:?}",
            warning.help
        );
    }

    #[test]
    fn labelled_sections_quoted_layer_labels_and_regex_conditions() {
        let policy = policy(
            "define url.regex condition Media\n\"\\.mp4$\"\nend\n<Proxy \"Web Access\">\n[Rule Streaming] url.scheme=http\ncondition=Media deny\n",
        );
        assert!(
            policy.parse_diagnostics.is_empty(),
            "{:?}",
            policy.parse_diagnostics
        );
        assert_eq!(policy.conditions[0].kind, ConditionKind::UrlRegex);
        assert_eq!(policy.layers[0].sections[0].kind, SectionKind::Rule);
    }

    #[test]
    fn a_malformed_layer_header_still_opens_a_layer() {
        let policy = policy("<(Proxy)>\ndeny\nallow\n");
        assert_eq!(
            policy.parse_diagnostics.len(),
            1,
            "{:?}",
            policy.parse_diagnostics
        );
        assert!(policy.layers.iter().all(|l| l.kind != LayerKind::Outside));
    }

    #[test]
    fn pattern_sections_read_their_first_word_as_the_trigger_value() {
        let policy = policy("<Proxy>\n[url.domain]\nwindowsupdate.com authenticate(no)\n");
        let (_, _, rule) = policy.rules().next().unwrap();
        let trigger = rule.triggers().next().unwrap();
        assert!(trigger.name.is("url.domain"));
        assert_eq!(trigger.atoms()[0].0.text, "windowsupdate.com");
    }

    #[test]
    fn input_that_is_not_a_policy_fails_with_one_clear_error() {
        for (source, expected) in [
            ("", "empty"),
            ("  \n\t\n", "empty"),
            ("; only\n;comments\n", "only comments"),
            ("\0\u{1}ELF", "NUL"),
        ] {
            let errors = parse(source, "x.cpl").unwrap_err();
            assert!(
                errors[0].message.contains(expected),
                "{source:?}: {errors:?}"
            );
        }
    }

    #[test]
    fn printable_garbage_is_rejected_without_panicking() {
        let garbage: String = (0..400u32)
            .map(|i| char::from_u32(33 + (i * 7919) % 90).unwrap())
            .collect::<String>()
            .replace('\\', "\n");
        let lines: String = garbage
            .as_bytes()
            .chunks(9)
            .map(|chunk| format!("{}\n", String::from_utf8_lossy(chunk)))
            .collect();
        let errors = match parse(&lines, "g.cpl") {
            Err(errors) => errors,
            Ok(policy) => policy.parse_diagnostics,
        };
        assert!(
            errors
                .iter()
                .any(|d| d.severity == crate::diagnostic::Severity::Error),
            "garbage parsed without an error: {errors:?}"
        );
        assert!(errors.iter().all(|d| d.file == "g.cpl"));
    }
}
