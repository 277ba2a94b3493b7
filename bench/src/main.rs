//! `flow-bench`: how fast `flow check` is on big generated workflows, and how
//! much memory it takes.
//!
//! ```text
//! flow-bench                      # the benchmark: 1k, 10k and 50k nodes
//! flow-bench --sizes 1000,5000    # other sizes
//! flow-bench --one SIZE           # generate + compile once, print peak RSS (used by the benchmark)
//! flow-bench --write SIZE PATH    # write a generated file, to time `flow check` on it by hand
//! ```
//!
//! Timings are of `flow_compiler::compile` (what `flow check` runs, without
//! reading the file or rendering diagnostics): one warm-up, then the median and
//! minimum of several runs. Peak memory is measured in a fresh child process
//! per size (the binary runs itself with `--one SIZE`), read from `VmHWM` in
//! `/proc/self/status`, so one size's allocations never inflate another's.

use flow_compiler::{CompileOutput, Diagnostics, analysis, check, compile, emit, syntax};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// Nodes, in the default run.
const SIZES: [usize; 3] = [1_000, 10_000, 50_000];

/// Targets for 10k nodes.
const TARGET_NODES: usize = 10_000;
const TARGET_MS: f64 = 300.0;
const TARGET_MB: f64 = 300.0;

const FILE_NAME: &str = "generated.flow";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] => bench(&SIZES),
        ["--sizes", list] => match parse_sizes(list) {
            Some(sizes) => bench(&sizes),
            None => usage(),
        },
        ["--one", size] => match size.parse() {
            Ok(size) => one(size),
            Err(_) => usage(),
        },
        ["--write", size, path] => match size.parse() {
            Ok(size) => write(size, path),
            Err(_) => usage(),
        },
        _ => usage(),
    }
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: flow-bench [--sizes N,N,...] | --one NODES | --write NODES PATH\n\
         (no arguments: the benchmark at 1000, 10000 and 50000 nodes)"
    );
    ExitCode::from(2)
}

fn parse_sizes(list: &str) -> Option<Vec<usize>> {
    let sizes: Option<Vec<usize>> = list.split(',').map(|s| s.trim().parse().ok()).collect();
    sizes.filter(|s| !s.is_empty() && s.iter().all(|&n| n > 0))
}

/// `--write SIZE PATH`.
fn write(nodes: usize, path: &str) -> ExitCode {
    let source = flow_bench::generate(nodes);
    match std::fs::write(path, &source) {
        Ok(()) => {
            println!(
                "wrote {path}: {} nodes, {} lines, {} bytes",
                flow_bench::actual_nodes(nodes),
                source.lines().count(),
                source.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write {path}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--one SIZE`: generate and compile once in this fresh process, then print
/// the resident set: after generating (the source alone) and the peak.
fn one(nodes: usize) -> ExitCode {
    let source = flow_bench::generate(nodes);
    let before_kb = proc_status_kb("VmHWM").unwrap_or(0);
    let out = compile(&source, FILE_NAME);
    assert_clean(nodes, &out);
    let peak_kb = proc_status_kb("VmHWM").unwrap_or(0);
    drop(out);
    println!("source_hwm_kb={before_kb} peak_hwm_kb={peak_kb}");
    ExitCode::SUCCESS
}

/// A `kB` field of `/proc/self/status` (`VmHWM`, `VmRSS`).
fn proc_status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

fn assert_clean(nodes: usize, out: &CompileOutput) {
    assert!(
        out.diagnostics.is_empty() && out.graph.is_some(),
        "generate({nodes}) did not compile clean: {} diagnostics, first: {:?}",
        out.diagnostics.len(),
        out.diagnostics
            .iter()
            .take(5)
            .map(|d| format!("{:?}: {}", d.code, d.message))
            .collect::<Vec<_>>()
    );
}

/// One size's results.
struct Row {
    nodes: usize,
    lines: usize,
    bytes: usize,
    median_ms: f64,
    min_ms: f64,
    /// Fastest time of each stage: lower, check, analyse, emit, the rest.
    stages_ms: [f64; 5],
    peak_mb: Option<f64>,
    source_mb: Option<f64>,
}

impl Row {
    fn ms_per_1k_lines(&self) -> f64 {
        self.median_ms / (self.lines as f64 / 1000.0)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn runs_for(nodes: usize) -> usize {
    if nodes > 20_000 { 3 } else { 7 }
}

fn bench(sizes: &[usize]) -> ExitCode {
    println!(
        "flow-bench: flow_compiler::compile on generated workflows ({} nodes per block)\n",
        flow_bench::NODES_PER_BLOCK
    );
    let mut rows = Vec::new();
    for &size in sizes {
        let nodes = flow_bench::actual_nodes(size);
        let source = flow_bench::generate(size);
        let lines = source.lines().count();
        let runs = runs_for(size);
        eprintln!("{nodes} nodes, {lines} lines: warm-up + {runs} runs ...");

        let warm = compile(&source, FILE_NAME);
        assert_clean(size, &warm);
        drop(warm);

        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started = Instant::now();
            let out = compile(&source, FILE_NAME);
            let elapsed = started.elapsed();
            assert_clean(size, &out);
            drop(out);
            times.push(ms(elapsed));
        }
        times.sort_by(f64::total_cmp);

        let stages_ms = stage_times(&source, runs.min(3));
        let (source_mb, peak_mb) = match measure_memory(size) {
            Some((source_mb, peak_mb)) => (Some(source_mb), Some(peak_mb)),
            None => (None, None),
        };
        rows.push(Row {
            nodes,
            lines,
            bytes: source.len(),
            median_ms: times[times.len() / 2],
            min_ms: times[0],
            stages_ms,
            peak_mb,
            source_mb,
        });
    }
    report(&rows)
}

/// The fastest time of each stage over `runs` runs, timed as `compile` runs them.
fn stage_times(source: &str, runs: usize) -> [f64; 5] {
    let mut best = [f64::INFINITY; 5];
    for _ in 0..runs {
        let t0 = Instant::now();
        let mut diags = Diagnostics::default();
        let file = syntax::lower(source, &mut diags);
        let t1 = Instant::now();
        let program = check::check(&file, &mut diags);
        let t2 = Instant::now();
        analysis::analyse(&program, file.has_syntax_errors, &mut diags);
        let t3 = Instant::now();
        assert!(!diags.has_errors(), "stage timing: the generated file has errors");
        let graph = emit::emit(&program, source, FILE_NAME);
        let t4 = Instant::now();
        let diagnostics = diags.into_sorted();
        drop(program);
        drop(file);
        drop(graph);
        drop(diagnostics);
        let t5 = Instant::now();
        let times = [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4];
        for (b, t) in best.iter_mut().zip(times) {
            *b = b.min(ms(t));
        }
    }
    best
}

/// (source-only MB, peak MB) of a fresh `--one SIZE` child process.
fn measure_memory(size: usize) -> Option<(f64, f64)> {
    let exe = std::env::current_exe().ok()?;
    let output = Command::new(exe).args(["--one", &size.to_string()]).output().ok()?;
    if !output.status.success() {
        eprintln!(
            "warning: `--one {size}` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| -> Option<f64> {
        let kb: u64 = text
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))?
            .parse()
            .ok()?;
        Some(kb as f64 / 1024.0)
    };
    Some((field("source_hwm_kb")?, field("peak_hwm_kb")?))
}

fn fmt_mb(mb: Option<f64>) -> String {
    mb.map_or_else(|| "n/a".to_string(), |mb| format!("{mb:.1}"))
}

fn report(rows: &[Row]) -> ExitCode {
    println!(
        "{:>7} {:>8} {:>10} {:>10} {:>9} {:>12} {:>12} {:>11}",
        "nodes", "lines", "bytes", "median ms", "min ms", "ms/1k lines", "peak RSS MB", "(source MB)"
    );
    for r in rows {
        println!(
            "{:>7} {:>8} {:>10} {:>10.1} {:>9.1} {:>12.2} {:>12} {:>11}",
            r.nodes,
            r.lines,
            r.bytes,
            r.median_ms,
            r.min_ms,
            r.ms_per_1k_lines(),
            fmt_mb(r.peak_mb),
            fmt_mb(r.source_mb),
        );
    }

    println!("\nby stage (fastest run, ms):");
    println!(
        "{:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "nodes", "lower", "check", "analyse", "emit", "drop etc"
    );
    for r in rows {
        let [lower, check, analyse, emit, rest] = r.stages_ms;
        println!(
            "{:>7} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            r.nodes, lower, check, analyse, emit, rest
        );
    }

    if let (Some(first), Some(last)) = (rows.first(), rows.last())
        && rows.len() > 1
    {
        let ratio = last.ms_per_1k_lines() / first.ms_per_1k_lines();
        let verdict = if ratio <= 1.5 { "roughly linear" } else { "super-linear" };
        println!(
            "\nscaling: ms per line at {} nodes / at {} nodes = {ratio:.2} ({verdict})",
            last.nodes, first.nodes
        );
    }

    let mut ok = true;
    if let Some(r) = rows
        .iter()
        .find(|r| r.nodes.abs_diff(TARGET_NODES) < flow_bench::NODES_PER_BLOCK * 2)
    {
        let time_ok = r.median_ms < TARGET_MS;
        let mem_ok = r.peak_mb.is_some_and(|mb| mb < TARGET_MB);
        println!(
            "target at {} nodes: median {:.1} ms (< {TARGET_MS} ms: {}), peak {} MB (< {TARGET_MB} MB: {})",
            r.nodes,
            r.median_ms,
            if time_ok { "met" } else { "MISSED" },
            fmt_mb(r.peak_mb),
            if mem_ok { "met" } else { "MISSED" },
        );
        ok = time_ok && mem_ok;
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
