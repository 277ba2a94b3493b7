//! `GET /v1/runs/{id}/events`: the run's events as a list, or with `Accept:
//! text/event-stream` as Server-Sent Events (SERVER.md "Event stream"): the
//! stored events after `Last-Event-ID` (or `?after=`), then new ones as they
//! are committed, never one twice or out of order, `: ping` after 15 s of
//! quiet, ending after the run finishes.

use super::runs::find_run;
use crate::app::App;
use crate::body::{self, Path};
use crate::problem::{ApiError, ApiResult, Code};
use crate::views;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event as Sse, KeepAlive};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

/// How long a stream waits for the hub before it reads the store anyway (a
/// run stepped by another process reaches its streams this way).
const POLL: Duration = Duration::from_secs(2);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    after: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// A run's events: a list, or a live stream.
#[utoipa::path(get, path = "/v1/runs/{id}/events", tag = "runs",
    params(("id" = String, Path, description = "the run's id"), ("after" = Option<u64>, Query, description = "only events after this seq"),
           ("Last-Event-ID" = Option<u64>, Header, description = "for a stream: resume after this seq (wins over `after`)"),
           ("limit" = Option<u32>, Query, description = "for a list: at most 500"), ("cursor" = Option<String>, Query, description = "for a list: from `next_cursor`")),
    responses((status = 200, description = "`{items, next_cursor}` of events, or `text/event-stream` with `id: SEQ`, `event: TYPE`, `data: EVENT`"),
              (status = 404, description = "no such run"), (status = 503, description = "too many open streams")))]
pub async fn events(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    find_run(&app, &id).await?;
    let q: EventsQuery = body::query(q.as_deref())?;
    let after = body::number_cursor(q.after.as_deref())
        .map_err(|_| ApiError::invalid("`after` must be an event's seq").with("field", json!("after")))?;
    let streaming = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"));
    if !streaming {
        let limit = body::limit(q.limit.as_deref())?;
        let from = body::number_cursor(q.cursor.as_deref())?.or(after).unwrap_or(0);
        let lines = app.runtime.store().events_after(&id, from).await?;
        let items: Vec<Value> = lines
            .iter()
            .take(limit)
            .map(|l| serde_json::from_str(l).map_err(ApiError::internal))
            .collect::<Result<_, _>>()?;
        let next = items.last().map(|e| e["seq"].to_string());
        return Ok(Json(views::list(items, next)).into_response());
    }
    let last_id = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| body::stored_number(s.trim()))
                .ok_or_else(|| {
                    ApiError::invalid("`Last-Event-ID` must be an event's seq").with("field", json!("Last-Event-ID"))
                })?,
        ),
    };
    let Ok(permit) = Arc::clone(&app.streams).try_acquire_owned() else {
        return Err(ApiError::new(
            Code::Unavailable,
            "the server has as many event streams open as it allows; try again shortly",
        )
        .retry_after(5));
    };
    if app.is_stopping() {
        return Err(ApiError::new(Code::Unavailable, "the server is shutting down").retry_after(5));
    }
    let (tx, rx) = mpsc::channel::<Result<Sse, Infallible>>(64);
    let follow = app.hub.follow(&id);
    tokio::spawn(stream(app, id, last_id.or(after).unwrap_or(0), follow, tx, permit));
    let sse = axum::response::Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)).text("ping"));
    let mut response = sse.into_response();
    response
        .headers_mut()
        .insert("x-accel-buffering", header::HeaderValue::from_static("no"));
    Ok(response)
}

fn is_last(kind: &str) -> bool {
    matches!(kind, "run_completed" | "run_failed" | "run_cancelled")
}

/// Feeds one stream: replay from the store, then live from the hub, reading
/// the store again whenever the hub skipped (a lag, a gap) or stayed quiet.
async fn stream(
    app: Arc<App>,
    run_id: String,
    mut last: u64,
    mut follow: broadcast::Receiver<Arc<flow_runtime::Event>>,
    tx: mpsc::Sender<Result<Sse, Infallible>>,
    _permit: OwnedSemaphorePermit,
) {
    let mut stopping = app.stopping.subscribe();
    let mut first = true;
    loop {
        // From the store: everything after the last one sent.
        let lines = match app.runtime.store().events_after(&run_id, last).await {
            Ok(lines) => lines,
            Err(e) => {
                tracing::warn!(run = %run_id, error = %e, "an event stream could not read the store");
                return;
            }
        };
        for line in lines {
            let Ok(event) = serde_json::from_str::<Value>(&line) else {
                return;
            };
            let seq = event["seq"].as_u64().unwrap_or(0);
            if seq <= last {
                continue;
            }
            let kind = event["type"].as_str().unwrap_or("").to_string();
            if tx.send(Ok(frame(seq, &kind, line))).await.is_err() {
                return;
            }
            last = seq;
            if is_last(&kind) {
                return;
            }
        }
        // A stream asked after a finished run's last event has nothing to wait for.
        if first && finished(&app, &run_id).await {
            return;
        }
        first = false;
        // Live, until the hub skips or goes quiet.
        loop {
            let next = tokio::select! {
                got = follow.recv() => got,
                _ = tokio::time::sleep(POLL) => break,
                _ = stopping.wait_for(|s| *s) => return,
                _ = tx.closed() => return,
            };
            match next {
                Ok(event) if event.seq <= last => continue,
                Ok(event) if event.seq == last + 1 => {
                    let kind = event.kind();
                    if tx.send(Ok(frame(event.seq, kind, event.to_line()))).await.is_err() {
                        return;
                    }
                    last = event.seq;
                    if is_last(kind) {
                        return;
                    }
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => break,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

async fn finished(app: &App, run_id: &str) -> bool {
    match app.runtime.store().load(run_id).await {
        Ok(Some(run)) => run.state.status.is_finished(),
        Ok(None) | Err(_) => true,
    }
}

fn frame(seq: u64, kind: &str, data: String) -> Sse {
    Sse::default().id(seq.to_string()).event(kind).data(data)
}
