//! A conversation of several turns through the turn API, and a cancel.

use crate::serve::{Model, Server, items, of_type, source, texts};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn a_conversation_answers_each_turn_with_that_turns_messages() {
    let model = Model::start().await;
    let server = Server::start("conversation", &model).await;
    let admin = server.key("ops", "admin").await;
    let runner = server.key("app", "run").await;
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;

    // The start answers the agent's first message.
    let start = server.start_run(&runner, "chat", json!({ "inputs": {} })).await;
    let run = &start["run"];
    assert_eq!(run["status"], "waiting_for_user", "{start}");
    assert_eq!(
        (run["workflow"].clone(), run["revision"].clone()),
        (json!("chat"), json!(1))
    );
    assert_eq!(run["mode"], "live");
    assert_eq!(run["trigger"], json!({ "kind": "api", "id": null }));
    assert_eq!(run["node"], "talk");
    assert!(run["pending"].is_null(), "{run}");
    let fields: Vec<&str> = run
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for field in [
        "id",
        "workflow",
        "revision",
        "graph_hash",
        "mode",
        "status",
        "node",
        "vars",
        "outcome",
        "error",
        "trigger",
        "created",
        "updated",
        "pending",
    ] {
        assert!(fields.contains(&field), "<run> has `{field}`: {run}");
    }
    assert_eq!(run["graph_hash"].as_str().map(str::len), Some(64), "{run}");
    assert_eq!(texts(&start), ["Hello! What is your name?"]);
    assert_eq!(start["messages"][0]["role"], "agent");
    let id = run["id"].as_str().expect("an id").to_string();

    // Each message answers that turn's agent messages only.
    let second = server.say(&runner, &id, "I am name=Ada").await;
    assert_eq!(texts(&second), ["You said: I am name=Ada"]);
    assert_eq!(second["run"]["vars"]["name"], "Ada", "the extract ran: {second}");
    assert_eq!(second["run"]["status"], "waiting_for_user");
    let third = server.say(&runner, &id, "How are you?").await;
    assert_eq!(texts(&third), ["You said: How are you?"]);
    let last = server.say(&runner, &id, "Thanks, the user says goodbye").await;
    assert_eq!(texts(&last), ["Bye Ada from v1."]);
    assert_eq!(last["run"]["status"], "completed");
    assert_eq!(last["run"]["outcome"], "done");

    // The whole conversation, in order, each message with its event's seq.
    let all = server.get(&format!("/v1/runs/{id}/messages"), &runner).await;
    let all = items(all.expect(200));
    let roles: Vec<&str> = all.iter().filter_map(|m| m["role"].as_str()).collect();
    assert_eq!(
        roles,
        ["agent", "user", "agent", "user", "agent", "user", "agent"],
        "{all:?}"
    );
    let said: Vec<&str> = all.iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(
        said,
        [
            "Hello! What is your name?",
            "I am name=Ada",
            "You said: I am name=Ada",
            "How are you?",
            "You said: How are you?",
            "Thanks, the user says goodbye",
            "Bye Ada from v1."
        ]
    );
    assert!(all.iter().all(|m| m["node"].is_string()), "{all:?}");
    let events = server.events(&runner, &id).await;
    let message_seqs: Vec<Value> = of_type(&events, "message").iter().map(|e| e["seq"].clone()).collect();
    let seqs: Vec<Value> = all.iter().map(|m| m["seq"].clone()).collect();
    assert_eq!(seqs, message_seqs, "a message's seq is its event's");
    assert_eq!(texts(&second)[0], said[2]);
    assert_eq!(second["messages"][0]["seq"], all[2]["seq"]);

    // A page of two, then the rest from its cursor.
    let page = server.get(&format!("/v1/runs/{id}/messages?limit=2"), &runner).await;
    let page = page.expect(200).clone();
    assert_eq!(items(&page).len(), 2);
    let cursor = page["next_cursor"].as_str().expect("a cursor").to_string();
    let rest = server
        .get(&format!("/v1/runs/{id}/messages?cursor={cursor}"), &runner)
        .await;
    assert_eq!(items(rest.expect(200)).len(), 5, "{}", rest.text);
    assert!(rest.json["next_cursor"].is_null());

    // The run as listed.
    let listed = server.get("/v1/runs?workflow=chat&status=completed", &runner).await;
    let listed = items(listed.expect(200));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_ends_the_run_once() {
    let model = Model::start().await;
    let server = Server::start("cancel", &model).await;
    let admin = server.key("ops", "admin").await;
    let runner = server.key("front-desk", "run").await;
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;
    let start = server.start_run(&runner, "chat", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();

    let cancel = server.post(&format!("/v1/runs/{id}/cancel"), &runner, json!({})).await;
    let cancel = cancel.expect(200).clone();
    assert_eq!(cancel["run"]["status"], "cancelled", "{cancel}");
    assert_eq!(cancel["run"]["id"], id.as_str());
    assert_eq!(server.run(&runner, &id).await["status"], "cancelled");
    let events = server.events(&runner, &id).await;
    let cancelled = of_type(&events, "run_cancelled");
    assert_eq!(cancelled.len(), 1, "{events:?}");
    assert_eq!(cancelled[0]["by"], "front-desk", "the key's name");
    assert_eq!(cancelled[0]["node"], "talk");
    assert_eq!(events.last().map(|e| e["type"].clone()), Some(json!("run_cancelled")));

    let twice = server.post(&format!("/v1/runs/{id}/cancel"), &runner, json!({})).await;
    twice.problem(409, "conflict");
    let message = server
        .post(&format!("/v1/runs/{id}/messages"), &runner, json!({ "text": "hello?" }))
        .await;
    message.problem(409, "conflict");
    assert_eq!(of_type(&server.events(&runner, &id).await, "run_cancelled").len(), 1);

    // A finished run can be deleted (by an admin), with its events and messages.
    let delete = format!("/v1/runs/{id}");
    server
        .call("DELETE", &delete, Some(&runner), None)
        .await
        .problem(403, "forbidden");
    let deleted = server.call("DELETE", &delete, Some(&admin), None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    server.get(&delete, &admin).await.problem(404, "not_found");
    server
        .get(&format!("{delete}/events"), &admin)
        .await
        .problem(404, "not_found");
    server
        .get(&format!("{delete}/messages"), &admin)
        .await
        .problem(404, "not_found");
    let waiting = server.start_run(&runner, "chat", json!({})).await;
    let waiting = format!("/v1/runs/{}", waiting["run"]["id"].as_str().unwrap_or(""));
    server
        .call("DELETE", &waiting, Some(&admin), None)
        .await
        .problem(409, "conflict");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_goes_away_mid_turn_changes_nothing_and_may_retry_its_key() {
    let model = Model::start().await;
    let server = Server::start("disconnect", &model).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;
    let start = server.start_run(&admin, "chat", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();
    let path = format!("/v1/runs/{id}/messages");
    let send = || {
        server
            .http
            .post(server.url(&path))
            .bearer_auth(admin.clone())
            .header("idempotency-key", "turn-2")
            .json(&json!({ "text": "[slow] still there?" }))
    };

    // The client gives up while the model is answering.
    let calls = model.calls().await;
    let gone = tokio::spawn(send().send());
    crate::serve::until(
        "the turn to reach the model",
        std::time::Duration::from_secs(5),
        || async { (model.calls().await > calls).then_some(()) },
    )
    .await;
    gone.abort();
    assert!(gone.await.is_err(), "the request was dropped");

    // The turn completes anyway; its messages can be read.
    let all = crate::serve::until("the turn to complete", std::time::Duration::from_secs(5), || async {
        let all = items(server.get(&path, &admin).await.expect(200));
        (all.len() == 3).then_some(all)
    })
    .await;
    assert_eq!(server.run(&admin, &id).await["status"], "waiting_for_user");
    let said: Vec<&str> = all.iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(
        said[1..],
        ["[slow] still there?", "You said: [slow] still there?"],
        "{said:?}"
    );

    // A retry under the same key answers that turn; the message is not sent again.
    let retry = server.send(send()).await;
    let retry = retry.expect(200).clone();
    assert_eq!(texts(&retry), ["You said: [slow] still there?"], "{retry}");
    assert_eq!(items(server.get(&path, &admin).await.expect(200)).len(), all.len());
}
