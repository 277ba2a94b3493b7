//! Keys and scopes on every route (driven by the table of [`crate::routes`]),
//! and `--no-auth`, which answers only requests addressed to this machine.

use crate::routes::{ADMIN, REVIEW, ROUTES, RUN, concrete};
use crate::serve::{Model, Server};
use std::collections::BTreeMap;

fn body_of(method: &str) -> Option<&'static str> {
    matches!(method, "POST" | "PATCH").then_some("{}")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_needs_a_key_whose_scope_allows_it() {
    let model = Model::start().await;
    let server = Server::start("scopes", &model).await;
    let mut keys = BTreeMap::new();
    for scope in [ADMIN, RUN, REVIEW] {
        keys.insert(scope, server.key(&format!("{scope}-key"), scope).await);
    }
    let unknown = format!("flow_{}", "A".repeat(43));
    let routes = crate::routes::ROUTES;
    let mut checked = 0;
    for route in routes.iter().filter(|r| !r.scopes.is_empty()) {
        let path = concrete(route.path);
        let what = format!("{} {}", route.method, route.path);
        let body = body_of(route.method);

        let none = server.call(route.method, &path, None, body).await;
        none.problem(401, "unauthorized");
        assert_eq!(none.header("www-authenticate"), Some("Bearer"), "{what}");
        server
            .call(route.method, &path, Some(&unknown), body)
            .await
            .problem(401, "unauthorized");

        for (scope, key) in &keys {
            let reply = server.call(route.method, &path, Some(key), body).await;
            if route.scopes.contains(scope) {
                assert!(
                    ![401, 403].contains(&reply.status),
                    "{what} with a `{scope}` key: {} {}",
                    reply.status,
                    reply.text
                );
            } else {
                let problem = reply.problem(403, "forbidden");
                let detail = problem["detail"].as_str().unwrap_or("");
                assert!(detail.contains(scope), "{what}: the refusal names the scope: {detail}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 3 * routes.iter().filter(|r| !r.scopes.is_empty()).count());
    assert!(routes.len() >= ROUTES.len());

    // `X-API-Key` is taken too; another scheme is not.
    let runs = server
        .send(
            server
                .http
                .get(server.url("/v1/runs"))
                .header("x-api-key", &keys[REVIEW]),
        )
        .await;
    runs.expect(200);
    let basic = server
        .send(
            server
                .http
                .get(server.url("/v1/runs"))
                .header("authorization", "Basic dXNlcjpwYXNz"),
        )
        .await;
    basic.problem(401, "unauthorized");

    // Every answer carries its request id.
    assert!(
        runs.header("x-request-id").is_some_and(|id| id.len() == 36),
        "{:?}",
        runs.headers
    );
    assert!(basic.header("x-request-id").is_some(), "refusals too");

    // A revoked key is refused at once, while the server runs.
    let leaving = server.key("leaving", RUN).await;
    server.get("/v1/runs", &leaving).await.expect(200);
    server.revoke("leaving").await;
    server.get("/v1/runs", &leaving).await.problem(401, "unauthorized");

    // 403 comes before 413: a `run` key never gets its big body read.
    let big = format!("{{\"source\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    server
        .call("POST", "/v1/workflows", Some(&keys[RUN]), Some(&big))
        .await
        .problem(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread")]
async fn routes_that_need_no_key_answer_without_one() {
    let model = Model::start().await;
    let server = Server::start("open-routes", &model).await;
    for route in ROUTES.iter().filter(|r| r.scopes.is_empty()) {
        let reply = server.call(route.method, route.path, None, None).await;
        reply.expect(200);
    }
    assert_eq!(server.call("GET", "/healthz", None, None).await.json["status"], "ok");
    assert_eq!(server.call("GET", "/readyz", None, None).await.json["status"], "ready");
    let metrics = server.call("GET", "/metrics", None, None).await;
    for family in ["flow_step_duration_seconds", "flow_model_call_duration_seconds"] {
        let kind = format!("# TYPE {family} histogram");
        assert!(metrics.text.contains(&kind), "{}", metrics.text);
    }
    // A path no route has is 404, key or not.
    server
        .call("GET", "/v1/nothing", None, None)
        .await
        .problem(404, "not_found");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_keys_only_requests_to_this_machine_are_answered() {
    let model = Model::start().await;
    let server = Server::start_with("no-auth", &model, &["--no-auth"], &[]).await;
    let port = server.base.rsplit(':').next().unwrap_or("").to_string();
    let with_host = |host: String| server.http.get(server.url("/v1/workflows")).header("host", host);

    let evil = server.send(with_host("evil.example".into())).await;
    evil.problem(403, "forbidden");
    let rebound = server.send(with_host(format!("evil.example:{port}"))).await;
    rebound.problem(403, "forbidden");
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let reply = server.send(with_host(host.clone())).await;
        assert_eq!(reply.status, 200, "Host {host}: {}", reply.text);
    }
    // Without a Host header reqwest sends the address, which is loopback.
    let plain = server
        .call("POST", "/v1/compile", None, Some("{\"source\": \"workflow w {\\n}\"}"))
        .await;
    assert_eq!(plain.status, 200, "{}", plain.text);
}
