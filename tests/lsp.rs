//! End-to-end tests of `flow lsp`: the real binary over stdio, replies
//! snapshotted with insta. Fixtures live in `tests/lsp/`; a `$0` (`$1` …) in a
//! fixture is a cursor, removed before the text is sent.

#[path = "lsp/client.rs"]
mod client;

use client::{Client, cursor_line, markers};
use serde_json::{Value, json};
use std::path::Path;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lsp").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn uri(name: &str) -> String {
    format!("file:///work/{name}")
}

fn at(uri: &str, position: &Value) -> Value {
    json!({"textDocument": {"uri": uri}, "position": position})
}

/// Opens a fixture; returns its uri and cursor positions.
fn open(client: &mut Client, name: &str) -> (String, Vec<Value>) {
    let (text, cursors) = markers(&fixture(name));
    let uri = uri(name);
    client.open(&uri, &text);
    (uri, cursors)
}

/// Completion items as one line each: `label (kind) detail => insert text`.
fn completion_lines(reply: &Value) -> Vec<String> {
    let items = reply.as_array().cloned().unwrap_or_default();
    items
        .iter()
        .map(|i| {
            let mut line = format!("{} ({})", i["label"].as_str().unwrap_or(""), i["kind"]);
            if let Some(detail) = i["detail"].as_str() {
                line.push_str(&format!(" {detail}"));
            }
            if let Some(insert) = i["insertText"].as_str() {
                line.push_str(&format!(" => {insert}"));
            }
            line
        })
        .collect()
}

#[test]
fn diagnostics_are_published_with_codes_links_and_related_information_then_cleared() {
    let mut client = Client::start();
    let (text, _) = markers(&fixture("diagnostics.flow"));
    let uri = uri("diagnostics.flow");
    client.open(&uri, &text);
    let published = client.diagnostics(&uri, Some(1));
    insta::assert_json_snapshot!("diagnostics_published", published);

    // A fix clears them: an empty list for the new version.
    let fixed = text.replace("{{nmae}}", "you").replace("say greet", "say again");
    client.change(&uri, 2, &fixed);
    let cleared = client.diagnostics(&uri, Some(2));
    let left: Vec<&str> = cleared["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(left, ["W0501"], "{cleared}");

    // Rapid changes: only the latest version counts, and it is published.
    for version in 3..=30 {
        let broken = if version % 2 == 0 { text.clone() } else { fixed.clone() };
        client.change(&uri, version, &broken);
    }
    let last = client.diagnostics(&uri, Some(30));
    assert_eq!(last["diagnostics"], published["diagnostics"]);

    // Closing clears the document's diagnostics.
    client.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
    let closed = client.diagnostics(&uri, None);
    assert_eq!(closed["diagnostics"], json!([]));
    client.shutdown();
}

#[test]
fn completion_by_context() {
    let mut client = Client::start();
    insta::glob!("lsp/completion/*.flow", |path| {
        let name = format!("completion/{}", path.file_name().unwrap().to_str().unwrap());
        let (uri, cursors) = open(&mut client, &name);
        let reply = client.request("textDocument/completion", at(&uri, &cursors[0]));
        let snapshot = json!({
            "cursor": cursor_line(&fixture(&name), 0),
            "items": completion_lines(&reply),
        });
        insta::assert_json_snapshot!(snapshot);
    });
    client.shutdown();
}

#[test]
fn hover_on_nodes_variables_tools_types_models_and_keywords() {
    let mut client = Client::start();
    insta::glob!("lsp/hover/*.flow", |path| {
        let name = format!("hover/{}", path.file_name().unwrap().to_str().unwrap());
        let (uri, cursors) = open(&mut client, &name);
        let reply = client.request("textDocument/hover", at(&uri, &cursors[0]));
        let snapshot = json!({
            "cursor": cursor_line(&fixture(&name), 0),
            "markdown": reply["contents"]["value"],
            "range": reply["range"],
        });
        insta::assert_json_snapshot!(snapshot);
    });
    client.shutdown();
}

#[test]
fn definition_references_and_rename() {
    let mut client = Client::start();
    let source = fixture("navigation.flow");
    let (uri, c) = open(&mut client, "navigation.flow");
    let mut replies = serde_json::Map::new();
    for (i, what) in ["node", "variable", "tool", "type", "model"].iter().enumerate() {
        let reply = client.request("textDocument/definition", at(&uri, &c[i]));
        replies.insert(format!("definition of a {what}: {}", cursor_line(&source, i)), reply);
    }
    for (i, what) in [(0, "node"), (1, "variable")] {
        let mut params = at(&uri, &c[i]);
        params["context"] = json!({"includeDeclaration": true});
        let reply = client.request("textDocument/references", params);
        replies.insert(format!("references of a {what}"), reply);
    }
    let prepare = client.request("textDocument/prepareRename", at(&uri, &c[0]));
    replies.insert("prepareRename on a node".into(), prepare);
    let prepare = client.request("textDocument/prepareRename", at(&uri, &c[5]));
    replies.insert("prepareRename on a keyword".into(), prepare);
    for (i, new_name) in [
        (0, "person"),
        (1, "order_number"),
        (0, "end"),
        (0, "2fast"),
        (0, "report"),
        (1, "order"),
        (5, "agent2"),
    ] {
        let mut params = at(&uri, &c[i]);
        params["newName"] = json!(new_name);
        let reply = client.request("textDocument/rename", params);
        replies.insert(format!("rename {} to {new_name}", cursor_line(&source, i)), reply);
    }
    insta::assert_json_snapshot!("navigation", replies);
    client.shutdown();
}

#[test]
fn outline_semantic_tokens_and_folding() {
    let mut client = Client::start();
    let (uri, _) = open(&mut client, "base.flow");
    let doc = json!({"textDocument": {"uri": uri}});
    let symbols = client.request("textDocument/documentSymbol", doc.clone());
    insta::assert_json_snapshot!("document_symbols", symbols);

    // Decode the tokens into (line, column, length, type, text) for reading.
    let tokens = client.request("textDocument/semanticTokens/full", doc.clone());
    let legend = [
        "keyword", "string", "comment", "number", "variable", "node", "tool", "type", "model",
    ];
    let text = fixture("base.flow");
    let lines: Vec<Vec<u16>> = text.lines().map(|l| l.encode_utf16().collect()).collect();
    let data: Vec<u64> = tokens["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let (mut line, mut column) = (0u64, 0u64);
    let mut decoded = Vec::new();
    for t in data.chunks(5) {
        column = if t[0] == 0 { column + t[1] } else { t[1] };
        line += t[0];
        let units = &lines[line as usize][column as usize..(column + t[2]) as usize];
        let declaration = if t[4] == 1 { " (declaration)" } else { "" };
        decoded.push(format!(
            "{}:{} {}{declaration} {}",
            line + 1,
            column + 1,
            legend[t[3] as usize],
            String::from_utf16_lossy(units)
        ));
    }
    insta::assert_json_snapshot!("semantic_tokens", decoded);

    let folding = client.request("textDocument/foldingRange", doc);
    insta::assert_json_snapshot!("folding_ranges", folding);
    client.shutdown();
}

#[test]
fn formatting_uses_flow_fmt_and_leaves_broken_files_alone() {
    let mut client = Client::start();
    let options = json!({"tabSize": 2, "insertSpaces": true});
    let (uri, _) = open(&mut client, "unformatted.flow");
    let edits = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": options}),
    );
    insta::assert_json_snapshot!("formatting", edits);
    let formatted = flow_formatted(&fixture("unformatted.flow"));
    assert_eq!(edits[0]["newText"], json!(formatted));

    let (uri, _) = open(&mut client, "broken.flow");
    let edits = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": options}),
    );
    assert_eq!(edits, json!([]));
    client.shutdown();
}

/// What `flow fmt` writes for `text`.
fn flow_formatted(text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("flow-lsp-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a.flow");
    std::fs::write(&file, text).unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_flow"))
        .args(["fmt", file.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = std::fs::read_to_string(&file).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    out
}

#[test]
fn code_actions_apply_the_compilers_fixes() {
    let mut client = Client::start();
    let source = fixture("actions.flow");
    let (uri, c) = open(&mut client, "actions.flow");
    let mut replies = serde_json::Map::new();
    for (i, what) in ["add `on error`", "add `else`", "bound a cycle's edge", "did you mean"]
        .iter()
        .enumerate()
    {
        // `$i` stands on the diagnostic whose fix is wanted.
        let target = &c[i];
        let params = json!({
            "textDocument": {"uri": uri},
            "range": {"start": target, "end": target},
            "context": {"diagnostics": []},
        });
        let reply = client.request("textDocument/codeAction", params);
        replies.insert(format!("{what}: {}", cursor_line(&source, i)), reply);
    }
    insta::assert_json_snapshot!("code_actions", replies);
    client.shutdown();
}

#[test]
fn positions_count_utf16_units_after_emoji_and_accents() {
    let mut client = Client::start();
    let source = fixture("utf16.flow");
    let (uri, c) = open(&mut client, "utf16.flow");
    let published = client.diagnostics(&uri, Some(1));
    let hover = client.request("textDocument/hover", at(&uri, &c[0]));
    let mut params = at(&uri, &c[0]);
    params["context"] = json!({"includeDeclaration": false});
    let references = client.request("textDocument/references", params);
    let completion = client.request("textDocument/completion", at(&uri, &c[1]));
    insta::assert_json_snapshot!(
        "utf16",
        json!({
            "diagnostics": published["diagnostics"],
            "hover": {"cursor": cursor_line(&source, 0), "range": hover["range"]},
            "references": references,
            "completion": {"cursor": cursor_line(&source, 1), "items": completion_lines(&completion)},
        })
    );
    // The references on the emoji line start after `  "Café 😀 {{ordr_id}} — {{`:
    // 26 characters but 27 UTF-16 units (the emoji is two).
    assert_eq!(references[0]["range"]["start"]["character"], json!(27));
    // Inside the emoji's two units, past the last line, past a line's end:
    // positions are clamped, never an error.
    let odd = [(10, 9), (999, 5), (0, 999)];
    for (line, character) in odd {
        let position = json!({"line": line, "character": character});
        for method in [
            "textDocument/hover",
            "textDocument/completion",
            "textDocument/definition",
        ] {
            let reply = client.request(method, at(&uri, &position));
            assert!(reply.get("error").is_none(), "{method} at {position}: {reply}");
        }
    }
    client.shutdown();
}

#[test]
fn typing_an_example_never_breaks_the_server() {
    let example =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/order_support.flow")).unwrap();
    let mut client = Client::start();
    // About 300 prefixes of the example, then every prefix of a short text
    // with emoji and accents (cursors after multi-unit characters).
    type_prefixes(&mut client, "typing.flow", &example, 300);
    type_prefixes(
        &mut client,
        "typing_utf16.flow",
        &markers(&fixture("utf16.flow")).0,
        usize::MAX,
    );
    client.shutdown();
}

/// Feeds about `count` prefixes of `text` as one document, asking for
/// completion and hover at the end of each; every request must be answered.
fn type_prefixes(client: &mut Client, name: &str, text: &str, count: usize) {
    let uri = uri(name);
    client.open(&uri, "");
    let boundaries: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
    let step = (boundaries.len() / count.min(boundaries.len())).max(1);
    let mut version = 1;
    for &end in boundaries.iter().step_by(step).chain(std::iter::once(&text.len())) {
        version += 1;
        let prefix = &text[..end];
        client.change(&uri, version, prefix);
        let line = prefix.matches('\n').count();
        let column = prefix.rsplit('\n').next().unwrap_or("").encode_utf16().count();
        let position = json!({"line": line, "character": column});
        let completion = client.request("textDocument/completion", at(&uri, &position));
        assert!(
            completion.get("error").is_none(),
            "completion failed at {end}: {completion}"
        );
        let hover = client.request("textDocument/hover", at(&uri, &position));
        assert!(hover.get("error").is_none(), "hover failed at {end}: {hover}");
    }
    client.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
}

#[test]
fn quick_fixes_remove_unused_declarations_and_default_or_make_optional_unset_variables() {
    let mut client = Client::start();
    let source = fixture("fixes.flow");
    let (uri, c) = open(&mut client, "fixes.flow");
    let mut replies = serde_json::Map::new();
    for (i, what) in [
        "remove an unused var",
        "remove an unused tool",
        "default or optional string",
        "default or optional union",
    ]
    .iter()
    .enumerate()
    {
        let params = json!({
            "textDocument": {"uri": uri},
            "range": {"start": c[i], "end": c[i]},
            "context": {"diagnostics": []},
        });
        let reply = client.request("textDocument/codeAction", params);
        replies.insert(format!("{what}: {}", cursor_line(&source, i)), reply);
    }
    // Applying the first removal leaves a file without the tool and with one
    // blank line between the items around it.
    let (text, _) = markers(&source);
    let removal = &replies["remove an unused tool: tool unused_tool|() -> string {"][0]["edit"]["changes"][&uri][0];
    assert_eq!(removal["newText"], "");
    assert_eq!(removal["range"]["start"], json!({"line": 12, "character": 0}));
    assert_eq!(removal["range"]["end"], json!({"line": 16, "character": 0}));
    assert!(text.lines().nth(16).unwrap().starts_with("agent ask"));
    insta::assert_json_snapshot!("quick_fixes", replies);
    client.shutdown();
}

#[test]
fn diagnostic_links_point_at_flow_docs_url_and_are_left_out_without_it() {
    let (text, _) = markers(&fixture("diagnostics.flow"));
    let mut client = Client::start();
    client.open(&uri("diagnostics.flow"), &text);
    let published = client.diagnostics(&uri("diagnostics.flow"), Some(1));
    for d in published["diagnostics"].as_array().unwrap() {
        assert!(d.get("codeDescription").is_none(), "{d}");
    }
    client.shutdown();

    let base = "https://git.example.com/acme/flow/blob/main/docs/diagnostics.md";
    let mut client = Client::start_with_env(&[("FLOW_DOCS_URL", base)]);
    client.open(&uri("diagnostics.flow"), &text);
    let published = client.diagnostics(&uri("diagnostics.flow"), Some(1));
    let e0103 = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "E0103")
        .unwrap();
    let href = e0103["codeDescription"]["href"].as_str().unwrap();
    assert_eq!(href, format!("{base}#{}", flow_compiler::Code::E0103.docs_anchor()));
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md")).unwrap();
    assert!(docs.contains(&format!("(#{})", flow_compiler::Code::E0103.docs_anchor())));
    client.shutdown();
}

/// A workflow of `n` nodes in one long chain (say, action and route in turn).
fn chain(n: usize) -> String {
    let mut text = String::from("workflow w {\n  start n0\n}\n\nvar x: int = 0\n");
    for i in 0..n {
        let next = if i + 1 == n {
            "end".to_string()
        } else {
            format!("n{}", i + 1)
        };
        text.push_str(&match i % 3 {
            0 => format!("\nsay n{i} {{\n  \"step {{{{x}}}}\"\n  -> {next}\n}}\n"),
            1 => format!("\naction n{i} {{\n  set x = x + 1\n  -> {next}\n}}\n"),
            _ => format!("\nroute n{i} {{\n  if x > 1 -> {next}\n  else -> {next}\n}}\n"),
        });
    }
    text
}

#[test]
fn a_thirty_thousand_node_file_is_served() {
    let mut client = Client::start();
    // A debug build on a busy machine needs a while for 30,000 nodes.
    client.patience = std::time::Duration::from_secs(600);
    let text = chain(30_000);
    let uri = uri("long_chain.flow");
    client.open(&uri, &text);
    let published = client.diagnostics(&uri, Some(1));
    assert_eq!(published["diagnostics"], json!([]), "{published}");
    let last_line = text.lines().count() - 3;
    let position = json!({"line": last_line, "character": 9});
    for (method, params) in [
        ("textDocument/documentSymbol", json!({"textDocument": {"uri": uri}})),
        ("textDocument/foldingRange", json!({"textDocument": {"uri": uri}})),
        (
            "textDocument/semanticTokens/full",
            json!({"textDocument": {"uri": uri}}),
        ),
        (
            "textDocument/formatting",
            json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
        ),
        ("textDocument/hover", at(&uri, &position)),
        ("textDocument/definition", at(&uri, &position)),
        (
            "textDocument/references",
            json!({"textDocument": {"uri": uri}, "position": position, "context": {"includeDeclaration": true}}),
        ),
    ] {
        let reply = client.request(method, params);
        assert!(reply.get("error").is_none(), "{method}: {reply}");
    }
    client.shutdown();
}
