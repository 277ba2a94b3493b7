//! The embedded default store: one SQLite file in WAL mode with
//! `synchronous=NORMAL` (safe against a killed process, not against power loss).
//! A run's lock is a row naming its owner, a process; each process holds an OS
//! file lock on a file of its own beside the database for as long as it has the
//! store open. A row whose owner's file can be locked by someone else belongs to
//! a dead process (the OS released its lock, however it died) and is taken
//! over. So a process holding 10,000 runs needs one file descriptor, not 10,000.

use super::{Checkpoint, RunLock, RunRecord, RunSummary, Store, StoreError, StoredRun, failed};
use crate::state::{ChatMessage, RunState};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS graphs (hash TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, workflow TEXT NOT NULL, graph_hash TEXT NOT NULL, options TEXT NOT NULL,
  status TEXT NOT NULL, node TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL, state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  run_id TEXT NOT NULL, seq INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_locks (run_id TEXT PRIMARY KEY, owner TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
  run_id TEXT NOT NULL, idx INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (run_id, idx)
) WITHOUT ROWID;
";

/// Runs kept in a SQLite file.
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    locks: PathBuf,
    owner: OnceLock<Owner>,
    held: Arc<Mutex<HashSet<String>>>,
}

/// This store's process-lifetime lock: its token and the locked file.
struct Owner {
    token: String,
    path: PathBuf,
    _file: File,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        if let Some(owner) = self.owner.get() {
            let _ = std::fs::remove_file(&owner.path);
        }
    }
}

impl SqliteStore {
    /// Opens (or creates) the store at `path`, creating its folder if needed.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path).map_err(|e| failed(format!("cannot open {}: {e}", path.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(failed)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(failed)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(failed)?;
        conn.execute_batch(SCHEMA)
            .map_err(|e| failed(format!("{}: {e}", path.display())))?;
        Ok(SqliteStore::over(conn, path))
    }

    /// A store over an open connection to the database at `path` (its run
    /// locks live beside it, in `PATH.locks`).
    fn over(conn: Connection, path: &Path) -> SqliteStore {
        let mut locks = path.as_os_str().to_owned();
        locks.push(".locks");
        SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            locks: PathBuf::from(locks),
            owner: OnceLock::new(),
            held: Arc::default(),
        }
    }

    /// Opens an existing store for reading only: nothing is created or written.
    /// The file is opened read-only; when that fails because its folder cannot
    /// hold the `-wal` and `-shm` files SQLite needs even to read (a read-only
    /// folder or medium) and no `-wal` file holds unmerged changes, it is opened
    /// with SQLite's `immutable` flag. A missing store is an error saying so.
    pub fn open_read_only(path: &Path) -> Result<SqliteStore, StoreError> {
        if !path.is_file() {
            return Err(failed(format!("no run store at {}", path.display())));
        }
        let conn = match read_only(path, false) {
            Ok(conn) => conn,
            Err(first) if !has_wal(path) => {
                read_only(path, true).map_err(|e| failed(format!("cannot read {}: {first}; {e}", path.display())))?
            }
            Err(e) => return Err(failed(format!("cannot read {}: {e}", path.display()))),
        };
        Ok(SqliteStore::over(conn, path))
    }

    /// This store's owner token, creating and locking its file on first use
    /// (and clearing the files of dead owners).
    fn owner(&self) -> Result<&Owner, StoreError> {
        if let Some(owner) = self.owner.get() {
            return Ok(owner);
        }
        std::fs::create_dir_all(&self.locks).map_err(failed)?;
        if let Ok(entries) = std::fs::read_dir(&self.locks) {
            for entry in entries.flatten() {
                let _ = owner_alive(&entry.path());
            }
        }
        let token = uuid::Uuid::now_v7().simple().to_string();
        let path = self.locks.join(format!("{token}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| failed(format!("cannot open {}: {e}", path.display())))?;
        file.try_lock()
            .map_err(|e| failed(format!("cannot lock {}: {e}", path.display())))?;
        let _ = self.owner.set(Owner {
            token,
            path,
            _file: file,
        });
        self.owner.get().ok_or_else(|| failed("no owner"))
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StoreError> {
        self.conn
            .lock()
            .map_err(|_| failed("the store's connection was poisoned by a panic"))
    }
}

impl Store for SqliteStore {
    fn commit(&self, cp: &Checkpoint<'_>) -> Result<(), StoreError> {
        let state_json = serde_json::to_string(cp.state).map_err(failed)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction().map_err(failed)?;
        if let Some((record, graph_json)) = cp.create {
            tx.prepare_cached("INSERT OR IGNORE INTO graphs (hash, json) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![record.graph_hash, graph_json]))
                .map_err(failed)?;
            tx.prepare_cached(
                "INSERT INTO runs (id, workflow, graph_hash, options, status, node, created, updated, state)
                 VALUES (?1, ?2, ?3, ?4, '', '', ?5, ?5, '')",
            )
            .and_then(|mut s| {
                s.execute(params![
                    record.run_id,
                    record.workflow,
                    record.graph_hash,
                    record.options.to_string(),
                    cp.state.created
                ])
            })
            .map_err(failed)?;
        }
        let changed = tx
            .prepare_cached("UPDATE runs SET status = ?2, node = ?3, updated = ?4, state = ?5 WHERE id = ?1")
            .and_then(|mut s| {
                s.execute(params![
                    cp.state.run_id,
                    cp.state.status.as_str(),
                    cp.state.node(),
                    cp.state.updated,
                    state_json
                ])
            })
            .map_err(failed)?;
        if changed != 1 {
            return Err(failed(format!("run {} is not in the store", cp.state.run_id)));
        }
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO events (run_id, seq, json) VALUES (?1, ?2, ?3)")
                .map_err(failed)?;
            for e in cp.events {
                let seq = i64::try_from(e.seq).map_err(failed)?;
                insert.execute(params![e.run_id, seq, e.to_line()]).map_err(failed)?;
            }
            let mut insert = tx
                .prepare_cached("INSERT INTO messages (run_id, idx, json) VALUES (?1, ?2, ?3)")
                .map_err(failed)?;
            for (i, m) in cp.messages.iter().enumerate() {
                let idx = i64::try_from(cp.first_message + i).map_err(failed)?;
                let json = serde_json::to_string(m).map_err(failed)?;
                insert.execute(params![cp.state.run_id, idx, json]).map_err(failed)?;
            }
        }
        tx.commit().map_err(failed)
    }

    fn load(&self, run_id: &str) -> Result<Option<StoredRun>, StoreError> {
        let conn = self.conn()?;
        let row = conn
            .query_row(
                "SELECT workflow, graph_hash, options, state FROM runs WHERE id = ?1",
                params![run_id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(failed)?;
        let Some((workflow, graph_hash, options, state)) = row else {
            return Ok(None);
        };
        let state: RunState =
            serde_json::from_str(&state).map_err(|e| failed(format!("run {run_id} has a bad checkpoint: {e}")))?;
        let options = serde_json::from_str(&options).map_err(failed)?;
        let mut stmt = conn
            .prepare_cached("SELECT json FROM messages WHERE run_id = ?1 ORDER BY idx")
            .map_err(failed)?;
        let messages = stmt
            .query_map(params![run_id], |r| r.get::<_, String>(0))
            .map_err(failed)?
            .map(|m| {
                let text = m.map_err(failed)?;
                serde_json::from_str::<ChatMessage>(&text).map_err(failed)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(StoredRun {
            record: RunRecord {
                run_id: run_id.to_string(),
                workflow,
                graph_hash,
                options,
            },
            state,
            messages,
        }))
    }

    fn graph(&self, hash: &str) -> Result<Option<String>, StoreError> {
        let conn = self.conn()?;
        conn.query_row("SELECT json FROM graphs WHERE hash = ?1", params![hash], |r| r.get(0))
            .optional()
            .map_err(failed)
    }

    fn events_after(&self, run_id: &str, seq: u64) -> Result<Vec<String>, StoreError> {
        let conn = self.conn()?;
        let seq = i64::try_from(seq).map_err(failed)?;
        let mut stmt = conn
            .prepare_cached("SELECT json FROM events WHERE run_id = ?1 AND seq > ?2 ORDER BY seq")
            .map_err(failed)?;
        stmt.query_map(params![run_id, seq], |r| r.get::<_, String>(0))
            .map_err(failed)?
            .map(|r| r.map_err(failed))
            .collect()
    }

    fn list(&self) -> Result<Vec<RunSummary>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare("SELECT id, workflow, status, node, updated FROM runs ORDER BY updated DESC, id DESC")
            .map_err(failed)?;
        stmt.query_map([], |r| {
            Ok(RunSummary {
                run_id: r.get(0)?,
                workflow: r.get(1)?,
                status: r.get(2)?,
                node: r.get(3)?,
                updated: r.get(4)?,
            })
        })
        .map_err(failed)?
        .map(|r| r.map_err(failed))
        .collect()
    }

    fn lock(&self, run_id: &str) -> Result<RunLock, StoreError> {
        let owner = self.owner()?;
        let mut held = self.held.lock().map_err(|_| failed("poisoned lock table"))?;
        if held.contains(run_id) {
            return Err(StoreError::Busy(run_id.to_string()));
        }
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(failed)?;
        let current: Option<String> = tx
            .query_row("SELECT owner FROM run_locks WHERE run_id = ?1", params![run_id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(failed)?;
        if let Some(other) = current
            && other != owner.token
            && owner_alive(&self.locks.join(format!("{other}.lock")))
        {
            return Err(StoreError::Busy(run_id.to_string()));
        }
        tx.execute(
            "INSERT OR REPLACE INTO run_locks (run_id, owner) VALUES (?1, ?2)",
            params![run_id, owner.token],
        )
        .map_err(failed)?;
        tx.commit().map_err(failed)?;
        held.insert(run_id.to_string());
        Ok(RunLock::new(Release {
            conn: Arc::clone(&self.conn),
            held: Arc::clone(&self.held),
            run_id: run_id.to_string(),
            token: owner.token.clone(),
        }))
    }
}

/// A read-only connection (optionally `immutable`), checked by reading the schema.
fn read_only(path: &Path, immutable: bool) -> Result<Connection, rusqlite::Error> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = if immutable {
        Connection::open_with_flags(format!("{}?immutable=1", file_uri(path)), flags)?
    } else {
        Connection::open_with_flags(path, flags)?
    };
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.query_row("SELECT count(*) FROM runs", [], |r| r.get::<_, i64>(0))?;
    Ok(conn)
}

/// The path as an SQLite `file:` URI (absolute; `%`, `?`, `#` and controls escaped).
fn file_uri(path: &Path) -> String {
    use percent_encoding::{AsciiSet, CONTROLS, percent_encode};
    const ESCAPED: &AsciiSet = &CONTROLS.add(b'%').add(b'?').add(b'#').add(b' ');
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file:{}", percent_encode(path.as_os_str().as_encoded_bytes(), ESCAPED))
}

/// Whether a non-empty `-wal` file lies beside the database (changes not yet
/// merged into it, which an `immutable` connection would not see).
fn has_wal(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(PathBuf::from(wal)).is_ok_and(|m| !m.is_file() || m.len() > 0)
}

/// Whether the process owning this lock file is alive: it still holds the lock.
/// A dead owner's file is removed.
fn owner_alive(path: &Path) -> bool {
    let Ok(file) = OpenOptions::new().write(true).open(path) else {
        return false;
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = std::fs::remove_file(path);
            false
        }
        Err(_) => true,
    }
}

/// Gives a run back when its holder lets go of it.
struct Release {
    conn: Arc<Mutex<Connection>>,
    held: Arc<Mutex<HashSet<String>>>,
    run_id: String,
    token: String,
}

impl Drop for Release {
    fn drop(&mut self) {
        if let Ok(conn) = self.conn.lock() {
            let _ = conn.execute(
                "DELETE FROM run_locks WHERE run_id = ?1 AND owner = ?2",
                params![self.run_id, self.token],
            );
        }
        if let Ok(mut held) = self.held.lock() {
            held.remove(&self.run_id);
        }
    }
}
