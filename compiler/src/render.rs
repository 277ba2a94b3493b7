//! Rendering diagnostics: miette's graphical report for people and the JSON
//! format of DIAGNOSTICS.md for machines. Both are pure string builders.

use crate::diagnostic::Diagnostic;
use crate::span::{LineIndex, Span};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};
use serde_json::{Value, json};
use std::fmt;

/// One file's source with its line index, as diagnostics are rendered against it.
pub struct SourceFile<'a> {
    /// The name shown to the user (the path as given on the command line).
    pub name: &'a str,
    /// The text.
    pub text: &'a str,
    /// Its line index.
    pub lines: LineIndex,
}

impl<'a> SourceFile<'a> {
    /// Indexes `text`.
    pub fn new(name: &'a str, text: &'a str) -> SourceFile<'a> {
        SourceFile {
            name,
            text,
            lines: LineIndex::new(text),
        }
    }

    fn position(&self, offset: u32) -> (u32, u32) {
        let lc = self.lines.line_col(self.text, offset);
        (lc.line, lc.column)
    }

    fn range_json(&self, span: Span) -> (u32, u32, u32, u32) {
        let (line, column) = self.position(span.start);
        let (end_line, end_column) = self.position(span.end);
        (line, column, end_line, end_column)
    }
}

/// Secondary labels drawn in one report; more would make a report of a huge
/// cycle as long as the file (the rest are counted in a last line).
const MAX_LABELS: usize = 20;

/// A diagnostic bound to its source, as miette wants it.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: Snippets<'a>,
}

/// How many lines of source miette shows around each label.
const CONTEXT_LINES: usize = 1;

/// The most lines between two labels' context lines that one snippet shows;
/// labels further apart get snippets of their own.
const MAX_HIDDEN_GAP: u32 = 3;

/// The source as miette reads it, refusing to join far-apart labels into one
/// snippet. miette joins the snippets of two labels when it thinks their
/// context lines overlap, and (7.6) thinks so of any two labels when the
/// second's line is less than about twice the first's: a cycle of nodes 60
/// lines apart printed every line between them. A read of a span whose labels
/// would show more than [`MAX_HIDDEN_GAP`] lines that are no label's context
/// is refused, so miette draws each group of nearby labels as its own short
/// snippet instead.
struct Snippets<'a> {
    /// The lines around the labels, as miette reads them.
    window: Window<'a>,
    /// The first and last line (from 0) and the byte range of each label.
    labels: Vec<(u32, u32, Span)>,
}

impl<'a> Snippets<'a> {
    fn new(file: &SourceFile<'a>, diagnostic: &Diagnostic) -> Snippets<'a> {
        let mut labels: Vec<(u32, u32, Span)> = std::iter::once(diagnostic.span)
            .chain(diagnostic.labels.iter().take(MAX_LABELS).map(|l| l.span))
            .map(|span| {
                let end = span.end.saturating_sub(1).max(span.start);
                (file.position(span.start).0 - 1, file.position(end).0 - 1, span)
            })
            .collect();
        labels.sort_by_key(|(first, last, _)| (*first, *last));
        Snippets {
            window: Window::around(file, diagnostic),
            labels,
        }
    }

    /// Whether the labels inside `start..end` leave more than
    /// [`MAX_HIDDEN_GAP`] lines between their context lines.
    fn far_apart(&self, start: usize, end: usize) -> bool {
        let mut reach: Option<u32> = None;
        for (first, last, span) in &self.labels {
            if (span.start as usize) < start || (span.end as usize) > end.max(start + 1) {
                continue;
            }
            if let Some(r) = reach {
                if *first > r + 2 * CONTEXT_LINES as u32 + 1 + MAX_HIDDEN_GAP {
                    return true;
                }
                reach = Some(r.max(*last));
            } else {
                reach = Some(*last);
            }
        }
        false
    }
}

impl miette::SourceCode for Snippets<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        if self.far_apart(span.offset(), span.offset() + span.len()) {
            return Err(miette::MietteError::OutOfBounds);
        }
        self.window.read_span(span, context_lines_before, context_lines_after)
    }
}

/// The source as miette reads it: borrowed, not copied per report, and cut
/// to the lines around the report's labels (miette's `str` reader counts lines
/// from the start of the text for every label, quadratic in a long file). The
/// cut keeps a few lines more than miette's context on each side, so miette
/// sees exactly what it would see in the whole text.
struct Window<'a> {
    name: &'a str,
    /// The lines miette reads.
    text: &'a str,
    /// Where `text` starts in the file: byte offset and 0-based line.
    start: usize,
    first: usize,
}

impl<'a> Window<'a> {
    fn around(file: &SourceFile<'a>, d: &Diagnostic) -> Window<'a> {
        const MARGIN: usize = 4;
        let spans = std::iter::once(d.span).chain(d.labels.iter().take(MAX_LABELS).map(|l| l.span));
        let (low, high) = spans.fold((u32::MAX, 0), |(lo, hi), s| (lo.min(s.start), hi.max(s.end)));
        let first = file.lines.line_of(low.min(high)).saturating_sub(MARGIN);
        let start = (file.lines.line_start(first) as usize).min(file.text.len());
        let last = file.lines.line_of(high) + MARGIN + 1;
        let stop = match file.lines.line_start(last) as usize {
            s if s > high as usize => s.min(file.text.len()),
            _ => file.text.len(),
        };
        match file.text.get(start..stop) {
            Some(text) => Window {
                name: file.name,
                text,
                start,
                first,
            },
            None => Window {
                name: file.name,
                text: file.text,
                start: 0,
                first: 0,
            },
        }
    }
}

impl SourceCode for Window<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let offset = span.offset().checked_sub(self.start).ok_or(MietteError::OutOfBounds)?;
        let inner = self
            .text
            .read_span(&SourceSpan::new(offset.into(), span.len()), before, after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            SourceSpan::new((self.start + inner.span().offset()).into(), inner.span().len()),
            self.first + inner.line(),
            inner.column(),
            // miette's reader counts every line from the start of the text.
            self.first + inner.line_count(),
        )))
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Report<'_> {}

fn source_span(span: Span) -> SourceSpan {
    SourceSpan::new((span.start as usize).into(), span.len())
}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity() {
            crate::Severity::Error => miette::Severity::Error,
            crate::Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let d = self.diagnostic;
        let primary = LabeledSpan::new_primary_with_span(d.primary_label.clone(), source_span(d.span));
        let secondary = d
            .labels
            .iter()
            .take(MAX_LABELS)
            .map(|l| LabeledSpan::new_with_span(Some(l.message.clone()), source_span(l.span)));
        Some(Box::new(std::iter::once(primary).chain(secondary)))
    }
}

/// How the human report looks.
#[derive(Debug, Clone, Copy)]
pub struct HumanStyle {
    /// Use colour (only on a terminal).
    pub color: bool,
    /// Wrap at this width.
    pub width: usize,
}

/// miette's graphical report of one diagnostic.
pub fn human(file: &SourceFile<'_>, diagnostic: &Diagnostic, style: HumanStyle) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_context_lines(CONTEXT_LINES)
        .with_links(false);
    let report = Report {
        diagnostic,
        source: Snippets::new(file, diagnostic),
    };
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        out = format!("{}: {}\n", diagnostic.code, diagnostic.message);
    }
    let hidden = diagnostic.labels.len().saturating_sub(MAX_LABELS);
    if hidden > 0 {
        out.push_str(&format!("  ({hidden} more labels not shown)\n"));
    }
    out
}

/// One diagnostic as a JSON object of DIAGNOSTICS.md.
pub fn json(file: &SourceFile<'_>, d: &Diagnostic) -> Value {
    let (line, column, end_line, end_column) = file.range_json(d.span);
    let labels: Vec<Value> = d
        .labels
        .iter()
        .map(|l| {
            let (line, column, end_line, end_column) = file.range_json(l.span);
            json!({"message": l.message, "line": line, "column": column, "end_line": end_line, "end_column": end_column})
        })
        .collect();
    let fix = d.fix.as_ref().map(|fix| {
        let edits: Vec<Value> = fix
            .edits
            .iter()
            .map(|e| {
                let (line, column, end_line, end_column) = file.range_json(e.span);
                json!({"line": line, "column": column, "end_line": end_line, "end_column": end_column, "text": e.text})
            })
            .collect();
        json!({"message": fix.message, "edits": edits})
    });
    json!({
        "code": d.code.as_str(),
        "severity": d.severity().as_str(),
        "message": d.message,
        "file": file.name,
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "labels": labels,
        "help": d.help,
        "fix": fix,
    })
}

/// One GitHub Actions workflow command (`::error file=…,line=…::message`), so a
/// CI run annotates the pull request's lines.
pub fn github(file: &SourceFile<'_>, d: &Diagnostic) -> String {
    fn data(text: &str) -> String {
        text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
    }
    fn property(text: &str) -> String {
        data(text).replace(':', "%3A").replace(',', "%2C")
    }
    let (line, column, end_line, end_column) = file.range_json(d.span);
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    format!(
        "::{} file={},line={line},col={column},endLine={end_line},endColumn={end_column},title={}::{}\n",
        d.severity().as_str(),
        property(file.name),
        d.code,
        data(&message)
    )
}

/// A SARIF 2.1.0 log of the diagnostics of several files: one rule per code
/// of the catalog, one result per diagnostic (regions in Unicode code points).
pub fn sarif(files: &[(SourceFile<'_>, Vec<Diagnostic>)]) -> Value {
    sarif_with_docs(files, None)
}

/// [`sarif`], each rule with a `helpUri` into the docs/diagnostics.md
/// published at `docs` when that is an absolute URI (see [`crate::Code::docs_url`]).
pub fn sarif_with_docs(files: &[(SourceFile<'_>, Vec<Diagnostic>)], docs: Option<&str>) -> Value {
    let codes = crate::Code::ALL;
    let rules: Vec<Value> = codes
        .iter()
        .map(|code| {
            let explanation = code.explanation();
            let mut rule = json!({
                "id": code.as_str(),
                "shortDescription": {"text": code.summary()},
                "fullDescription": {"text": first_paragraph(explanation)},
                "help": {"text": explanation, "markdown": explanation},
                "defaultConfiguration": {"level": code.severity().as_str()},
            });
            if let Some(url) = docs.and_then(|base| code.docs_url(base)) {
                rule["helpUri"] = json!(url);
            }
            rule
        })
        .collect();
    let mut results = Vec::new();
    for (file, diagnostics) in files {
        for d in diagnostics {
            let rule_index = codes.iter().position(|c| *c == d.code).unwrap_or(0);
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            let related: Vec<Value> = d
                .labels
                .iter()
                .enumerate()
                .map(|(i, l)| json!({"id": i, "message": {"text": l.message}, "physicalLocation": location(file, l.span)}))
                .collect();
            let mut result = json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": rule_index,
                "level": d.severity().as_str(),
                "message": {"text": message},
                "locations": [{"physicalLocation": location(file, d.span)}],
                "relatedLocations": related,
            });
            if let Some(fix) = &d.fix {
                let replacements: Vec<Value> = fix
                    .edits
                    .iter()
                    .map(|e| json!({"deletedRegion": region(file, e.span), "insertedContent": {"text": e.text}}))
                    .collect();
                result["fixes"] = json!([{
                    "description": {"text": fix.message},
                    "artifactChanges": [{"artifactLocation": {"uri": file.name}, "replacements": replacements}],
                }]);
            }
            results.push(result);
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "flow",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn region(file: &SourceFile<'_>, span: Span) -> Value {
    let (line, column, end_line, end_column) = file.range_json(span);
    json!({"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column})
}

fn location(file: &SourceFile<'_>, span: Span) -> Value {
    json!({"artifactLocation": {"uri": file.name}, "region": region(file, span)})
}

/// The first paragraph after the title of an explanation.
fn first_paragraph(markdown: &str) -> &str {
    markdown
        .split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with('#'))
        .unwrap_or("")
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
