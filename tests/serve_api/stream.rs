//! The event stream: read while the run goes on, dropped, resumed with
//! `Last-Event-ID`, ended after the run's last event.

use crate::serve::sse::{Message, Next, Stream};
use crate::serve::{Model, Server, source};
use serde_json::json;
use std::time::{Duration, Instant};

/// How long a live event may take to reach an open stream.
const LIVE: Duration = Duration::from_secs(1);

async fn open(server: &Server, key: &str, path: &str, last_event_id: Option<u64>) -> Stream {
    let mut request = server
        .http
        .get(server.url(path))
        .bearer_auth(key)
        .header("accept", "text/event-stream");
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id.to_string());
    }
    Stream::new(request.send().await.expect("open the stream"))
}

/// Every message is framed with `id:`, `event:` and `data:`, which agree.
fn check_framing(messages: &[Message]) {
    for m in messages {
        let data = m.json();
        assert_eq!(
            m.id.as_deref().map(str::to_string),
            Some(data["seq"].to_string()),
            "{m:?}"
        );
        assert_eq!(m.event.as_deref(), data["type"].as_str(), "{m:?}");
    }
}

/// Seqs that follow each other from `first`, one by one.
fn check_seqs(messages: &[Message], first: u64) {
    let seqs: Vec<u64> = messages.iter().map(Message::seq).collect();
    let expected: Vec<u64> = (first..first + seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "in order, no gap, no duplicate");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stream_follows_the_run_live_and_resumes_after_the_last_event_id() {
    let model = Model::start().await;
    let server = Server::start("stream", &model).await;
    let admin = server.key("ops", "admin").await;
    let reader = server.key("dashboard", "review").await;
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;
    let start = server.start_run(&admin, "chat", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();
    let stored = server.events(&admin, &id).await.len() as u64;
    assert!(stored >= 3, "the first turn committed events");

    // The stored events first.
    let path = format!("/v1/runs/{id}/events");
    let mut stream = open(&server, &reader, &path, None).await;
    let mut seen = Vec::new();
    for _ in 0..stored {
        seen.push(stream.expect(Duration::from_secs(2)).await);
    }
    assert!(matches!(stream.next(Duration::from_millis(300)).await, Next::Quiet));

    // Then each turn's events as they are committed.
    let turn = {
        let (url, admin) = (server.url(&format!("/v1/runs/{id}/messages")), admin.clone());
        let http = server.http.clone();
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(admin)
                .json(&json!({ "text": "I am name=Ada" }))
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    };
    let live = stream.through("message", LIVE).await;
    assert_eq!(live.last().map(|m| m.json()["role"].clone()), Some(json!("user")));
    seen.extend(live);
    let reply = loop {
        let m = stream.expect(LIVE).await;
        seen.push(m.clone());
        if m.event.as_deref() == Some("message") {
            break m;
        }
    };
    assert_eq!(reply.json()["text"], "You said: I am name=Ada");
    assert_eq!(turn.await.expect("the turn's task").expect("the turn's answer"), 200);
    while let Next::Message(m) = stream.next(Duration::from_millis(300)).await {
        seen.push(m);
    }
    check_framing(&seen);
    check_seqs(&seen, 1);
    let last_seen = seen.last().map(Message::seq).unwrap_or(0);
    assert_eq!(
        last_seen,
        server.events(&admin, &id).await.len() as u64,
        "every stored event was streamed"
    );
    drop(stream);

    // Meanwhile, another turn; then the stream resumed after the last event seen.
    server.say(&admin, &id, "How are you?").await;
    let after_one = format!("{path}?after=1");
    let mut resumed = open(&server, &reader, &after_one, Some(last_seen)).await;
    let first = resumed.expect(Duration::from_secs(2)).await;
    assert_eq!(
        first.seq(),
        last_seen + 1,
        "only later events; the header wins over ?after="
    );
    let mut later = vec![first];
    while let Next::Message(m) = resumed.next(Duration::from_millis(300)).await {
        later.push(m);
    }
    assert!(later.iter().any(|m| m.json()["text"] == "How are you?"), "{later:?}");

    // The run ends: the stream sends `run_completed` and closes.
    server.say(&admin, &id, "the user says goodbye").await;
    let tail = resumed.through("run_completed", LIVE).await;
    later.extend(tail);
    check_framing(&later);
    check_seqs(&later, last_seen + 1);
    assert!(
        matches!(resumed.next(Duration::from_secs(2)).await, Next::End),
        "the stream ends"
    );

    // A finished run's stream replays from `?after=` and ends.
    let all = server.events(&admin, &id).await.len() as u64;
    let mut replay = open(&server, &reader, &format!("{path}?after={}", all - 2), None).await;
    let tail = replay.through("run_completed", Duration::from_secs(2)).await;
    check_seqs(&tail, all - 1);
    assert!(matches!(replay.next(Duration::from_secs(2)).await, Next::End));
    let mut empty = open(&server, &reader, &path, Some(all)).await;
    assert!(
        matches!(empty.next(Duration::from_secs(2)).await, Next::End),
        "nothing after the last event"
    );

    // Refusals are problems, not streams.
    let stream_of = |path: &str| {
        server
            .http
            .get(server.url(path))
            .bearer_auth(reader.clone())
            .header("accept", "text/event-stream")
    };
    server
        .send(stream_of("/v1/runs/nope/events"))
        .await
        .problem(404, "not_found");
    let bad_after = server.send(stream_of(&format!("{path}?after=x"))).await;
    bad_after.problem(422, "invalid");
    let bad_header = server.send(stream_of(&path).header("last-event-id", "seven")).await;
    bad_header.problem(422, "invalid");
    let anonymous = server
        .send(server.http.get(server.url(&path)).header("accept", "text/event-stream"))
        .await;
    anonymous.problem(401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_ends_open_streams_at_once_and_they_resume_after_a_start() {
    let model = Model::start().await;
    let mut server = Server::start("stream-stop", &model).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;
    let start = server.start_run(&admin, "chat", json!({})).await;
    let id = start["run"]["id"].as_str().expect("an id").to_string();
    let mut stream = open(&server, &admin, &format!("/v1/runs/{id}/events"), None).await;
    stream.expect(Duration::from_secs(2)).await;

    let asked = Instant::now();
    let stopped = server.terminate();
    let took = asked.elapsed();
    assert!(stopped.success(), "{stopped:?}");
    assert!(
        took < Duration::from_secs(3),
        "an open stream does not hold the exit: {took:?}"
    );
    let mut last = 0;
    loop {
        match stream.next(Duration::from_secs(2)).await {
            Next::Message(m) => last = m.seq(),
            Next::End => break,
            Next::Quiet => panic!("the stream stays open after the server stopped"),
        }
    }
    assert!(last > 0);

    // After a start, the client resumes where it was.
    server.restart();
    let mut resumed = open(&server, &admin, &format!("/v1/runs/{id}/events"), Some(last)).await;
    server.say(&admin, &id, "the user says goodbye").await;
    let rest = resumed.through("run_completed", Duration::from_secs(2)).await;
    check_seqs(&rest, last + 1);
    check_framing(&rest);
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_beyond_the_cap_are_503_until_one_closes() {
    let model = Model::start().await;
    let server = Server::start_with("stream-cap", &model, &[], &[("FLOW_MAX_STREAMS", "2")]).await;
    let admin = server.key("ops", "admin").await;
    server.create(&admin, &source("chat.flow", &[("VERSION", "v1")])).await;
    let start = server.start_run(&admin, "chat", json!({})).await;
    let path = format!("/v1/runs/{}/events", start["run"]["id"].as_str().unwrap_or(""));
    let first = open(&server, &admin, &path, None).await;
    let _second = open(&server, &admin, &path, None).await;
    let request = || {
        server
            .http
            .get(server.url(&path))
            .bearer_auth(admin.clone())
            .header("accept", "text/event-stream")
    };
    let refused = server.send(request()).await;
    refused.problem(503, "unavailable");
    assert!(
        refused.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok()),
        "{:?}",
        refused.headers
    );
    // A list is no stream: it is answered at the cap.
    server.get(&path, &admin).await.expect(200);

    drop(first);
    let reopened = crate::serve::until("a stream's place to be given back", Duration::from_secs(3), || async {
        let response = request().send().await.ok()?;
        (response.status().as_u16() == 200).then_some(response)
    })
    .await;
    Stream::new(reopened);
}
