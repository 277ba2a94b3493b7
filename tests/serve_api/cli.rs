//! A run started through the API and one started by `flow run --store` on
//! the same store are the same kind of run, while the server runs.

use crate::serve::{Model, Server, flow_command, items, source};
use serde_json::json;
use std::io::Write;
use std::process::Stdio;

#[tokio::test(flavor = "multi_thread")]
async fn api_and_cli_runs_share_the_store() {
    let model = Model::start().await;
    let server = Server::start("cli-runs", &model).await;
    let admin = server.key("ops", "admin").await;
    let chat = source("chat.flow", &[("VERSION", "v1")]);
    server.create(&admin, &chat).await;
    let api = server.start_run(&admin, "chat", json!({})).await;
    let api_id = api["run"]["id"].as_str().expect("an id").to_string();

    std::fs::write(server.dir.join("chat.flow"), &chat).expect("write the source");
    let store = server.store.to_string_lossy().to_string();
    let mut child = flow_command(&server.dir)
        .args(["run", "chat.flow", "--store", &store])
        .env("OPENAI_BASE_URL", model.base())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start flow run");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"name=Cy and the user says goodbye\n")
        .expect("write stdin");
    drop(stdin);
    let out = child.wait_with_output().expect("flow run ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Bye Cy from v1."),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let runs = items(server.get("/v1/runs", &admin).await.expect(200));
    assert_eq!(runs.len(), 2, "{runs:?}");
    let cli = runs.iter().find(|r| r["id"] != api_id.as_str()).expect("the CLI's run");
    assert_eq!(cli["trigger"], json!({ "kind": "cli", "id": null }));
    assert!(cli["revision"].is_null(), "{cli}");
    assert_eq!(
        (cli["mode"].clone(), cli["status"].clone()),
        (json!("live"), json!("completed"))
    );

    let listed = flow_command(&server.dir)
        .args(["runs", "--store", &store])
        .output()
        .expect("run flow runs");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains(&api_id), "flow runs lists the API's run: {listed}");
    assert!(listed.contains(cli["id"].as_str().unwrap_or("?")), "{listed}");
}
