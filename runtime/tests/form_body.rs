//! `body form { … }`: an HTTP tool sends `application/x-www-form-urlencoded`
//! to a local mock server, each field properly encoded, a secret filled in,
//! numbers and bools as their JSON text and null fields left out.

use flow_runtime::store::MemoryStore;
use flow_runtime::{Program, RunOptions, RunStatus, Runtime};
use serde_json::{Map, json};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn workflow(base: &str) -> String {
    format!(
        r#"
workflow sms {{
  start send
}}

secret SMS_TOKEN

tool send_sms(to: string, text: string, urgent: bool, count: int, note: string?) -> {{ sid: string }} {{
  http POST "{base}/messages"
  body form {{ To: to, Body: text, Urgent: urgent, Count: count, Note: note, Token: "{{{{secret.SMS_TOKEN}}}}" }}
}}

var sid: string = ""

action send {{
  call send_sms(to: "+1 555 0100", text: "Tea & cake = 5€?", urgent: true, count: 3, note: null)
  set sid = result.sid
  on error -> end
  -> end
}}
"#
    )
}

#[test]
fn a_form_body_is_sent_url_encoded() {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = tokio.block_on(MockServer::start());
    tokio.block_on(
        Mock::given(method("POST"))
            .and(path("/messages"))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "sid": "SM1" })))
            .mount(&server),
    );
    let output = flow_compiler::compile(&workflow(&server.uri()), "sms.flow");
    let graph = output
        .graph
        .unwrap_or_else(|| panic!("compiles: {:?}", output.diagnostics));
    let program = Arc::new(Program::new(graph).expect("loads"));
    let runtime = Runtime::new(Arc::new(MemoryStore::new()));
    let secrets = HashMap::from([("SMS_TOKEN".to_string(), "tok/en+1".to_string())]);
    let mut run = runtime
        .start(program, Map::new(), RunOptions::default(), secrets)
        .expect("starts");
    let status = tokio.block_on(run.run(&mut VecDeque::new())).expect("runs");
    assert_eq!(status, RunStatus::Completed, "{:?}", run.state().error);
    assert_eq!(
        run.state().vars["sid"],
        json!("SM1"),
        "the mock matched the form request"
    );
    let requests = tokio.block_on(server.received_requests()).unwrap_or_default();
    assert_eq!(requests.len(), 1);
    let body = String::from_utf8(requests[0].body.clone()).unwrap();
    assert_eq!(
        body,
        "To=%2B1+555+0100&Body=Tea+%26+cake+%3D+5%E2%82%AC%3F&Urgent=true&Count=3&Token=tok%2Fen%2B1"
    );
}
