//! Bad input: bodies that are not JSON, too big, of the wrong shape; bad
//! inputs, cursors and filters; answers to runs that do not wait for them.
//! Each is a problem naming what is wrong, never a panic.

use crate::serve::{Model, Reply, Server, source};
use serde_json::{Value, json};

/// A 422 whose `field` is `field` and whose `detail` names it.
fn names(reply: &Reply, field: &str) {
    let problem = reply.problem(422, "invalid");
    assert_eq!(problem["field"], field, "{}", reply.text);
    let detail = problem["detail"].as_str().unwrap_or("");
    let last = field.rsplit('.').next().unwrap_or(field);
    assert!(detail.contains(last), "the detail names `{field}`: {detail}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_that_are_not_json_too_big_or_of_the_wrong_shape_are_refused() {
    let model = Model::start().await;
    let server = Server::start("bad-bodies", &model).await;
    let admin = server.key("ops", "admin").await;
    let key = Some(admin.as_str());
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;

    for bad in ["{\"source\": ", "hello", "", "{\"source\": \"x\"} trailing", "[1, 2]"] {
        let reply = server.call("POST", "/v1/workflows", key, Some(bad)).await;
        reply.problem(422, "invalid");
    }
    let malformed = server.call("POST", "/v1/workflows", key, Some("{\"source\": ")).await;
    assert!(
        malformed.json["detail"].as_str().unwrap_or("").contains("JSON"),
        "{}",
        malformed.text
    );

    // 2 MiB is the limit: one byte more is 413, exactly that much is read.
    const MIB2: usize = 2 * 1024 * 1024;
    // `{"pad": "xx…"}` of n bytes: read whole, it is refused for its field (422).
    let sized = |n: usize| format!("{{\"pad\": \"{}\"}}", "x".repeat(n - 11));
    assert_eq!(sized(MIB2).len(), MIB2);
    let over = server.call("POST", "/v1/workflows", key, Some(&sized(MIB2 + 1))).await;
    over.problem(413, "payload_too_large");
    let at = server.call("POST", "/v1/workflows", key, Some(&sized(MIB2))).await;
    names(&at, "pad"); // read whole, and its field refused
    let over_message = server
        .call("POST", "/v1/runs/no-such-run/messages", key, Some(&sized(MIB2 + 1)))
        .await;
    over_message.problem(413, "payload_too_large"); // 413 comes before 404

    // Unknown fields, wrong types and missing fields name the field.
    let chat = source("chat.flow", &[("VERSION", "v2")]);
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/v1/workflows", json!({ "source": chat, "colour": "red" }), "colour"),
        ("/v1/workflows", json!({ "source": 3 }), "source"),
        ("/v1/workflows/chat/revisions", json!({ "activate": true }), "source"),
        (
            "/v1/workflows/chat/revisions",
            json!({ "source": chat, "activate": "yes" }),
            "activate",
        ),
        ("/v1/workflows/chat/runs", json!({ "inputs": [] }), "inputs"),
        ("/v1/workflows/chat/runs", json!({ "mode": "prod" }), "mode"),
        ("/v1/workflows/chat/runs", json!({ "revision": "two" }), "revision"),
        (
            "/v1/workflows/chat/runs",
            json!({ "inputs": { "colour": 1 } }),
            "inputs.colour",
        ),
        ("/v1/compile", json!({ "text": chat }), "text"),
    ];
    for (path, body, field) in cases {
        let reply = server.post(path, &admin, body.clone()).await;
        names(&reply, field);
    }
    let patch = server
        .call(
            "PATCH",
            "/v1/workflows/chat",
            key,
            Some("{\"max_concurrent_runs\": \"many\"}"),
        )
        .await;
    names(&patch, "max_concurrent_runs");
    let forever = server
        .call(
            "PATCH",
            "/v1/workflows/chat",
            key,
            Some("{\"idle_timeout\": 18446744073709551615}"),
        )
        .await;
    names(&forever, "idle_timeout");

    // 404 comes before 422: an unknown workflow with a malformed body.
    let unknown = server
        .call("POST", "/v1/workflows/nope/revisions", key, Some("{"))
        .await;
    unknown.problem(404, "not_found");

    // Answers of the wrong shape for a run.
    let start = server.start_run(&admin, "chat", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();
    names(
        &server
            .post(&format!("/v1/runs/{id}/messages"), &admin, json!({ "text": 5 }))
            .await,
        "text",
    );
    names(
        &server
            .post(&format!("/v1/runs/{id}/messages"), &admin, json!({ "txt": "hi" }))
            .await,
        "txt",
    );
    let approval = format!("/v1/runs/{id}/approval");
    names(
        &server
            .post(&approval, &admin, json!({ "pending_id": "x", "decision": "approve" }))
            .await,
        "pending_id",
    );
    names(
        &server
            .post(&approval, &admin, json!({ "pending_id": 1, "decision": "maybe" }))
            .await,
        "decision",
    );
    // Well-formed, but the run waits for a user, not an approval.
    server
        .post(&approval, &admin, json!({ "pending_id": 1, "decision": "approve" }))
        .await
        .problem(409, "conflict");
    assert_eq!(
        server.run(&admin, &id).await["status"],
        "waiting_for_user",
        "nothing changed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_inputs_cursors_and_filters_are_422_and_finished_runs_409() {
    let model = Model::start().await;
    let server = Server::start("bad-queries", &model).await;
    let admin = server.key("ops", "admin").await;
    let refund = source("refund.flow", &[("TIMEOUT", "1h"), ("TOOLS_URL", "http://127.0.0.1:9")]);
    server.create(&admin, &refund).await;
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;

    let bad_input = server
        .post(
            "/v1/workflows/refund/runs",
            &admin,
            json!({ "inputs": { "amount": "lots" } }),
        )
        .await;
    names(&bad_input, "inputs.amount");
    let unknown_revision = server
        .post("/v1/workflows/refund/runs", &admin, json!({ "revision": 7 }))
        .await;
    names(&unknown_revision, "revision");

    let start = server.start_run(&admin, "chat", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();
    for (path, field) in [
        ("/v1/runs?cursor=zz".to_string(), "cursor"),
        ("/v1/runs?status=sleeping".to_string(), "status"),
        ("/v1/runs?mode=prod".to_string(), "mode"),
        ("/v1/runs?limit=0".to_string(), "limit"),
        ("/v1/runs?limit=ten".to_string(), "limit"),
        ("/v1/workflows/chat/revisions?cursor=abc".to_string(), "cursor"),
        (format!("/v1/runs/{id}/messages?cursor=x"), "cursor"),
        (format!("/v1/runs/{id}/events?cursor=x"), "cursor"),
        (format!("/v1/runs/{id}/events?after=x"), "after"),
        ("/v1/approvals?status=done".to_string(), "status"),
        // Numbers beyond any position or seq are the client's mistake, not the store's.
        ("/v1/runs?cursor=18446744073709551615".to_string(), "cursor"),
        ("/v1/approvals?cursor=9223372036854775808".to_string(), "cursor"),
        ("/v1/handoffs?cursor=18446744073709551615".to_string(), "cursor"),
        (format!("/v1/runs/{id}/messages?cursor=18446744073709551615"), "cursor"),
        (format!("/v1/runs/{id}/events?cursor=9223372036854775808"), "cursor"),
        (format!("/v1/runs/{id}/events?after=18446744073709551615"), "after"),
    ] {
        let reply = server.get(&path, &admin).await;
        names(&reply, field);
    }
    let streamed = server
        .http
        .get(server.url(&format!("/v1/runs/{id}/events")))
        .bearer_auth(admin.clone())
        .header("accept", "text/event-stream");
    let huge = server
        .send(streamed.header("last-event-id", "18446744073709551615"))
        .await;
    huge.problem(422, "invalid");
    let unknown_param = server.get("/v1/runs?colour=red", &admin).await;
    unknown_param.problem(422, "invalid");
    // A limit above 500 is taken as 500.
    server.get("/v1/runs?limit=100000", &admin).await.expect(200);

    // A message to a finished run.
    let end = server.say(&admin, &id, "the user says goodbye").await;
    assert_eq!(end["run"]["status"], "completed");
    let late = server
        .post(
            &format!("/v1/runs/{id}/messages"),
            &admin,
            json!({ "text": "one more" }),
        )
        .await;
    let late = late.problem(409, "conflict");
    assert!(late["detail"].as_str().unwrap_or("").contains("completed"), "{late}");
    server
        .post(&format!("/v1/runs/{id}/cancel"), &admin, json!({}))
        .await
        .problem(409, "conflict");
    server
        .post("/v1/runs/no-such-run/messages", &admin, json!({ "text": "hi" }))
        .await
        .problem(404, "not_found");
}

#[tokio::test(flavor = "multi_thread")]
async fn paths_and_methods_the_router_lacks_are_problems_too() {
    let model = Model::start().await;
    let server = Server::start("bad-paths", &model).await;
    let admin = server.key("ops", "admin").await;
    let key = Some(admin.as_str());

    let put = server.call("PUT", "/v1/workflows", key, Some("{}")).await;
    put.problem(405, "not_found"); // SERVER.md names no code for 405
    let allow = put.header("allow").unwrap_or("");
    assert!(allow.contains("GET") && allow.contains("POST"), "Allow: {allow}");
    let delete = server.call("DELETE", "/healthz", None, None).await;
    delete.problem(405, "not_found");

    for path in [
        "/v1/runs/%FF",
        "/v1/runs/%FF/events",
        "/v1/workflows/%FF/revisions/1",
        "/v1/workflows/a%C3",
    ] {
        let reply = server.call("GET", path, key, None).await;
        reply.problem(404, "not_found");
    }
    let revision = server.get("/v1/workflows/chat/revisions/first", &admin).await;
    revision.problem(404, "not_found");
}
