//! The routes, one file per resource, assembled with their OpenAPI document
//! from the same definitions (utoipa-axum), so the document cannot drift.

pub mod events;
pub mod reviews;
pub mod runs;
pub mod system;
pub mod workflows;

use crate::app::App;
use crate::body::MAX_BODY;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "flow serve", description = "Workflows, revisions and runs over HTTP (SERVER.md)."),
    components(schemas(
        workflows::SourceBody, workflows::RevisionBody, workflows::SettingsBody,
        runs::StartBody, runs::Mode, runs::MessageBody, reviews::ApprovalBody, reviews::ReturnBody, reviews::Decision
    )),
    modifiers(&Security)
)]
struct Document;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        doc.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "key",
            Vec::<String>::new(),
        )]);
    }
}

/// The routes that need a key, and the document of every route.
fn api() -> OpenApiRouter<Arc<App>> {
    OpenApiRouter::with_openapi(Document::openapi())
        .routes(routes!(workflows::create, workflows::list))
        .routes(routes!(workflows::get, workflows::patch, workflows::delete))
        .routes(routes!(workflows::add_revision, workflows::revisions))
        .routes(routes!(workflows::revision))
        .routes(routes!(workflows::graph))
        .routes(routes!(workflows::activate))
        .routes(routes!(workflows::compile_only))
        .routes(routes!(workflows::diff))
        .routes(routes!(runs::start))
        .routes(routes!(runs::list))
        .routes(routes!(runs::get, runs::delete))
        .routes(routes!(runs::send, runs::messages))
        .routes(routes!(runs::cancel))
        .routes(routes!(events::events))
        .routes(routes!(reviews::approve))
        .routes(routes!(reviews::hand_back))
        .routes(routes!(reviews::approvals))
        .routes(routes!(reviews::handoffs))
}

fn open() -> OpenApiRouter<Arc<App>> {
    OpenApiRouter::new()
        .routes(routes!(system::healthz))
        .routes(routes!(system::readyz))
        .routes(routes!(system::metrics))
}

/// The OpenAPI 3.1 document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api().split_for_parts();
    let (_, mut open) = open().split_for_parts();
    for item in open.paths.paths.values_mut() {
        keyless(item);
    }
    doc.merge(open);
    add_openapi_path(&mut doc);
    doc
}

/// Marks a path's operations as needing no key (`security: []` overrides
/// the document's default, the bearer key).
fn keyless(item: &mut utoipa::openapi::path::PathItem) {
    let operations = [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ];
    for op in operations.into_iter().flatten() {
        op.security = Some(Vec::new());
    }
}

fn add_openapi_path(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
    use utoipa::openapi::response::ResponseBuilder;
    let op = OperationBuilder::new()
        .summary(Some("This document"))
        .tag("system")
        .response(
            "200",
            ResponseBuilder::new().description("the OpenAPI 3.1 document of every route"),
        )
        .build();
    let mut item = PathItem::new(HttpMethod::Get, op);
    keyless(&mut item);
    doc.paths.paths.insert("/v1/openapi.json".into(), item);
}

/// The whole router over the shared state.
pub fn router(app: Arc<App>) -> Router {
    let (api, _) = api().split_for_parts();
    let api = api
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            crate::idempotency::idempotent,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            crate::auth::authenticate,
        ));
    let (open, _) = open().split_for_parts();
    let document = serde_json::to_value(openapi()).unwrap_or_default();
    open.route(
        "/v1/openapi.json",
        axum::routing::get(move || {
            let document = document.clone();
            async move { axum::Json(document) }
        }),
    )
    .merge(api)
    .fallback(not_found)
    .method_not_allowed_fallback(not_allowed)
    .layer(DefaultBodyLimit::max(MAX_BODY))
    .with_state(app)
}

async fn not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> crate::problem::ApiError {
    crate::problem::ApiError::new(
        crate::problem::Code::MethodNotAllowed,
        format!("{} does not answer {method}", uri.path()),
    )
}

async fn not_found(uri: axum::http::Uri) -> crate::problem::ApiError {
    crate::problem::ApiError::not_found(format!("no route {}", uri.path()))
}
