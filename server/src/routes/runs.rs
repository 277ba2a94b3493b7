//! `/v1/workflows/{name}/runs` and `/v1/runs` (SERVER.md "Runs"): start a
//! run, send it messages, cancel it, read it. Every turn runs on the
//! server's own task ([`crate::turns`]); one step of a run at a time.

use super::workflows::find_revision;
use crate::app::App;
use crate::auth::Caller;
use crate::body::{self, Path, RawBody};
use crate::catalog::RevisionStatus;
use crate::problem::{ApiError, ApiResult, Code};
use crate::turns::{self, TurnOutput};
use crate::views;
use axum::Json;
use axum::extract::{Extension, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use flow_runtime::RunStatus;
use flow_runtime::store::{Delivery, Origin, RunMode, RunQuery, StoredRun, TriggerKind};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use utoipa::ToSchema;

/// `POST /v1/workflows/{name}/runs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// The workflow's inputs by name.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub inputs: Map<String, Value>,
    /// A compiled revision to run (default: the active one).
    #[serde(default)]
    pub revision: Option<u64>,
    /// `live` (default) or `test` (a playground session).
    #[serde(default)]
    pub mode: Mode,
}

/// A run's mode in a request.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A real conversation.
    #[default]
    Live,
    /// A playground session: any compiled revision, in no live list or metric.
    Test,
}

impl From<Mode> for RunMode {
    fn from(m: Mode) -> RunMode {
        match m {
            Mode::Live => RunMode::Live,
            Mode::Test => RunMode::Test,
        }
    }
}

/// `POST /v1/runs/{id}/messages`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// What the user says.
    pub text: String,
}

/// `{"run", "messages"}`.
pub fn turn_answer(out: TurnOutput) -> Value {
    json!({"run": out.run, "messages": out.messages})
}

/// Start a run; it takes steps until it first waits or finishes.
#[utoipa::path(post, path = "/v1/workflows/{name}/runs", tag = "runs", request_body = StartBody,
    params(("name" = String, Path, description = "the workflow's name")),
    responses((status = 201, description = "`{run, messages}`: the run and the agent's messages of this turn"),
              (status = 404, description = "no such workflow"), (status = 409, description = "no active revision"),
              (status = 422, description = "bad inputs, an unknown or failed revision, a missing secret"),
              (status = 429, description = "the workflow's `max_concurrent_runs` is reached")))]
pub async fn start(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Extension(caller): Extension<Caller>,
    body: RawBody,
) -> ApiResult<Response> {
    let workflow = app
        .catalog
        .workflow(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no workflow `{name}`")))?;
    let body: StartBody = body.parse()?;
    refuse_when_stopping(&app)?;
    let revision = match body.revision {
        Some(n) => match app.catalog.revision(&name, n).await? {
            Some(r) if r.status == RevisionStatus::Compiled => r,
            Some(_) => {
                return Err(ApiError::invalid(format!("revision {n} of `{name}` failed to compile"))
                    .with("field", json!("revision")));
            }
            None => {
                return Err(ApiError::invalid(format!("workflow `{name}` has no revision {n}"))
                    .with("field", json!("revision")));
            }
        },
        None => {
            let Some(active) = workflow.active_revision else {
                return Err(ApiError::conflict(format!(
                    "workflow `{name}` has no active revision: add one that compiles"
                )));
            };
            find_revision(&app, &name, active).await?
        }
    };
    let (Some(graph), Some(hash)) = (&revision.graph, &revision.graph_hash) else {
        return Err(ApiError::internal(format!(
            "revision {} of `{name}` has no graph",
            revision.revision
        )));
    };
    let program = app.program(hash, graph)?;
    let number = revision.revision;
    // The row holds the revision's source and graph (tens of KB): a thousand
    // turns waiting on their model must not each keep a copy.
    drop(revision);
    let mode = RunMode::from(body.mode);
    let origin = Origin {
        mode,
        trigger: TriggerKind::Api,
        trigger_id: None,
        revision: Some(number),
    };
    let _ = caller;
    // Inputs and secrets (422) are checked before the cap (429).
    let run = turns::prepare(&app, program, body.inputs, origin)?;
    let admitted = match workflow.max_concurrent_runs {
        Some(cap) if mode == RunMode::Live => {
            Some(app.admissions.admit(app.runtime.store().as_ref(), &name, cap).await?)
        }
        _ => None,
    };
    let out = turns::first(&app, run, mode, admitted).await?;
    Ok((StatusCode::CREATED, Json(turn_answer(out))).into_response())
}

/// New turns are refused once the server is shutting down.
pub fn refuse_when_stopping(app: &App) -> ApiResult<()> {
    if app.is_stopping() {
        return Err(ApiError::new(
            Code::Unavailable,
            "the server is shutting down; try another instance or again shortly",
        )
        .retry_after(5));
    }
    Ok(())
}

/// A stored run, 404 when unknown.
pub async fn find_run(app: &App, id: &str) -> ApiResult<StoredRun> {
    app.runtime
        .store()
        .load(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run `{id}`")))
}

/// The query of `GET /v1/runs`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    workflow: Option<String>,
    status: Option<String>,
    mode: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// Runs, newest first.
#[utoipa::path(get, path = "/v1/runs", tag = "runs",
    params(("workflow" = Option<String>, Query, description = "only this workflow's"), ("status" = Option<String>, Query, description = "only runs in this state"),
           ("mode" = Option<String>, Query, description = "`live` or `test` (default: both)"), ("limit" = Option<u32>, Query, description = "at most 500"),
           ("cursor" = Option<String>, Query, description = "from `next_cursor`")),
    responses((status = 200, description = "`{items, next_cursor}` of runs"), (status = 422, description = "a bad filter or cursor")))]
pub async fn list(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult<Json<Value>> {
    let q: ListQuery = body::query(q.as_deref())?;
    let limit = body::limit(q.limit.as_deref())?;
    let statuses = match q.status.as_deref() {
        None => Vec::new(),
        // No run waits in a queue yet (runs queue behind `max_concurrent_runs`
        // once schedules and hooks start them).
        Some("queued") => return Ok(Json(views::list(Vec::new(), None))),
        Some(s) => vec![status_named(s)?],
    };
    let mode = match q.mode.as_deref() {
        None => None,
        Some("live") => Some(RunMode::Live),
        Some("test") => Some(RunMode::Test),
        Some(other) => {
            return Err(
                ApiError::invalid(format!("`mode` must be `live` or `test`, not `{other}`"))
                    .with("field", json!("mode")),
            );
        }
    };
    let rows = app
        .runtime
        .store()
        .query(&RunQuery {
            workflow: q.workflow,
            statuses,
            mode,
            before: body::number_cursor(q.cursor.as_deref())?,
            limit: limit + 1,
            ..RunQuery::default()
        })
        .await?;
    let more = rows.len() > limit;
    let items = rows
        .iter()
        .take(limit)
        .map(|r| views::run(&r.record, &r.state, r.pending.as_ref()))
        .collect();
    let next = more.then(|| rows[limit - 1].position.to_string());
    Ok(Json(views::list(items, next)))
}

/// A status by its name; 422 otherwise.
pub fn status_named(name: &str) -> ApiResult<RunStatus> {
    serde_json::from_value(json!(name)).map_err(|_| {
        ApiError::invalid(format!(
            "`status` `{name}` is not a run status (queued, running, waiting_for_user, waiting_for_human, waiting_for_approval, completed, failed, cancelled)"
        ))
        .with("field", json!("status"))
    })
}

/// One run.
#[utoipa::path(get, path = "/v1/runs/{id}", tag = "runs", params(("id" = String, Path, description = "the run's id")),
    responses((status = 200, description = "the run"), (status = 404, description = "no such run")))]
pub async fn get(State(app): State<Arc<App>>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(turns::run_view(&find_run(&app, &id).await?)))
}

/// Delete a finished run with its events and messages.
#[utoipa::path(delete, path = "/v1/runs/{id}", tag = "runs", params(("id" = String, Path, description = "the run's id")),
    responses((status = 204, description = "deleted"), (status = 404, description = "no such run"), (status = 409, description = "it has not finished")))]
pub async fn delete(State(app): State<Arc<App>>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    find_run(&app, &id).await?;
    if app.runtime.store().delete_finished(&id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::conflict(format!(
            "run {id} has not finished; cancel it first"
        )))
    }
}

/// Send a user message; the run takes steps until it waits or finishes.
#[utoipa::path(post, path = "/v1/runs/{id}/messages", tag = "runs", request_body = MessageBody,
    params(("id" = String, Path, description = "the run's id")),
    responses((status = 200, description = "`{run, messages}`"), (status = 404, description = "no such run"),
              (status = 409, description = "the run is not waiting for a user, or is taking a step")))]
pub async fn send(State(app): State<Arc<App>>, Path(id): Path<String>, body: RawBody) -> ApiResult<Json<Value>> {
    let stored = find_run(&app, &id).await?;
    let body: MessageBody = body.parse()?;
    if stored.state.status != RunStatus::WaitingForUser {
        return Err(ApiError::conflict(format!(
            "run {id} is {}, not waiting for a user message",
            stored.state.status.as_str()
        )));
    }
    refuse_when_stopping(&app)?;
    let delivery = Delivery::Message { text: body.text };
    let out = turns::deliver(&app, &id, stored.record.origin.mode, delivery).await?;
    Ok(Json(turn_answer(out)))
}

/// The conversation.
#[utoipa::path(get, path = "/v1/runs/{id}/messages", tag = "runs",
    params(("id" = String, Path, description = "the run's id"), ("limit" = Option<u32>, Query, description = "at most 500"),
           ("cursor" = Option<String>, Query, description = "from `next_cursor`")),
    responses((status = 200, description = "`{items, next_cursor}` of `{role, node, text, seq}`"), (status = 404, description = "no such run")))]
pub async fn messages(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    find_run(&app, &id).await?;
    let page: body::Page = body::query(q.as_deref())?;
    let limit = body::limit(page.limit.as_deref())?;
    let after = body::number_cursor(page.cursor.as_deref())?.unwrap_or(0);
    let mut items = Vec::new();
    let mut more = false;
    for line in app.runtime.store().events_after(&id, after).await? {
        let event: Value = serde_json::from_str(&line).map_err(ApiError::internal)?;
        if let Some(item) = views::message(&event) {
            if items.len() == limit {
                more = true;
                break;
            }
            items.push(item);
        }
    }
    let next = more.then(|| items.last().map(|m| m["seq"].to_string())).flatten();
    Ok(Json(views::list(items, next)))
}

/// Cancel a run: `cancelled`, with a `run_cancelled` event; during a step, once it has committed.
#[utoipa::path(post, path = "/v1/runs/{id}/cancel", tag = "runs", params(("id" = String, Path, description = "the run's id")),
    responses((status = 200, description = "`{run}`"), (status = 404, description = "no such run"), (status = 409, description = "it has finished")))]
pub async fn cancel(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    let stored = find_run(&app, &id).await?;
    if stored.state.status.is_finished() {
        return Err(ApiError::conflict(format!(
            "run {id} has finished ({})",
            stored.state.status.as_str()
        )));
    }
    let delivery = Delivery::Cancel {
        by: caller.name.clone(),
    };
    let mode = stored.record.origin.mode;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut posted = false;
    loop {
        match turns::deliver(&app, &id, mode, delivery.clone()).await {
            Ok(out) => return Ok(Json(json!({"run": out.run}))),
            Err(e) if e.code == Code::Conflict && !posted => {
                // A turn holds the run: it takes the cancel from the inbox
                // once its step has committed.
                app.runtime.post(&id, &delivery).await?;
                posted = true;
            }
            Err(e) if e.code == Code::Conflict && std::time::Instant::now() < deadline => {}
            Err(e) => return Err(e),
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let now = find_run(&app, &id).await?;
        if now.state.status == RunStatus::Cancelled {
            return Ok(Json(json!({"run": turns::run_view(&now)})));
        }
        if now.state.status.is_finished() {
            return Err(ApiError::conflict(format!(
                "run {id} finished ({}) before the cancel took effect",
                now.state.status.as_str()
            )));
        }
    }
}
