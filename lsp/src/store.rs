//! The open documents: their latest text and version, and the analysis of
//! that version, computed once and shared by every request.

use crate::lexer::{self, Token};
use flow_compiler::symbols::SymbolIndex;
use flow_compiler::{Diagnostic, Diagnostics, LineIndex, ast};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard};
use tower_lsp_server::ls_types::Uri;

/// Everything the features need to know about one version of a document.
#[derive(Debug)]
pub struct Analysis {
    /// The version the client gave this text.
    pub version: i32,
    /// The text.
    pub text: String,
    /// Line starts, for position conversion.
    pub lines: LineIndex,
    /// The syntax tree as far as the recovering parser got.
    pub file: ast::File,
    /// The compiler's diagnostics, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
    /// Every declaration and use of a name.
    pub symbols: SymbolIndex,
    /// The forgiving lexer's tokens.
    pub tokens: Vec<Token>,
}

impl Analysis {
    /// Compiles `text` (without emitting a graph, which no feature needs).
    /// A panic in the compiler is a bug, but it must not take the server down:
    /// the document is then treated as empty of symbols and diagnostics.
    pub fn new(text: String, version: i32) -> Analysis {
        let compiled = catch_unwind(AssertUnwindSafe(|| {
            let mut diags = Diagnostics::default();
            let file = flow_compiler::syntax::lower(&text, &mut diags);
            let program = flow_compiler::check::check(&file, &mut diags);
            flow_compiler::analysis::analyse(&program, file.has_syntax_errors, &mut diags);
            drop(program);
            let symbols = SymbolIndex::build(&file);
            (file, diags.into_sorted(), symbols)
        }));
        let (file, diagnostics, symbols) = compiled.unwrap_or_default();
        Analysis {
            version,
            lines: LineIndex::new(&text),
            tokens: lexer::tokens(&text),
            text,
            file,
            diagnostics,
            symbols,
        }
    }
}

/// One open document.
#[derive(Debug)]
struct Entry {
    text: Arc<String>,
    version: i32,
    analysis: Option<Arc<Analysis>>,
}

/// The open documents, shared between the protocol tasks.
#[derive(Debug, Default)]
pub struct Store {
    docs: Mutex<HashMap<Uri, Entry>>,
}

impl Store {
    fn docs(&self) -> MutexGuard<'_, HashMap<Uri, Entry>> {
        // A panic while holding the lock leaves the map itself consistent.
        self.docs.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a document's new text (on open or change). A version older
    /// than the one recorded is ignored, should notifications ever be handled
    /// out of order.
    pub fn update(&self, uri: Uri, text: String, version: i32) {
        let mut docs = self.docs();
        if docs.get(&uri).is_some_and(|e| e.version > version) {
            return;
        }
        docs.insert(
            uri,
            Entry {
                text: Arc::new(text),
                version,
                analysis: None,
            },
        );
    }

    /// Forgets a closed document.
    pub fn close(&self, uri: &Uri) {
        self.docs().remove(uri);
    }

    /// The latest version of a document, if it is open.
    pub fn version(&self, uri: &Uri) -> Option<i32> {
        self.docs().get(uri).map(|e| e.version)
    }

    /// The analysis of the latest version, computed now if needed.
    pub fn analysis(&self, uri: &Uri) -> Option<Arc<Analysis>> {
        let version = self.version(uri)?;
        self.analysis_of(uri, version)
    }

    /// The analysis of `version`, or None when a later version (or a close)
    /// has superseded it: a superseded version is never compiled.
    pub fn analysis_of(&self, uri: &Uri, version: i32) -> Option<Arc<Analysis>> {
        let text = {
            let docs = self.docs();
            let entry = docs.get(uri).filter(|e| e.version == version)?;
            if let Some(analysis) = &entry.analysis {
                return Some(analysis.clone());
            }
            entry.text.clone()
        };
        // Compile without holding the lock, so other documents are not held up.
        let analysis = Arc::new(Analysis::new(text.as_str().to_owned(), version));
        let mut docs = self.docs();
        let entry = docs.get_mut(uri).filter(|e| e.version == version)?;
        // Another task may have finished first: keep one analysis per version.
        Some(entry.analysis.get_or_insert(analysis).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_superseded_version_is_never_compiled() {
        let store = Store::default();
        let uri: Uri = "file:///a.flow".parse().unwrap();
        store.update(uri.clone(), "workflow w {\n  start a\n}\n".into(), 1);
        store.update(uri.clone(), "workflow w {\n  start b\n}\n".into(), 2);
        // An older version arriving late changes nothing.
        store.update(uri.clone(), String::new(), 1);
        assert!(store.analysis_of(&uri, 1).is_none());
        let latest = store.analysis(&uri).unwrap();
        assert_eq!(latest.version, 2);
        assert!(latest.text.contains("start b"));
        // The analysis is computed once per version and shared.
        assert!(Arc::ptr_eq(&latest, &store.analysis_of(&uri, 2).unwrap()));
        store.close(&uri);
        assert!(store.analysis(&uri).is_none());
    }
}
