//! Routes that need no key: `/healthz`, `/readyz`, `/metrics`, `/v1/openapi.json`.

use crate::app::App;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

/// Alive.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, description = "the process answers")))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready: the store answers, and the server is not shutting down.
#[utoipa::path(get, path = "/readyz", tag = "system",
    responses((status = 200, description = "ready"), (status = 503, description = "the store does not answer, or shutting down")))]
pub async fn readyz(State(app): State<Arc<App>>) -> Response {
    if app.is_stopping() {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "stopping"}))).into_response();
    }
    let probe = app.runtime.store().due_timers(i64::MIN).await;
    let catalog = app.catalog.workflows(None, 1).await;
    match (probe, catalog) {
        (Ok(_), Ok(_)) => Json(json!({"status": "ready"})).into_response(),
        (Err(e), _) => unready(e.to_string()),
        (_, Err(e)) => unready(e.to_string()),
    }
}

fn unready(why: String) -> Response {
    tracing::warn!(error = %why, "not ready");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "unavailable", "detail": "the store does not answer"})),
    )
        .into_response()
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "system", responses((status = 200, description = "the Prometheus text format")))]
pub async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}
