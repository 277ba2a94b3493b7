//! `Idempotency-Key` on POSTs (SERVER.md "Conventions", "Requests"): the same
//! key with the same request answers the first answer again; with another
//! request, or while the first is still being answered, 409. Only 2xx and
//! 422 answers are kept; others may be retried with the same key. Keys are
//! kept per API key for 24 h.

use crate::app::App;
use crate::auth::Caller;
use crate::body::MAX_BODY;
use crate::catalog::IdemBegin;
use crate::problem::{ApiError, Code};
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The header.
pub const HEADER: &str = "idempotency-key";

/// The middleware (after authentication: keys are per caller).
pub async fn idempotent(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    let Some(key) = key
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
    else {
        return ApiError::invalid("`Idempotency-Key` must be 1 to 255 visible ASCII characters").into_response();
    };
    let owner = req
        .extensions()
        .get::<Caller>()
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::new(
                Code::PayloadTooLarge,
                format!("the body is larger than {MAX_BODY} bytes"),
            )
            .into_response();
        }
    };
    let mut digest = Sha256::new();
    digest.update(parts.method.as_str().as_bytes());
    digest.update(b" ");
    digest.update(parts.uri.path().as_bytes());
    digest.update(b"\n");
    digest.update(&bytes);
    let request: String = digest.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let now = app.runtime.clock().now().as_millisecond();
    match app.catalog.idem_begin(&owner, &key, &request, now).await {
        Err(e) => ApiError::from(e).into_response(),
        Ok(IdemBegin::InProgress) => {
            ApiError::conflict("a request with this Idempotency-Key is still being answered; try again").into_response()
        }
        Ok(IdemBegin::Mismatch) => {
            ApiError::conflict("this Idempotency-Key was used with a different request").into_response()
        }
        Ok(IdemBegin::Replay { status, body }) => replay(status, body),
        Ok(IdemBegin::Fresh) => {
            // Answered and recorded on a task of its own (one shutdown waits
            // for): a client that goes away meanwhile does not leave the key
            // in progress, and its retry gets this answer.
            let request = Request::from_parts(parts, Body::from(bytes));
            let tasks = app.turns.clone();
            let answered = tasks.spawn(answer_and_record(app, owner, key, request, next));
            match answered.await {
                Ok(response) => response,
                Err(e) => ApiError::internal(format!("a request with an Idempotency-Key stopped: {e}")).into_response(),
            }
        }
    }
}

/// Answers a request begun under a fresh key and records the answer (2xx
/// and 422) or gives the key up (anything else, tried afresh on a retry).
async fn answer_and_record(app: Arc<App>, owner: String, key: String, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let status = parts.status;
    let kept = if status.is_success() || status == StatusCode::UNPROCESSABLE_ENTITY {
        app.catalog.idem_finish(&owner, &key, status.as_u16(), &bytes).await
    } else {
        app.catalog.idem_abandon(&owner, &key).await
    };
    if let Err(e) = kept {
        tracing::warn!(error = %e, "an idempotency key could not be recorded");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The first answer again.
fn replay(status: u16, body: Vec<u8>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let kind = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
