//! What a Dockerfile that cannot be read looks like to a person: the
//! problem, its line and column, and the source under a label (miette).

use std::ops::Range;
use std::sync::Arc;

use miette::{NamedSource, SourceSpan};

/// A Dockerfile that cannot be parsed. Displays as
/// `Dockerfile:LINE:COLUMN: problem`; as a [`miette::Diagnostic`] it
/// shows the offending text under a label.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}:{}:{}: {}", .place.name, .line, .column, .message)]
pub struct ParseError {
    /// What is wrong ("unknown instruction FORM").
    pub message: String,
    /// 1-based line of the problem.
    pub line: u32,
    /// 1-based column (in characters) of the problem.
    pub column: u32,
    /// Kept apart so that a `Result` carrying the error stays small.
    place: Box<Place>,
}

#[derive(Debug, Clone)]
struct Place {
    name: String,
    source_code: NamedSource<Arc<str>>,
    span: SourceSpan,
    label: String,
    help: Option<String>,
}

impl ParseError {
    /// An error at `range` (byte offsets) of `text`.
    pub(crate) fn at(text: &Arc<str>, range: Range<usize>, problem: Problem) -> ParseError {
        let start = range.start.min(text.len());
        let mut end = range.end.clamp(start, text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let (line, column) = line_column(text, start);
        let name = "Dockerfile".to_string();
        ParseError {
            message: problem.message,
            line,
            column,
            place: Box::new(Place {
                label: problem.label.unwrap_or_else(|| "here".into()),
                source_code: NamedSource::new(name.clone(), Arc::clone(text)),
                name,
                span: SourceSpan::from(start..end),
                help: problem.help,
            }),
        }
    }

    /// The same error naming the file it came from (shown before the
    /// line number and above the snippet).
    pub fn with_file_name(mut self, name: impl Into<String>) -> ParseError {
        let place = &mut self.place;
        place.name = name.into();
        let text = Arc::clone(place.source_code.inner());
        place.source_code = NamedSource::new(place.name.clone(), text);
        self
    }

    /// Byte offset and length of the text the error points at.
    pub fn span(&self) -> (usize, usize) {
        (self.place.span.offset(), self.place.span.len())
    }
}

impl miette::Diagnostic for ParseError {
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.place.source_code)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let label =
            miette::LabeledSpan::new_with_span(Some(self.place.label.clone()), self.place.span);
        Some(Box::new(std::iter::once(label)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.place
            .help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn std::fmt::Display>)
    }
}

/// 1-based line and column (counted in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (to_u32(line), to_u32(column))
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A problem found in one instruction line, before it is placed in the
/// file: the range indexes the joined line (`None`: the whole
/// instruction).
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub message: String,
    pub at: Option<Range<usize>>,
    pub label: Option<String>,
    pub help: Option<String>,
}

impl Problem {
    pub(crate) fn new(message: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            at: None,
            label: None,
            help: None,
        }
    }

    /// The problem at `at` in the line, unless it is already placed.
    pub(crate) fn at(mut self, at: Range<usize>) -> Problem {
        if self.at.is_none() {
            self.at = Some(at);
        }
        self
    }

    pub(crate) fn label(mut self, label: impl Into<String>) -> Problem {
        self.label = Some(label.into());
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }
}
