//! The SQLite catalog: the service's tables in the run store's file (WAL,
//! a 10 s busy time-out). One connection behind a mutex does the work, on
//! tokio's blocking pool, so no call blocks a tokio worker; catalog writes are
//! rare, and every one is a single immediate transaction.
//!
//! `flow serve` opens it `exclusive`: it then holds an OS lock on
//! `PATH.serve.lock` for as long as it is open, and a second exclusive open
//! of the same store fails. The lock file is never removed (removing it would
//! let two processes each lock a file of that name).

mod access;
mod schema;
mod workflows;

use super::{Catalog, CatalogError, IdemBegin, KeyRow, NewRevision, RevisionRow, Scope, Settings, WorkflowRow};
use rusqlite::Connection;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The catalog's tables in the run store's SQLite file.
pub struct SqliteCatalog {
    conn: Arc<Mutex<Connection>>,
    /// The `PATH.serve.lock` file, locked while open (exclusive opens only).
    _lock: Option<File>,
}

impl SqliteCatalog {
    /// Opens the catalog in the store at `path` (creating the file and its
    /// folder if needed) and creates or upgrades its tables. `exclusive` (for
    /// `flow serve`) locks `PATH.serve.lock` while the catalog is open: a
    /// second exclusive open fails saying another `flow serve` uses the store.
    /// A non-exclusive open (for `flow keys`) works beside a server.
    pub fn open(path: &Path, exclusive: bool) -> Result<SqliteCatalog, CatalogError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| CatalogError::Io(format!("cannot create {}: {e}", dir.display())))?;
        }
        let lock = if exclusive { Some(lock(path)?) } else { None };
        let mut conn =
            Connection::open(path).map_err(|e| CatalogError::Io(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| CatalogError::Io(format!("cannot set the busy time-out of {}: {e}", path.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| CatalogError::Io(format!("cannot set WAL mode on {}: {e}", path.display())))?;
        schema::migrate(&mut conn).map_err(|e| match e {
            CatalogError::Io(what) => CatalogError::Io(format!("{}: {what}", path.display())),
            other => other,
        })?;
        Ok(SqliteCatalog {
            conn: Arc::new(Mutex::new(conn)),
            _lock: lock,
        })
    }

    /// Runs `work` on the connection, on tokio's blocking pool (or right
    /// here when polled outside a tokio runtime, where it blocks no worker).
    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, CatalogError> + Send + 'static,
    ) -> Result<T, CatalogError> {
        let conn = Arc::clone(&self.conn);
        let job = move || {
            // A panic inside a transaction rolled it back as it unwound: the
            // connection is still sound.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut conn)
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle
                .spawn_blocking(job)
                .await
                .map_err(|e| CatalogError::Io(format!("a catalog call stopped: {e}")))?,
            Err(_) => job(),
        }
    }
}

/// Locks `PATH.serve.lock`, or says that another `flow serve` holds it.
fn lock(path: &Path) -> Result<File, CatalogError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".serve.lock");
    let lock_path = PathBuf::from(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| CatalogError::Io(format!("cannot open {}: {e}", lock_path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(CatalogError::Io(format!(
            "another `flow serve` uses the store {} (it holds {})",
            path.display(),
            lock_path.display()
        ))),
        Err(TryLockError::Error(e)) => Err(CatalogError::Io(format!("cannot lock {}: {e}", lock_path.display()))),
    }
}

/// Turns a rusqlite error into [`CatalogError::Io`] saying what failed.
pub(super) fn io(what: &str) -> impl FnOnce(rusqlite::Error) -> CatalogError + '_ {
    move |e| CatalogError::Io(format!("{what}: {e}"))
}

#[async_trait::async_trait]
impl Catalog for SqliteCatalog {
    async fn create_workflow(
        &self,
        name: &str,
        first: NewRevision,
        now: &str,
    ) -> Result<(WorkflowRow, RevisionRow), CatalogError> {
        let (name, now) = (name.to_string(), now.to_string());
        self.with(move |conn| workflows::create(conn, &name, &first, &now))
            .await
    }

    async fn workflow(&self, name: &str) -> Result<Option<WorkflowRow>, CatalogError> {
        let name = name.to_string();
        self.with(move |conn| workflows::one(conn, &name)).await
    }

    async fn workflows(&self, after: Option<&str>, limit: usize) -> Result<Vec<WorkflowRow>, CatalogError> {
        let after = after.map(str::to_string);
        self.with(move |conn| workflows::list(conn, after.as_deref(), limit))
            .await
    }

    async fn update_settings(&self, name: &str, settings: &Settings, now: &str) -> Result<WorkflowRow, CatalogError> {
        let (name, settings, now) = (name.to_string(), settings.clone(), now.to_string());
        self.with(move |conn| workflows::update_settings(conn, &name, &settings, &now))
            .await
    }

    async fn delete_workflow(&self, name: &str) -> Result<bool, CatalogError> {
        let name = name.to_string();
        self.with(move |conn| workflows::delete(conn, &name)).await
    }

    async fn add_revision(
        &self,
        name: &str,
        revision: NewRevision,
        activate: bool,
        now: &str,
    ) -> Result<RevisionRow, CatalogError> {
        let (name, now) = (name.to_string(), now.to_string());
        self.with(move |conn| workflows::add_revision(conn, &name, &revision, activate, &now))
            .await
    }

    async fn revision(&self, name: &str, revision: u64) -> Result<Option<RevisionRow>, CatalogError> {
        let name = name.to_string();
        self.with(move |conn| workflows::revision(conn, &name, revision)).await
    }

    async fn revisions(&self, name: &str, before: Option<u64>, limit: usize) -> Result<Vec<RevisionRow>, CatalogError> {
        let name = name.to_string();
        self.with(move |conn| workflows::revisions(conn, &name, before, limit))
            .await
    }

    async fn activate(&self, name: &str, revision: u64, now: &str) -> Result<WorkflowRow, CatalogError> {
        let (name, now) = (name.to_string(), now.to_string());
        self.with(move |conn| workflows::activate(conn, &name, revision, &now))
            .await
    }

    async fn create_key(&self, name: &str, scope: Scope, hash: &str, now: &str) -> Result<KeyRow, CatalogError> {
        let (name, hash, now) = (name.to_string(), hash.to_string(), now.to_string());
        self.with(move |conn| access::create_key(conn, &name, scope, &hash, &now))
            .await
    }

    async fn key_by_hash(&self, hash: &str) -> Result<Option<KeyRow>, CatalogError> {
        let hash = hash.to_string();
        self.with(move |conn| access::key_by_hash(conn, &hash)).await
    }

    async fn keys(&self) -> Result<Vec<KeyRow>, CatalogError> {
        self.with(|conn| access::keys(conn)).await
    }

    async fn revoke_key(&self, name: &str) -> Result<bool, CatalogError> {
        let name = name.to_string();
        self.with(move |conn| access::revoke_key(conn, &name)).await
    }

    async fn idem_begin(&self, owner: &str, key: &str, request: &str, now_ms: i64) -> Result<IdemBegin, CatalogError> {
        let (owner, key, request) = (owner.to_string(), key.to_string(), request.to_string());
        self.with(move |conn| access::idem_begin(conn, &owner, &key, &request, now_ms))
            .await
    }

    async fn idem_finish(&self, owner: &str, key: &str, status: u16, body: &[u8]) -> Result<(), CatalogError> {
        let (owner, key, body) = (owner.to_string(), key.to_string(), body.to_vec());
        self.with(move |conn| access::idem_finish(conn, &owner, &key, status, &body))
            .await
    }

    async fn idem_abandon(&self, owner: &str, key: &str) -> Result<(), CatalogError> {
        let (owner, key) = (owner.to_string(), key.to_string());
        self.with(move |conn| access::idem_abandon(conn, &owner, &key)).await
    }
}
