//! `flow inspect FILE NODE`: what the model is sent at a node.

mod common;

use common::flow;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn an_agent_shows_its_system_message_tools_options_and_extract() {
    let out = flow(&["inspect", "examples/order_support.flow", "triage"], root());
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("inspect_triage", String::from_utf8_lossy(&out.stdout));
    let out = flow(
        &["inspect", "examples/order_support.flow", "identify", "--json"],
        root(),
    );
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The options come in source order, the node's own before the global exits'.
    let options: Vec<&str> = json["choose_exit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        options,
        [
            "the customer has given both an order number and an email address",
            "the customer threatens legal action or a chargeback",
            "the customer asks to chat with a human agent"
        ]
    );
    let props = &json["extract"]["properties"];
    assert_eq!(
        props["order_number"]["description"],
        "the order number, such as BL-12345678, in upper case"
    );
    assert!(json["system"].as_str().unwrap().contains("{{store_name}} in web chat"));
}

#[test]
fn a_route_with_only_if_exits_sends_nothing_and_unknown_nodes_are_refused() {
    let out = flow(&["inspect", "examples/order_support.flow", "tracking_check"], root());
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("sends nothing to a model"));
    let out = flow(&["inspect", "examples/order_support.flow", "triaje"], root());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no node `triaje`"));
}

#[test]
fn templates_are_shown_as_written_with_optional_chaining_kept() {
    let out = flow(&["inspect", "tests/cases/ok/travel_desk.flow", "offer"], root());
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Offer {{trip?.nights}} nights in {{trip?.destination}} for {{total}} EUR."),
        "{stdout}"
    );
    assert!(stdout.contains("their e-mail is {{traveller.email}}"), "{stdout}");
    let out = flow(
        &["inspect", "tests/cases/ok/travel_desk.flow", "offer", "--json"],
        root(),
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["system"].as_str().unwrap().contains("{{trip?.destination}}"));
}
