//! Workflows and their revisions, in SQL. Each function is one transaction
//! (or one read); a workflow's `latest_revision` and `title` are derived from
//! its revisions, so they can never disagree with them.

use super::io;
use crate::catalog::{CatalogError, NewRevision, RevisionRow, RevisionStatus, Settings, WorkflowRow};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};

/// A workflow's columns, with its latest revision and title worked out.
const WORKFLOW: &str = "
SELECT w.name, w.active_revision, w.max_concurrent_runs, w.idle_timeout, w.created, w.updated,
  (SELECT max(r.revision) FROM revisions r WHERE r.workflow = w.name),
  CASE WHEN w.active_revision IS NOT NULL
    THEN (SELECT r.title FROM revisions r WHERE r.workflow = w.name AND r.revision = w.active_revision)
    ELSE (SELECT r.title FROM revisions r WHERE r.workflow = w.name ORDER BY r.revision DESC LIMIT 1)
  END
FROM workflows w";

/// A revision's columns.
const REVISION: &str = "
SELECT workflow, revision, status, title, source, diagnostics, graph, graph_hash, created FROM revisions";

fn workflow_row(row: &Row<'_>) -> rusqlite::Result<WorkflowRow> {
    Ok(WorkflowRow {
        name: row.get(0)?,
        active_revision: opt_u64(row, 1)?,
        max_concurrent_runs: row.get(2)?,
        idle_timeout: opt_u64(row, 3)?,
        created: row.get(4)?,
        updated: row.get(5)?,
        latest_revision: opt_u64(row, 6)?.unwrap_or(0),
        title: row.get(7)?,
    })
}

fn revision_row(row: &Row<'_>) -> rusqlite::Result<RevisionRow> {
    let status: String = row.get(2)?;
    let status = match status.as_str() {
        "compiled" => RevisionStatus::Compiled,
        "failed" => RevisionStatus::Failed,
        other => {
            return Err(rusqlite::Error::FromSqlConversionFailure(
                2,
                Type::Text,
                format!("unknown revision status `{other}`").into(),
            ));
        }
    };
    let diagnostics: String = row.get(5)?;
    let diagnostics = serde_json::from_str(&diagnostics)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(5, Type::Text, e.into()))?;
    Ok(RevisionRow {
        workflow: row.get(0)?,
        revision: opt_u64(row, 1)?.ok_or(rusqlite::Error::InvalidColumnType(1, "revision".into(), Type::Null))?,
        status,
        title: row.get(3)?,
        source: row.get(4)?,
        diagnostics,
        graph: row.get(6)?,
        graph_hash: row.get(7)?,
        created: row.get(8)?,
    })
}

/// An unsigned column (SQLite stores signed 64-bit integers).
fn opt_u64(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<u64>> {
    match row.get::<_, Option<i64>>(idx)? {
        None => Ok(None),
        Some(v) => u64::try_from(v)
            .map(Some)
            .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(idx, v)),
    }
}

/// A number as SQLite stores it; one beyond `i64::MAX` is refused, naming `what`.
fn int(v: u64, what: &str) -> Result<i64, CatalogError> {
    i64::try_from(v).map_err(|_| CatalogError::Conflict(format!("{what} {v} is too large to store")))
}

fn status_name(status: RevisionStatus) -> &'static str {
    match status {
        RevisionStatus::Compiled => "compiled",
        RevisionStatus::Failed => "failed",
    }
}

/// An immediate transaction: it takes the write lock at once, so it waits
/// (busy time-out) instead of failing when it would upgrade a read.
pub(super) fn immediate(conn: &mut Connection) -> Result<Transaction<'_>, CatalogError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(io("cannot begin a catalog transaction"))
}

/// A compiled revision carries its graph and hash, a failed one neither.
fn check_new(revision: &NewRevision) -> Result<(), CatalogError> {
    let compiled = revision.status == RevisionStatus::Compiled;
    if revision.graph.is_some() != compiled || revision.graph_hash.is_some() != compiled {
        return Err(CatalogError::Conflict(
            "a compiled revision carries its graph and graph_hash, a failed one neither".to_string(),
        ));
    }
    Ok(())
}

fn insert_revision(
    tx: &Transaction<'_>,
    name: &str,
    number: u64,
    revision: &NewRevision,
    now: &str,
) -> Result<RevisionRow, CatalogError> {
    let diagnostics = serde_json::to_string(&revision.diagnostics)
        .map_err(|e| CatalogError::Io(format!("cannot write the diagnostics of `{name}`: {e}")))?;
    tx.execute(
        "INSERT INTO revisions (workflow, revision, status, title, source, diagnostics, graph, graph_hash, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            name,
            int(number, "revision")?,
            status_name(revision.status),
            revision.title,
            revision.source,
            diagnostics,
            revision.graph,
            revision.graph_hash,
            now
        ],
    )
    .map_err(io(&format!("cannot store revision {number} of `{name}`")))?;
    Ok(RevisionRow {
        workflow: name.to_string(),
        revision: number,
        status: revision.status,
        title: revision.title.clone(),
        source: revision.source.clone(),
        diagnostics: revision.diagnostics.clone(),
        graph: revision.graph.clone(),
        graph_hash: revision.graph_hash.clone(),
        created: now.to_string(),
    })
}

/// The workflow as it stands inside `tx`, which just changed it.
fn after_change(conn: &Connection, name: &str) -> Result<WorkflowRow, CatalogError> {
    one(conn, name)?.ok_or_else(|| CatalogError::NotFound(format!("no workflow named `{name}`")))
}

/// Creates a workflow with its revision 1, active when it compiled.
pub(super) fn create(
    conn: &mut Connection,
    name: &str,
    first: &NewRevision,
    now: &str,
) -> Result<(WorkflowRow, RevisionRow), CatalogError> {
    check_new(first)?;
    let tx = immediate(conn)?;
    if one(&tx, name)?.is_some() {
        return Err(CatalogError::Conflict(format!("a workflow named `{name}` exists")));
    }
    let active = (first.status == RevisionStatus::Compiled).then_some(1i64);
    tx.execute(
        "INSERT INTO workflows (name, max_concurrent_runs, idle_timeout, active_revision, created, updated)
         VALUES (?1, NULL, NULL, ?2, ?3, ?3)",
        params![name, active, now],
    )
    .map_err(io(&format!("cannot store the workflow `{name}`")))?;
    let revision = insert_revision(&tx, name, 1, first, now)?;
    let workflow = after_change(&tx, name)?;
    tx.commit()
        .map_err(io(&format!("cannot commit the workflow `{name}`")))?;
    Ok((workflow, revision))
}

/// One workflow.
pub(super) fn one(conn: &Connection, name: &str) -> Result<Option<WorkflowRow>, CatalogError> {
    conn.query_row(&format!("{WORKFLOW} WHERE w.name = ?1"), [name], workflow_row)
        .optional()
        .map_err(io(&format!("cannot read the workflow `{name}`")))
}

/// Workflows by name after `after`, at most `limit`.
pub(super) fn list(conn: &Connection, after: Option<&str>, limit: usize) -> Result<Vec<WorkflowRow>, CatalogError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut statement = conn
        .prepare_cached(&format!(
            "{WORKFLOW} WHERE ?1 IS NULL OR w.name > ?1 ORDER BY w.name LIMIT ?2"
        ))
        .map_err(io("cannot list the workflows"))?;
    let rows = statement
        .query_map(params![after, limit], workflow_row)
        .map_err(io("cannot list the workflows"))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(io("cannot list the workflows"))
}

/// Changes the settings given; `updated` moves when any is given.
pub(super) fn update_settings(
    conn: &mut Connection,
    name: &str,
    settings: &Settings,
    now: &str,
) -> Result<WorkflowRow, CatalogError> {
    let tx = immediate(conn)?;
    if one(&tx, name)?.is_none() {
        return Err(CatalogError::NotFound(format!("no workflow named `{name}`")));
    }
    let what = format!("cannot change the settings of `{name}`");
    if let Some(max) = settings.max_concurrent_runs {
        tx.execute(
            "UPDATE workflows SET max_concurrent_runs = ?2, updated = ?3 WHERE name = ?1",
            params![name, max, now],
        )
        .map_err(io(&what))?;
    }
    if let Some(idle) = settings.idle_timeout {
        let idle = idle.map(|v| int(v, "idle_timeout")).transpose()?;
        tx.execute(
            "UPDATE workflows SET idle_timeout = ?2, updated = ?3 WHERE name = ?1",
            params![name, idle, now],
        )
        .map_err(io(&what))?;
    }
    let workflow = after_change(&tx, name)?;
    tx.commit().map_err(io(&what))?;
    Ok(workflow)
}

/// Removes a workflow and its revisions; false when there was none.
pub(super) fn delete(conn: &mut Connection, name: &str) -> Result<bool, CatalogError> {
    let tx = immediate(conn)?;
    let what = format!("cannot delete the workflow `{name}`");
    tx.execute("DELETE FROM revisions WHERE workflow = ?1", [name])
        .map_err(io(&what))?;
    let removed = tx
        .execute("DELETE FROM workflows WHERE name = ?1", [name])
        .map_err(io(&what))?;
    tx.commit().map_err(io(&what))?;
    Ok(removed > 0)
}

/// Adds the next revision, activated when it compiled and `activate` or no
/// revision is active yet.
pub(super) fn add_revision(
    conn: &mut Connection,
    name: &str,
    revision: &NewRevision,
    activate: bool,
    now: &str,
) -> Result<RevisionRow, CatalogError> {
    check_new(revision)?;
    let tx = immediate(conn)?;
    let workflow = one(&tx, name)?.ok_or_else(|| CatalogError::NotFound(format!("no workflow named `{name}`")))?;
    let number = workflow.latest_revision + 1;
    let row = insert_revision(&tx, name, number, revision, now)?;
    let activates = revision.status == RevisionStatus::Compiled && (activate || workflow.active_revision.is_none());
    let what = format!("cannot store revision {number} of `{name}`");
    if activates {
        tx.execute(
            "UPDATE workflows SET active_revision = ?2, updated = ?3 WHERE name = ?1",
            params![name, int(number, "revision")?, now],
        )
        .map_err(io(&what))?;
    } else {
        tx.execute("UPDATE workflows SET updated = ?2 WHERE name = ?1", params![name, now])
            .map_err(io(&what))?;
    }
    tx.commit().map_err(io(&what))?;
    Ok(row)
}

/// One revision.
pub(super) fn revision(conn: &Connection, name: &str, number: u64) -> Result<Option<RevisionRow>, CatalogError> {
    // No revision is numbered beyond what SQLite stores.
    let Ok(number) = i64::try_from(number) else {
        return Ok(None);
    };
    conn.query_row(
        &format!("{REVISION} WHERE workflow = ?1 AND revision = ?2"),
        params![name, number],
        revision_row,
    )
    .optional()
    .map_err(io(&format!("cannot read revision {number} of `{name}`")))
}

/// Revisions newest first, below `before`, at most `limit` (none for an unknown workflow).
pub(super) fn revisions(
    conn: &Connection,
    name: &str,
    before: Option<u64>,
    limit: usize,
) -> Result<Vec<RevisionRow>, CatalogError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    // Revision numbers fit in an i64 (they count from 1); a `before` beyond
    // them all means "from the newest".
    let before = before.map(|b| i64::try_from(b).unwrap_or(i64::MAX));
    let what = format!("cannot list the revisions of `{name}`");
    let mut statement = conn
        .prepare_cached(&format!(
            "{REVISION} WHERE workflow = ?1 AND (?2 IS NULL OR revision < ?2) ORDER BY revision DESC LIMIT ?3"
        ))
        .map_err(io(&what))?;
    let rows = statement
        .query_map(params![name, before, limit], revision_row)
        .map_err(io(&what))?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(io(&what))
}

/// Makes a compiled revision the active one.
pub(super) fn activate(conn: &mut Connection, name: &str, number: u64, now: &str) -> Result<WorkflowRow, CatalogError> {
    let tx = immediate(conn)?;
    if one(&tx, name)?.is_none() {
        return Err(CatalogError::NotFound(format!("no workflow named `{name}`")));
    }
    let Some(found) = revision(&tx, name, number)? else {
        return Err(CatalogError::NotFound(format!(
            "the workflow `{name}` has no revision {number}"
        )));
    };
    if found.status == RevisionStatus::Failed {
        return Err(CatalogError::Conflict(format!(
            "revision {number} of `{name}` failed to compile: it cannot be activated"
        )));
    }
    let what = format!("cannot activate revision {number} of `{name}`");
    tx.execute(
        "UPDATE workflows SET active_revision = ?2, updated = ?3 WHERE name = ?1",
        params![name, int(number, "revision")?, now],
    )
    .map_err(io(&what))?;
    let workflow = after_change(&tx, name)?;
    tx.commit().map_err(io(&what))?;
    Ok(workflow)
}
