//! Workflows and their revisions: created, failed, compiled, activated,
//! rolled back; the graph's bytes and hash; the diff.

use crate::serve::{Model, Server, items, source, texts};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn chat(version: &str) -> String {
    source("chat.flow", &[("VERSION", version)])
}

/// The chat workflow with an edge to a node that does not exist.
fn broken() -> String {
    chat("v2").replace("-> bye", "-> nowhere")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn is_time(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok() && t.ends_with('Z'))
}

#[tokio::test(flavor = "multi_thread")]
async fn revisions_are_created_failed_compiled_and_activated() {
    let model = Model::start().await;
    let server = Server::start("revisions", &model).await;
    let admin = server.key("ops", "admin").await;

    // Created: the workflow and its revision 1, activated since it compiles.
    let created = server.create(&admin, &chat("v1")).await;
    assert_eq!(created["name"], "chat");
    assert_eq!(created["title"], "Chat v1");
    assert_eq!(created["active_revision"], 1);
    assert_eq!(created["latest_revision"], 1);
    assert!(
        is_time(&created["created"]) && is_time(&created["updated"]),
        "{created}"
    );
    let first = &created["revision"];
    assert_eq!(first["revision"], 1);
    assert_eq!(first["status"], "compiled");
    assert_eq!(first["active"], true);
    assert_eq!(first["graph_hash"].as_str().map(str::len), Some(64), "{first}");
    let again = server
        .post("/v1/workflows", &admin, json!({ "source": chat("v9") }))
        .await;
    again.problem(409, "conflict");
    let nameless = server
        .post(
            "/v1/workflows",
            &admin,
            json!({ "source": "model m = \"openai:gpt-test\"\n" }),
        )
        .await;
    assert_eq!(nameless.problem(422, "invalid")["field"], "source");

    // A revision that fails to compile is stored (201) with its diagnostics.
    let failed = server
        .post("/v1/workflows/chat/revisions", &admin, json!({ "source": broken() }))
        .await;
    let failed = failed.expect(201);
    assert_eq!(failed["revision"], 2);
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["active"], false);
    assert!(failed["graph_hash"].is_null(), "{failed}");
    let diagnostics = failed["diagnostics"].as_array().expect("diagnostics");
    assert!(!diagnostics.is_empty(), "{failed}");
    assert!(diagnostics.iter().all(|d| d["file"] == "chat.flow"), "{failed}");
    assert!(
        diagnostics
            .iter()
            .any(|d| d["message"].as_str().unwrap_or("").contains("nowhere")),
        "the diagnostic names the missing node: {failed}"
    );
    let read = server.get("/v1/workflows/chat/revisions/2", &admin).await;
    assert_eq!(read.expect(200)["source"], broken());
    let graph = server.get("/v1/workflows/chat/revisions/2/graph", &admin).await;
    graph.problem(404, "not_found");
    let activate = server
        .post("/v1/workflows/chat/revisions/2/activate", &admin, json!({}))
        .await;
    activate.problem(409, "conflict");
    let on_failed = server
        .post("/v1/workflows/chat/runs", &admin, json!({ "revision": 2 }))
        .await;
    assert_eq!(on_failed.problem(422, "invalid")["field"], "revision");

    // Refused revisions store nothing.
    let refused = server
        .post(
            "/v1/workflows/chat/revisions",
            &admin,
            json!({ "source": broken(), "activate": true }),
        )
        .await;
    assert!(
        refused.problem(422, "invalid")["diagnostics"].is_array(),
        "{}",
        refused.text
    );
    let other = chat("v3").replace("workflow chat", "workflow other");
    let renamed = server
        .post("/v1/workflows/chat/revisions", &admin, json!({ "source": other }))
        .await;
    renamed.problem(422, "invalid");
    let workflow = server.get("/v1/workflows/chat", &admin).await;
    assert_eq!(workflow.expect(200)["latest_revision"], 2, "{}", workflow.text);
    assert_eq!(workflow.json["active_revision"], 1);

    // One that compiles, activated.
    let third = server
        .post(
            "/v1/workflows/chat/revisions",
            &admin,
            json!({ "source": chat("v3"), "activate": true }),
        )
        .await;
    let third = third.expect(201).clone();
    assert_eq!(
        (third["revision"].clone(), third["active"].clone()),
        (json!(3), json!(true))
    );
    let workflow = server.get("/v1/workflows/chat", &admin).await;
    assert_eq!(workflow.expect(200)["active_revision"], 3);
    assert_eq!(workflow.json["title"], "Chat v3");
    let list = server.get("/v1/workflows/chat/revisions", &admin).await;
    let numbers: Vec<Value> = items(list.expect(200)).iter().map(|r| r["revision"].clone()).collect();
    assert_eq!(numbers, [json!(3), json!(2), json!(1)], "newest first");
    let actives: Vec<Value> = items(&list.json).iter().map(|r| r["active"].clone()).collect();
    assert_eq!(actives, [json!(true), json!(false), json!(false)]);

    // The graph's bytes: their sha256 is graph_hash, and they are `flow compile`'s stdout.
    let graph = server.get("/v1/workflows/chat/revisions/3/graph", &admin).await;
    graph.expect(200);
    assert_eq!(
        Some(sha256_hex(graph.text.as_bytes())),
        third["graph_hash"].as_str().map(str::to_string)
    );
    std::fs::write(server.dir.join("chat.flow"), chat("v3")).expect("write the source");
    let compiled = crate::serve::flow_command(&server.dir)
        .args(["compile", "chat.flow"])
        .output()
        .expect("run flow compile");
    assert!(
        compiled.status.success(),
        "{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&compiled.stdout),
        graph.text,
        "the bytes of `flow compile`"
    );

    // A workflow whose revision 1 fails is still created, with no active revision.
    let other = broken().replace("workflow chat", "workflow draft");
    let draft = server.create(&admin, &other).await;
    assert!(draft["active_revision"].is_null(), "{draft}");
    assert_eq!(draft["revision"]["status"], "failed");
    let start = server
        .post("/v1/workflows/draft/runs", &admin, json!({ "inputs": {} }))
        .await;
    start.problem(409, "conflict");
}

#[tokio::test(flavor = "multi_thread")]
async fn activating_an_older_revision_rolls_back_new_runs_only() {
    let model = Model::start().await;
    let server = Server::start("rollback", &model).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &chat("v1")).await;
    let second = server
        .post(
            "/v1/workflows/chat/revisions",
            &admin,
            json!({ "source": chat("v2"), "activate": true }),
        )
        .await;
    second.expect(201);

    let on_two = server.start_run(&admin, "chat", json!({})).await;
    assert_eq!(on_two["run"]["revision"], 2, "{on_two}");
    let id = on_two["run"]["id"].as_str().expect("an id").to_string();

    // The rollback.
    let back = server
        .post("/v1/workflows/chat/revisions/1/activate", &admin, json!({}))
        .await;
    assert_eq!(back.expect(200)["active"], true, "{}", back.text);
    assert_eq!(
        server.get("/v1/workflows/chat", &admin).await.json["active_revision"],
        1
    );
    let on_one = server.start_run(&admin, "chat", json!({})).await;
    assert_eq!(on_one["run"]["revision"], 1, "new runs use the active revision");
    assert_ne!(on_one["run"]["graph_hash"], on_two["run"]["graph_hash"]);

    // The run started on 2 finishes on 2.
    let end = server.say(&admin, &id, "name=Ada and the user says goodbye").await;
    assert_eq!(end["run"]["status"], "completed", "{end}");
    assert_eq!(end["run"]["revision"], 2);
    assert_eq!(texts(&end), ["Bye Ada from v2."]);
    let end = server
        .say(
            &admin,
            on_one["run"]["id"].as_str().unwrap_or(""),
            "the user says goodbye",
        )
        .await;
    assert_eq!(texts(&end), ["Bye  from v1."]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_diff_of_two_revisions_names_what_changed() {
    let model = Model::start().await;
    let server = Server::start("diff", &model).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &chat("v1")).await;
    let changed = chat("v2").replace(
        "end bye {",
        "say extra {\n  \"One more thing.\"\n  -> bye\n}\n\nend bye {",
    );
    let changed = changed.replace("-> bye\n}\n\nsay", "-> extra\n}\n\nsay");
    let second = server
        .post("/v1/workflows/chat/revisions", &admin, json!({ "source": changed }))
        .await;
    assert_eq!(second.expect(201)["status"], "compiled", "{}", second.text);
    let failed = server
        .post("/v1/workflows/chat/revisions", &admin, json!({ "source": broken() }))
        .await;
    failed.expect(201);

    let diff = server.get("/v1/workflows/chat/diff?from=1&to=2", &admin).await;
    let diff = diff.expect(200);
    assert_eq!(diff["nodes"]["added"], json!(["extra"]), "{diff}");
    assert_eq!(diff["nodes"]["removed"], json!([]), "{diff}");
    let changed_nodes: Vec<&str> = diff["nodes"]["changed"]
        .as_array()
        .map(|c| c.iter().filter_map(|n| n["id"].as_str()).collect())
        .unwrap_or_default();
    assert!(changed_nodes.contains(&"bye"), "the end's text changed: {diff}");
    assert!(
        diff["edges"]["added"].is_array() && diff["variables"]["added"] == json!([]),
        "{diff}"
    );
    let same = server.get("/v1/workflows/chat/diff?from=1&to=1", &admin).await;
    assert_eq!(same.expect(200)["nodes"]["changed"], json!([]), "{}", same.text);
    let to_failed = server.get("/v1/workflows/chat/diff?from=1&to=3", &admin).await;
    to_failed.problem(409, "conflict");
    let unknown = server.get("/v1/workflows/chat/diff?from=1&to=9", &admin).await;
    unknown.problem(404, "not_found");
    let titles = diff["workflow"]["changed"].as_array().cloned().unwrap_or_default();
    assert!(titles.contains(&json!("title")), "the title changed: {diff}");
    let half = server.get("/v1/workflows/chat/diff?from=1", &admin).await;
    assert_eq!(half.problem(422, "invalid")["field"], "to", "{}", half.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workflow_is_deleted_once_its_runs_finished_and_its_name_can_be_used_again() {
    let model = Model::start().await;
    let server = Server::start("delete", &model).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &chat("v1")).await;
    let start = server.start_run(&admin, "chat", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();
    let hash = start["run"]["graph_hash"].clone();

    let busy = server.call("DELETE", "/v1/workflows/chat", Some(&admin), None).await;
    let busy = busy.problem(409, "conflict");
    assert!(
        busy["detail"].as_str().unwrap_or("").contains(&id),
        "it names the run: {busy}"
    );
    server.say(&admin, &id, "the user says goodbye").await;
    let deleted = server.call("DELETE", "/v1/workflows/chat", Some(&admin), None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert!(deleted.text.is_empty());
    server.get("/v1/workflows/chat", &admin).await.problem(404, "not_found");
    server
        .get("/v1/workflows/chat/revisions/1", &admin)
        .await
        .problem(404, "not_found");
    server
        .call("DELETE", "/v1/workflows/chat", Some(&admin), None)
        .await
        .problem(404, "not_found");

    // Its finished run stays readable, still naming its graph.
    let run = server.run(&admin, &id).await;
    assert_eq!(
        (run["status"].clone(), run["graph_hash"].clone()),
        (json!("completed"), hash.clone())
    );
    let again = server.create(&admin, &chat("v7")).await;
    assert_eq!(again["revision"]["revision"], 1, "a new workflow of that name: {again}");
    assert_ne!(again["revision"]["graph_hash"], hash);
    assert_eq!(server.run(&admin, &id).await["graph_hash"], hash);
}
