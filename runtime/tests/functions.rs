//! The language's text and date functions and quoted names, run through the
//! library: `today` reads the clock the host gives the runtime, and a host
//! tool sees its quoted parameter by its real name.

use flow_runtime::store::MemoryStore;
use flow_runtime::{FixedClock, Program, RunOptions, RunStatus, Runtime};
use serde_json::{Map, Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

const WORKFLOW: &str = r#"
workflow dates {
  start lookup
}
type Reply {
  "number": int
  "end": string
}
tool fetch("page-size": int) -> Reply {
  host
}
var count: int = 0
var ends: string = ""
var day: string = ""
var week_later: string = ""
var until_end: int = 0
var is_code: bool = false
action lookup {
  call fetch("page-size": 20)
  set count = result."number"
  set ends = result."end"
  set day = today("Asia/Tokyo")
  set is_code = matches(result."end", r"^\d{4}-\d{2}-\d{2}$")
  on error -> end
  -> plan
}
action plan {
  set week_later = add_days(day, 7)
  set until_end = days_between(day, ends)
  -> end
}
"#;

#[test]
fn a_run_reads_quoted_fields_and_today_from_the_host_s_clock() {
    let graph = flow_compiler::compile(WORKFLOW, "dates.flow").graph.expect("compiles");
    let program = Arc::new(Program::new(graph).expect("loads"));
    let mut runtime = Runtime::new(Arc::new(MemoryStore::new()));
    // 20:00 UTC on the 30th of June is already the 1st of July in Tokyo.
    runtime.set_clock(FixedClock("2025-06-30T20:00:00Z".parse().unwrap()));
    let seen = Arc::new(Mutex::new(Value::Null));
    let seen_by_tool = Arc::clone(&seen);
    runtime.register_host_tool("fetch", move |input: Value| {
        *seen_by_tool.lock().unwrap() = input;
        async move { Ok(json!({"number": 5, "end": "2025-07-31"})) }
    });
    let mut run = runtime
        .start(program, Map::new(), RunOptions::default(), Default::default())
        .unwrap();
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = tokio.block_on(run.run(&mut VecDeque::new())).unwrap();
    assert_eq!(status, RunStatus::Completed, "{:?}", run.state().error);
    assert_eq!(*seen.lock().unwrap(), json!({"page-size": 20}));
    let vars = &run.state().vars;
    assert_eq!(vars["count"], json!(5));
    assert_eq!(vars["ends"], json!("2025-07-31"));
    assert_eq!(vars["day"], json!("2025-07-01"));
    assert_eq!(vars["week_later"], json!("2025-07-08"));
    assert_eq!(vars["until_end"], json!(30));
    assert_eq!(vars["is_code"], json!(true));
}

#[test]
fn a_malformed_date_fails_the_run_naming_the_value() {
    let source = WORKFLOW.replace("add_days(day, 7)", "add_days(ends, 7)");
    let graph = flow_compiler::compile(&source, "dates.flow").graph.expect("compiles");
    let program = Arc::new(Program::new(graph).expect("loads"));
    let mut runtime = Runtime::new(Arc::new(MemoryStore::new()));
    runtime.register_host_tool("fetch", |_input: Value| async move {
        Ok(json!({"number": 1, "end": "31/07/2025"}))
    });
    let mut run = runtime
        .start(program, Map::new(), RunOptions::default(), Default::default())
        .unwrap();
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = tokio.block_on(run.run(&mut VecDeque::new())).unwrap();
    assert_eq!(status, RunStatus::Failed);
    let error = run.state().error.clone().unwrap_or_default();
    assert!(
        error.contains("\"31/07/2025\"") && error.contains("YYYY-MM-DD"),
        "{error}"
    );
}

#[test]
fn a_graph_with_a_bad_pattern_or_zone_does_not_load() {
    let graph = flow_compiler::compile(WORKFLOW, "dates.flow").graph.expect("compiles");
    let json = serde_json::to_value(&graph).unwrap();
    let text = json.to_string().replace(r#"^\\d{4}-\\d{2}-\\d{2}$"#, "(");
    assert!(Program::from_json(&text).unwrap_err().to_string().contains("matches"));
    let text = json.to_string().replace("Asia/Tokyo", "Asia/Atlantis");
    assert!(
        Program::from_json(&text)
            .unwrap_err()
            .to_string()
            .contains("Asia/Atlantis")
    );
}
