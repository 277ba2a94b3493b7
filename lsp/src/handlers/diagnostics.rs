//! The compiler's diagnostics as LSP diagnostics: code, severity, a link to
//! the code's explanation, secondary labels as related information, and the
//! help line appended to the message.

use crate::position::range;
use crate::store::Analysis;
use flow_compiler::{Code, Severity};
use tower_lsp_server::ls_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag, Location,
    NumberOrString, Uri,
};

/// Where the explanation of `code` is published (the text of `flow explain
/// CODE`): its section of the docs/diagnostics.md that `FLOW_DOCS_URL` names;
/// None (no link) when that is unset or not an absolute URI.
pub fn explanation_url(code: Code) -> Option<String> {
    code.docs_url(&std::env::var(flow_compiler::DOCS_URL_ENV).ok()?)
}

/// The LSP diagnostics of one analysis.
pub fn diagnostics(uri: &Uri, analysis: &Analysis) -> Vec<Diagnostic> {
    let (text, lines) = (analysis.text.as_str(), &analysis.lines);
    analysis
        .diagnostics
        .iter()
        .map(|d| {
            let related: Vec<DiagnosticRelatedInformation> = d
                .labels
                .iter()
                .map(|label| DiagnosticRelatedInformation {
                    location: Location::new(uri.clone(), range(text, lines, label.span)),
                    message: label.message.clone(),
                })
                .collect();
            let message = match &d.help {
                Some(help) => format!("{}\nhelp: {help}", d.message),
                None => d.message.clone(),
            };
            // Unused declarations and unreachable nodes are shown faded.
            let tags = matches!(d.code, Code::W0501 | Code::W0503).then(|| vec![DiagnosticTag::UNNECESSARY]);
            Diagnostic {
                range: range(text, lines, d.span),
                severity: Some(match d.severity() {
                    Severity::Error => DiagnosticSeverity::ERROR,
                    Severity::Warning => DiagnosticSeverity::WARNING,
                }),
                code: Some(NumberOrString::String(d.code.as_str().to_string())),
                code_description: explanation_url(d.code)
                    .and_then(|url| url.parse().ok())
                    .map(|href| CodeDescription { href }),
                source: Some("flow".to_string()),
                message,
                related_information: (!related.is_empty()).then_some(related),
                tags,
                data: None,
            }
        })
        .collect()
}
