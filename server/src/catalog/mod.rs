//! The service's own records, beside the runtime's runs: workflows and their
//! immutable revisions, API keys (hashed) and idempotency keys. A backend
//! implements [`Catalog`]; the SQLite one keeps its tables in the run store's
//! file (`sqlite.rs`).

mod sqlite;

pub use sqlite::SqliteCatalog;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A workflow as listed: its name and where its revisions stand.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowRow {
    /// The `workflow` block's name.
    pub name: String,
    /// The title of its active revision (else of its latest one), if it has one.
    pub title: Option<String>,
    /// The revision new runs use, if any compiled.
    pub active_revision: Option<u64>,
    /// The highest revision number.
    pub latest_revision: u64,
    /// At most this many unfinished live runs (None: no limit).
    pub max_concurrent_runs: Option<u32>,
    /// Seconds a run may wait for a user before it is cancelled (None: forever).
    pub idle_timeout: Option<u64>,
    /// RFC 3339.
    pub created: String,
    /// RFC 3339: the last new revision, activation or settings change.
    pub updated: String,
}

/// Whether a revision compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevisionStatus {
    /// It compiled: it has a graph.
    Compiled,
    /// It did not: it has error diagnostics and no graph.
    Failed,
}

/// One revision: the source of one `.flow` file and what compiling it gave. Never changes.
#[derive(Debug, Clone, PartialEq)]
pub struct RevisionRow {
    /// The workflow's name.
    pub workflow: String,
    /// 1, 2, ...
    pub revision: u64,
    /// Compiled or failed.
    pub status: RevisionStatus,
    /// Its `workflow` block's title, if any.
    pub title: Option<String>,
    /// The source text.
    pub source: String,
    /// The diagnostics, as `flow check --format json` gives them (a JSON array).
    pub diagnostics: Value,
    /// The compiled graph's exact bytes (as `flow compile` prints them), when compiled.
    pub graph: Option<String>,
    /// The sha256 (hex) of `graph`'s bytes, when compiled.
    pub graph_hash: Option<String>,
    /// RFC 3339.
    pub created: String,
}

/// A revision to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRevision {
    /// Compiled or failed (`graph` and `graph_hash` are Some exactly when compiled).
    pub status: RevisionStatus,
    /// Its title, if any.
    pub title: Option<String>,
    /// The source text.
    pub source: String,
    /// The diagnostics (a JSON array).
    pub diagnostics: Value,
    /// The compiled graph's bytes.
    pub graph: Option<String>,
    /// Their sha256 (hex).
    pub graph_hash: Option<String>,
}

/// A workflow's settings; `None` leaves one as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// `Some(None)` removes the limit.
    pub max_concurrent_runs: Option<Option<u32>>,
    /// `Some(None)` removes the time-out.
    pub idle_timeout: Option<Option<u64>>,
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Everything.
    Admin,
    /// Start runs, send messages, cancel; read runs and workflows.
    Run,
    /// Read runs; list and answer approvals and handoffs.
    Review,
}

impl Scope {
    /// Every scope, most powerful first.
    pub const ALL: [Scope; 3] = [Scope::Admin, Scope::Run, Scope::Review];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Admin => "admin",
            Scope::Run => "run",
            Scope::Review => "review",
        }
    }

    /// The scope of a name (`admin`, `run`, `review`).
    pub fn parse(name: &str) -> Option<Scope> {
        match name {
            "admin" => Some(Scope::Admin),
            "run" => Some(Scope::Run),
            "review" => Some(Scope::Review),
            _ => None,
        }
    }
}

/// A key as stored: its name, scope, and never the key itself.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRow {
    /// Unique among keys not revoked.
    pub name: String,
    /// What it may do.
    pub scope: Scope,
    /// RFC 3339.
    pub created: String,
}

/// Where a request with an `Idempotency-Key` stands.
#[derive(Debug, Clone, PartialEq)]
pub enum IdemBegin {
    /// The key is new (or its last use expired): the caller now holds it and
    /// must call [`Catalog::idem_finish`] or [`Catalog::idem_abandon`].
    Fresh,
    /// A request with this key is still being answered.
    InProgress,
    /// The key was used with another request (method, path or body differ).
    Mismatch,
    /// The key's first request was answered with this.
    Replay {
        /// The HTTP status.
        status: u16,
        /// The body's bytes.
        body: Vec<u8>,
    },
}

/// Why a catalog call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum CatalogError {
    /// The thing already exists, or is in a state that forbids it (what, in words).
    Conflict(String),
    /// No such workflow, revision or key (what, in words).
    NotFound(String),
    /// The store could not be read or written.
    Io(String),
}

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CatalogError::Conflict(what) | CatalogError::NotFound(what) => f.write_str(what),
            CatalogError::Io(what) => write!(f, "the store failed: {what}"),
        }
    }
}

impl std::error::Error for CatalogError {}

/// The service's records. Every method may be called from any task; none
/// blocks a tokio worker thread. Times are RFC 3339 strings given by the
/// caller (from the server's clock), `now_ms` milliseconds since the epoch.
#[async_trait::async_trait]
pub trait Catalog: Send + Sync {
    /// Creates a workflow with its revision 1, activated when it compiled.
    /// [`CatalogError::Conflict`] when the name exists.
    async fn create_workflow(
        &self,
        name: &str,
        first: NewRevision,
        now: &str,
    ) -> Result<(WorkflowRow, RevisionRow), CatalogError>;
    /// One workflow.
    async fn workflow(&self, name: &str) -> Result<Option<WorkflowRow>, CatalogError>;
    /// Workflows by name, ascending, those after `after`, at most `limit`.
    async fn workflows(&self, after: Option<&str>, limit: usize) -> Result<Vec<WorkflowRow>, CatalogError>;
    /// Changes settings; the workflow after. [`CatalogError::NotFound`] for an unknown one.
    async fn update_settings(&self, name: &str, settings: &Settings, now: &str) -> Result<WorkflowRow, CatalogError>;
    /// Removes a workflow with its revisions (and, later, schedules and
    /// hooks); false when there was none. The name can be used again.
    async fn delete_workflow(&self, name: &str) -> Result<bool, CatalogError>;
    /// Adds the next revision. It is activated when it compiled and either
    /// `activate` is true or the workflow has no active revision yet.
    /// [`CatalogError::NotFound`] for an unknown workflow.
    async fn add_revision(
        &self,
        name: &str,
        revision: NewRevision,
        activate: bool,
        now: &str,
    ) -> Result<RevisionRow, CatalogError>;
    /// One revision.
    async fn revision(&self, name: &str, revision: u64) -> Result<Option<RevisionRow>, CatalogError>;
    /// Revisions newest first, those below `before`, at most `limit`.
    async fn revisions(&self, name: &str, before: Option<u64>, limit: usize) -> Result<Vec<RevisionRow>, CatalogError>;
    /// Makes a revision the active one. [`CatalogError::NotFound`] for an
    /// unknown workflow or revision, [`CatalogError::Conflict`] for a failed one.
    async fn activate(&self, name: &str, revision: u64, now: &str) -> Result<WorkflowRow, CatalogError>;

    /// Stores a key by its hash (`sha256` hex of the whole key).
    /// [`CatalogError::Conflict`] when a key of that name exists.
    async fn create_key(&self, name: &str, scope: Scope, hash: &str, now: &str) -> Result<KeyRow, CatalogError>;
    /// The key with this hash, unless revoked.
    async fn key_by_hash(&self, hash: &str) -> Result<Option<KeyRow>, CatalogError>;
    /// Every key not revoked, by name.
    async fn keys(&self) -> Result<Vec<KeyRow>, CatalogError>;
    /// Revokes a key at once; false when there was none of that name.
    async fn revoke_key(&self, name: &str) -> Result<bool, CatalogError>;

    /// Begins a request under an `Idempotency-Key` of the API key `owner`.
    /// `request` is a hash of the method, the path and the body's bytes. A
    /// key last used more than 24 h before `now_ms` counts as new; one still
    /// in progress after 10 minutes counts as abandoned.
    async fn idem_begin(&self, owner: &str, key: &str, request: &str, now_ms: i64) -> Result<IdemBegin, CatalogError>;
    /// Records the answer of a request begun with [`IdemBegin::Fresh`].
    /// [`CatalogError::NotFound`] when no request is in progress under that
    /// key any more (it was abandoned, or counted as abandoned and taken again).
    async fn idem_finish(&self, owner: &str, key: &str, status: u16, body: &[u8]) -> Result<(), CatalogError>;
    /// Forgets a request begun with [`IdemBegin::Fresh`] (its answer is not
    /// kept: a retry is tried afresh).
    async fn idem_abandon(&self, owner: &str, key: &str) -> Result<(), CatalogError>;
}
