//! `flow-serve-bench`: the `flow serve` figures of issue 13, against the real
//! binary over HTTP on 127.0.0.1.
//!
//! ```text
//! cargo build --release -p flow -p flow-bench
//! target/release/flow-serve-bench [--flow target/release/flow] [--conversations 1000]
//!     [--latency-ms 150] [--think-ms 10000] [--only waiting,load,zero] [--keep]
//! ```
//!
//! It starts a mock model and the workflow's order and carrier APIs in this
//! process ([`mock`]), then `flow serve --no-auth --listen 127.0.0.1:0` with
//! a fresh store, creates `examples/order_support.flow` (its tool hosts
//! pointed at the mock) and measures, each phase with its own conversations
//! (a start and four messages each, [`client`]):
//!
//! 1. memory: RSS before and after N conversations are left waiting for a
//!    user, per conversation: started 10 at a time (what a waiting
//!    conversation keeps), then N more at once (with what N simultaneous
//!    requests leave behind in the allocator);
//! 2. SSE fan-out: N streams open on the latter runs while they take their
//!    remaining turns: events delivered per second, delay from `ts` to receipt;
//! 3. load: N concurrent conversations, the model answering in `latency-ms`,
//!    users typing for `think-ms` between messages: turn latency added by the
//!    service (the turn's time less the time its calls spent in the mock),
//!    requests per second;
//! 4. zero latency: N conversations as fast as they go (mock at 0 ms, no
//!    typing): turns per second at full CPU.
//!
//! Exits 1 when a target is missed or a conversation went wrong.

mod client;
mod mock;
mod phases;
mod server;
mod sse;
mod stats;
mod waiting;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// What the bench was asked.
pub struct Settings {
    /// The `flow` binary.
    pub flow: PathBuf,
    /// Conversations per phase (and streams).
    pub conversations: u64,
    /// The mock model's latency under load.
    pub latency: Duration,
    /// A user's time between reading an answer and sending the next message.
    pub think: Duration,
    /// Leave the store in place afterwards (to inspect it with `flow runs`).
    pub keep: bool,
    /// The phases to run: `waiting` (memory and SSE), `load`, `zero`.
    pub only: Vec<String>,
}

impl Settings {
    /// Whether phase `name` is to run.
    pub fn runs(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == name)
    }
}

fn settings() -> Result<Settings, String> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("flow")))
        .filter(|p| p.exists());
    let mut s = Settings {
        flow: std::env::var_os("FLOW_BIN")
            .map(PathBuf::from)
            .or(beside)
            .unwrap_or_else(|| "target/release/flow".into()),
        conversations: 1000,
        latency: Duration::from_millis(150),
        think: Duration::from_millis(10_000),
        keep: false,
        only: Vec::new(),
    };
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: flow-serve-bench [--flow PATH] [--conversations N] [--latency-ms MS] [--think-ms MS] [--only waiting,load,zero] [--keep]";
    if let Some(at) = args.iter().position(|a| a == "--keep") {
        args.remove(at);
        s.keep = true;
    }
    for pair in args.chunks(2) {
        let value = pair.get(1).ok_or(usage)?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{}: not a number: {value}", pair[0]))
        };
        match pair[0].as_str() {
            "--flow" => s.flow = value.into(),
            "--conversations" => s.conversations = number()?.max(1),
            "--latency-ms" => s.latency = Duration::from_millis(number()?),
            "--think-ms" => s.think = Duration::from_millis(number()?),
            "--only" => s.only = value.split(',').map(str::to_string).collect(),
            _ => return Err(usage.into()),
        }
    }
    Ok(s)
}

fn main() -> ExitCode {
    let settings = match settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let files = server::raise_fd_limit();
    let needed = settings.conversations * 4 + 256;
    if files < needed {
        eprintln!(
            "the open-file limit is {files}; {needed} are needed: raise it (ulimit -n {needed}) or pass fewer --conversations"
        );
        return ExitCode::from(2);
    }
    let tokio = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start threads: {e}");
            return ExitCode::from(2);
        }
    };
    match tokio.block_on(phases::run(&settings)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
