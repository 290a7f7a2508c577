//! `HelmError`: every failure of chart loading, values processing and rendering, as a miette
//! diagnostic that names the chart, the file, the position, the include chain and shows a snippet.

use std::path::Path;

use miette::{NamedSource, SourceSpan};

/// A Helm rendering failure (boxed: errors travel through many `Result`s).
#[derive(Debug)]
pub struct HelmError(Box<Details>);

impl std::ops::Deref for HelmError {
    type Target = Details;
    fn deref(&self) -> &Details {
        &self.0
    }
}

impl std::ops::DerefMut for HelmError {
    fn deref_mut(&mut self) -> &mut Details {
        &mut self.0
    }
}

impl std::fmt::Display for HelmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for HelmError {}

impl miette::Diagnostic for HelmError {
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.0.source_code()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.0.labels()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match (&self.chart, &self.help) {
            (Some(chart), Some(help)) => Some(Box::new(format!("in chart {chart}: {help}"))),
            (Some(chart), None) => Some(Box::new(format!("in chart {chart}"))),
            _ => self.0.help(),
        }
    }
}

/// What a [`HelmError`] knows: message, position, chart, include chain, snippet.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
pub struct Details {
    message: String,
    #[source_code]
    source_code: Option<NamedSource<String>>,
    #[label("{label}")]
    span: Option<SourceSpan>,
    label: String,
    #[help]
    help: Option<String>,
    /// Chart the failure belongs to, when known.
    pub chart: Option<String>,
    /// Template or file (chart-relative as Helm names it) where the failure is.
    pub file: Option<String>,
    /// 1-based line and column in `file`.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Named templates being executed, outermost first (`include`/`template` calls).
    pub chain: Vec<String>,
    /// Whether kiln itself failed (not the chart or the user's input).
    pub internal: bool,
}

impl HelmError {
    /// A plain error with a message and nothing else.
    pub fn msg(message: impl Into<String>) -> HelmError {
        HelmError(Box::new(Details {
            message: message.into(),
            source_code: None,
            span: None,
            label: String::new(),
            help: None,
            chart: None,
            file: None,
            line: None,
            column: None,
            chain: Vec::new(),
            internal: false,
        }))
    }

    /// A failure of kiln itself rather than of the chart or the user's input (an I/O error
    /// writing output, a bug caught at the command boundary).
    pub fn internal(message: impl Into<String>) -> HelmError {
        let mut e = HelmError::msg(message);
        e.internal = true;
        e
    }

    /// The process exit status for this failure: 2 for bad input (chart, values, templates,
    /// schema, `required`/`fail`), 1 when kiln itself failed.
    pub fn exit_code(&self) -> u8 {
        if self.internal { 1 } else { 2 }
    }

    /// A failure to load a chart or one of its files.
    pub fn load(path: &Path, message: String) -> HelmError {
        let mut e = HelmError::msg(message);
        e.file = Some(path.display().to_string());
        e
    }

    /// The message as Helm would print it after `Error: `.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> HelmError {
        self.help = Some(help.into());
        self
    }

    /// Names the chart the failure belongs to.
    pub fn with_chart(mut self, chart: &str) -> HelmError {
        self.chart = Some(chart.to_string());
        self
    }

    /// Points at `line`:`column` (1-based) of a file whose text is `text`, with a label.
    pub fn at(
        mut self,
        file: &str,
        text: &str,
        line: usize,
        column: usize,
        label: impl Into<String>,
    ) -> HelmError {
        self.file = Some(file.to_string());
        self.line = Some(line);
        self.column = Some(column);
        let offset = offset_of(text, line, column);
        let len = text[offset..]
            .find('\n')
            .map(|n| n.clamp(1, 80))
            .unwrap_or(text.len() - offset)
            .min(text.len() - offset);
        self.source_code = Some(NamedSource::new(file, text.to_string()));
        self.span = Some(SourceSpan::new(offset.into(), len));
        self.label = label.into();
        self
    }

    /// Records the include/template call chain.
    pub fn with_chain(mut self, chain: Vec<String>) -> HelmError {
        if !chain.is_empty() {
            let mut help = format!("while executing {}", chain.join(" -> "));
            if let Some(h) = &self.help {
                help = format!("{h}\n{help}");
            }
            self.help = Some(help);
        }
        self.chain = chain;
        self
    }
}

/// Byte offset of a 1-based line and column (in characters) in `text`, clamped to the text.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col = column.saturating_sub(1);
            let within: usize = l.chars().take(col).map(char::len_utf8).sum();
            return (offset + within).min(text.len());
        }
        offset += l.len();
    }
    text.len().saturating_sub(1).min(offset)
}
