//! The harness of the end-to-end tests of `flow serve` (tests/serve_*.rs):
//! the real `flow` binary started on 127.0.0.1:0 over a store in a fresh
//! folder, keys made with `flow keys create`, requests over real HTTP
//! (reqwest), a scripted OpenAI-compatible model on 127.0.0.1 ([`model`]),
//! Server-Sent Events read as they come ([`sse`]), and polling with a
//! deadline instead of sleeps.

// Each test binary compiles this module on its own and uses only part of it
// (of its re-exports too).
#![allow(dead_code, unused_imports)]

mod http;
pub mod model;
pub mod sse;

pub use http::{Reply, items, of_type, texts, time};
pub use model::Model;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// How long the server may take to print `listening on`.
const START: Duration = Duration::from_secs(15);

/// A fresh, empty folder for one test's store.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flow-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test's folder");
    dir
}

/// A test workflow of tests/serve/ with its placeholders replaced.
pub fn source(file: &str, replace: &[(&str, &str)]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/serve").join(file);
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    text
}

/// The `flow` binary with the environment the tests control (nothing of the
/// caller's store, clock or provider settings leaks in).
pub fn flow_command(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flow"));
    command
        .current_dir(dir)
        .env_remove("FLOW_STORE")
        .env_remove("FLOW_CLOCK")
        .env_remove("FLOW_LOG")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("ANTHROPIC_BASE_URL")
        .env("OPENAI_API_KEY", "sk-serve-test-0000")
        .env("FLOW_RETRY_BASE_MS", "1")
        .env("FLOW_RETRY_MAX_MS", "2")
        .env("FLOW_MODEL_RETRIES", "0");
    command
}

/// Runs a command of [`flow_command`]'s to its end (killed after `limit`):
/// its exit code and stderr.
pub fn run_to_exit(mut command: Command, limit: Duration) -> (Option<i32>, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start flow");
    let stderr = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let status = wait_for_exit(&mut child, limit);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let text = reader.join().unwrap_or_default();
    (status.and_then(|s| s.code()), text)
}

fn wait_for_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `check` every 50 ms until it gives a value; panics naming `what` after `limit`.
pub async fn until<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A running `flow serve` over its own store, killed when dropped.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The folder of the store.
    pub dir: PathBuf,
    /// The store's path.
    pub store: PathBuf,
    /// When the last start printed `listening on`.
    pub listening_at: Instant,
    args: Vec<String>,
    env: Vec<(String, String)>,
    log: Arc<Mutex<String>>,
    /// The HTTP client.
    pub http: reqwest::Client,
}

impl Server {
    /// `flow serve` on 127.0.0.1:0 over a fresh store, its model at `model`.
    pub async fn start(name: &str, model: &Model) -> Server {
        Server::start_with(name, model, &[], &[]).await
    }

    /// Same, with more flags and environment variables.
    pub async fn start_with(name: &str, model: &Model, args: &[&str], env: &[(&str, &str)]) -> Server {
        let dir = temp_dir(name);
        let store = dir.join("runs.sqlite");
        let mut env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        env.push(("OPENAI_BASE_URL".into(), model.base()));
        let mut server = Server {
            child: None,
            base: String::new(),
            dir,
            store,
            listening_at: Instant::now(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env,
            log: Arc::default(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("an HTTP client"),
        };
        server.launch();
        server
    }

    /// Starts the process (again) and waits for `listening on http://ADDR`.
    fn launch(&mut self) {
        let mut command = flow_command(&self.dir);
        command
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--store")
            .arg(&self.store)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start flow serve");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = mpsc::channel::<String>();
        let log = Arc::clone(&self.log);
        // Drains stderr for the whole life of the process, so the pipe never fills.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(addr.trim().to_string());
                }
                if let Ok(mut log) = log.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        match rx.recv_timeout(START) {
            Ok(addr) => {
                self.base = format!("http://{addr}");
                self.listening_at = Instant::now();
                self.child = Some(child);
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "flow serve did not print `listening on` ({e}); its stderr:\n{}",
                    self.log()
                );
            }
        }
    }

    /// Everything the server printed on stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("the server runs")
    }

    /// SIGTERM, then waits for the exit (at most 15 s); its status.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = self.pid().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        self.wait_exit(Duration::from_secs(15))
    }

    /// Waits for the process to exit by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("the server runs");
        match wait_for_exit(&mut child, limit) {
            Some(status) => status,
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("flow serve did not exit within {limit:?}; its stderr:\n{}", self.log());
            }
        }
    }

    /// SIGKILL: nothing is finished or released.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("the server runs");
        child.kill().expect("SIGKILL the server");
        let _ = child.wait();
    }

    /// Starts the server again on the same store (after [`Server::terminate`] or [`Server::kill`]).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "stop the server before starting it again");
        if let Ok(mut log) = self.log.lock() {
            log.push_str("---- restarted ----\n");
        }
        self.launch();
    }

    /// A new API key of `scope` (`flow keys create NAME --scope SCOPE --store ...`).
    pub async fn key(&self, name: &str, scope: &str) -> String {
        let store = self.store.to_string_lossy().to_string();
        let out = flow_command(&self.dir)
            .args(["keys", "create", name, "--scope", scope, "--store", &store])
            .output()
            .expect("run flow keys");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("unrecognized subcommand") {
            // `flow keys` is not in this build yet: make the key as it does.
            return make_key(&self.store, name, scope).await;
        }
        assert!(out.status.success(), "flow keys create failed: {stderr}");
        let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            key.starts_with("flow_") && !key.contains('\n'),
            "the key alone on stdout: {key:?}"
        );
        key
    }

    /// Revokes a key (`flow keys revoke NAME --store ...`).
    pub async fn revoke(&self, name: &str) {
        let store = self.store.to_string_lossy().to_string();
        let out = flow_command(&self.dir)
            .args(["keys", "revoke", name, "--store", &store])
            .output()
            .expect("run flow keys");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("unrecognized subcommand") {
            use flow_server::catalog::{Catalog, SqliteCatalog};
            let catalog = SqliteCatalog::open(&self.store, false).expect("open the catalog");
            assert!(catalog.revoke_key(name).await.expect("revoke the key"), "no key {name}");
            return;
        }
        assert!(out.status.success(), "flow keys revoke failed: {stderr}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("flow serve's stderr:\n{}", self.log());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Makes a key the way `flow keys create` does, for builds without that command.
async fn make_key(store: &Path, name: &str, scope: &str) -> String {
    use flow_server::catalog::{Catalog, Scope, SqliteCatalog};
    let catalog = SqliteCatalog::open(store, false).expect("open the catalog");
    let key = flow_server::keys::generate().expect("a key");
    let scope = Scope::parse(scope).expect("a scope");
    let now = jiff::Timestamp::now().to_string();
    catalog
        .create_key(name, scope, &flow_server::keys::hash(&key), &now)
        .await
        .expect("store the key");
    key
}
