//! One step of a run at a time (a second message meanwhile is 409), a cancel
//! during a step, and `Idempotency-Key` replays.

use crate::serve::{Model, Server, items, source, texts};
use serde_json::{Value, json};

/// A POST on a task of its own: the status and the body.
fn post_later(server: &Server, key: &str, path: &str, body: Value) -> tokio::task::JoinHandle<(u16, Value)> {
    let (http, url, key) = (server.http.clone(), server.url(path), key.to_string());
    tokio::spawn(async move {
        let response = http
            .post(url)
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .expect("an answer");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn two_messages_at_once_to_one_run_give_exactly_one_conflict() {
    let model = Model::start().await;
    let server = Server::start("concurrent", &model).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;
    let start = server.start_run(&admin, "chat", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();
    let path = format!("/v1/runs/{id}/messages");

    let one = post_later(&server, &admin, &path, json!({ "text": "[slow] one" }));
    let two = post_later(&server, &admin, &path, json!({ "text": "[slow] two" }));
    let (one, two) = (one.await.expect("a task"), two.await.expect("a task"));
    let mut statuses = [one.0, two.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{one:?} {two:?}");
    let (won, lost) = if one.0 == 200 { (one, two) } else { (two, one) };
    assert_eq!(lost.1["code"], "conflict", "{lost:?}");
    let said = texts(&won.1);
    assert_eq!(said.len(), 1, "{won:?}");
    let conversation = server.get(&path, &admin).await;
    let users: Vec<Value> = items(conversation.expect(200))
        .into_iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["text"].clone())
        .collect();
    assert_eq!(users.len(), 1, "only one message was taken: {users:?}");
    assert_eq!(said[0], format!("You said: {}", users[0].as_str().unwrap_or("")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_during_a_step_takes_effect_once_the_step_has_committed() {
    let model = Model::start().await;
    let server = Server::start("cancel-during", &model).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;
    let start = server.start_run(&admin, "chat", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();
    let calls = model.calls().await;
    let turn = post_later(
        &server,
        &admin,
        &format!("/v1/runs/{id}/messages"),
        json!({ "text": "[slow] hi" }),
    );
    crate::serve::until(
        "the turn to reach the model",
        std::time::Duration::from_secs(5),
        || async { (model.calls().await > calls).then_some(()) },
    )
    .await;
    let cancel = server.post(&format!("/v1/runs/{id}/cancel"), &admin, json!({})).await;
    assert_eq!(cancel.expect(200)["run"]["status"], "cancelled", "{}", cancel.text);
    let (status, _) = turn.await.expect("a task");
    assert_eq!(status, 200, "the turn in flight was answered");
    let events = server.events(&admin, &id).await;
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds.last(), Some(&"run_cancelled"), "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "run_cancelled").count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idempotency_key_replays_the_first_answer() {
    let model = Model::start().await;
    let server = Server::start("idempotency", &model).await;
    let admin = server.key("ops", "admin").await;
    let other = server.key("other", "run").await;
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;
    let start = |key: &str, idem: &str, body: &str| {
        server
            .http
            .post(server.url("/v1/workflows/chat/runs"))
            .bearer_auth(key.to_string())
            .header("idempotency-key", idem.to_string())
            .header("content-type", "application/json")
            .body(body.to_string())
    };
    let body = r#"{"inputs": {}}"#;
    let first = server.send(start(&admin, "order-1", body)).await;
    first.expect(201);
    let calls = model.calls().await;
    let again = server.send(start(&admin, "order-1", body)).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.text, first.text, "the same body, byte for byte");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(model.calls().await, calls, "the run was not started again");
    let runs = server.get("/v1/runs", &admin).await;
    assert_eq!(items(runs.expect(200)).len(), 1, "one run");

    // The same key with another body (even one byte) is 409; another caller's key is its own.
    let changed = server.send(start(&admin, "order-1", r#"{"inputs": { }}"#)).await;
    changed.problem(409, "conflict");
    let theirs = server.send(start(&other, "order-1", body)).await;
    theirs.expect(201);
    assert_ne!(theirs.json["run"]["id"], first.json["run"]["id"]);

    // A 422 is kept too; a 409 is not (the retry is tried afresh).
    let bad = r#"{"inputs": {"colour": 1}}"#;
    let refused = server.send(start(&admin, "order-2", bad)).await;
    refused.problem(422, "invalid");
    let replayed = server.send(start(&admin, "order-2", bad)).await;
    assert_eq!((replayed.status, replayed.text.clone()), (422, refused.text.clone()));
    let id = first.json["run"]["id"].as_str().expect("an id").to_string();
    server
        .post(&format!("/v1/runs/{id}/cancel"), &admin, json!({}))
        .await
        .expect(200);
    let cancel = |idem: &str| {
        server
            .http
            .post(server.url(&format!("/v1/runs/{id}/cancel")))
            .bearer_auth(admin.clone())
            .header("idempotency-key", idem.to_string())
    };
    server.send(cancel("cancel-1")).await.problem(409, "conflict");
    let retried = server.send(cancel("cancel-1")).await;
    retried.problem(409, "conflict");
    assert_eq!(retried.header("idempotent-replayed"), None, "tried afresh");
    assert_eq!(items(server.get("/v1/runs", &admin).await.expect(200)).len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_under_an_idempotency_key_is_sent_once() {
    let model = Model::start().await;
    let server = Server::start("idempotent-message", &model).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;
    let start = server.start_run(&admin, "chat", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();
    let path = format!("/v1/runs/{id}/messages");
    let send = || {
        let (http, url, key) = (server.http.clone(), server.url(&path), admin.clone());
        tokio::spawn(async move {
            let response = http
                .post(url)
                .bearer_auth(key)
                .header("idempotency-key", "message-1")
                .json(&json!({ "text": "[slow] hi" }))
                .send()
                .await
                .expect("an answer");
            (response.status().as_u16(), response.text().await.unwrap_or_default())
        })
    };
    let (one, two) = (send(), send());
    let (one, two) = (one.await.expect("a task"), two.await.expect("a task"));
    let mut statuses = [one.0, two.0];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [200, 409],
        "the key is in progress meanwhile: {one:?} {two:?}"
    );
    let first = if one.0 == 200 { one.1 } else { two.1 };

    let retry = send().await.expect("a task");
    assert_eq!(retry, (200, first), "the retry answers that turn");
    let all = items(server.get(&path, &admin).await.expect(200));
    let users = all.iter().filter(|m| m["role"] == "user").count();
    assert_eq!(users, 1, "sent once: {all:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn starts_beyond_max_concurrent_runs_are_429_and_test_runs_do_not_count() {
    let model = Model::start().await;
    let server = Server::start("max-concurrent", &model).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;
    let patch = |body: &'static str| server.call("PATCH", "/v1/workflows/chat", Some(&admin), Some(body));
    let set = patch(r#"{"max_concurrent_runs": 1}"#).await;
    assert_eq!(set.expect(200)["max_concurrent_runs"], 1, "{}", set.text);
    assert_eq!(
        server.get("/v1/workflows/chat", &admin).await.json["max_concurrent_runs"],
        1
    );
    patch(r#"{"max_concurrent_runs": 0}"#).await.problem(422, "invalid");

    // Two starts at once: the cap holds.
    let path = "/v1/workflows/chat/runs";
    let (one, two) = (
        post_later(&server, &admin, path, json!({})),
        post_later(&server, &admin, path, json!({})),
    );
    let (one, two) = (one.await.expect("a task"), two.await.expect("a task"));
    let mut statuses = [one.0, two.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 429], "{one:?} {two:?}");
    let first = if one.0 == 201 { one.1 } else { two.1 };
    // Bad inputs are 422 before the cap is 429 (SERVER.md, the order of refusals).
    let bad = server.post(path, &admin, json!({ "inputs": { "colour": 1 } })).await;
    bad.problem(422, "invalid");
    let over = server.post(path, &admin, json!({})).await;
    over.problem(429, "rate_limited");
    let wait: u64 = over
        .header("retry-after")
        .and_then(|s| s.parse().ok())
        .expect("Retry-After in seconds");
    assert!(wait >= 1, "{wait}");
    server.start_run(&admin, "chat", json!({ "mode": "test" })).await;

    let id = first["run"]["id"].as_str().expect("an id");
    server
        .post(&format!("/v1/runs/{id}/cancel"), &admin, json!({}))
        .await
        .expect(200);
    server.start_run(&admin, "chat", json!({})).await;
    patch(r#"{"max_concurrent_runs": null}"#).await.expect(200);
    server.start_run(&admin, "chat", json!({})).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn big_compiles_do_not_hold_up_other_requests() {
    let model = Model::start().await;
    let server = Server::start("big-compiles", &model).await;
    let admin = server.key("ops", "admin").await;
    // A source of a megabyte takes the compiler seconds (in a debug build):
    // more of them at once than the server has worker threads.
    let big = json!({ "source": "x".repeat(1024 * 1024) });
    let compiles: Vec<_> = (0..3)
        .map(|_| post_later(&server, &admin, "/v1/compile", big.clone()))
        .collect();

    let window = std::time::Instant::now();
    let mut slowest = std::time::Duration::ZERO;
    while window.elapsed() < std::time::Duration::from_millis(1500) {
        let asked = std::time::Instant::now();
        server.call("GET", "/healthz", None, None).await.expect(200);
        slowest = slowest.max(asked.elapsed());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        slowest < std::time::Duration::from_millis(500),
        "/healthz took {slowest:?} while compiling"
    );
    for compile in compiles {
        compile.abort();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idempotency_key_is_kept_for_24_hours() {
    let model = Model::start().await;
    // A day of the server's clock passes in a second.
    let clock = [("FLOW_CLOCK", "2026-01-05T09:00:00Zx86400")];
    let server = Server::start_with("idempotency-expiry", &model, &[], &clock).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;
    let start = || {
        server
            .http
            .post(server.url("/v1/workflows/chat/runs"))
            .bearer_auth(admin.clone())
            .header("idempotency-key", "daily")
            .json(&json!({}))
    };
    let began = std::time::Instant::now();
    let first = server.send(start()).await;
    first.expect(201);
    let replay = server.send(start()).await;
    if began.elapsed() < std::time::Duration::from_millis(900) {
        assert_eq!(replay.text, first.text, "replayed within the day");
    }
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await; // a day and more of the server's clock
    let later = server.send(start()).await;
    later.expect(201);
    assert_eq!(later.header("idempotent-replayed"), None);
    assert_ne!(
        later.json["run"]["id"], first.json["run"]["id"],
        "a new run the next day"
    );
}
