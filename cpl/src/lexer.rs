//! The lexer: turns CPL source into logical lines of tokens. A `\` ending a line (after a
//! blank) joins the next line; a `;` at the start of a line or after a blank starts a comment
//! that runs to the end of the logical line, continuation included, as the CPL Guide
//! specifies. Hand-written: no crate parses CPL, and the language is line-oriented enough for
//! a small scanner.

use crate::diagnostic::Diagnostic;
use crate::span::{LineIndex, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Word,
    Quoted,
    Equals,
    OpenParen,
    CloseParen,
    Comma,
    Bang,
    And,
    Or,
    OpenAngle,
    CloseAngle,
    OpenBracket,
    CloseBracket,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub kind: TokenKind,
    /// As written; for [`TokenKind::Quoted`] without the quotes.
    pub text: String,
    pub span: Span,
    /// Whether a blank (or the start of the line) comes right before it.
    pub spaced: bool,
}

impl Token {
    pub(crate) fn is_word(&self, keyword: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(keyword)
    }

    /// The token as it appears in the source, for messages.
    pub(crate) fn written(&self) -> String {
        match self.kind {
            TokenKind::Quoted => format!("\"{}\"", self.text),
            _ => self.text.clone(),
        }
    }
}

#[derive(Debug)]
pub(crate) struct LogicalLine {
    pub tokens: Vec<Token>,
}

const PUNCTUATION: &[(char, TokenKind)] = &[
    ('=', TokenKind::Equals),
    ('(', TokenKind::OpenParen),
    (')', TokenKind::CloseParen),
    (',', TokenKind::Comma),
    ('!', TokenKind::Bang),
    ('<', TokenKind::OpenAngle),
    ('>', TokenKind::CloseAngle),
    ('[', TokenKind::OpenBracket),
    (']', TokenKind::CloseBracket),
];

/// Blanks, including the invisible ones pasted from web pages and word processors: no-break
/// spaces, the other Unicode spaces, zero-width spaces and byte-order marks.
fn is_blank(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\u{feff}' | '\u{a0}' | '\u{2000}'
            ..='\u{200b}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// `#if …`, `#elif …`, `#else`, `#endif`: the Guide's conditional compilation directives.
/// Both branches are read as policy (this tool does not know the appliance's release).
fn is_directive(line: &str) -> bool {
    let word = line
        .trim_start_matches(is_blank)
        .split(|c: char| is_blank(c) || c == '=')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    matches!(word.as_str(), "#if" | "#elif" | "#else" | "#endif")
}

fn ends_word(c: char) -> bool {
    is_blank(c)
        || c.is_control()
        || c == '"'
        || c == '\''
        || PUNCTUATION.iter().any(|(p, _)| *p == c)
}

/// Logical lines with at least one token, in source order.
pub(crate) fn lex(
    source: &str,
    index: &LineIndex,
    file: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<LogicalLine> {
    let mut scanner = Scanner {
        source,
        index,
        file,
        diagnostics,
    };
    let mut lines = Vec::new();
    let mut segments = Vec::new();
    for (start, end) in physical_lines(source) {
        let text = &source[start..end];
        if segments.is_empty() && is_directive(text) {
            continue;
        }
        let trimmed = text.trim_end_matches([' ', '\t']);
        if let Some(before) = trimmed.strip_suffix('\\') {
            if before.is_empty() || before.ends_with([' ', '\t']) {
                segments.push((start, start + before.len()));
                continue;
            }
        }
        segments.push((start, end));
        lines.push(scanner.tokenize(&segments));
        segments.clear();
    }
    if !segments.is_empty() {
        lines.push(scanner.tokenize(&segments));
    }
    lines.retain(|line| !line.tokens.is_empty());
    lines
}

/// Byte ranges of the lines, without their `\n` or `\r\n`.
fn physical_lines(source: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut next = 0;
    source.split_inclusive('\n').map(move |piece| {
        let start = next;
        next += piece.len();
        let content = piece.strip_suffix('\n').unwrap_or(piece);
        let content = content.strip_suffix('\r').unwrap_or(content);
        (start, start + content.len())
    })
}

struct Scanner<'a> {
    source: &'a str,
    index: &'a LineIndex,
    file: &'a str,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Scanner<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        self.index.span(self.source, start..end)
    }

    fn tokenize(&mut self, segments: &[(usize, usize)]) -> LogicalLine {
        let mut tokens = Vec::new();
        for (number, &(segment_start, segment_end)) in segments.iter().enumerate() {
            let text = &self.source[segment_start..segment_end];
            let mut spaced = true;
            let mut offset = 0;
            while let Some(c) = text[offset..].chars().next() {
                let at = segment_start + offset;
                if is_blank(c) {
                    spaced = true;
                    offset += c.len_utf8();
                    continue;
                }
                if c == ';' && spaced {
                    self.warn_if_comment_continues(at, &segments[number + 1..]);
                    return LogicalLine { tokens };
                }
                let (kind, length, token_text) = if c == '"' || c == '\'' {
                    match text[offset + 1..].find(c) {
                        Some(length) => (
                            TokenKind::Quoted,
                            length + 2,
                            text[offset + 1..offset + 1 + length].to_owned(),
                        ),
                        None => {
                            self.diagnostics.push(
                                Diagnostic::error(self.file, "unterminated string")
                                    .at(self.span(at, segment_end), format!("no closing {c}")),
                            );
                            break;
                        }
                    }
                } else if let Some((_, kind)) = PUNCTUATION.iter().find(|(p, _)| *p == c) {
                    (*kind, 1, c.to_string())
                } else if (c == '&' || c == '|') && text[offset + 1..].starts_with(c) {
                    let kind = if c == '&' {
                        TokenKind::And
                    } else {
                        TokenKind::Or
                    };
                    (kind, 2, text[offset..offset + 2].to_owned())
                } else if c.is_control() {
                    self.diagnostics.push(
                        Diagnostic::error(
                            self.file,
                            format!("unexpected control character U+{:04X}", u32::from(c)),
                        )
                        .at(self.span(at, at + c.len_utf8()), ""),
                    );
                    offset += c.len_utf8();
                    spaced = true;
                    continue;
                } else {
                    let length = word_length(&text[offset..]);
                    (
                        TokenKind::Word,
                        length,
                        text[offset..offset + length].to_owned(),
                    )
                };
                tokens.push(Token {
                    kind,
                    text: token_text,
                    span: self.span(at, at + length),
                    spaced,
                });
                spaced = false;
                offset += length;
            }
        }
        LogicalLine { tokens }
    }

    /// A comment swallows the lines its `\` continues: say so when they hold anything.
    fn warn_if_comment_continues(&mut self, comment_start: usize, rest: &[(usize, usize)]) {
        let swallowed = rest.iter().find_map(|&(start, end)| {
            let text = &self.source[start..end];
            let trimmed = text.trim_start_matches(is_blank);
            let content_start = start + (text.len() - trimmed.len());
            let content = trimmed.trim_end_matches(is_blank);
            (!content.is_empty()).then(|| self.span(content_start, content_start + content.len()))
        });
        if let Some(swallowed) = swallowed {
            let comment = self.span(comment_start, comment_start + 1);
            self.diagnostics.push(
                Diagnostic::warning(self.file, "this line is part of a comment")
                    .at(swallowed, "ignored")
                    .also_at(comment, "the comment starts here and ends with `\\`")
                    .help("a `\\` at the end of a comment line continues the comment; remove it"),
            );
        }
    }
}

/// Length in bytes of the word starting `text`: up to a blank, punctuation, a quote, a control
/// character, or `&&` / `||`.
fn word_length(text: &str) -> usize {
    let mut length = 0;
    for (at, c) in text.char_indices() {
        let operator = (c == '&' || c == '|') && text[at + 1..].starts_with(c);
        if ends_word(c) || operator {
            break;
        }
        length = at + c.len_utf8();
    }
    length.max(text.chars().next().map_or(0, char::len_utf8))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(source: &str) -> (Vec<LogicalLine>, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let lines = lex(source, &LineIndex::new(source), "t.cpl", &mut diagnostics);
        (lines, diagnostics)
    }

    fn texts(line: &LogicalLine) -> Vec<&str> {
        line.tokens.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn a_backslash_after_a_blank_joins_the_next_line() {
        let (lines, diagnostics) = lines("url.domain=a.com \\\n    deny\nallow\n");
        assert!(diagnostics.is_empty());
        assert_eq!(lines.len(), 2);
        assert_eq!(texts(&lines[0]), ["url.domain", "=", "a.com", "deny"]);
        let deny = &lines[0].tokens[3];
        assert_eq!((deny.span.line, deny.span.column), (2, 5));
    }

    #[test]
    fn a_backslash_glued_to_a_word_is_part_of_it() {
        let (lines, _) = lines("url=a\\\ndeny\n");
        assert_eq!(lines.len(), 2);
        assert_eq!(texts(&lines[0]), ["url", "=", "a\\"]);
    }

    #[test]
    fn comments_start_at_a_semicolon_after_a_blank_and_swallow_continuations() {
        let (lines, diagnostics) = lines("deny ; why \\\nallow\n;whole line\nurl=a;b\n");
        assert_eq!(lines.len(), 2);
        assert_eq!(texts(&lines[0]), ["deny"]);
        assert_eq!(texts(&lines[1]), ["url", "=", "a;b"]);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].primary.as_ref().unwrap().span.line, 2);
    }

    #[test]
    fn quoted_strings_keep_blanks_and_semicolons() {
        let (lines, _) = lines("user=\"John ; Doe\" 'it''s'\n");
        let tokens = &lines[0].tokens;
        assert_eq!(tokens[2].kind, TokenKind::Quoted);
        assert_eq!(tokens[2].text, "John ; Doe");
        assert_eq!(tokens[3].text, "it");
        assert!(!tokens[4].spaced);
    }

    #[test]
    fn an_unterminated_string_is_reported() {
        let (_, diagnostics) = lines("user=\"John\n");
        assert_eq!(diagnostics[0].message, "unterminated string");
    }

    #[test]
    fn directives_are_skipped_and_no_break_spaces_are_blanks() {
        let (lines, diagnostics) =
            lines("#if release.version=6.5..\nurl.domain=a.com\u{a0}deny\n#endif\n");
        assert!(diagnostics.is_empty());
        assert_eq!(lines.len(), 1);
        assert_eq!(texts(&lines[0]), ["url.domain", "=", "a.com", "deny"]);
    }

    #[test]
    fn crlf_line_ends_and_operators() {
        let (lines, _) = lines("time=(0900..1200 || 1300..1700)\r\nx=a&&b\r\n");
        assert_eq!(
            texts(&lines[0]),
            ["time", "=", "(", "0900..1200", "||", "1300..1700", ")"]
        );
        assert_eq!(texts(&lines[1]), ["x", "=", "a", "&&", "b"]);
    }
}
