//! A host service embedding the runtime: it compiles a workflow (a real service
//! would load the compiled JSON), registers the handler of its `host` tool,
//! listens to events, and drives a run with messages and an approval.
//!
//! Run it with `cargo run -p flow-runtime --example host_service`.

use flow_runtime::store::MemoryStore;
use flow_runtime::{Answer, Program, RunOptions, RunStatus, Runtime};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::Arc;

const WORKFLOW: &str = r#"
workflow refund_desk {
  start ask
  model m
}

model m = "openai:gpt-4o-mini"

var order_id: string = ""
var refund: { id: string }?

tool issue_refund(order_id: string) -> { id: string } {
  description "Refund an order in the billing system."
  host
}

agent ask {
  "Ask for the order number."
  extract order_id "the order number"
  when "the customer gave an order number" -> check
}

approval check {
  prompt "Refund order {{order_id}}?"
  on approved -> pay
  on rejected -> sorry
}

action pay {
  call issue_refund(order_id: order_id)
  set refund = result
  on error -> sorry
  -> done
}

say sorry {
  "Sorry, we could not refund order {{order_id}}."
  -> end
}

end done {
  say "Refunded: {{refund?.id}}."
  outcome refunded
}
"#;

const SCRIPT: &str = "
[ask]
reply: Which order should I refund?
extract: {\"order_id\": \"A-1001\"}
choose: the customer gave an order number
";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A compiled graph. A service would read the JSON written by `flow compile`.
    let graph = flow_compiler::compile(WORKFLOW, "refund_desk.flow")
        .graph
        .ok_or("the workflow has errors")?;
    let program = Arc::new(Program::new(graph)?);

    // 2. A runtime with a store and the host's tool handlers.
    let mut runtime = Runtime::new(Arc::new(MemoryStore::new()));
    runtime.register_host_tool("issue_refund", |input: Value| async move {
        let order = input["order_id"].as_str().unwrap_or_default().to_string();
        Ok(json!({ "id": format!("R-{order}") }))
    });
    let mut events = runtime.subscribe();

    // 3. Start a run. Here the model is scripted; a service would use its real providers.
    let script = std::env::temp_dir().join("flow-host-service-example.script");
    std::fs::write(&script, SCRIPT)?;
    let mut options = RunOptions::default();
    options
        .models
        .insert("m".into(), format!("scripted:{}", script.display()));
    let mut run = runtime.start(program, Default::default(), options, Default::default())?;

    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    tokio.block_on(async {
        // Runs until the agent waits for the user.
        let status = run.run(&mut VecDeque::new()).await?;
        assert_eq!(status, RunStatus::WaitingForUser);
        // The user answers; the run goes on to the approval and pauses there.
        let status = run.send_message("It's order A-1001").await?;
        assert_eq!(status, RunStatus::WaitingForApproval);
        // A reviewer approves; the host tool is called and the run completes.
        let status = run.answer(Answer::Approve, &mut VecDeque::new()).await?;
        assert_eq!(status, RunStatus::Completed);
        Ok::<_, flow_runtime::RunError>(())
    })?;

    while let Ok(event) = events.try_recv() {
        println!("{}", event.to_line());
    }
    println!("outcome: {:?}", run.state().outcome);
    Ok(())
}
