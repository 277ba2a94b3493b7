//! Lists page through everything once, newest first where SERVER.md says
//! so, with `next_cursor` null on the last page; `/v1/compile` stores nothing.

use crate::serve::{Model, Server, items, source};
use serde_json::{Value, json};

/// Every item of a list, page by page of `limit`, with the number of pages.
async fn all_pages(server: &Server, key: &str, path: &str, limit: usize) -> (Vec<Value>, usize) {
    let (mut all, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let page = server.get(&url, key).await.expect(200).clone();
        let got = items(&page);
        assert!(got.len() <= limit, "{url}: {page}");
        pages += 1;
        all.extend(got);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return (all, pages),
        }
        assert!(pages < 50, "{path} never ends");
    }
}

fn field(list: &[Value], name: &str) -> Vec<Value> {
    list.iter().map(|v| v[name].clone()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_list_pages_through_each_item_once() {
    let model = Model::start().await;
    let server = Server::start("lists", &model).await;
    let admin = server.key("ops", "admin").await;
    for name in ["alpha", "bravo", "charlie", "delta", "echo"] {
        let chat = source("chat.flow", &[("VERSION", "v1")]).replace("workflow chat", &format!("workflow {name}"));
        server.create(&admin, &chat).await;
    }
    let (workflows, pages) = all_pages(&server, &admin, "/v1/workflows", 2).await;
    assert_eq!(
        field(&workflows, "name"),
        ["alpha", "bravo", "charlie", "delta", "echo"].map(|n| json!(n))
    );
    assert_eq!(pages, 3);

    for v in 2..=4 {
        let body = json!({ "source": source("chat.flow", &[("VERSION", &format!("v{v}"))]).replace("workflow chat", "workflow alpha") });
        server
            .post("/v1/workflows/alpha/revisions", &admin, body)
            .await
            .expect(201);
    }
    let (revisions, _) = all_pages(&server, &admin, "/v1/workflows/alpha/revisions", 3).await;
    assert_eq!(
        field(&revisions, "revision"),
        [4, 3, 2, 1].map(|n| json!(n)),
        "newest first"
    );

    let mut started = Vec::new();
    for _ in 0..5 {
        let run = server.start_run(&admin, "bravo", json!({})).await;
        started.push(run["run"]["id"].clone());
    }
    let refund = source("refund.flow", &[("TIMEOUT", "1h"), ("TOOLS_URL", "http://127.0.0.1:9")]);
    server.create(&admin, &refund).await;
    let mut approvals = Vec::new();
    for _ in 0..3 {
        let run = server.start_run(&admin, "refund", json!({})).await;
        approvals.push(run["run"]["id"].clone());
    }
    started.reverse();
    let (runs, pages) = all_pages(&server, &admin, "/v1/runs?workflow=bravo", 2).await;
    assert_eq!(field(&runs, "id"), started, "newest first, each once");
    assert_eq!(pages, 3);
    let (everything, _) = all_pages(&server, &admin, "/v1/runs", 3).await;
    assert_eq!(everything.len(), 8);
    let (waiting, _) = all_pages(&server, &admin, "/v1/approvals", 2).await;
    let mut listed = field(&waiting, "run_id");
    listed.sort_by_key(|v| v.to_string());
    approvals.sort_by_key(|v| v.to_string());
    assert_eq!(listed, approvals);

    // Compiling stores nothing, and gives the graph a revision would have.
    let chat = source("chat.flow", &[("VERSION", "v4")]).replace("workflow chat", "workflow alpha");
    let compiled = server.post("/v1/compile", &admin, json!({ "source": chat })).await;
    let compiled = compiled.expect(200).clone();
    assert_eq!(compiled["status"], "compiled");
    let graph = server.get("/v1/workflows/alpha/revisions/4/graph", &admin).await;
    assert_eq!(compiled["graph"], graph.json, "the same graph as revision 4");
    let broken = server
        .post(
            "/v1/compile",
            &admin,
            json!({ "source": chat.replace("-> bye", "-> nowhere") }),
        )
        .await;
    let broken = broken.expect(200).clone();
    assert_eq!(broken["status"], "failed");
    assert!(
        broken["graph"].is_null() && broken["diagnostics"].as_array().is_some_and(|d| !d.is_empty()),
        "{broken}"
    );
    let (after, _) = all_pages(&server, &admin, "/v1/workflows/alpha/revisions", 10).await;
    assert_eq!(after.len(), 4, "nothing stored");
}
