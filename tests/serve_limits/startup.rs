//! What `flow serve` refuses to start with (exit 2, naming why), and a
//! clean stop on SIGTERM.

use crate::serve::{Model, Server, flow_command, run_to_exit, temp_dir};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn no_auth_on_an_address_other_machines_reach_exits_2_naming_the_flag() {
    let dir = temp_dir("no-auth-public");
    let store = dir.join("runs.sqlite").to_string_lossy().to_string();
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let args = ["serve", "--no-auth", "--listen", listen, "--store", &store];
        let mut command = flow_command(&dir);
        command.args(args);
        let (code, stderr) = run_to_exit(command, LIMIT);
        assert_eq!(code, Some(2), "{listen}: {stderr}");
        assert!(stderr.contains("--no-auth"), "{listen}: {stderr}");
        assert!(!stderr.contains("listening on"), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_test_settings_exit_2_naming_them() {
    let dir = temp_dir("bad-settings");
    let store = dir.join("runs.sqlite").to_string_lossy().to_string();
    for (name, value) in [
        ("FLOW_CLOCK", "yesterday"),
        ("FLOW_MAX_STREAMS", "0"),
        ("FLOW_MAX_STREAMS", "many"),
    ] {
        let mut command = flow_command(&dir);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--store", &store])
            .env(name, value);
        let (code, stderr) = run_to_exit(command, LIMIT);
        assert_eq!(code, Some(2), "{name}={value}: {stderr}");
        assert!(stderr.contains(name), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_server_on_the_same_store_exits_2_and_the_first_stops_cleanly() {
    let model = Model::start().await;
    let mut server = Server::start("second-server", &model).await;
    let store = server.store.to_string_lossy().to_string();
    let args = ["serve", "--listen", "127.0.0.1:0", "--store", &store];
    let mut command = flow_command(&server.dir);
    command.args(args);
    let (code, stderr) = run_to_exit(command, LIMIT);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("flow serve"),
        "it says another server uses the store: {stderr}"
    );
    assert!(!stderr.contains("listening on"), "{stderr}");
    // The first one still answers, and stops with exit 0 on SIGTERM.
    server.call("GET", "/readyz", None, None).await.expect(200);
    let stopped = server.terminate();
    assert!(stopped.success(), "{stopped:?}\n{}", server.log());
    let refused = server.http.get(server.url("/healthz")).send().await;
    assert!(refused.is_err(), "no longer listening");
    // Its lock is gone with it: a server starts again on the store.
    server.restart();
    server.call("GET", "/healthz", None, None).await.expect(200);
}

#[test]
fn an_address_in_use_exits_2() {
    let dir = temp_dir("address-in-use");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("its address").to_string();
    let store = dir.join("runs.sqlite").to_string_lossy().to_string();
    let mut command = flow_command(&dir);
    command.args(["serve", "--listen", &addr, "--store", &store]);
    let (code, stderr) = run_to_exit(command, LIMIT);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&addr), "it names the address: {stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_request_is_logged_as_json_with_its_request_id() {
    let model = Model::start().await;
    let server = Server::start("request-log", &model).await;
    let refused = server.call("GET", "/v1/runs", None, None).await;
    let id = refused.header("x-request-id").expect("a request id").to_string();
    assert_eq!((id.len(), id.chars().nth(14)), (36, Some('7')), "a UUID v7: {id}");
    let other = server.call("GET", "/healthz", None, None).await;
    assert_ne!(other.header("x-request-id"), Some(id.as_str()), "one id per request");

    let line = crate::serve::until("the request's log line", Duration::from_secs(3), || async {
        server.log().lines().find(|l| l.contains(&id)).map(str::to_string)
    })
    .await;
    let entry: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    let text = entry.to_string();
    assert!(
        text.contains("\"/v1/runs\"") && text.contains("\"GET\""),
        "method and path: {line}"
    );
    assert!(text.contains("401"), "the status: {line}");
    for line in server.log().lines().filter(|l| !l.starts_with("listening on http://")) {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(entry["level"].is_string() && entry["timestamp"].is_string(), "{line}");
    }
}
