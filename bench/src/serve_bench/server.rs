//! The `flow serve` process under test: started on a free port with a fresh
//! store, its memory read from `/proc`, stopped with SIGTERM.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `flow serve`.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its store (a file in a folder of its own).
    pub store: PathBuf,
}

impl Server {
    /// Starts `flow serve --no-auth` on `127.0.0.1:0` with a store in `dir`,
    /// the model and the workflow's tools at `mock`; waits for `listening on`.
    pub fn start(flow: &Path, dir: &Path, mock: SocketAddr) -> Result<Server, String> {
        let store = dir.join("runs.sqlite");
        let mut child = Command::new(flow)
            .args(["serve", "--listen", "127.0.0.1:0", "--no-auth", "--store"])
            .arg(&store)
            .env("OPENAI_BASE_URL", format!("http://{mock}/v1"))
            .env("OPENAI_API_KEY", "bench")
            // The fallback models connect at start; never called here.
            .env("ANTHROPIC_BASE_URL", format!("http://{mock}"))
            .env("ANTHROPIC_API_KEY", "bench")
            .env("COMMERCE_API_KEY", "bench-commerce-key")
            .env("CARRIER_TOKEN", "bench-carrier-token")
            .env_remove("FLOW_CLOCK")
            .env_remove("FLOW_STORE")
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot run {}: {e} (build it: cargo build --release -p flow)",
                    flow.display()
                )
            })?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, rx) = mpsc::channel();
        // Reads the log to its end, so the server never blocks on a full pipe;
        // the first warnings and errors are shown.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            let mut shown = 0;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("listening on http://") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(address.to_string());
                    }
                } else if line.contains("\"WARN\"") || line.contains("\"ERROR\"") || line.starts_with("error") {
                    shown += 1;
                    if shown <= 5 {
                        eprintln!("flow serve: {line}");
                    }
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(address) => Ok(Server {
                child,
                base: format!("http://{address}"),
                store,
            }),
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                Err(format!(
                    "flow serve did not print `listening on` within 30 s ({status})"
                ))
            }
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now, in KiB (`VmRSS`).
    pub fn rss_kib(&self) -> Option<u64> {
        status_field(self.pid(), "VmRSS:")
    }

    /// Peak resident memory, in KiB (`VmHWM`).
    pub fn peak_kib(&self) -> Option<u64> {
        status_field(self.pid(), "VmHWM:")
    }

    /// CPU time used so far (user + system), from `/proc/PID/stat`.
    pub fn cpu(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).ok()?;
        // The fields after the command name (which is in parentheses).
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        // SAFETY: sysconf has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (per_second > 0).then(|| Duration::from_secs_f64(ticks as f64 / per_second as f64))
    }

    /// The size of the store's files (database and WAL), in bytes.
    pub fn store_bytes(&self) -> u64 {
        let mut total = 0;
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.store.clone().into_os_string();
            path.push(suffix);
            total += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        }
        total
    }

    /// SIGTERM, then waits (at most 20 s) for it to exit; its exit status.
    pub fn stop(mut self) -> String {
        let Ok(pid) = i32::try_from(self.child.id()) else {
            return "unknown".into();
        };
        // SAFETY: signals our own child, which has not been waited for yet.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        for _ in 0..200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.to_string();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        "killed after 20 s".into()
    }
}

fn status_field(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Raises this process's open-file limit to its hard limit (children inherit
/// it); the soft limit afterwards.
pub fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for the call to fill and read.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < limit.rlim_max {
            let wanted = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) == 0 {
                limit = wanted;
            }
        }
    }
    limit.rlim_cur
}
