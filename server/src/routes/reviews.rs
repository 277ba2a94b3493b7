//! Approvals and handoffs across runs, answered over HTTP (SERVER.md "Runs").
//! An answer names the pause its author saw (`pending_id`, the `seq` of the
//! `paused` event), so an answer to a pause that has since moved on is refused.

use super::runs::{find_run, refuse_when_stopping, turn_answer};
use crate::app::App;
use crate::body::{self, Path, RawBody};
use crate::problem::{ApiError, ApiResult};
use crate::turns;
use crate::views;
use axum::Json;
use axum::extract::{RawQuery, State};
use flow_runtime::RunStatus;
use flow_runtime::store::{Delivery, RunQuery, StoredRun};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use utoipa::ToSchema;

/// A decision.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Take `on approve`.
    Approve,
    /// Take `on reject`.
    Reject,
}

/// `POST /v1/runs/{id}/approval`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalBody {
    /// The `id` of the run's `pending`.
    pub pending_id: u64,
    /// Approve or reject.
    pub decision: Decision,
    /// Recorded in the `resumed` event.
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /v1/runs/{id}/return`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnBody {
    /// The `id` of the run's `pending`.
    pub pending_id: u64,
    /// Recorded in the `resumed` event.
    #[serde(default)]
    pub note: Option<String>,
    /// Variables to set first, typed like inputs.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub set: Map<String, Value>,
}

/// Refuses an answer unless the run waits in `status` at pause `pending_id`.
fn check_pause(stored: &StoredRun, status: RunStatus, pending_id: u64) -> ApiResult<()> {
    let id = &stored.record.run_id;
    if stored.state.status != status {
        return Err(ApiError::conflict(format!(
            "run {id} is {}, not {}",
            stored.state.status.as_str(),
            status.as_str()
        )));
    }
    if stored.state.pending != Some(pending_id) {
        return Err(ApiError::conflict(format!(
            "run {id} waits at pause {}, not {pending_id}: read the run again",
            stored.state.pending.map_or("none".to_string(), |p| p.to_string())
        )));
    }
    Ok(())
}

/// Answer a pending approval.
#[utoipa::path(post, path = "/v1/runs/{id}/approval", tag = "reviews", request_body = ApprovalBody,
    params(("id" = String, Path, description = "the run's id")),
    responses((status = 200, description = "`{run, messages}`"), (status = 404, description = "no such run"),
              (status = 409, description = "it does not wait for that approval, or its deadline has passed (it then takes `on timeout`)")))]
pub async fn approve(State(app): State<Arc<App>>, Path(id): Path<String>, body: RawBody) -> ApiResult<Json<Value>> {
    let stored = find_run(&app, &id).await?;
    let body: ApprovalBody = body.parse()?;
    check_pause(&stored, RunStatus::WaitingForApproval, body.pending_id)?;
    refuse_when_stopping(&app)?;
    let mode = stored.record.origin.mode;
    if deadline_passed(&app, &stored) {
        // Too late: the run takes `on timeout`, now if its timer has not yet.
        let _ = turns::deliver(&app, &id, mode, Delivery::Timeout { pause: body.pending_id }).await;
        return Err(ApiError::conflict(format!(
            "the approval's deadline has passed: run {id} takes `on timeout`"
        )));
    }
    let delivery = Delivery::Approval {
        pause: Some(body.pending_id),
        approve: matches!(body.decision, Decision::Approve),
        note: body.note,
    };
    Ok(Json(turn_answer(turns::deliver(&app, &id, mode, delivery).await?)))
}

fn deadline_passed(app: &App, stored: &StoredRun) -> bool {
    let deadline = stored
        .pending
        .as_ref()
        .and_then(|p| p["deadline"].as_str())
        .and_then(|d| d.parse::<jiff::Timestamp>().ok());
    deadline.is_some_and(|d| app.runtime.clock().now() >= d)
}

/// Hand a handoff back (its `on return`), optionally setting variables.
#[utoipa::path(post, path = "/v1/runs/{id}/return", tag = "reviews", request_body = ReturnBody,
    params(("id" = String, Path, description = "the run's id")),
    responses((status = 200, description = "`{run, messages}`"), (status = 404, description = "no such run"),
              (status = 409, description = "it does not wait at that handoff"), (status = 422, description = "a variable that cannot be set")))]
pub async fn hand_back(State(app): State<Arc<App>>, Path(id): Path<String>, body: RawBody) -> ApiResult<Json<Value>> {
    let stored = find_run(&app, &id).await?;
    let body: ReturnBody = body.parse()?;
    check_pause(&stored, RunStatus::WaitingForHuman, body.pending_id)?;
    refuse_when_stopping(&app)?;
    let delivery = Delivery::Return {
        pause: Some(body.pending_id),
        set: body.set,
        note: body.note,
    };
    let out = turns::deliver(&app, &id, stored.record.origin.mode, delivery).await?;
    Ok(Json(turn_answer(out)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WaitingQuery {
    status: Option<String>,
    workflow: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

async fn waiting(
    app: &App,
    raw: Option<&str>,
    status: RunStatus,
    word: &str,
    view: fn(&flow_runtime::store::RunRecord, &Value) -> Value,
) -> ApiResult<Json<Value>> {
    let q: WaitingQuery = body::query(raw)?;
    if let Some(s) = q.status.as_deref().filter(|s| *s != word) {
        return Err(
            ApiError::invalid(format!("`status` can only be `{word}` here, not `{s}`")).with("field", json!("status")),
        );
    }
    let limit = body::limit(q.limit.as_deref())?;
    let rows = app
        .runtime
        .store()
        .query(&RunQuery {
            workflow: q.workflow,
            statuses: vec![status],
            before: body::number_cursor(q.cursor.as_deref())?,
            limit: limit + 1,
            ..RunQuery::default()
        })
        .await?;
    let more = rows.len() > limit;
    let items = rows
        .iter()
        .take(limit)
        .filter_map(|r| r.pending.as_ref().map(|p| view(&r.record, p)))
        .collect();
    let next = more.then(|| rows[limit - 1].position.to_string());
    Ok(Json(views::list(items, next)))
}

/// Every approval waiting, across runs.
#[utoipa::path(get, path = "/v1/approvals", tag = "reviews",
    params(("status" = Option<String>, Query, description = "`pending` (the default)"), ("workflow" = Option<String>, Query, description = "only this workflow's"),
           ("limit" = Option<u32>, Query, description = "at most 500"), ("cursor" = Option<String>, Query, description = "from `next_cursor`")),
    responses((status = 200, description = "`{items, next_cursor}`: `run_id`, `workflow`, `node`, `prompt`, `deadline`, `since`, `mode`, `pending_id`")))]
pub async fn approvals(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult<Json<Value>> {
    waiting(
        &app,
        q.as_deref(),
        RunStatus::WaitingForApproval,
        "pending",
        views::approval,
    )
    .await
}

/// Every handoff waiting, across runs.
#[utoipa::path(get, path = "/v1/handoffs", tag = "reviews",
    params(("status" = Option<String>, Query, description = "`waiting` (the default)"), ("workflow" = Option<String>, Query, description = "only this workflow's"),
           ("limit" = Option<u32>, Query, description = "at most 500"), ("cursor" = Option<String>, Query, description = "from `next_cursor`")),
    responses((status = 200, description = "`{items, next_cursor}`: `run_id`, `workflow`, `node`, `queue`, `message`, `since`, `mode`, `pending_id`")))]
pub async fn handoffs(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult<Json<Value>> {
    waiting(
        &app,
        q.as_deref(),
        RunStatus::WaitingForHuman,
        "waiting",
        views::handoff,
    )
    .await
}
