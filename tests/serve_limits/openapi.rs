//! The OpenAPI document against SERVER.md's routes and the router: every
//! route of the list is documented, every documented route is in the list,
//! and every documented route is answered by the router (not its 404).

use crate::routes::{ROUTES, concrete};
use crate::serve::{Model, Server};
use serde_json::json;
use std::collections::BTreeSet;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_lists_every_route_and_the_router_answers_each() {
    let model = Model::start().await;
    let server = Server::start("openapi", &model).await;
    let reply = server.call("GET", "/v1/openapi.json", None, None).await;
    let doc = reply.expect(200).clone();
    let version = doc["openapi"].as_str().unwrap_or("");
    assert!(version.starts_with("3.1"), "OpenAPI 3.1: {version}");

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            documented.insert((method.to_uppercase(), path.clone()));
            let op = &item[*method];
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path}: no responses"
            );
        }
    }
    let routes = ROUTES;
    let listed: BTreeSet<(String, String)> = routes
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let undocumented: Vec<_> = listed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes of SERVER.md the document lacks: {undocumented:?}"
    );
    let unlisted: Vec<_> = documented.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "documented routes that are not in SERVER.md's list (tests/serve_limits/routes.rs): {unlisted:?}"
    );

    // What the document says a route needs is what the router asks for.
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for route in routes {
        let op = &doc["paths"][route.path][route.method.to_lowercase()];
        let security = op.get("security").unwrap_or(&doc["security"]);
        let needs: Vec<&str> = security
            .as_array()
            .map(|reqs| {
                reqs.iter()
                    .filter_map(|r| r.as_object())
                    .flat_map(|r| r.keys())
                    .map(String::as_str)
                    .collect()
            })
            .unwrap_or_default();
        let what = format!("{} {}: documented security {security}", route.method, route.path);
        if route.scopes.is_empty() {
            assert!(needs.is_empty(), "{what}, but it needs no key");
        } else {
            assert!(!needs.is_empty(), "{what}, but it needs a key");
            for name in needs {
                assert_eq!(
                    schemes.get(name).map(|s| s["scheme"].clone()),
                    Some(json!("bearer")),
                    "{what}"
                );
            }
        }
    }

    // The router answers every documented route: without a key, a route that
    // needs one is 401 (its check runs only on routes the router has); the
    // router's own 404 is for paths it does not have.
    for route in routes {
        let reply = server.call(route.method, &concrete(route.path), None, None).await;
        let expected = if route.scopes.is_empty() { 200 } else { 401 };
        assert_eq!(
            reply.status, expected,
            "{} {} is documented but the router answered {} {}",
            route.method, route.path, reply.status, reply.text
        );
    }
}
