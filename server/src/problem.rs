//! Every refusal the service gives, as one type rendered in one place: RFC
//! 9457 problem details (`application/problem+json`) with the `code` of
//! SERVER.md. Library errors become an [`ApiError`] by their class here,
//! and nowhere else.

use crate::catalog::CatalogError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flow_runtime::ErrorClass;
use flow_runtime::store::StoreError;
use serde_json::{Map, Value, json};

/// The codes of SERVER.md's Conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 401: no key, or one that is not known.
    Unauthorized,
    /// 403: the key's scope does not allow the route.
    Forbidden,
    /// 404.
    NotFound,
    /// 405: the route does not answer this method (code `not_found`: SERVER.md names no other).
    MethodNotAllowed,
    /// 409: the thing exists, or is not in a state that allows it.
    Conflict,
    /// 422: a bad body, bad inputs, a failed compile, a missing secret.
    Invalid,
    /// 413: a body over the limit.
    PayloadTooLarge,
    /// 429.
    RateLimited,
    /// 503: at a limit or shutting down; try again later.
    Unavailable,
    /// 500.
    Internal,
}

impl Code {
    /// The status it is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::Forbidden => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::Conflict => StatusCode::CONFLICT,
            Code::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Its name in the `code` member.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unauthorized => "unauthorized",
            Code::Forbidden => "forbidden",
            Code::NotFound | Code::MethodNotAllowed => "not_found",
            Code::Conflict => "conflict",
            Code::Invalid => "invalid",
            Code::PayloadTooLarge => "payload_too_large",
            Code::RateLimited => "rate_limited",
            Code::Unavailable => "unavailable",
            Code::Internal => "internal",
        }
    }
}

/// A refusal: its code, what was wrong in words, and extra members.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The code (and so the status).
    pub code: Code,
    /// What was wrong, for a person.
    pub detail: String,
    /// More members of the problem object (`field`, `diagnostics`, ...).
    pub extra: Map<String, Value>,
    /// Seconds to wait before trying again (429, 503).
    pub retry_after: Option<u64>,
}

/// What a handler returns.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A refusal with this code and detail.
    pub fn new(code: Code, detail: impl Into<String>) -> ApiError {
        ApiError {
            code,
            detail: detail.into(),
            extra: Map::new(),
            retry_after: None,
        }
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(Code::NotFound, detail)
    }

    /// 409.
    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError::new(Code::Conflict, detail)
    }

    /// 422.
    pub fn invalid(detail: impl Into<String>) -> ApiError {
        ApiError::new(Code::Invalid, detail)
    }

    /// 500: the detail is logged, the client is told less.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "internal error");
        ApiError::new(Code::Internal, "the server failed to answer; the error is in its log")
    }

    /// Adds a member to the problem object.
    pub fn with(mut self, key: &str, value: Value) -> ApiError {
        self.extra.insert(key.to_string(), value);
        self
    }

    /// Asks the client to wait this many seconds.
    pub fn retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(seconds);
        self
    }

    /// A library error by its class.
    pub fn of_class(class: ErrorClass, detail: String) -> ApiError {
        match class {
            ErrorClass::NotFound => ApiError::not_found(detail),
            ErrorClass::Conflict => ApiError::conflict(detail),
            ErrorClass::Invalid => ApiError::invalid(detail),
            ErrorClass::Unavailable => ApiError::new(Code::Unavailable, detail).retry_after(1),
            ErrorClass::Internal => ApiError::internal(detail),
        }
    }

    /// The problem object.
    pub fn body(&self) -> Value {
        let status = self.code.status();
        let mut body = json!({
            "type": "about:blank",
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": self.detail,
            "code": self.code.as_str(),
        });
        if let Value::Object(map) = &mut body {
            for (k, v) in &self.extra {
                map.insert(k.clone(), v.clone());
            }
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        let mut response = (self.code.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> ApiError {
        match e {
            CatalogError::Conflict(what) => ApiError::conflict(what),
            CatalogError::NotFound(what) => ApiError::not_found(what),
            CatalogError::Io(what) => ApiError::internal(what),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let class = e.class();
        ApiError::of_class(class, e.to_string())
    }
}

impl From<flow_runtime::StartError> for ApiError {
    fn from(e: flow_runtime::StartError) -> ApiError {
        use flow_runtime::StartError;
        match e {
            // The server's environment lacks what the workflow needs: the
            // request cannot succeed as it is (SERVER.md: 422).
            StartError::MissingSecrets { .. } | StartError::ShortSecrets { .. } => ApiError::invalid(e.to_string()),
            StartError::UnknownInput { ref name, .. }
            | StartError::MissingInput { ref name }
            | StartError::BadInput { ref name, .. } => {
                let field = json!(format!("inputs.{name}"));
                ApiError::invalid(e.to_string()).with("field", field)
            }
            StartError::Store(e) => ApiError::from(e),
            e => ApiError::of_class(e.class(), e.to_string()),
        }
    }
}

impl From<flow_runtime::RunError> for ApiError {
    fn from(e: flow_runtime::RunError) -> ApiError {
        ApiError::of_class(e.class(), e.to_string())
    }
}
