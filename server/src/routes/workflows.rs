//! `/v1/workflows`, their revisions, `/v1/compile` and the diff (SERVER.md
//! "Workflows and revisions"). A revision never changes once stored; exactly
//! one per workflow is active; activating an older one is the rollback.

use crate::app::App;
use crate::body::{self, Page, Path, RawBody};
use crate::catalog::{RevisionRow, RevisionStatus, Settings};
use crate::compile;
use crate::problem::{ApiError, ApiResult};
use crate::views;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use flow_runtime::RunStatus;
use flow_runtime::store::RunQuery;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use utoipa::ToSchema;

/// `POST /v1/workflows` and `POST /v1/compile`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceBody {
    /// The text of one `.flow` file.
    pub source: String,
}

/// `POST /v1/workflows/{name}/revisions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevisionBody {
    /// The text of one `.flow` file; its workflow's name must be the workflow's.
    pub source: String,
    /// Activate it when it compiles (422 when it does not).
    #[serde(default)]
    pub activate: bool,
}

/// `PATCH /v1/workflows/{name}`: absent fields are left as they are, `null` removes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    /// At most this many unfinished live runs (null: no limit).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub max_concurrent_runs: Option<Option<u32>>,
    /// Seconds a run may wait for a user before it is cancelled (null: forever).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u64>)]
    pub idle_timeout: Option<Option<u64>>,
}

/// A field that is present (`Some`), with its value or null.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

fn now(app: &App) -> String {
    flow_runtime::clock::rfc3339(app.runtime.clock().now())
}

async fn find_workflow(app: &App, name: &str) -> ApiResult<crate::catalog::WorkflowRow> {
    app.catalog
        .workflow(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no workflow `{name}`")))
}

/// A revision by number, 404 when unknown.
pub async fn find_revision(app: &App, name: &str, n: u64) -> ApiResult<RevisionRow> {
    app.catalog
        .revision(name, n)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("workflow `{name}` has no revision {n}")))
}

fn failed_compile(detail: String, diagnostics: &Value) -> ApiError {
    ApiError::invalid(detail).with("diagnostics", diagnostics.clone())
}

/// Create a workflow from a source: its revision 1, activated when it compiles.
#[utoipa::path(post, path = "/v1/workflows", request_body = SourceBody, tag = "workflows",
    responses((status = 201, description = "the workflow, with `revision`"), (status = 409, description = "the name exists"),
              (status = 422, description = "no `workflow` block, or a bad body")))]
pub async fn create(State(app): State<Arc<App>>, body: RawBody) -> ApiResult<Response> {
    let body: SourceBody = body.parse()?;
    let compiled = compile::compile_apart(body.source).await?;
    let Some(name) = compiled.name else {
        return Err(
            ApiError::invalid("the source has no `workflow` block, so it names no workflow")
                .with("field", json!("source")),
        );
    };
    let (workflow, revision) = app
        .catalog
        .create_workflow(&name, compiled.revision, &now(&app))
        .await?;
    let active = workflow.active_revision == Some(revision.revision);
    let mut out = views::workflow(&workflow);
    out["revision"] = views::revision(&revision, active);
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// List workflows by name.
#[utoipa::path(get, path = "/v1/workflows", tag = "workflows",
    params(("limit" = Option<u32>, Query, description = "at most 500"), ("cursor" = Option<String>, Query, description = "from `next_cursor`")),
    responses((status = 200, description = "`{items, next_cursor}` of workflows")))]
pub async fn list(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> ApiResult<Json<Value>> {
    let page: Page = body::query(q.as_deref())?;
    let limit = body::limit(page.limit.as_deref())?;
    let rows = app.catalog.workflows(page.cursor.as_deref(), limit + 1).await?;
    let more = rows.len() > limit;
    let items: Vec<Value> = rows.iter().take(limit).map(views::workflow).collect();
    let next = more.then(|| rows[limit - 1].name.clone());
    Ok(Json(views::list(items, next)))
}

/// One workflow.
#[utoipa::path(get, path = "/v1/workflows/{name}", tag = "workflows",
    params(("name" = String, Path, description = "the workflow's name")),
    responses((status = 200, description = "the workflow"), (status = 404, description = "no such workflow")))]
pub async fn get(State(app): State<Arc<App>>, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(views::workflow(&find_workflow(&app, &name).await?)))
}

/// Change a workflow's settings.
#[utoipa::path(patch, path = "/v1/workflows/{name}", tag = "workflows", request_body = SettingsBody,
    params(("name" = String, Path, description = "the workflow's name")),
    responses((status = 200, description = "the workflow"), (status = 404, description = "no such workflow")))]
pub async fn patch(State(app): State<Arc<App>>, Path(name): Path<String>, body: RawBody) -> ApiResult<Json<Value>> {
    find_workflow(&app, &name).await?;
    let body: SettingsBody = body.parse()?;
    if body.max_concurrent_runs == Some(Some(0)) {
        return Err(
            ApiError::invalid("`max_concurrent_runs` must be at least 1 (or null for no limit)")
                .with("field", json!("max_concurrent_runs")),
        );
    }
    if let Some(Some(seconds)) = body.idle_timeout
        && i64::try_from(seconds).is_err()
    {
        return Err(
            ApiError::invalid(format!("`idle_timeout` must be at most {} seconds (or null)", i64::MAX))
                .with("field", json!("idle_timeout")),
        );
    }
    let settings = Settings {
        max_concurrent_runs: body.max_concurrent_runs,
        idle_timeout: body.idle_timeout,
    };
    let row = app.catalog.update_settings(&name, &settings, &now(&app)).await?;
    Ok(Json(views::workflow(&row)))
}

/// The statuses of runs that have not finished.
pub const UNFINISHED: [RunStatus; 4] = [
    RunStatus::Running,
    RunStatus::WaitingForUser,
    RunStatus::WaitingForHuman,
    RunStatus::WaitingForApproval,
];

/// Delete a workflow, its revisions, schedules and hooks (its finished runs stay).
#[utoipa::path(delete, path = "/v1/workflows/{name}", tag = "workflows",
    params(("name" = String, Path, description = "the workflow's name")),
    responses((status = 204, description = "deleted"), (status = 404, description = "no such workflow"),
              (status = 409, description = "it has runs that have not finished")))]
pub async fn delete(State(app): State<Arc<App>>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    find_workflow(&app, &name).await?;
    let unfinished = app
        .runtime
        .store()
        .query(&RunQuery {
            workflow: Some(name.clone()),
            statuses: UNFINISHED.to_vec(),
            limit: 1,
            ..RunQuery::default()
        })
        .await?;
    if let Some(run) = unfinished.first() {
        return Err(ApiError::conflict(format!(
            "workflow `{name}` has runs that have not finished (run {} is {}); cancel them or let them finish",
            run.record.run_id,
            run.state.status.as_str()
        )));
    }
    app.catalog.delete_workflow(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add a revision, compiled at once (201 even when it fails to compile).
#[utoipa::path(post, path = "/v1/workflows/{name}/revisions", tag = "revisions", request_body = RevisionBody,
    params(("name" = String, Path, description = "the workflow's name")),
    responses((status = 201, description = "the revision"), (status = 404, description = "no such workflow"),
              (status = 422, description = "`activate` of a source that does not compile, or a source naming another workflow")))]
pub async fn add_revision(State(app): State<Arc<App>>, Path(name): Path<String>, body: RawBody) -> ApiResult<Response> {
    find_workflow(&app, &name).await?;
    let body: RevisionBody = body.parse()?;
    let compiled = compile::compile_apart(body.source).await?;
    match compiled.name.as_deref() {
        Some(n) if n == name => {}
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "the source is workflow `{other}`, not `{name}`: a revision keeps its workflow's name"
            ))
            .with("field", json!("source")));
        }
        None => {
            return Err(ApiError::invalid("the source has no `workflow` block").with("field", json!("source")));
        }
    }
    if body.activate && compiled.revision.status == RevisionStatus::Failed {
        return Err(failed_compile(
            "the source does not compile, so it cannot be activated; nothing was stored".into(),
            &compiled.revision.diagnostics,
        ));
    }
    let row = app
        .catalog
        .add_revision(&name, compiled.revision, body.activate, &now(&app))
        .await?;
    let active = find_workflow(&app, &name).await?.active_revision == Some(row.revision);
    Ok((StatusCode::CREATED, Json(views::revision(&row, active))).into_response())
}

/// A workflow's revisions, newest first.
#[utoipa::path(get, path = "/v1/workflows/{name}/revisions", tag = "revisions",
    params(("name" = String, Path, description = "the workflow's name"), ("limit" = Option<u32>, Query, description = "at most 500"),
           ("cursor" = Option<String>, Query, description = "from `next_cursor`")),
    responses((status = 200, description = "`{items, next_cursor}` of revisions"), (status = 404, description = "no such workflow")))]
pub async fn revisions(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let workflow = find_workflow(&app, &name).await?;
    let page: Page = body::query(q.as_deref())?;
    let limit = body::limit(page.limit.as_deref())?;
    let before = body::number_cursor(page.cursor.as_deref())?;
    let rows = app.catalog.revisions(&name, before, limit + 1).await?;
    let more = rows.len() > limit;
    let items = rows
        .iter()
        .take(limit)
        .map(|r| views::revision(r, workflow.active_revision == Some(r.revision)))
        .collect();
    let next = more.then(|| rows[limit - 1].revision.to_string());
    Ok(Json(views::list(items, next)))
}

/// One revision with its source and diagnostics.
#[utoipa::path(get, path = "/v1/workflows/{name}/revisions/{n}", tag = "revisions",
    params(("name" = String, Path, description = "the workflow's name"), ("n" = u64, Path, description = "the revision")),
    responses((status = 200, description = "the revision"), (status = 404, description = "no such revision")))]
pub async fn revision(State(app): State<Arc<App>>, Path((name, n)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let workflow = find_workflow(&app, &name).await?;
    let n = revision_number(&n)?;
    let row = find_revision(&app, &name, n).await?;
    Ok(Json(views::revision(&row, workflow.active_revision == Some(n))))
}

/// A revision number from a path; 404 for what cannot be one.
pub fn revision_number(text: &str) -> ApiResult<u64> {
    text.parse::<u64>()
        .map_err(|_| ApiError::not_found(format!("`{text}` is not a revision number")))
}

/// A compiled revision's graph: the bytes `flow compile` prints.
#[utoipa::path(get, path = "/v1/workflows/{name}/revisions/{n}/graph", tag = "revisions",
    params(("name" = String, Path, description = "the workflow's name"), ("n" = u64, Path, description = "the revision")),
    responses((status = 200, description = "the compiled graph (COMPILED_GRAPH.md)"), (status = 404, description = "no such revision, or it failed")))]
pub async fn graph(State(app): State<Arc<App>>, Path((name, n)): Path<(String, String)>) -> ApiResult<Response> {
    find_workflow(&app, &name).await?;
    let n = revision_number(&n)?;
    let row = find_revision(&app, &name, n).await?;
    let graph = row
        .graph
        .ok_or_else(|| ApiError::not_found(format!("revision {n} of `{name}` failed to compile: it has no graph")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], graph).into_response())
}

/// Make a revision the active one (the rollback when it is older).
#[utoipa::path(post, path = "/v1/workflows/{name}/revisions/{n}/activate", tag = "revisions",
    params(("name" = String, Path, description = "the workflow's name"), ("n" = u64, Path, description = "the revision")),
    responses((status = 200, description = "the revision, now active"), (status = 404, description = "no such revision"),
              (status = 409, description = "the revision failed to compile")))]
pub async fn activate(State(app): State<Arc<App>>, Path((name, n)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    find_workflow(&app, &name).await?;
    let n = revision_number(&n)?;
    let row = find_revision(&app, &name, n).await?;
    if row.status == RevisionStatus::Failed {
        return Err(ApiError::conflict(format!(
            "revision {n} of `{name}` failed to compile; it cannot be activated"
        )));
    }
    app.catalog.activate(&name, n, &now(&app)).await?;
    Ok(Json(views::revision(&row, true)))
}

/// Compile a source without storing it.
#[utoipa::path(post, path = "/v1/compile", tag = "workflows", request_body = SourceBody,
    responses((status = 200, description = "`{status, diagnostics, graph}`, whether or not it compiled")))]
pub async fn compile_only(body: RawBody) -> ApiResult<Json<Value>> {
    let body: SourceBody = body.parse()?;
    let compiled = compile::compile_apart(body.source).await?;
    let r = compiled.revision;
    let graph = match &r.graph {
        Some(text) => serde_json::from_str::<Value>(text).map_err(ApiError::internal)?,
        None => Value::Null,
    };
    let status = match r.status {
        RevisionStatus::Compiled => "compiled",
        RevisionStatus::Failed => "failed",
    };
    Ok(Json(
        json!({"status": status, "diagnostics": r.diagnostics, "graph": graph, "graph_hash": r.graph_hash}),
    ))
}

/// `?from=N&to=M`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DiffQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The semantic difference of two compiled revisions (as `flow diff` prints it).
#[utoipa::path(get, path = "/v1/workflows/{name}/diff", tag = "revisions",
    params(("name" = String, Path, description = "the workflow's name"), ("from" = u64, Query, description = "the older revision"),
           ("to" = u64, Query, description = "the newer revision")),
    responses((status = 200, description = "`{workflow, nodes, edges, variables, tools, models, types, secrets}`, each `{added, removed, changed}`"),
              (status = 404, description = "no such workflow or revision"), (status = 409, description = "a revision failed to compile"),
              (status = 422, description = "`from` or `to` missing or not a number")))]
pub async fn diff(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    find_workflow(&app, &name).await?;
    let q: DiffQuery = body::query(q.as_deref())?;
    let number = |given: Option<&str>, field: &str| -> ApiResult<u64> {
        given.and_then(|t| t.parse::<u64>().ok()).ok_or_else(|| {
            ApiError::invalid(format!("`{field}` must be a revision number")).with("field", json!(field))
        })
    };
    let from = number(q.from.as_deref(), "from")?;
    let to = number(q.to.as_deref(), "to")?;
    let mut graphs = Vec::with_capacity(2);
    for n in [from, to] {
        let row = find_revision(&app, &name, n).await?;
        let Some(text) = row.graph else {
            return Err(ApiError::conflict(format!(
                "revision {n} of `{name}` failed to compile: it has no graph to compare"
            )));
        };
        graphs.push(flow_graph::from_json_str(&text).map_err(ApiError::internal)?);
    }
    let diff = flow_graph::diff::diff(&graphs[0], &graphs[1]);
    Ok(Json(serde_json::to_value(diff).map_err(ApiError::internal)?))
}
