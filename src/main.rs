//! The `flow` command-line tool: a thin layer over the compiler crate.

mod check_cmd;
mod compile_cmd;
mod explain_cmd;
mod files;
mod fmt_cmd;
mod graph_cmd;
mod lsp_cmd;

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
    let code = match cli.command {
        Command::Check {
            paths,
            format,
            deny_warnings,
        } => check_cmd::run(&paths, format, deny_warnings),
        Command::Compile { file, output } => compile_cmd::run(&file, output.as_deref()),
        Command::Explain { code } => explain_cmd::run(code.as_deref()),
        Command::Graph { file, format } => graph_cmd::run(&file, format),
        Command::Fmt { paths, check } => fmt_cmd::run(&paths, check),
        Command::Lsp => lsp_cmd::run(),
    };
    ExitCode::from(code)
}
