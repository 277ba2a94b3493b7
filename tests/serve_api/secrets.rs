//! Secrets come from the server's environment, reach the tool that needs
//! them and nothing else (no answer, event, log line or store page), and the
//! server's own configuration is never a secret.

use crate::serve::{Model, Server, source, texts};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "crm-SECRET-6a1f93d2c7";

fn crm(secret: &str, tools: &str) -> String {
    source("crm.flow", &[("SECRET_NAME", secret), ("TOOLS_URL", tools)])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_reaches_its_tool_and_nothing_else() {
    let model = Model::start().await;
    let tools = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/accounts/c1"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "plan": "gold" })))
        .mount(&tools)
        .await;
    let server = Server::start_with("secrets", &model, &[], &[("CRM_TOKEN", TOKEN)]).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &crm("CRM_TOKEN", &tools.uri())).await;
    let start = server.start_run(&admin, "crm", json!({})).await;
    assert_eq!(start["run"]["outcome"], "found", "the tool got the secret: {start}");
    assert_eq!(texts(&start), ["Plan gold."]);
    let id = start["run"]["id"].as_str().expect("an id").to_string();

    let mut seen = vec![
        start.to_string(),
        server.run(&admin, &id).await.to_string(),
        server.log(),
    ];
    for path in [
        format!("/v1/runs/{id}/events"),
        format!("/v1/runs/{id}/messages"),
        "/v1/runs".into(),
    ] {
        seen.push(server.get(&path, &admin).await.text);
    }
    for text in &seen {
        assert!(!text.contains(TOKEN), "the secret leaked: {text}");
    }
    for suffix in ["", "-wal"] {
        let file = server.dir.join(format!("runs.sqlite{suffix}"));
        let bytes = std::fs::read(&file).unwrap_or_default();
        let found = bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes());
        assert!(!found, "the secret is in {}", file.display());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_servers_own_variables_and_missing_ones_are_refused_at_start() {
    let model = Model::start().await;
    let server = Server::start_with("reserved-secrets", &model, &[], &[("FLOW_TEST_SECRET", TOKEN)]).await;
    let admin = server.key("ops", "admin").await;
    for name in ["OPENAI_API_KEY", "FLOW_TEST_SECRET", "CRM_NOT_SET"] {
        let source =
            crm(name, "http://127.0.0.1:9").replace("workflow crm", &format!("workflow crm_{}", name.to_lowercase()));
        let created = server.create(&admin, &source).await;
        let workflow = created["name"].as_str().expect("a name").to_string();
        let refused = server
            .post(&format!("/v1/workflows/{workflow}/runs"), &admin, json!({}))
            .await;
        let problem = refused.problem(422, "invalid");
        let detail = problem["detail"].as_str().unwrap_or("");
        assert!(detail.contains(name), "{name}: {detail}");
        assert!(
            !refused.text.contains(TOKEN) && !refused.text.contains("sk-serve-test"),
            "{}",
            refused.text
        );
    }
    let runs = server.get("/v1/runs", &admin).await;
    assert_eq!(runs.expect(200)["items"], json!([]), "no run was started");
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_narrows_what_workflows_may_read() {
    let model = Model::start().await;
    let env = [("CRM_TOKEN", TOKEN), ("OTHER_TOKEN", "other-SECRET-1234567890")];
    let server = Server::start_with("narrow-secrets", &model, &["--secrets", "CRM_TOKEN"], &env).await;
    let admin = server.key("ops", "admin").await;
    let other = crm("OTHER_TOKEN", "http://127.0.0.1:9").replace("workflow crm", "workflow crm_other");
    server.create(&admin, &other).await;
    let refused = server.post("/v1/workflows/crm_other/runs", &admin, json!({})).await;
    let detail = refused.problem(422, "invalid")["detail"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(detail.contains("OTHER_TOKEN"), "{detail}");
    assert!(!refused.text.contains("other-SECRET"), "{}", refused.text);
    // The listed one is read.
    let tools = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/accounts/c1"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "plan": "silver" })))
        .mount(&tools)
        .await;
    server.create(&admin, &crm("CRM_TOKEN", &tools.uri())).await;
    let start = server.start_run(&admin, "crm", json!({})).await;
    assert_eq!(texts(&start), ["Plan silver."], "{start}");
}
