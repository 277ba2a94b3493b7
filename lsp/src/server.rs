//! The protocol layer: capabilities, document synchronisation and the
//! dispatch of each request to its handler. No feature logic lives here.

use crate::handlers::{actions, completion, diagnostics, folding, formatting, hover, navigation, semantic, symbols};
use crate::position::offset;
use crate::store::{Analysis, Store};
use std::sync::Arc;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

/// The server's state: the client handle and the open documents.
#[derive(Debug)]
pub struct Backend {
    client: Client,
    store: Arc<Store>,
}

impl Backend {
    /// A server talking to `client`.
    pub fn new(client: Client) -> Backend {
        Backend {
            client,
            store: Arc::new(Store::default()),
        }
    }

    /// Records a new version and compiles it in the background. If yet
    /// another version arrives before the compilation starts, this one is
    /// dropped; diagnostics are published only for the latest version.
    fn changed(&self, uri: Uri, text: String, version: i32) {
        self.store.update(uri.clone(), text, version);
        let (store, client) = (self.store.clone(), self.client.clone());
        tokio::spawn(async move {
            let job_store = store.clone();
            let job_uri = uri.clone();
            let analysis = tokio::task::spawn_blocking(move || job_store.analysis_of(&job_uri, version)).await;
            if let Ok(Some(analysis)) = analysis
                && store.version(&uri) == Some(version)
            {
                let diagnostics = diagnostics::diagnostics(&uri, &analysis);
                client.publish_diagnostics(uri, diagnostics, Some(version)).await;
            }
        });
    }

    /// The analysis of a document and the byte offset of a position in it.
    fn at(&self, doc: &TextDocumentPositionParams) -> Option<(Arc<Analysis>, u32)> {
        let analysis = self.store.analysis(&doc.text_document.uri)?;
        let at = offset(&analysis.text, &analysis.lines, doc.position);
        Some((analysis, at))
    }
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some([".", ">", "{", ":", "("].map(String::from).to_vec()),
            ..CompletionOptions::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        document_symbol_provider: Some(OneOf::Left(true)),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                legend: semantic::legend(),
                full: Some(SemanticTokensFullOptions::Bool(true)),
                ..SemanticTokensOptions::default()
            },
        )),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        ..ServerCapabilities::default()
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, _: InitializeParams) -> Result<InitializeResult> {
        Ok(InitializeResult {
            capabilities: capabilities(),
            server_info: Some(ServerInfo {
                name: "flow".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            ..InitializeResult::default()
        })
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        self.changed(doc.uri, doc.text, doc.version);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        // Full sync: the last change holds the whole text.
        if let Some(change) = params.content_changes.into_iter().last() {
            let doc = params.text_document;
            self.changed(doc.uri, change.text, doc.version);
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.store.close(&uri);
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        Ok(self
            .at(&params.text_document_position)
            .map(|(analysis, at)| CompletionResponse::Array(completion::complete(&analysis, at))))
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        Ok(self
            .at(&params.text_document_position_params)
            .and_then(|(analysis, at)| hover::hover(&analysis, at)))
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        let doc = &params.text_document_position_params;
        Ok(self.at(doc).and_then(|(analysis, at)| {
            navigation::definition(&doc.text_document.uri, &analysis, at).map(GotoDefinitionResponse::Scalar)
        }))
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let doc = &params.text_document_position;
        let include = params.context.include_declaration;
        Ok(self
            .at(doc)
            .map(|(analysis, at)| navigation::references(&doc.text_document.uri, &analysis, at, include)))
    }

    async fn prepare_rename(&self, params: TextDocumentPositionParams) -> Result<Option<PrepareRenameResponse>> {
        let Some((analysis, at)) = self.at(&params) else {
            return Ok(None);
        };
        navigation::prepare_rename(&analysis, at)
            .map(|range| Some(PrepareRenameResponse::Range(range)))
            .map_err(Error::invalid_params)
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let doc = &params.text_document_position;
        let Some((analysis, at)) = self.at(doc) else {
            return Ok(None);
        };
        navigation::rename(&doc.text_document.uri, &analysis, at, &params.new_name)
            .map(Some)
            .map_err(Error::invalid_params)
    }

    async fn document_symbol(&self, params: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        Ok(self
            .store
            .analysis(&params.text_document.uri)
            .map(|analysis| DocumentSymbolResponse::Nested(symbols::document_symbols(&analysis))))
    }

    async fn semantic_tokens_full(&self, params: SemanticTokensParams) -> Result<Option<SemanticTokensResult>> {
        Ok(self.store.analysis(&params.text_document.uri).map(|analysis| {
            SemanticTokensResult::Tokens(SemanticTokens {
                result_id: None,
                data: semantic::semantic_tokens(&analysis),
            })
        }))
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        Ok(self
            .store
            .analysis(&params.text_document.uri)
            .map(|analysis| folding::folding_ranges(&analysis)))
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        Ok(self
            .store
            .analysis(&params.text_document.uri)
            .map(|analysis| formatting::format(&analysis)))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = &params.text_document.uri;
        Ok(self.store.analysis(uri).map(|analysis| {
            actions::code_actions(uri, &analysis, params.range)
                .into_iter()
                .map(CodeActionOrCommand::CodeAction)
                .collect()
        }))
    }
}
