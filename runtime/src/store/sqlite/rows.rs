//! Runs read as rows (record, state, pending pause), queried by origin and
//! status, and finished runs deleted.

use crate::state::RunState;
use crate::store::{Origin, RunMode, RunQuery, RunRecord, RunRow, StoreError, TriggerKind};
use rusqlite::{Connection, OptionalExtension, params};

use super::sql::{io, to_i64, to_u64};

/// The columns [`raw_row`] reads.
pub(super) const ROW_COLUMNS: &str =
    "rowid, id, workflow, graph_hash, options, state, version, mode, trigger_kind, trigger_id, revision, pending";

/// A run's row as read, before its JSON is parsed.
pub(super) struct RawRow {
    position: i64,
    run_id: String,
    workflow: String,
    graph_hash: String,
    options: String,
    state: String,
    pub(super) version: i64,
    mode: String,
    trigger: String,
    trigger_id: Option<String>,
    revision: Option<i64>,
    pending: Option<String>,
}

pub(super) fn raw_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        position: r.get(0)?,
        run_id: r.get(1)?,
        workflow: r.get(2)?,
        graph_hash: r.get(3)?,
        options: r.get(4)?,
        state: r.get(5)?,
        version: r.get(6)?,
        mode: r.get(7)?,
        trigger: r.get(8)?,
        trigger_id: r.get(9)?,
        revision: r.get(10)?,
        pending: r.get(11)?,
    })
}

impl RawRow {
    pub(super) fn parse(self) -> Result<RunRow, StoreError> {
        let id = &self.run_id;
        let state: RunState = serde_json::from_str(&self.state)
            .map_err(|e| StoreError::corrupt(format!("run {id} has a bad checkpoint: {e}")))?;
        let options = serde_json::from_str(&self.options)
            .map_err(|e| StoreError::corrupt(format!("run {id} has bad options: {e}")))?;
        let pending = self
            .pending
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| StoreError::corrupt(format!("run {id} has a bad pending pause: {e}")))?;
        let mode = match self.mode.as_str() {
            "test" => RunMode::Test,
            _ => RunMode::Live,
        };
        let trigger = TriggerKind::parse(&self.trigger)
            .ok_or_else(|| StoreError::corrupt(format!("run {id} has an unknown trigger `{}`", self.trigger)))?;
        Ok(RunRow {
            position: to_u64(self.position),
            record: RunRecord {
                run_id: self.run_id,
                workflow: self.workflow,
                graph_hash: self.graph_hash,
                options,
                origin: Origin {
                    mode,
                    trigger,
                    trigger_id: self.trigger_id,
                    revision: self.revision.map(to_u64),
                },
            },
            state,
            pending,
        })
    }
}

pub(super) fn query(conn: &Connection, q: &RunQuery) -> Result<Vec<RunRow>, StoreError> {
    let mut sql = format!("SELECT {ROW_COLUMNS} FROM runs WHERE 1 = 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(workflow) = &q.workflow {
        args.push(workflow.clone().into());
        sql.push_str(&format!(" AND workflow = ?{}", args.len()));
    }
    if !q.statuses.is_empty() {
        let mut marks = Vec::new();
        for status in &q.statuses {
            args.push(status.as_str().to_string().into());
            marks.push(format!("?{}", args.len()));
        }
        sql.push_str(&format!(" AND status IN ({})", marks.join(", ")));
    }
    if let Some(mode) = q.mode {
        args.push(mode.as_str().to_string().into());
        sql.push_str(&format!(" AND mode = ?{}", args.len()));
    }
    if let Some(trigger) = q.not_trigger {
        args.push(trigger.as_str().to_string().into());
        sql.push_str(&format!(" AND trigger_kind <> ?{}", args.len()));
    }
    if let Some(before) = q.before {
        args.push(to_i64(before)?.into());
        sql.push_str(&format!(" AND rowid < ?{}", args.len()));
    }
    args.push(i64::try_from(q.limit).unwrap_or(i64::MAX).into());
    sql.push_str(&format!(" ORDER BY rowid DESC LIMIT ?{}", args.len()));
    let mut stmt = conn.prepare_cached(&sql).map_err(io)?;
    let raws = stmt
        .query_map(rusqlite::params_from_iter(args), raw_row)
        .map_err(io)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    raws.into_iter().map(RawRow::parse).collect()
}

pub(super) fn delete_finished(conn: &Connection, run_id: &str) -> Result<bool, StoreError> {
    let status: Option<String> = conn
        .prepare_cached("SELECT status FROM runs WHERE id = ?1")
        .and_then(|mut s| s.query_row(params![run_id], |r| r.get(0)).optional())
        .map_err(io)?;
    let status = status.ok_or_else(|| StoreError::NotFound {
        run_id: run_id.to_string(),
    })?;
    if !matches!(status.as_str(), "completed" | "failed" | "cancelled") {
        return Ok(false);
    }
    for table in ["events", "messages", "inbox", "timers"] {
        conn.prepare_cached(&format!("DELETE FROM {table} WHERE run_id = ?1"))
            .and_then(|mut s| s.execute(params![run_id]))
            .map_err(io)?;
    }
    conn.prepare_cached("DELETE FROM runs WHERE id = ?1")
        .and_then(|mut s| s.execute(params![run_id]))
        .map_err(io)?;
    Ok(true)
}
