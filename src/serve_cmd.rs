//! `flow serve [--listen ADDR] [--store PATH] [--no-auth] [--root DIR]
//! [--secrets NAME,...] [--retain-finished DAYS]` (SERVER.md "Starting it").

use crate::EXIT_USAGE;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The flags of `flow serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Where to listen (`:0` picks a free port; the line `listening on` names it).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The store, a SQLite file (default: `$FLOW_STORE`, else `.flow/runs.sqlite`).
    #[arg(long, value_name = "PATH")]
    store: Option<String>,
    /// Serve without API keys: allowed only on a loopback address.
    #[arg(long)]
    no_auth: bool,
    /// Where workflows' relative paths resolve (default: the current folder).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Only these environment variables may be read as workflow secrets.
    #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
    secrets: Option<Vec<String>>,
    /// Delete finished runs older than DAYS (with their events and messages).
    #[arg(long, value_name = "DAYS")]
    retain_finished: Option<u32>,
    /// Webhook urls on private addresses (optionally only these CIDRs).
    #[arg(long, value_name = "CIDR,...", num_args = 0..=1, require_equals = true, default_missing_value = "*")]
    allow_private_webhooks: Option<String>,
}

/// Runs the server until SIGTERM or SIGINT; its exit status.
pub fn run(args: ServeArgs) -> u8 {
    let store = args
        .store
        .clone()
        .or_else(|| std::env::var("FLOW_STORE").ok())
        .unwrap_or_else(|| ".flow/runs.sqlite".to_string());
    if store.starts_with("postgres://") || store.starts_with("postgresql://") {
        eprintln!("error: PostgreSQL stores are not supported yet: give --store a SQLite file");
        return EXIT_USAGE;
    }
    let mut config = flow_server::Config::new(args.listen, PathBuf::from(store));
    config.no_auth = args.no_auth;
    config.root = args.root;
    config.secrets = args.secrets;
    config.retain_finished = args.retain_finished;
    config.clock = std::env::var("FLOW_CLOCK").ok();
    // The cap on open event streams (default 10,000), lowered by tests.
    if let Ok(text) = std::env::var("FLOW_MAX_STREAMS") {
        match text.trim().parse::<usize>() {
            Ok(n) if n > 0 => config.max_streams = n,
            _ => {
                eprintln!(
                    "error: FLOW_MAX_STREAMS={text:?} is not a whole number above 0 (the most event streams open at once)"
                );
                return EXIT_USAGE;
            }
        }
    }
    let _ = args.allow_private_webhooks;
    flow_server::init_logging(std::io::stderr().is_terminal());
    let tokio = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the server's threads: {e}");
            return 1;
        }
    };
    match tokio.block_on(flow_server::serve(config)) {
        Ok(()) => 0,
        Err(flow_server::ServeError::Usage(message)) => {
            eprintln!("error: {message}");
            EXIT_USAGE
        }
        Err(flow_server::ServeError::Failed(message)) => {
            eprintln!("error: {message}");
            1
        }
    }
}
