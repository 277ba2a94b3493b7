//! Every route of SERVER.md's "Workflows and revisions" and "Runs" tables
//! (plus `DELETE /v1/runs/{id}` of "Retention" and the routes that need no
//! key), with the scopes SERVER.md "Requests" gives each. Kept here, not
//! parsed from the spec: a test reads nothing outside the repository.

/// A key's scope.
pub const ADMIN: &str = "admin";
/// Starts runs, sends messages, reads runs and workflows.
pub const RUN: &str = "run";
/// Reads runs; lists and answers approvals and handoffs.
pub const REVIEW: &str = "review";

/// One route: its method, its path as the OpenAPI document writes it, and
/// the scopes that may call it (empty: no key needed).
pub struct Route {
    /// The HTTP method.
    pub method: &'static str,
    /// The path, `{name}` style.
    pub path: &'static str,
    /// The scopes allowed; empty for the routes that need no key.
    pub scopes: &'static [&'static str],
}

const fn route(method: &'static str, path: &'static str, scopes: &'static [&'static str]) -> Route {
    Route { method, path, scopes }
}

const ALL: &[&str] = &[ADMIN, RUN, REVIEW];
const RUNNERS: &[&str] = &[ADMIN, RUN];
const REVIEWERS: &[&str] = &[ADMIN, REVIEW];
const ADMINS: &[&str] = &[ADMIN];
const OPEN: &[&str] = &[];

/// Every route the server has.
pub const ROUTES: &[Route] = &[
    // Workflows and revisions.
    route("POST", "/v1/workflows", ADMINS),
    route("GET", "/v1/workflows", RUNNERS),
    route("GET", "/v1/workflows/{name}", RUNNERS),
    route("PATCH", "/v1/workflows/{name}", ADMINS),
    route("DELETE", "/v1/workflows/{name}", ADMINS),
    route("POST", "/v1/workflows/{name}/revisions", ADMINS),
    route("GET", "/v1/workflows/{name}/revisions", RUNNERS),
    route("GET", "/v1/workflows/{name}/revisions/{n}", RUNNERS),
    route("GET", "/v1/workflows/{name}/revisions/{n}/graph", RUNNERS),
    route("POST", "/v1/workflows/{name}/revisions/{n}/activate", ADMINS),
    route("POST", "/v1/compile", RUNNERS),
    route("GET", "/v1/workflows/{name}/diff", RUNNERS),
    // Runs.
    route("POST", "/v1/workflows/{name}/runs", RUNNERS),
    route("GET", "/v1/runs", ALL),
    route("GET", "/v1/runs/{id}", ALL),
    route("DELETE", "/v1/runs/{id}", ADMINS),
    route("POST", "/v1/runs/{id}/messages", RUNNERS),
    route("GET", "/v1/runs/{id}/messages", ALL),
    route("POST", "/v1/runs/{id}/approval", REVIEWERS),
    route("POST", "/v1/runs/{id}/return", REVIEWERS),
    route("POST", "/v1/runs/{id}/cancel", RUNNERS),
    route("GET", "/v1/runs/{id}/events", ALL),
    route("GET", "/v1/approvals", REVIEWERS),
    route("GET", "/v1/handoffs", REVIEWERS),
    // No key.
    route("GET", "/healthz", OPEN),
    route("GET", "/readyz", OPEN),
    route("GET", "/metrics", OPEN),
    route("GET", "/v1/openapi.json", OPEN),
];

/// A path with its parameters filled: a workflow and a run that do not
/// exist, so no request changes anything.
pub fn concrete(path: &str) -> String {
    path.replace("{name}", "no-such-workflow")
        .replace("{n}", "1")
        .replace("{id}", "no-such-run")
}
