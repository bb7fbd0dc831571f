//! Source positions: every node of the syntax tree keeps the byte range it came from and the
//! 1-based line and column where it starts, so diagnostics and explanations point at the text.

use std::fmt;
use std::ops::Range;

/// A byte range of the policy source with the line and column (in characters) of its start.
/// Ordered by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub line: usize,
    pub column: usize,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// From the start of `self` to the end of `last`.
    pub fn until(self, last: Span) -> Span {
        Span {
            end: last.end.max(self.end),
            ..self
        }
    }
}

/// A place in a named policy file, printed `file:line:column`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub fn new(file: &str, span: Span) -> Self {
        Self {
            file: file.to_owned(),
            line: span.line,
            column: span.column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Where each line of a source starts, to turn byte offsets into lines and columns.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(source: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(at, _)| at + 1));
        Self { starts }
    }

    pub(crate) fn span(&self, source: &str, range: Range<usize>) -> Span {
        let line = self.starts.partition_point(|&start| start <= range.start);
        let line_start = self.starts[line - 1];
        Span {
            line,
            column: source[line_start..range.start].chars().count() + 1,
            start: range.start,
            end: range.end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based_and_count_characters() {
        let source = "ab\nçd=x\n";
        let index = LineIndex::new(source);
        let equals = source.find('=').unwrap();
        let span = index.span(source, equals..equals + 1);
        assert_eq!((span.line, span.column), (2, 3));
        assert_eq!(index.span(source, 0..1).line, 1);
    }
}
