//! The SQLite store's tables and their versions (`PRAGMA user_version`).
//! Version 1 was the first release's (runs, events, messages, graphs and a
//! lock table); version 2 adds leases and versions to runs, timers and the
//! inbox; version 3 adds where a run came from (mode, trigger, the service's
//! revision) and what it waits for at a handoff or an approval. A store is
//! upgraded in place, in one transaction, when opened.

use crate::store::StoreError;
use rusqlite::Connection;

/// The version this build writes.
pub(super) const VERSION: i64 = 3;

const VERSION_1: &str = "
CREATE TABLE IF NOT EXISTS graphs (hash TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, workflow TEXT NOT NULL, graph_hash TEXT NOT NULL, options TEXT NOT NULL,
  status TEXT NOT NULL, node TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL, state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  run_id TEXT NOT NULL, seq INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
  run_id TEXT NOT NULL, idx INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (run_id, idx)
) WITHOUT ROWID;
";

const VERSION_2: &str = "
ALTER TABLE runs ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN lease_expires INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN lease_store TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN posted INTEGER NOT NULL DEFAULT 0;
CREATE TABLE timers (run_id TEXT PRIMARY KEY, node TEXT NOT NULL, pause INTEGER NOT NULL, due INTEGER NOT NULL);
CREATE INDEX timers_due ON timers (due);
CREATE TABLE inbox (
  run_id TEXT NOT NULL, seq INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
DROP TABLE IF EXISTS run_locks;
";

const VERSION_3: &str = "
ALTER TABLE runs ADD COLUMN mode TEXT NOT NULL DEFAULT 'live';
ALTER TABLE runs ADD COLUMN trigger_kind TEXT NOT NULL DEFAULT 'cli';
ALTER TABLE runs ADD COLUMN trigger_id TEXT;
ALTER TABLE runs ADD COLUMN revision INTEGER;
ALTER TABLE runs ADD COLUMN pending TEXT;
CREATE INDEX runs_status ON runs (status);
CREATE INDEX runs_workflow ON runs (workflow, status);
";

/// Creates the tables of a new store, or upgrades an older one, in one transaction.
pub(super) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let current: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(StoreError::io)?;
    if current == VERSION {
        return Ok(());
    }
    if current > VERSION {
        return Err(StoreError::io(format!(
            "the store is of version {current}, written by a newer flow (this one knows version {VERSION})"
        )));
    }
    conn.execute_batch("BEGIN IMMEDIATE").map_err(StoreError::io)?;
    let upgraded = upgrade(conn);
    match upgraded {
        Ok(()) => conn.execute_batch("COMMIT").map_err(StoreError::io),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn upgrade(conn: &Connection) -> Result<(), StoreError> {
    // Read again inside the transaction: another process may have upgraded it.
    let current: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(StoreError::io)?;
    if current < 1 {
        conn.execute_batch(VERSION_1).map_err(StoreError::io)?;
    }
    if current < 2 {
        conn.execute_batch(VERSION_2).map_err(StoreError::io)?;
    }
    if current < 3 {
        conn.execute_batch(VERSION_3).map_err(StoreError::io)?;
    }
    conn.pragma_update(None, "user_version", VERSION)
        .map_err(StoreError::io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_2_store_is_upgraded_and_its_runs_count_as_cli_runs() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(VERSION_1).unwrap();
        conn.execute_batch(VERSION_2).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute(
            "INSERT INTO runs (id, workflow, graph_hash, options, status, node, created, updated, state)
             VALUES ('r1', 'w', 'h', '{}', 'completed', 'end', 't', 't', '{}')",
            [],
        )
        .unwrap();
        migrate(&conn).unwrap();
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, VERSION);
        let row: (String, String, Option<i64>, Option<String>) = conn
            .query_row(
                "SELECT mode, trigger_kind, revision, pending FROM runs WHERE id = 'r1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(row, ("live".into(), "cli".into(), None, None));
        // Opening it again changes nothing.
        migrate(&conn).unwrap();
    }

    #[test]
    fn a_store_of_a_newer_version_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", VERSION + 1).unwrap();
        let e = migrate(&conn).unwrap_err();
        assert!(e.to_string().contains("newer flow"), "{e}");
    }
}
