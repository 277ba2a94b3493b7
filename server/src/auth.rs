//! Who is calling and whether their key's scope allows the route (SERVER.md
//! "Conventions" and "Requests"). Keys are looked up by their SHA-256 on
//! every request, so a revoke counts at once; no key is kept in memory.

use crate::app::App;
use crate::catalog::Scope;
use crate::problem::{ApiError, Code};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The caller of a request, once authenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key's name (`anonymous` under `--no-auth`).
    pub name: String,
    /// Its scope.
    pub scope: Scope,
}

const EVERY: &[Scope] = &[Scope::Admin, Scope::Run, Scope::Review];
const RUN: &[Scope] = &[Scope::Admin, Scope::Run];
const REVIEW: &[Scope] = &[Scope::Admin, Scope::Review];
const ADMIN: &[Scope] = &[Scope::Admin];

/// The scopes that may call a route (by its pattern, as the router matched it).
pub fn allowed(method: &Method, route: &str) -> &'static [Scope] {
    let get = method == Method::GET;
    let post = method == Method::POST;
    match route {
        "/v1/runs" | "/v1/runs/{id}" | "/v1/runs/{id}/events" | "/v1/runs/{id}/messages" if get => EVERY,
        "/v1/runs/{id}/messages" | "/v1/runs/{id}/cancel" | "/v1/workflows/{name}/runs" | "/v1/compile" if post => RUN,
        "/v1/approvals" | "/v1/handoffs" if get => REVIEW,
        "/v1/runs/{id}/approval" | "/v1/runs/{id}/return" if post => REVIEW,
        r if get && r.starts_with("/v1/workflows") && !r.contains("/schedules") && !r.contains("/hooks") => RUN,
        _ => ADMIN,
    }
}

/// Whether a `Host` header names this machine (`localhost`, `127.0.0.1`,
/// `[::1]`, with or without a port): the only hosts `--no-auth` answers.
pub fn loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inner, _)) => return inner == "::1",
            None => return false,
        }
    } else {
        host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                name
            } else {
                host
            }
        })
    };
    name.eq_ignore_ascii_case("localhost") || name == "127.0.0.1"
}

/// The key a request carries: `Authorization: Bearer KEY` or `X-API-Key: KEY`.
fn presented(req: &Request) -> Option<&str> {
    let headers = req.headers();
    if let Some(auth) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, key) = auth.trim().split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| key.trim());
    }
    headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::trim)
}

/// The middleware: 401 without a known key, 403 when its scope does not
/// allow the route; else the request goes on with its [`Caller`].
pub async fn authenticate(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let caller = if app.no_auth {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !loopback_host(host) {
            return ApiError::new(
                Code::Forbidden,
                "without keys this server answers only requests addressed to localhost, 127.0.0.1 or [::1]",
            )
            .into_response();
        }
        Caller {
            name: "anonymous".into(),
            scope: Scope::Admin,
        }
    } else {
        let Some(key) = presented(&req).filter(|k| !k.is_empty()) else {
            return unauthorized("this route needs an API key: send `Authorization: Bearer KEY`");
        };
        match app.catalog.key_by_hash(&crate::keys::hash(key)).await {
            Ok(Some(row)) => Caller {
                name: row.name,
                scope: row.scope,
            },
            Ok(None) => return unauthorized("the API key is not known (or was revoked)"),
            Err(e) => return ApiError::from(e).into_response(),
        }
    };
    if !allowed(req.method(), &route).contains(&caller.scope) {
        return ApiError::new(
            Code::Forbidden,
            format!(
                "a `{}` key may not call {} {route}",
                caller.scope.as_str(),
                req.method()
            ),
        )
        .into_response();
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

fn unauthorized(detail: &str) -> Response {
    let mut response = ApiError::new(Code::Unauthorized, detail).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_follow_the_table() {
        assert_eq!(allowed(&Method::GET, "/v1/workflows/{name}/revisions/{n}"), RUN);
        assert_eq!(allowed(&Method::POST, "/v1/workflows/{name}/revisions"), ADMIN);
        assert_eq!(allowed(&Method::POST, "/v1/workflows/{name}/runs"), RUN);
        assert_eq!(allowed(&Method::POST, "/v1/runs/{id}/approval"), REVIEW);
        assert_eq!(allowed(&Method::GET, "/v1/runs/{id}/events"), EVERY);
        assert_eq!(allowed(&Method::DELETE, "/v1/runs/{id}"), ADMIN);
        assert_eq!(allowed(&Method::GET, "/v1/approvals"), REVIEW);
        assert_eq!(allowed(&Method::POST, "/v1/runs/{id}/cancel"), RUN);
        assert_eq!(allowed(&Method::PATCH, "/v1/workflows/{name}"), ADMIN);
    }

    #[test]
    fn only_loopback_hosts_pass_without_keys() {
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:9",
            "[::1]:8080",
            "[::1]",
            "LOCALHOST",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "127.0.0.1.evil.example",
            "[::2]:80",
            "",
            "10.0.0.1:8080",
            "localhost.evil:80",
        ] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }
}
