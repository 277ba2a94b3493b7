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
fn a_bad_test_clock_exits_2_naming_it() {
    let dir = temp_dir("bad-clock");
    let store = dir.join("runs.sqlite").to_string_lossy().to_string();
    let mut command = flow_command(&dir);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--store", &store])
        .env("FLOW_CLOCK", "yesterday");
    let (code, stderr) = run_to_exit(command, LIMIT);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("FLOW_CLOCK"), "{stderr}");
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
