//! Playground sessions: runs with `mode: "test"` on any compiled revision,
//! left out of live lists and of metrics.

use crate::serve::{Model, Server, items, source, texts};
use serde_json::json;

/// A counter's value in the Prometheus text (0 when absent).
fn counter(metrics: &str, name: &str, workflow: &str) -> f64 {
    let label = format!("workflow=\"{workflow}\"");
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_run_on_an_inactive_revision_counts_in_no_live_list_or_metric() {
    let model = Model::start().await;
    let server = Server::start("playground", &model).await;
    let admin = server.key("ops", "admin").await;
    let runner = server.key("app", "run").await;
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;
    let draft = server
        .post(
            "/v1/workflows/chat/revisions",
            &admin,
            json!({ "source": source("chat.flow", &[("VERSION", "draft")]) }),
        )
        .await;
    assert_eq!(draft.expect(201)["active"], false, "{}", draft.text);
    let read = server.call("GET", "/metrics", None, None).await;
    read.expect(200);
    let started_before = counter(&read.text, "flow_runs_started_total", "chat");

    // A playground session on revision 2, which is not active.
    let session = server
        .start_run(&runner, "chat", json!({ "mode": "test", "revision": 2 }))
        .await;
    assert_eq!(session["run"]["mode"], "test", "{session}");
    assert_eq!(session["run"]["revision"], 2);
    let test_id = session["run"]["id"].as_str().expect("an id").to_string();
    let end = server.say(&runner, &test_id, "the user says goodbye").await;
    assert_eq!(texts(&end), ["Bye  from draft."], "it ran revision 2");
    let after_test = server.call("GET", "/metrics", None, None).await.text;
    assert_eq!(
        counter(&after_test, "flow_runs_started_total", "chat"),
        started_before,
        "test runs count in no metric"
    );
    assert_eq!(
        counter(&after_test, "flow_runs_finished_total", "chat"),
        0.0,
        "{after_test}"
    );
    assert_eq!(counter(&after_test, "flow_tokens_total", "chat"), 0.0, "{after_test}");
    assert!(
        !after_test.contains("flow_model_call_duration_seconds_count 1"),
        "{after_test}"
    );

    // A live run of the active revision.
    let live = server.start_run(&runner, "chat", json!({})).await;
    assert_eq!(
        (live["run"]["mode"].clone(), live["run"]["revision"].clone()),
        (json!("live"), json!(1))
    );
    let live_id = live["run"]["id"].as_str().expect("an id").to_string();
    let after_live = server.call("GET", "/metrics", None, None).await.text;
    assert_eq!(
        counter(&after_live, "flow_runs_started_total", "chat"),
        started_before + 1.0,
        "{after_live}"
    );
    server.say(&runner, &live_id, "the user says goodbye").await;
    let finished = server.call("GET", "/metrics", None, None).await.text;
    assert_eq!(
        counter(&finished, "flow_runs_finished_total", "chat"),
        1.0,
        "{finished}"
    );
    assert!(finished.contains("status=\"completed\""), "{finished}");
    // The mock reports 10 tokens in and 5 out per call.
    let tokens = counter(&finished, "flow_tokens_total", "chat");
    assert!(tokens > 0.0 && tokens % 15.0 == 0.0, "{finished}");

    let ids = |list: &serde_json::Value| -> Vec<String> {
        items(list)
            .iter()
            .filter_map(|r| r["id"].as_str().map(str::to_string))
            .collect()
    };
    let live_list = server.get("/v1/runs?mode=live", &runner).await;
    assert_eq!(
        ids(live_list.expect(200)),
        std::slice::from_ref(&live_id),
        "live lists leave test runs out"
    );
    let test_list = server.get("/v1/runs?mode=test", &runner).await;
    assert_eq!(ids(test_list.expect(200)), std::slice::from_ref(&test_id));
    let both = server.get("/v1/runs", &runner).await;
    assert_eq!(ids(both.expect(200)), [live_id, test_id], "both modes, newest first");

    // A test run may name any compiled revision, never a failed or unknown one.
    let unknown = server
        .post(
            "/v1/workflows/chat/runs",
            &runner,
            json!({ "mode": "test", "revision": 9 }),
        )
        .await;
    let unknown = unknown.problem(422, "invalid");
    assert_eq!(unknown["field"], "revision", "{unknown}");
}
