//! Diagnostics a person can act on: each error names the file, line and
//! column and carries the source so a renderer (miette) can show a snippet.
//! The loader collects every independent error of a file before giving up.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, Severity, SourceCode};

/// The text of every file the loader read, so spans can point into them.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<SourceFile>,
}

#[derive(Debug, Clone)]
struct SourceFile {
    path: PathBuf,
    named: NamedSource<Arc<str>>,
}

/// Which file a span is in (index into [`Sources`]).
pub type SourceId = u32;

/// A place in a source file: byte offset and length, plus 1-based line and
/// column as a person counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub source: SourceId,
    pub offset: u32,
    pub len: u32,
    pub line: u32,
    pub column: u32,
}

impl Sources {
    /// Registers a file's text; returns its id.
    pub fn add(&mut self, path: &Path, text: Arc<str>) -> SourceId {
        let named = NamedSource::new(path.display().to_string(), text);
        self.files.push(SourceFile {
            path: path.to_path_buf(),
            named,
        });
        (self.files.len() - 1) as SourceId
    }

    pub fn path(&self, id: SourceId) -> &Path {
        self.files
            .get(id as usize)
            .map(|f| f.path.as_path())
            .unwrap_or(Path::new("<unknown>"))
    }

    pub fn text(&self, id: SourceId) -> &str {
        self.files
            .get(id as usize)
            .map(|f| f.named.inner().as_ref())
            .unwrap_or("")
    }

    /// An error located at `span`, with a label under the snippet.
    pub fn error(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        let mut d = Diagnostic::new(message);
        if let Some(file) = self.files.get(span.source as usize) {
            d.location = Some(Location {
                file: file.path.clone(),
                line: span.line,
                column: span.column,
            });
            d.source = Some(file.named.clone());
            d.span = Some((span.offset as usize, span.len as usize));
        }
        d
    }
}

/// Where a diagnostic points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
}

/// One problem found while loading.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub message: String,
    pub location: Option<Location>,
    /// Text under the highlighted snippet.
    pub label: Option<String>,
    pub help: Option<String>,
    pub warning: bool,
    source: Option<NamedSource<Arc<str>>>,
    span: Option<(usize, usize)>,
}

impl Diagnostic {
    /// An error not tied to a place in a file (missing file, bad flag).
    pub fn new(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            location: None,
            label: None,
            help: None,
            warning: false,
            source: None,
            span: None,
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn into_warning(mut self) -> Diagnostic {
        self.warning = true;
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            write!(f, "{}:{}:{}: ", loc.file.display(), loc.line, loc.column)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn severity(&self) -> Option<Severity> {
        Some(if self.warning {
            Severity::Warning
        } else {
            Severity::Error
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (offset, len) = self.span?;
        let label = LabeledSpan::new(self.label.clone(), offset, len);
        Some(Box::new(std::iter::once(label)))
    }
}

/// Every error found while loading, in file order; the `Err` of [`crate::load`].
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    pub errors: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    /// Plain text, one block per error with its snippet, no colours, lines
    /// wrapped at 100 columns.
    pub fn render_plain(&self) -> String {
        self.render_plain_unwrapped_at(100)
    }

    /// Plain text as [`Diagnostics::render_plain`], wrapped at `width`
    /// columns. Snapshot tests pass a width no message reaches, since the
    /// file paths in messages (and so where lines wrap) depend on where the
    /// checkout lives.
    pub fn render_plain_unwrapped_at(&self, width: usize) -> String {
        let handler =
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
                .with_width(width);
        let mut out = String::new();
        for d in &self.errors {
            let _ = handler.render_report(&mut out, d);
            out.push('\n');
        }
        out
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics { errors: vec![d] }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.as_slice() {
            [one] => write!(f, "{one}"),
            many => write!(f, "{} errors in the stack file", many.len()),
        }
    }
}

impl std::error::Error for Diagnostics {}

impl miette::Diagnostic for Diagnostics {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.errors.len() <= 1 {
            return None;
        }
        Some(Box::new(
            self.errors.iter().map(|d| d as &dyn miette::Diagnostic),
        ))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        match self.errors.as_slice() {
            [one] => one.source.as_ref().map(|s| s as &dyn SourceCode),
            _ => None,
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        match self.errors.as_slice() {
            [one] => miette::Diagnostic::labels(one),
            _ => None,
        }
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match self.errors.as_slice() {
            [one] => miette::Diagnostic::help(one),
            _ => None,
        }
    }
}
