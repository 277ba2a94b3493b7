//! The SQLite store's statements. Writes run on the writer thread inside a
//! savepoint of a group transaction; reads on a read connection.

use super::Owner;
use super::rows::ROW_COLUMNS;
use crate::state::ChatMessage;
use crate::store::{
    Checkpoint, Lease, PendingChange, Posted, RunRecord, RunSummary, StoreError, StoredRun, Timer, TimerChange, expiry,
    now_ms,
};
use rusqlite::{Connection, OptionalExtension, params};
use std::time::Duration;

pub(super) fn io(e: rusqlite::Error) -> StoreError {
    StoreError::io(e)
}

pub(super) fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::io(format!("{n} is out of range")))
}

pub(super) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A checkpoint made owned and serialized, ready for the writer thread.
pub(super) struct Rows {
    run_id: String,
    follows: i64,
    status: &'static str,
    node: String,
    updated: String,
    state: String,
    events: Vec<(i64, String)>,
    messages: Vec<(i64, String)>,
    timer: TimerChange,
    consumed: Option<i64>,
    create: Option<(RunRecord, String, String)>,
    pending: PendingChange,
}

impl Rows {
    /// Serializes a checkpoint (on the caller's task, not the writer's).
    pub(super) fn of(cp: &Checkpoint<'_>) -> Result<Rows, StoreError> {
        let state = serde_json::to_string(cp.state).map_err(StoreError::io)?;
        let events = cp
            .events
            .iter()
            .map(|e| Ok((to_i64(e.seq)?, e.to_line())))
            .collect::<Result<_, StoreError>>()?;
        let messages = cp
            .messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let json = serde_json::to_string(m).map_err(StoreError::io)?;
                Ok((to_i64((cp.first_message + i) as u64)?, json))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Rows {
            run_id: cp.state.run_id.clone(),
            follows: to_i64(cp.follows)?,
            status: cp.state.status.as_str(),
            node: cp.state.node().to_string(),
            updated: cp.state.updated.clone(),
            state,
            events,
            messages,
            timer: cp.timer.clone(),
            consumed: cp.consumed.map(to_i64).transpose()?,
            create: cp
                .create
                .map(|(record, graph)| (record.clone(), graph.to_string(), cp.state.created.clone())),
            pending: cp.pending(),
        })
    }
}

/// The lease columns of a run.
struct Held {
    owner: String,
    epoch: i64,
    expires: i64,
    store: String,
    version: i64,
}

fn held(conn: &Connection, run_id: &str) -> Result<Option<Held>, StoreError> {
    conn.prepare_cached("SELECT lease_owner, lease_epoch, lease_expires, lease_store, version FROM runs WHERE id = ?1")
        .and_then(|mut s| {
            s.query_row(params![run_id], |r| {
                Ok(Held {
                    owner: r.get(0)?,
                    epoch: r.get(1)?,
                    expires: r.get(2)?,
                    store: r.get(3)?,
                    version: r.get(4)?,
                })
            })
            .optional()
        })
        .map_err(io)
}

pub(super) fn acquire(
    conn: &Connection,
    me: &Owner,
    run_id: &str,
    owner: &str,
    ttl: Duration,
) -> Result<Lease, StoreError> {
    let current = held(conn, run_id)?.ok_or_else(|| StoreError::NotFound {
        run_id: run_id.to_string(),
    })?;
    let live = current.expires > now_ms() && me.alive(&current.store);
    if live && current.owner != owner {
        return Err(StoreError::Busy {
            run_id: run_id.to_string(),
        });
    }
    let lease = Lease {
        run_id: run_id.to_string(),
        owner: owner.to_string(),
        epoch: to_u64(current.epoch) + 1,
        expires_ms: expiry(ttl),
    };
    conn.prepare_cached(
        "UPDATE runs SET lease_owner = ?2, lease_epoch = ?3, lease_expires = ?4, lease_store = ?5 WHERE id = ?1",
    )
    .and_then(|mut s| {
        s.execute(params![
            run_id,
            owner,
            to_i64(lease.epoch).unwrap_or(i64::MAX),
            lease.expires_ms,
            me.token
        ])
    })
    .map_err(io)?;
    Ok(lease)
}

pub(super) fn renew(conn: &Connection, lease: &Lease, ttl: Duration) -> Result<Lease, StoreError> {
    let expires = expiry(ttl);
    let epoch = to_i64(lease.epoch)?;
    let changed = conn
        .prepare_cached("UPDATE runs SET lease_expires = ?4 WHERE id = ?1 AND lease_owner = ?2 AND lease_epoch = ?3")
        .and_then(|mut s| s.execute(params![lease.run_id, lease.owner, epoch, expires]))
        .map_err(io)?;
    if changed != 1 {
        return Err(StoreError::conflict(
            &lease.run_id,
            "the lease was taken by another holder",
        ));
    }
    Ok(Lease {
        expires_ms: expires,
        ..lease.clone()
    })
}

pub(super) fn release(conn: &Connection, lease: &Lease) -> Result<(), StoreError> {
    let epoch = to_i64(lease.epoch)?;
    conn.prepare_cached("UPDATE runs SET lease_expires = 0 WHERE id = ?1 AND lease_owner = ?2 AND lease_epoch = ?3")
        .and_then(|mut s| s.execute(params![lease.run_id, lease.owner, epoch]))
        .map_err(io)?;
    Ok(())
}

pub(super) fn commit(conn: &Connection, me: &Owner, lease: &Lease, rows: &Rows) -> Result<(), StoreError> {
    let epoch = to_i64(lease.epoch)?;
    if let Some((record, graph, created)) = &rows.create {
        let revision = record.origin.revision.map(to_i64).transpose()?;
        // Most runs share their graph with earlier ones: look before copying it in.
        let known = conn
            .prepare_cached("SELECT 1 FROM graphs WHERE hash = ?1")
            .and_then(|mut s| s.exists(params![record.graph_hash]))
            .map_err(io)?;
        if !known {
            conn.prepare_cached("INSERT INTO graphs (hash, json) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![record.graph_hash, graph]))
                .map_err(io)?;
        }
        let inserted = conn
            .prepare_cached(
                "INSERT OR IGNORE INTO runs (id, workflow, graph_hash, options, status, node, created, updated, state,
                   version, lease_owner, lease_epoch, lease_expires, lease_store, mode, trigger_kind, trigger_id, revision)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    rows.run_id,
                    record.workflow,
                    record.graph_hash,
                    record.options.to_string(),
                    rows.status,
                    rows.node,
                    created,
                    rows.updated,
                    rows.state,
                    lease.owner,
                    epoch,
                    lease.expires_ms,
                    me.token,
                    record.origin.mode.as_str(),
                    record.origin.trigger.as_str(),
                    record.origin.trigger_id,
                    revision
                ])
            })
            .map_err(io)?;
        if inserted != 1 {
            return Err(StoreError::conflict(&rows.run_id, "the run already exists"));
        }
    } else {
        let changed = conn
            .prepare_cached(
                "UPDATE runs SET status = ?5, node = ?6, updated = ?7, state = ?8, version = version + 1
                 WHERE id = ?1 AND version = ?2 AND lease_owner = ?3 AND lease_epoch = ?4",
            )
            .and_then(|mut s| {
                s.execute(params![
                    rows.run_id,
                    rows.follows,
                    lease.owner,
                    epoch,
                    rows.status,
                    rows.node,
                    rows.updated,
                    rows.state
                ])
            })
            .map_err(io)?;
        if changed != 1 {
            return Err(refusal(conn, lease, rows));
        }
    }
    let mut insert = conn
        .prepare_cached("INSERT INTO events (run_id, seq, json) VALUES (?1, ?2, ?3)")
        .map_err(io)?;
    for (seq, line) in &rows.events {
        insert
            .execute(params![rows.run_id, seq, line])
            .map_err(|e| StoreError::conflict(&rows.run_id, format!("event {seq} could not be written: {e}")))?;
    }
    let mut insert = conn
        .prepare_cached("INSERT OR REPLACE INTO messages (run_id, idx, json) VALUES (?1, ?2, ?3)")
        .map_err(io)?;
    for (idx, json) in &rows.messages {
        insert.execute(params![rows.run_id, idx, json]).map_err(io)?;
    }
    let pending = match &rows.pending {
        PendingChange::Keep => None,
        PendingChange::Set(paused) => Some(Some(paused.to_string())),
        PendingChange::Clear => Some(None),
    };
    if let Some(pending) = pending {
        conn.prepare_cached("UPDATE runs SET pending = ?2 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![rows.run_id, pending]))
            .map_err(io)?;
    }
    match &rows.timer {
        TimerChange::Keep => {}
        TimerChange::Set(t) => {
            conn.prepare_cached("INSERT OR REPLACE INTO timers (run_id, node, pause, due) VALUES (?1, ?2, ?3, ?4)")
                .and_then(|mut s| s.execute(params![rows.run_id, t.node, to_i64(t.pause).unwrap_or(0), t.due_ms]))
                .map_err(io)?;
        }
        TimerChange::Clear => {
            conn.prepare_cached("DELETE FROM timers WHERE run_id = ?1")
                .and_then(|mut s| s.execute(params![rows.run_id]))
                .map_err(io)?;
        }
    }
    if let Some(upto) = rows.consumed {
        conn.prepare_cached("DELETE FROM inbox WHERE run_id = ?1 AND seq <= ?2")
            .and_then(|mut s| s.execute(params![rows.run_id, upto]))
            .map_err(io)?;
    }
    Ok(())
}

/// Why a commit's update matched no row.
fn refusal(conn: &Connection, lease: &Lease, rows: &Rows) -> StoreError {
    match held(conn, &rows.run_id) {
        Ok(None) => StoreError::NotFound {
            run_id: rows.run_id.clone(),
        },
        Ok(Some(now)) if now.owner != lease.owner || to_u64(now.epoch) != lease.epoch => StoreError::conflict(
            &rows.run_id,
            format!(
                "the lease (epoch {}) was taken by another holder (epoch {})",
                lease.epoch, now.epoch
            ),
        ),
        Ok(Some(now)) => StoreError::conflict(
            &rows.run_id,
            format!(
                "the commit follows version {}, the run is at {}",
                rows.follows, now.version
            ),
        ),
        Err(e) => e,
    }
}

pub(super) fn load(conn: &Connection, run_id: &str) -> Result<Option<StoredRun>, StoreError> {
    let row = conn
        .prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM runs WHERE id = ?1"))
        .and_then(|mut s| s.query_row(params![run_id], super::rows::raw_row).optional())
        .map_err(io)?;
    let Some(raw) = row else {
        return Ok(None);
    };
    let version = raw.version;
    let row = raw.parse()?;
    let mut stmt = conn
        .prepare_cached("SELECT idx, json FROM messages WHERE run_id = ?1 ORDER BY idx")
        .map_err(io)?;
    let messages = stmt
        .query_map(params![run_id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .map_err(io)?
        .map(|m| {
            let (idx, text) = m.map_err(io)?;
            serde_json::from_str::<ChatMessage>(&text)
                .map_err(|e| StoreError::corrupt(format!("run {run_id} has a bad message {idx}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(StoredRun {
        record: row.record,
        state: row.state,
        messages,
        version: to_u64(version),
        pending: row.pending,
    }))
}

pub(super) fn graph(conn: &Connection, hash: &str) -> Result<Option<String>, StoreError> {
    conn.prepare_cached("SELECT json FROM graphs WHERE hash = ?1")
        .and_then(|mut s| s.query_row(params![hash], |r| r.get(0)).optional())
        .map_err(io)
}

pub(super) fn events_after(conn: &Connection, run_id: &str, seq: u64) -> Result<Vec<String>, StoreError> {
    let seq = to_i64(seq)?;
    let mut stmt = conn
        .prepare_cached("SELECT json FROM events WHERE run_id = ?1 AND seq > ?2 ORDER BY seq")
        .map_err(io)?;
    stmt.query_map(params![run_id, seq], |r| r.get::<_, String>(0))
        .map_err(io)?
        .map(|r| r.map_err(io))
        .collect()
}

pub(super) fn list(conn: &Connection) -> Result<Vec<RunSummary>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT id, workflow, status, node, updated FROM runs ORDER BY updated DESC, id DESC")
        .map_err(io)?;
    stmt.query_map([], |r| {
        Ok(RunSummary {
            run_id: r.get(0)?,
            workflow: r.get(1)?,
            status: r.get(2)?,
            node: r.get(3)?,
            updated: r.get(4)?,
        })
    })
    .map_err(io)?
    .map(|r| r.map_err(io))
    .collect()
}

pub(super) fn due_timers(conn: &Connection, now_ms: i64) -> Result<Vec<Timer>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT run_id, node, pause, due FROM timers WHERE due <= ?1 ORDER BY due, run_id")
        .map_err(io)?;
    stmt.query_map(params![now_ms], |r| {
        Ok(Timer {
            run_id: r.get(0)?,
            node: r.get(1)?,
            pause: to_u64(r.get(2)?),
            due_ms: r.get(3)?,
        })
    })
    .map_err(io)?
    .map(|r| r.map_err(io))
    .collect()
}

pub(super) fn post(conn: &Connection, run_id: &str, json: &str) -> Result<u64, StoreError> {
    let seq: Option<i64> = conn
        .prepare_cached("UPDATE runs SET posted = posted + 1 WHERE id = ?1 RETURNING posted")
        .and_then(|mut s| s.query_row(params![run_id], |r| r.get(0)).optional())
        .map_err(io)?;
    let seq = seq.ok_or_else(|| StoreError::NotFound {
        run_id: run_id.to_string(),
    })?;
    conn.prepare_cached("INSERT INTO inbox (run_id, seq, json) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute(params![run_id, seq, json]))
        .map_err(io)?;
    Ok(to_u64(seq))
}

pub(super) fn inbox(conn: &Connection, run_id: &str) -> Result<Vec<Posted>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT seq, json FROM inbox WHERE run_id = ?1 ORDER BY seq")
        .map_err(io)?;
    stmt.query_map(params![run_id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .map_err(io)?
        .map(|r| {
            let (seq, json) = r.map_err(io)?;
            let delivery = serde_json::from_str(&json)
                .map_err(|e| StoreError::corrupt(format!("run {run_id} has a bad delivery {seq}: {e}")))?;
            Ok(Posted {
                seq: to_u64(seq),
                delivery,
            })
        })
        .collect()
}
