//! Restarts in the middle of a conversation: SIGTERM lets the turn in
//! flight commit and answer, then exits 0; SIGKILL loses nothing committed;
//! either way the conversation goes on after a start on the same store.

use crate::serve::{Model, Server, items, source, texts, until};
use serde_json::{Value, json};
use std::time::Duration;

/// Sends a message on a task of its own: the answer's status and JSON, or the error.
fn send_later(
    server: &Server,
    key: &str,
    run: &str,
    text: &str,
) -> tokio::task::JoinHandle<Result<(u16, Value), String>> {
    let url = server.url(&format!("/v1/runs/{run}/messages"));
    let (http, key, body) = (server.http.clone(), key.to_string(), json!({ "text": text }));
    tokio::spawn(async move {
        let response = http
            .post(url)
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let json = response.json::<Value>().await.map_err(|e| e.to_string())?;
        Ok((status, json))
    })
}

/// Waits until the model has received `n` requests in all.
async fn model_called(model: &Model, n: usize) {
    until(&format!("{n} model requests"), Duration::from_secs(5), || async {
        (model.calls().await >= n).then_some(())
    })
    .await;
}

async fn conversation(server: &Server, key: &str, id: &str) -> Vec<String> {
    let reply = server.get(&format!("/v1/runs/{id}/messages"), key).await;
    items(reply.expect(200))
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_the_turn_in_flight_finish_and_the_conversation_goes_on() {
    let model = Model::start().await;
    let mut server = Server::start("sigterm", &model).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;
    let start = server.start_run(&admin, "chat", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();
    server.say(&admin, &id, "I am name=Ada").await;

    // A turn whose model answers slowly is in flight when SIGTERM comes.
    let before = model.calls().await;
    let slow = send_later(&server, &admin, &id, "[slow] still there?");
    model_called(&model, before + 2).await; // its extract and choose_exit, then the slow reply
    let stopped = server.terminate();
    assert!(stopped.success(), "SIGTERM exits 0: {stopped:?}\n{}", server.log());
    let (status, answer) = slow.await.expect("the task").expect("the turn in flight was answered");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(texts(&answer), ["You said: [slow] still there?"]);

    server.restart();
    assert_eq!(server.run(&admin, &id).await["status"], "waiting_for_user");
    let next = server.say(&admin, &id, "the user says goodbye").await;
    assert_eq!(texts(&next), ["Bye Ada from v1."], "the run went on with its variables");
    assert_eq!(
        conversation(&server, &admin, &id).await,
        [
            "Hello! What is your name?",
            "I am name=Ada",
            "You said: I am name=Ada",
            "[slow] still there?",
            "You said: [slow] still there?",
            "the user says goodbye",
            "Bye Ada from v1."
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_in_the_middle_of_a_turn_loses_nothing_committed() {
    let model = Model::start().await;
    let mut server = Server::start("sigkill", &model).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;
    let start = server.start_run(&admin, "chat", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();
    server.say(&admin, &id, "I am name=Ada").await;
    let committed = conversation(&server, &admin, &id).await;

    let before = model.calls().await;
    let cut = send_later(&server, &admin, &id, "[slow] are you there?");
    model_called(&model, before + 2).await; // extract and choose_exit answered: the reply is next
    server.kill();
    assert!(cut.await.expect("the task").is_err(), "the answer never came");

    server.restart();
    // The run is taken up from its last committed step, or was left waiting.
    let run = until("the run to wait for the user again", Duration::from_secs(8), || async {
        let run = server.run(&admin, &id).await;
        (run["status"] == "waiting_for_user").then_some(run)
    })
    .await;
    assert_eq!(run["vars"]["name"], "Ada");
    let now = conversation(&server, &admin, &id).await;
    assert_eq!(now[..committed.len()], committed[..], "nothing committed was lost");
    if now.len() > committed.len() {
        // The cut message was committed: the turn was taken up and answered.
        assert_eq!(
            now[committed.len()..],
            ["[slow] are you there?", "You said: [slow] are you there?"]
        );
    }
    let next = server.say(&admin, &id, "the user says goodbye").await;
    assert_eq!(texts(&next), ["Bye Ada from v1."]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_during_a_tool_call_is_taken_up_when_the_server_starts() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let model = Model::start().await;
    let tools = MockServer::start().await;
    // The first call hangs (the server is killed meanwhile); the retry answers.
    Mock::given(method("GET"))
        .and(path("/orders/A1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "status": "late" }))
                .set_delay(Duration::from_secs(30)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&tools)
        .await;
    Mock::given(method("GET"))
        .and(path("/orders/A1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "status": "shipped" })))
        .with_priority(2)
        .mount(&tools)
        .await;
    let mut server = Server::start("take-up", &model).await;
    let admin = server.key("ops", "admin").await;
    let refund = source("refund.flow", &[("TIMEOUT", "1h"), ("TOOLS_URL", &tools.uri())]);
    server.create(&admin, &refund).await;
    let start = server.start_run(&admin, "refund", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();
    let answer = json!({ "pending_id": start["run"]["pending"]["id"], "decision": "approve" });
    let (http, url, key) = (
        server.http.clone(),
        server.url(&format!("/v1/runs/{id}/approval")),
        admin.clone(),
    );
    let approving = tokio::spawn(async move { http.post(url).bearer_auth(key).json(&answer).send().await });
    until("the tool to be called", Duration::from_secs(5), || async {
        (tools.received_requests().await.map_or(0, |r| r.len()) >= 1).then_some(())
    })
    .await;
    server.kill();
    assert!(approving.await.expect("the task").is_err(), "the answer never came");

    server.restart();
    let run = until("the run to be taken up and finish", Duration::from_secs(5), || async {
        let run = server.run(&admin, &id).await;
        (run["status"] == "completed").then_some(run)
    })
    .await;
    assert_eq!(run["outcome"], "refunded", "{run}");
    assert_eq!(run["vars"]["status"], "shipped", "the tool was called again");
    let events = server.events(&admin, &id).await;
    let resumed: Vec<&Value> = events.iter().filter(|e| e["type"] == "resumed").collect();
    assert_eq!(resumed.len(), 1, "the approval was committed once: {events:?}");
}
