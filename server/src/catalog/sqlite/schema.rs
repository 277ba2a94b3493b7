//! The catalog's tables and their version. They live in the run store's file
//! beside the runtime's tables, which own `PRAGMA user_version`; the catalog's
//! version is the one row of its own table, `service_schema`. Tables are
//! created or upgraded in one transaction when the catalog opens; a version
//! newer than this build knows is refused.

use super::io;
use crate::catalog::CatalogError;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

/// The version this build writes.
pub(super) const VERSION: i64 = 1;

const VERSION_1: &str = "
CREATE TABLE workflows (
  name TEXT PRIMARY KEY, max_concurrent_runs INTEGER, idle_timeout INTEGER,
  active_revision INTEGER, created TEXT NOT NULL, updated TEXT NOT NULL
);
CREATE TABLE revisions (
  workflow TEXT NOT NULL, revision INTEGER NOT NULL, status TEXT NOT NULL, title TEXT,
  source TEXT NOT NULL, diagnostics TEXT NOT NULL, graph TEXT, graph_hash TEXT,
  created TEXT NOT NULL, PRIMARY KEY (workflow, revision)
) WITHOUT ROWID;
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, scope TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
  created TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX api_keys_live_name ON api_keys (name) WHERE revoked = 0;
CREATE TABLE idempotency (
  owner TEXT NOT NULL, key TEXT NOT NULL, request TEXT NOT NULL, state TEXT NOT NULL,
  status INTEGER, body BLOB, created_ms INTEGER NOT NULL, PRIMARY KEY (owner, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_created ON idempotency (created_ms);
";

/// Creates the catalog's tables in a new store, or upgrades older ones, in one transaction.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), CatalogError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(io("cannot begin the catalog's upgrade"))?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS service_schema (version INTEGER NOT NULL)")
        .map_err(io("cannot create the table service_schema"))?;
    let current: i64 = tx
        .query_row("SELECT max(version) FROM service_schema", [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .optional()
        .map_err(io("cannot read the catalog's version"))?
        .flatten()
        .unwrap_or(0);
    if current > VERSION {
        return Err(CatalogError::Io(format!(
            "the service's tables are of version {current}, written by a newer flow (this one knows version {VERSION})"
        )));
    }
    if current == VERSION {
        return Ok(());
    }
    if current < 1 {
        tx.execute_batch(VERSION_1)
            .map_err(io("cannot create the catalog's tables"))?;
    }
    tx.execute("DELETE FROM service_schema", [])
        .map_err(io("cannot write the catalog's version"))?;
    tx.execute("INSERT INTO service_schema (version) VALUES (?1)", [VERSION])
        .map_err(io("cannot write the catalog's version"))?;
    tx.commit().map_err(io("cannot commit the catalog's upgrade"))
}
