//! The `flow` command-line tool: a thin layer over the compiler crate.

/// `println!` that ignores a closed stdout (`flow runs | head`) instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod check_cmd;
mod clock_env;
mod compile_cmd;
mod diff_cmd;
mod events_file;
mod explain_cmd;
mod files;
mod fmt_cmd;
mod graph_cmd;
mod inspect_cmd;
mod interactive;
mod keys_cmd;
mod lsp_cmd;
mod pause_info;
mod run_cmd;
mod run_hints;
mod run_output;
mod runs_cmd;
mod serve_cmd;
mod shown;
mod spinner;
mod terminal;
mod wait;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Conversation workflows as code.
#[derive(Parser)]
#[command(name = "flow", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Output formats of `flow check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// miette's graphical report (colour on a terminal).
    Human,
    /// One JSON object on stdout.
    Json,
    /// GitHub Actions annotations, one line per diagnostic.
    Github,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

/// Diagram formats of `flow graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagramFormat {
    /// A Mermaid flowchart.
    Mermaid,
    /// A Graphviz digraph.
    Dot,
}

#[derive(Subcommand)]
enum Command {
    /// Check `.flow` files and folders; report every problem.
    Check {
        /// Files or folders (a folder means every `.flow` file below it). Default: the current folder.
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Exit 1 on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Draw the compiled graph of a `.flow` file (or a compiled `.json` graph).
    Graph {
        /// The `.flow` file or compiled graph.
        file: PathBuf,
        /// Diagram format.
        #[arg(long, value_enum, default_value_t = DiagramFormat::Mermaid)]
        format: DiagramFormat,
    },
    /// Explain a diagnostic code (with a wrong and a right example); no code lists them all.
    Explain {
        /// A code such as E0301.
        code: Option<String>,
    },
    /// Compile one `.flow` file to its compiled graph (JSON).
    Compile {
        /// The `.flow` file.
        file: PathBuf,
        /// Write the graph here instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// The semantic difference of two workflows (`.flow` files or compiled `.json` graphs), as JSON.
    ///
    /// Exit status: 0 whether or not they differ, 2 when either cannot be read or has errors.
    Diff {
        /// The old `.flow` file or compiled graph.
        old: PathBuf,
        /// The new `.flow` file or compiled graph.
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = diff_cmd::DiffFormat::Json)]
        format: diff_cmd::DiffFormat,
    },
    /// Start the language server on stdin/stdout.
    Lsp,
    /// Format `.flow` files in place (or check that they are).
    Fmt {
        /// Files or folders (a folder means every `.flow` file below it). Default: the current folder.
        paths: Vec<PathBuf>,
        /// Change nothing: list the files that are not formatted and exit 1 if there are any.
        #[arg(long)]
        check: bool,
    },
    /// Run a workflow: stdin lines are user messages, stdout what the user sees.
    ///
    /// Exit status: 0 completed, 1 failed, 2 could not start, 3 paused (resume with `flow resume`).
    Run {
        /// A `.flow` file (compiled first) or a compiled graph (`.json`).
        file: PathBuf,
        /// An input: `NAME=VALUE` (as text for string inputs, else JSON).
        #[arg(long = "input", value_name = "NAME=VALUE")]
        inputs: Vec<String>,
        /// A script file whose `[tool NAME]` sections stand in for those tools (docs/runtime.md).
        #[arg(long, value_name = "PATH")]
        stubs: Option<PathBuf>,
        /// With --stubs, let the tools the script does not stub call their real services.
        #[arg(long, requires = "stubs")]
        live_tools: bool,
        #[command(flatten)]
        common: RunArgs,
    },
    /// Continue a paused or interrupted run.
    Resume {
        /// The run's id (from `flow run` or `flow runs`).
        run_id: String,
        /// Approve the pending approval.
        #[arg(long, conflicts_with_all = ["reject", "return_"])]
        approve: bool,
        /// Reject the pending approval.
        #[arg(long, conflicts_with_all = ["approve", "return_"])]
        reject: bool,
        /// End the pending handoff: the human hands the conversation back.
        #[arg(long = "return", id = "return_", conflicts_with_all = ["approve", "reject"])]
        return_: bool,
        /// Take again the failed step of a run that failed on an outage (a model or an HTTP tool down).
        #[arg(long, conflicts_with_all = ["approve", "reject", "return_"])]
        retry: bool,
        /// With `--return`: set a variable before `on return` is taken (`NAME=VALUE`,
        /// typed like `--input`); repeatable.
        #[arg(long = "set", value_name = "NAME=VALUE", requires = "return_")]
        sets: Vec<String>,
        #[command(flatten)]
        common: RunArgs,
    },
    /// List the runs of the store, or show one with `flow runs show RUN_ID`.
    Runs {
        #[command(subcommand)]
        show: Option<RunsCommand>,
        /// The run store (default: `$FLOW_STORE`, else `.flow/runs.sqlite`).
        #[arg(long, value_name = "PATH")]
        store: Option<PathBuf>,
    },
    /// Serve workflows, revisions and runs over HTTP (docs/server.md).
    Serve(serve_cmd::ServeArgs),
    /// Show what the model is sent at a node (system message, tools, exit options).
    Inspect {
        /// The `.flow` file or compiled graph.
        file: PathBuf,
        /// The node.
        node: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Make, list and revoke the API keys of `flow serve`.
    Keys {
        #[command(subcommand)]
        command: keys_cmd::KeysCommand,
    },
}

/// Options shared by `flow run` and `flow resume`.
#[derive(clap::Args)]
struct RunArgs {
    /// Append every event as a JSON line to PATH (`-` for stdout).
    #[arg(long, value_name = "PATH|-")]
    events: Option<String>,
    /// The run store, a SQLite file (default: `$FLOW_STORE`, else `.flow/runs.sqlite`).
    #[arg(long, value_name = "PATH")]
    store: Option<PathBuf>,
    /// Print a readable trace of steps, edges and calls on stderr.
    #[arg(long)]
    trace: bool,
    /// Replace a model group for this run: `GROUP=provider:model` (`*` for every group).
    #[arg(long = "model", value_name = "GROUP=provider:model")]
    models: Vec<String>,
}

impl RunArgs {
    fn common(self) -> run_cmd::Common {
        run_cmd::Common {
            events: self.events,
            store: self.store,
            trace: self.trace,
            models: self.models,
        }
    }
}

#[derive(Subcommand)]
enum RunsCommand {
    /// One run: state, node, variables and history.
    Show {
        /// The run's id.
        run_id: String,
        /// The run store (default: `$FLOW_STORE`, else `.flow/runs.sqlite`).
        #[arg(long, value_name = "PATH")]
        store: Option<PathBuf>,
    },
}

/// Exit status 2: the command itself could not run.
pub const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if matches!(
        cli.command,
        Command::Run { .. } | Command::Resume { .. } | Command::Runs { .. } | Command::Keys { .. }
    ) && let Err(message) = clock_env::init()
    {
        eprintln!("error: {message}");
        return ExitCode::from(EXIT_USAGE);
    }
    let code = match cli.command {
        Command::Check {
            paths,
            format,
            deny_warnings,
        } => check_cmd::run(&paths, format, deny_warnings),
        Command::Compile { file, output } => compile_cmd::run(&file, output.as_deref()),
        Command::Diff { old, new, format } => diff_cmd::run(&old, &new, format),
        Command::Explain { code } => explain_cmd::run(code.as_deref()),
        Command::Graph { file, format } => graph_cmd::run(&file, format),
        Command::Fmt { paths, check } => fmt_cmd::run(&paths, check),
        Command::Run {
            file,
            inputs,
            stubs,
            live_tools,
            common,
        } => run_cmd::run(&file, &inputs, stubs.as_deref(), live_tools, &common.common()),
        Command::Resume {
            run_id,
            approve,
            reject,
            return_,
            retry,
            sets,
            common,
        } => {
            let answer = match (approve, reject, return_) {
                (true, _, _) => Some(flow_runtime::Answer::Approve),
                (_, true, _) => Some(flow_runtime::Answer::Reject),
                (_, _, true) => Some(flow_runtime::Answer::Return),
                _ => None,
            };
            if retry {
                run_cmd::retry(&run_id, &common.common())
            } else {
                run_cmd::resume(&run_id, answer, &sets, &common.common())
            }
        }
        Command::Runs { show, store } => match show {
            Some(RunsCommand::Show { run_id, store: inner }) => runs_cmd::show(&run_id, inner.or(store).as_deref()),
            None => runs_cmd::list(store.as_deref()),
        },
        Command::Inspect { file, node, json } => inspect_cmd::run(&file, &node, json),
        Command::Lsp => lsp_cmd::run(),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Keys { command } => keys_cmd::run(command),
    };
    ExitCode::from(code)
}
