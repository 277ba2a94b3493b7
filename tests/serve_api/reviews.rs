//! Approvals and handoffs answered over HTTP, and an approval deadline that
//! fires by itself, also across a restart.

use crate::serve::{Model, Server, items, of_type, source, texts, time};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The refund workflow with its approval's timeout, its tool at `tools`.
fn refund(timeout: &str, tools: &str) -> String {
    source("refund.flow", &[("TIMEOUT", timeout), ("TOOLS_URL", tools)])
}

async fn tools() -> MockServer {
    let tools = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/orders/A1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "status": "shipped" })))
        .mount(&tools)
        .await;
    tools
}

#[tokio::test(flavor = "multi_thread")]
async fn an_approval_is_answered_by_a_reviewer_and_refused_to_a_runner() {
    let (model, tools) = (Model::start().await, tools().await);
    let server = Server::start("approval", &model).await;
    let admin = server.key("ops", "admin").await;
    let runner = server.key("app", "run").await;
    let reviewer = server.key("supervisor", "review").await;
    server.create(&admin, &refund("1h", &tools.uri())).await;

    let start = server
        .start_run(&runner, "refund", json!({ "inputs": { "amount": 75 } }))
        .await;
    let run = &start["run"];
    assert_eq!(run["status"], "waiting_for_approval", "{start}");
    let pending = &run["pending"];
    assert_eq!(pending["kind"], "approval");
    assert_eq!(pending["node"], "check");
    assert_eq!(pending["prompt"], "Refund 75 EUR?");
    assert!(pending["queue"].is_null() && pending["message"].is_null(), "{pending}");
    let deadline = time(&pending["deadline"]);
    let ahead = deadline.duration_since(jiff::Timestamp::now()).as_secs_f64();
    assert!(
        (3500.0..=3600.0).contains(&ahead),
        "the deadline is in an hour: {ahead}"
    );
    let id = run["id"].as_str().expect("an id").to_string();
    let pending_id = pending["id"].as_u64().expect("pending.id is a seq");
    let events = server.events(&runner, &id).await;
    let paused = of_type(&events, "paused");
    assert_eq!(paused.last().map(|e| e["seq"].clone()), Some(json!(pending_id)));

    // Listed across runs, to reviewers.
    let listed = server.get("/v1/approvals?status=pending", &reviewer).await;
    let listed = items(listed.expect(200));
    assert_eq!(listed.len(), 1, "{listed:?}");
    let item = &listed[0];
    assert_eq!(item["run_id"], id.as_str());
    assert_eq!(
        (item["workflow"].clone(), item["node"].clone()),
        (json!("refund"), json!("check"))
    );
    assert_eq!(item["pending_id"], pending_id);
    assert_eq!(item["prompt"], "Refund 75 EUR?");
    assert_eq!(item["mode"], "live");
    assert_eq!(time(&item["deadline"]), deadline);
    assert!(item["since"].is_string(), "{item}");
    server.get("/v1/approvals", &runner).await.problem(403, "forbidden");

    let answer = |pending: u64| json!({ "pending_id": pending, "decision": "approve", "note": "ok by Sam" });
    let approval = format!("/v1/runs/{id}/approval");
    server
        .post(&approval, &runner, answer(pending_id))
        .await
        .problem(403, "forbidden");
    server
        .post(&approval, &reviewer, answer(pending_id + 100))
        .await
        .problem(409, "conflict");
    server
        .post(&approval, &reviewer, json!({ "decision": "approve" }))
        .await
        .problem(422, "invalid");
    assert_eq!(server.run(&runner, &id).await["status"], "waiting_for_approval");

    let approved = server.post(&approval, &reviewer, answer(pending_id)).await;
    let approved = approved.expect(200).clone();
    assert_eq!(approved["run"]["status"], "completed", "{approved}");
    assert_eq!(approved["run"]["outcome"], "refunded");
    assert_eq!(texts(&approved), ["Refunded; the order is shipped."], "the tool ran");
    let events = server.events(&runner, &id).await;
    let resumed = of_type(&events, "resumed");
    assert_eq!(resumed.len(), 1, "{events:?}");
    assert_eq!(resumed[0]["note"], "ok by Sam");
    assert!(items(server.get("/v1/approvals", &reviewer).await.expect(200)).is_empty());
    server
        .post(&approval, &reviewer, answer(pending_id))
        .await
        .problem(409, "conflict");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_handoff_is_returned_with_typed_values() {
    let model = Model::start().await;
    let server = Server::start("handoff", &model).await;
    let admin = server.key("ops", "admin").await;
    let reviewer = server.key("billing-desk", "review").await;
    let runner = server.key("app", "run").await;
    server.create(&admin, &source("desk.flow", &[])).await;
    let start = server.start_run(&runner, "desk", json!({})).await;
    let run = &start["run"];
    assert_eq!(run["status"], "waiting_for_human", "{start}");
    assert_eq!(run["pending"]["kind"], "handoff");
    assert_eq!(run["pending"]["queue"], "billing");
    assert_eq!(run["pending"]["message"], "Help the customer with a refund.");
    assert!(run["pending"]["deadline"].is_null());
    let id = run["id"].as_str().expect("an id").to_string();
    let pending_id = run["pending"]["id"].as_u64().expect("a pending id");

    // A playground session waits there too, listed with its mode.
    let session = server.start_run(&runner, "desk", json!({ "mode": "test" })).await;
    let listed = items(server.get("/v1/handoffs?status=waiting", &reviewer).await.expect(200));
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0]["run_id"], session["run"]["id"], "newest first");
    assert_eq!(
        (listed[0]["mode"].clone(), listed[1]["mode"].clone()),
        (json!("test"), json!("live"))
    );
    let listed = &listed[1..];
    assert_eq!(listed[0]["run_id"], id.as_str());
    assert_eq!(listed[0]["queue"], "billing");
    assert_eq!(listed[0]["message"], "Help the customer with a refund.");
    assert_eq!(listed[0]["pending_id"], pending_id);
    assert!(listed[0]["since"].is_string());

    let back = format!("/v1/runs/{id}/return");
    let unnamed = server.post(&back, &reviewer, json!({ "set": { "credit": 1 } })).await;
    assert_eq!(
        unnamed.problem(422, "invalid")["field"],
        "pending_id",
        "{}",
        unnamed.text
    );
    let bad = server
        .post(
            &back,
            &reviewer,
            json!({ "pending_id": pending_id, "set": { "credit": "ten" } }),
        )
        .await;
    let bad = bad.problem(422, "invalid").clone();
    assert!(bad["detail"].as_str().unwrap_or("").contains("credit"), "{bad}");
    let unknown = server
        .post(
            &back,
            &reviewer,
            json!({ "pending_id": pending_id, "set": { "colour": 1 } }),
        )
        .await;
    unknown.problem(422, "invalid");
    assert_eq!(server.run(&runner, &id).await["vars"]["credit"], 0, "nothing was set");
    server
        .post(&back, &reviewer, json!({ "pending_id": pending_id + 1 }))
        .await
        .problem(409, "conflict");
    server
        .post(&back, &runner, json!({ "pending_id": pending_id }))
        .await
        .problem(403, "forbidden");

    let body =
        json!({ "pending_id": pending_id, "note": "refunded by phone", "set": { "credit": 10, "note": "goodwill" } });
    let returned = server.post(&back, &reviewer, body).await;
    let returned = returned.expect(200).clone();
    assert_eq!(returned["run"]["status"], "completed", "{returned}");
    assert_eq!(returned["run"]["outcome"], "returned");
    assert_eq!(texts(&returned), ["Back with 10 EUR credit (goodwill)."]);
    assert_eq!(returned["run"]["vars"]["credit"], 10);
    let events = server.events(&runner, &id).await;
    assert_eq!(of_type(&events, "resumed")[0]["note"], "refunded by phone");
    let left = items(server.get("/v1/handoffs", &reviewer).await.expect(200));
    let left: Vec<Value> = left.iter().map(|h| h["run_id"].clone()).collect();
    assert_eq!(
        left,
        [session["run"]["id"].clone()],
        "the returned run is no longer listed"
    );
}

/// The run's `resumed` event once the timeout was taken (polled for at most `limit`).
async fn timed_out(server: &Server, key: &str, id: &str, limit: Duration) -> Value {
    let run = crate::serve::until("the timeout to be taken", limit, || async {
        let run = server.run(key, id).await;
        (run["status"] == "completed").then_some(run)
    })
    .await;
    assert_eq!(run["outcome"], "timed_out", "{run}");
    let events = server.events(key, id).await;
    let resumed = of_type(&events, "resumed");
    assert_eq!(resumed.len(), 1, "{events:?}");
    assert_eq!(resumed[0]["with"], "timeout", "{events:?}");
    resumed[0].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_approval_deadline_fires_by_itself_within_a_second() {
    let model = Model::start().await;
    let server = Server::start("deadline", &model).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &refund("2s", "http://127.0.0.1:9")).await;
    let start = server.start_run(&admin, "refund", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();
    let deadline = time(&start["run"]["pending"]["deadline"]);

    // Nobody calls anything until the run has moved on.
    let resumed = timed_out(&server, &admin, &id, Duration::from_secs(5)).await;
    let late = time(&resumed["ts"]).duration_since(deadline).as_secs_f64();
    eprintln!("the timeout was taken {late:.3} s after the deadline");
    assert!((0.0..=1.0).contains(&late), "taken {late} s after the deadline");
    let answer = json!({ "pending_id": start["run"]["pending"]["id"], "decision": "approve" });
    server
        .post(&format!("/v1/runs/{id}/approval"), &admin, answer)
        .await
        .problem(409, "conflict");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deadline_that_passed_while_the_server_was_down_fires_when_it_starts() {
    let model = Model::start().await;
    let mut server = Server::start("deadline-restart", &model).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &refund("2s", "http://127.0.0.1:9")).await;
    let start = server.start_run(&admin, "refund", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();
    let deadline = time(&start["run"]["pending"]["deadline"]);

    let stopped = server.terminate();
    assert!(stopped.success(), "SIGTERM exits 0: {stopped:?}");
    assert!(jiff::Timestamp::now() < deadline, "stopped before the deadline");
    // Down until the deadline has passed.
    let down = Instant::now();
    while jiff::Timestamp::now() < deadline + jiff::SignedDuration::from_millis(300) {
        assert!(down.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.restart();
    let started = jiff::Timestamp::now();
    let resumed = timed_out(&server, &admin, &id, Duration::from_secs(5)).await;
    let after_start = time(&resumed["ts"]).duration_since(started).as_secs_f64();
    eprintln!("the missed timeout was taken {after_start:.3} s after the start");
    assert!(after_start <= 1.0, "taken {after_start} s after the start");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_approval_never_times_out() {
    let model = Model::start().await;
    let server = Server::start("cancel-approval", &model).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &refund("1s", "http://127.0.0.1:9")).await;
    let start = server.start_run(&admin, "refund", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();
    let deadline = time(&start["run"]["pending"]["deadline"]);
    let cancel = server.post(&format!("/v1/runs/{id}/cancel"), &admin, json!({})).await;
    assert_eq!(cancel.expect(200)["run"]["status"], "cancelled");
    assert!(cancel.json["run"]["pending"].is_null(), "{}", cancel.text);

    // Past the deadline, and past the time the timer would have fired.
    let waited = Instant::now();
    while jiff::Timestamp::now() < deadline + jiff::SignedDuration::from_millis(1200) {
        assert!(waited.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let run = server.run(&admin, &id).await;
    assert_eq!(run["status"], "cancelled", "{run}");
    let events = server.events(&admin, &id).await;
    assert_eq!(
        events.last().map(|e| e["type"].clone()),
        Some(json!("run_cancelled")),
        "{events:?}"
    );
    assert!(of_type(&events, "resumed").is_empty(), "{events:?}");
    let warnings: Vec<String> = server
        .log()
        .lines()
        .filter(|l| l.contains("\"WARN\""))
        .map(str::to_string)
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(items(server.get("/v1/approvals", &admin).await.expect(200)).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_deadline_fires_on_a_sped_up_test_clock() {
    let model = Model::start().await;
    let clock = [("FLOW_CLOCK", "2026-01-05T09:00:00Zx3600")];
    let server = Server::start_with("fast-clock", &model, &[], &clock).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &refund("1h", "http://127.0.0.1:9")).await;
    let asked = Instant::now();
    let start = server.start_run(&admin, "refund", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();
    let deadline = time(&start["run"]["pending"]["deadline"]);
    let began: jiff::Timestamp = "2026-01-05T09:00:00Z".parse().expect("a time");
    let ahead = deadline.duration_since(began).as_secs_f64();
    assert!(
        (3600.0..3600.0 + 3600.0 * 5.0).contains(&ahead),
        "an hour of the server's clock: {ahead}"
    );

    // An hour of that clock is a second of ours; it fires within a second of it (an hour there).
    let resumed = timed_out(&server, &admin, &id, Duration::from_secs(5)).await;
    let late = time(&resumed["ts"]).duration_since(deadline).as_secs_f64();
    assert!(
        (0.0..=3600.0).contains(&late),
        "taken {late} s of the server's clock after the deadline"
    );
    assert!(asked.elapsed() < Duration::from_secs(4), "{:?}", asked.elapsed());
}
