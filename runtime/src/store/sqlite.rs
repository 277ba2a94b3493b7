//! The embedded default store: one SQLite file in WAL mode with
//! `synchronous=NORMAL` (safe against a killed process, not against power loss).
//!
//! Writes go through one writer thread that commits in groups
//! ([`super::sqlite_writer`]); reads run on tokio's blocking pool over a small
//! pool of connections, so no call blocks a tokio worker.
//!
//! A run's lease is a set of columns of its row: owner, epoch, expiry, and the
//! token of the store that took it. Each open store holds an OS file lock on a
//! file of its own beside the database (`PATH.locks/TOKEN.lock`) for as long as
//! it is open. A lease whose store's file can be locked by someone else belongs
//! to a dead process (the OS released its lock, however it died) and is taken
//! over at once, without waiting for it to lapse. So a process holding 10,000
//! runs needs one file descriptor, not 10,000.

mod rows;
mod schema;
mod sql;

use super::sqlite_writer::Writer;
use super::{
    Checkpoint, Delivery, Lease, Pending, Posted, RunQuery, RunRow, RunSummary, Store, StoreError, StoredRun, Timer,
};
use rusqlite::{Connection, OpenFlags};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Runs kept in a SQLite file.
pub struct SqliteStore {
    writer: Option<Writer>,
    readers: Arc<Readers>,
    owner: Arc<Owner>,
}

/// How the store opens its read connections, and the idle ones.
struct Readers {
    path: PathBuf,
    immutable: bool,
    idle: Mutex<Vec<Connection>>,
}

/// This store's process-lifetime lock: its token and the locked file.
pub(super) struct Owner {
    pub(super) token: String,
    pub(super) locks: PathBuf,
    path: Option<PathBuf>,
    _file: Option<File>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        if let Some(path) = &self.path {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl SqliteStore {
    /// Opens (or creates) the store at `path`, creating its folder if needed,
    /// and brings its tables up to date (a store of version 1 is upgraded).
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::io(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn =
            Connection::open(path).map_err(|e| StoreError::io(format!("cannot open {}: {e}", path.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(StoreError::io)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(StoreError::io)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(StoreError::io)?;
        // The writer merges the WAL itself, between groups (sqlite_writer.rs).
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(StoreError::io)?;
        conn.pragma_update(None, "cache_size", -32768).map_err(StoreError::io)?;
        schema::migrate(&conn).map_err(|e| StoreError::io(format!("{}: {e}", path.display())))?;
        let owner = Arc::new(Owner::lock(path)?);
        let readers = Arc::new(Readers {
            path: path.to_path_buf(),
            immutable: false,
            idle: Mutex::default(),
        });
        Ok(SqliteStore {
            writer: Some(Writer::start(conn)?),
            readers,
            owner,
        })
    }

    /// Opens an existing store for reading only: nothing is created or written.
    /// The file is opened read-only; when that fails because its folder cannot
    /// hold the `-wal` and `-shm` files SQLite needs even to read (a read-only
    /// folder or medium) and no `-wal` file holds unmerged changes, it is opened
    /// with SQLite's `immutable` flag. A missing store is an error saying so.
    pub fn open_read_only(path: &Path) -> Result<SqliteStore, StoreError> {
        if !path.is_file() {
            return Err(StoreError::io(format!("no run store at {}", path.display())));
        }
        let (conn, immutable) = match read_only(path, false) {
            Ok(conn) => (conn, false),
            Err(first) if !has_wal(path) => (
                read_only(path, true)
                    .map_err(|e| StoreError::io(format!("cannot read {}: {first}; {e}", path.display())))?,
                true,
            ),
            Err(e) => return Err(StoreError::io(format!("cannot read {}: {e}", path.display()))),
        };
        let readers = Arc::new(Readers {
            path: path.to_path_buf(),
            immutable,
            idle: Mutex::new(vec![conn]),
        });
        Ok(SqliteStore {
            writer: None,
            readers,
            owner: Arc::new(Owner::none(path)),
        })
    }

    /// Runs `work` on the writer; a read-only store refuses.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection, &Owner) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let writer = self
            .writer
            .as_ref()
            .ok_or_else(|| StoreError::io("the store was opened read-only"))?;
        let owner = Arc::clone(&self.owner);
        writer.write(move |conn| work(conn, &owner)).await
    }

    /// Runs `work` on a read connection, on the blocking pool.
    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || {
            let conn = readers.take()?;
            let out = work(&conn);
            readers.give_back(conn);
            out
        })
        .await
        .map_err(|e| StoreError::io(format!("a store read stopped: {e}")))?
    }
}

impl Readers {
    fn take(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(conn);
        }
        read_only(&self.path, self.immutable)
            .map_err(|e| StoreError::io(format!("cannot read {}: {e}", self.path.display())))
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < 8
        {
            idle.push(conn);
        }
    }
}

impl Owner {
    /// Creates and locks this store's owner file (clearing the files of dead owners).
    fn lock(path: &Path) -> Result<Owner, StoreError> {
        let locks = locks_dir(path);
        std::fs::create_dir_all(&locks)
            .map_err(|e| StoreError::io(format!("cannot create {}: {e}", locks.display())))?;
        if let Ok(entries) = std::fs::read_dir(&locks) {
            for entry in entries.flatten() {
                let _ = owner_alive(&entry.path());
            }
        }
        let token = uuid::Uuid::now_v7().simple().to_string();
        let file_path = locks.join(format!("{token}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&file_path)
            .map_err(|e| StoreError::io(format!("cannot open {}: {e}", file_path.display())))?;
        file.try_lock()
            .map_err(|e| StoreError::io(format!("cannot lock {}: {e}", file_path.display())))?;
        Ok(Owner {
            token,
            locks,
            path: Some(file_path),
            _file: Some(file),
        })
    }

    /// The owner of a read-only store, which takes no lease.
    fn none(path: &Path) -> Owner {
        Owner {
            token: String::new(),
            locks: locks_dir(path),
            path: None,
            _file: None,
        }
    }

    /// Whether the store holding token `other` is still open in a live process.
    pub(super) fn alive(&self, other: &str) -> bool {
        other == self.token || (!other.is_empty() && owner_alive(&self.locks.join(format!("{other}.lock"))))
    }
}

fn locks_dir(path: &Path) -> PathBuf {
    let mut locks = path.as_os_str().to_owned();
    locks.push(".locks");
    PathBuf::from(locks)
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn acquire(&self, run_id: &str, owner: &str, ttl: Duration) -> Result<Lease, StoreError> {
        let (run_id, owner) = (run_id.to_string(), owner.to_string());
        self.write(move |conn, me| sql::acquire(conn, me, &run_id, &owner, ttl))
            .await
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<Lease, StoreError> {
        let lease = lease.clone();
        self.write(move |conn, _| sql::renew(conn, &lease, ttl)).await
    }

    async fn release(&self, lease: &Lease) -> Result<(), StoreError> {
        let lease = lease.clone();
        self.write(move |conn, _| sql::release(conn, &lease)).await
    }

    fn submit(&self, lease: &Lease, checkpoint: &Checkpoint<'_>) -> Pending {
        let rows = match sql::Rows::of(checkpoint) {
            Ok(rows) => rows,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        let Some(writer) = self.writer.as_ref() else {
            return Box::pin(std::future::ready(Err(StoreError::io(
                "the store was opened read-only",
            ))));
        };
        let (lease, owner) = (lease.clone(), Arc::clone(&self.owner));
        Box::pin(writer.enqueue(move |conn| sql::commit(conn, &owner, &lease, &rows)))
    }

    async fn load(&self, run_id: &str) -> Result<Option<StoredRun>, StoreError> {
        let run_id = run_id.to_string();
        self.read(move |conn| sql::load(conn, &run_id)).await
    }

    async fn graph(&self, hash: &str) -> Result<Option<String>, StoreError> {
        let hash = hash.to_string();
        self.read(move |conn| sql::graph(conn, &hash)).await
    }

    async fn events_after(&self, run_id: &str, seq: u64) -> Result<Vec<String>, StoreError> {
        let run_id = run_id.to_string();
        self.read(move |conn| sql::events_after(conn, &run_id, seq)).await
    }

    async fn list(&self) -> Result<Vec<RunSummary>, StoreError> {
        self.read(sql::list).await
    }

    async fn due_timers(&self, now_ms: i64) -> Result<Vec<Timer>, StoreError> {
        self.read(move |conn| sql::due_timers(conn, now_ms)).await
    }

    async fn post(&self, run_id: &str, delivery: &Delivery) -> Result<u64, StoreError> {
        let run_id = run_id.to_string();
        let json = serde_json::to_string(delivery).map_err(StoreError::io)?;
        self.write(move |conn, _| sql::post(conn, &run_id, &json)).await
    }

    async fn inbox(&self, run_id: &str) -> Result<Vec<Posted>, StoreError> {
        let run_id = run_id.to_string();
        self.read(move |conn| sql::inbox(conn, &run_id)).await
    }

    async fn query(&self, query: &RunQuery) -> Result<Vec<RunRow>, StoreError> {
        let query = query.clone();
        self.read(move |conn| rows::query(conn, &query)).await
    }

    async fn delete_finished(&self, run_id: &str) -> Result<bool, StoreError> {
        let run_id = run_id.to_string();
        self.write(move |conn, _| rows::delete_finished(conn, &run_id)).await
    }
}

/// A read-only connection (optionally `immutable`), checked by reading the schema.
fn read_only(path: &Path, immutable: bool) -> Result<Connection, rusqlite::Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = if immutable {
        Connection::open_with_flags(format!("{}?immutable=1", file_uri(path)), flags)?
    } else {
        Connection::open_with_flags(path, flags)?
    };
    conn.busy_timeout(Duration::from_secs(10))?;
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
