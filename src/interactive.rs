//! User messages from stdin, and Ctrl-C.
//!
//! Stdin is read one line at a time, only when the run asks for a message, on
//! a thread of its own, so that Ctrl-C can be handled while the run waits:
//!
//! - Ctrl-C while the run waits for the user: a line already entered is still
//!   sent (and answered); then the run is checkpointed as at the end of stdin,
//!   the command prints the run id and how to resume, and exits 130. A line
//!   only partly typed is not sent.
//! - Ctrl-C while a model or tool call is in flight: the command exits 130 at
//!   once; the store keeps the last committed step (a step is one transaction),
//!   so `flow resume` goes on from there.
//! - A second Ctrl-C exits at once.

use crate::spinner::Spinner;
use crate::terminal::{Palette, Role};
use flow_runtime::{Inbox, Incoming};
use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Exit status 130: interrupted by Ctrl-C (128 + SIGINT).
pub const EXIT_INTERRUPTED: u8 = 130;

enum Input {
    Line(String),
    End,
    Interrupt,
}

#[derive(Default)]
struct Shared {
    at_prompt: AtomicBool,
    interrupted: AtomicBool,
    run_id: Mutex<Option<String>>,
    /// The last line sent, while the run works on it (said again if Ctrl-C stops it).
    unanswered: Mutex<Option<String>>,
}

/// The run's stdin and its Ctrl-C handling.
pub struct Console {
    shared: Arc<Shared>,
    tx: Sender<Input>,
    rx: Receiver<Input>,
    requests: Option<Sender<()>>,
    pending: bool,
    ended: bool,
    interactive: bool,
    palette: Palette,
    spinner: Option<Spinner>,
}

impl Console {
    /// Starts listening for Ctrl-C; `spinner` is erased before anything is printed.
    pub fn new(spinner: Option<Spinner>) -> Console {
        let (tx, rx) = channel();
        let console = Console {
            shared: Arc::default(),
            tx,
            rx,
            requests: None,
            pending: false,
            ended: false,
            interactive: std::io::stdin().is_terminal(),
            palette: Palette::stderr(),
            spinner,
        };
        console.watch_interrupts();
        console
    }

    /// The run's id, for the message printed when Ctrl-C stops a call: set
    /// now for a stored run, else once its first step is committed.
    pub fn track(&self, run: &mut flow_runtime::Run, stored: bool) {
        let shared = Arc::clone(&self.shared);
        if stored {
            shared.set_run(run.id());
        } else {
            run.on_event(move |event| shared.set_run(&event.run_id));
        }
    }

    /// Whether Ctrl-C was pressed.
    pub fn interrupted(&self) -> bool {
        self.shared.interrupted.load(Ordering::SeqCst)
    }

    fn watch_interrupts(&self) {
        let shared = Arc::clone(&self.shared);
        let tx = self.tx.clone();
        let spinner = self.spinner.clone();
        let (ready_tx, ready_rx) = channel();
        let spawned = std::thread::Builder::new().name("ctrl-c".into()).spawn(move || {
            let Ok(tokio) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                let _ = ready_tx.send(());
                return;
            };
            tokio.block_on(async move {
                let mut signals = interrupts();
                let _ = ready_tx.send(());
                while next_interrupt(&mut signals).await {
                    if shared.interrupted.swap(true, Ordering::SeqCst) {
                        std::process::exit(i32::from(EXIT_INTERRUPTED));
                    }
                    if shared.at_prompt.load(Ordering::SeqCst) {
                        let _ = tx.send(Input::Interrupt);
                        continue;
                    }
                    if let Some(s) = &spinner {
                        s.erase();
                    }
                    stop_now(&shared);
                }
            });
        });
        if spawned.is_ok() {
            let _ = ready_rx.recv_timeout(Duration::from_secs(2));
        }
    }

    fn request_line(&mut self) {
        if self.pending {
            return;
        }
        if self.requests.is_none() {
            let (req_tx, req_rx) = channel::<()>();
            let tx = self.tx.clone();
            let spawned = std::thread::Builder::new().name("stdin".into()).spawn(move || {
                let stdin = std::io::stdin();
                while req_rx.recv().is_ok() {
                    let mut line = String::new();
                    match stdin.lock().read_line(&mut line) {
                        Ok(0) | Err(_) => {
                            let _ = tx.send(Input::End);
                            return;
                        }
                        Ok(_) => {
                            let text = line.trim_end_matches(['\n', '\r']).to_string();
                            if tx.send(Input::Line(text)).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
            if spawned.is_err() {
                let _ = self.tx.send(Input::End);
                return;
            }
            self.requests = Some(req_tx);
        }
        if let Some(requests) = &self.requests
            && requests.send(()).is_ok()
        {
            self.pending = true;
        }
    }

    fn prompt(&self) {
        if self.interactive {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "{}", self.palette.paint(Role::User, "> "));
            let _ = err.flush();
        }
    }

    fn sent(&self, text: String) -> Incoming {
        if let Ok(mut last) = self.shared.unanswered.lock() {
            *last = Some(text.clone());
        }
        Incoming::Message(text)
    }
}

impl Console {
    /// The next non-blank line, waiting at most until `until` (forever with
    /// `None`). A line still being typed when the time passes stays requested,
    /// so it is the answer of the next wait.
    fn next_line(&mut self, until: Option<Instant>) -> Incoming {
        if let Ok(mut last) = self.shared.unanswered.lock() {
            *last = None;
        }
        if self.ended || self.interrupted() {
            return Incoming::Closed;
        }
        loop {
            self.prompt();
            self.request_line();
            self.shared.at_prompt.store(true, Ordering::SeqCst);
            let got = match until {
                Some(until) => self.rx.recv_timeout(until.saturating_duration_since(Instant::now())),
                None => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            self.shared.at_prompt.store(false, Ordering::SeqCst);
            match got {
                Ok(Input::Line(text)) => {
                    self.pending = false;
                    if !text.trim().is_empty() {
                        return self.sent(text);
                    }
                }
                Ok(Input::Interrupt) => {
                    // A line entered just before Ctrl-C is still on its way.
                    if let Ok(Input::Line(text)) = self.rx.recv_timeout(Duration::from_millis(50)) {
                        self.pending = false;
                        if !text.trim().is_empty() {
                            return self.sent(text);
                        }
                    }
                    if self.interactive {
                        eprintln!();
                    }
                    return Incoming::Closed;
                }
                Err(RecvTimeoutError::Timeout) => {
                    if self.interactive {
                        eprintln!();
                    }
                    return Incoming::TimedOut;
                }
                Ok(Input::End) | Err(RecvTimeoutError::Disconnected) => {
                    self.ended = true;
                    return Incoming::Closed;
                }
            }
        }
    }
}

impl Inbox for Console {
    fn next_message(&mut self) -> Option<String> {
        match self.next_line(None) {
            Incoming::Message(text) => Some(text),
            _ => None,
        }
    }

    fn next_message_within(&mut self, limit: Duration) -> Incoming {
        self.next_line(Some(Instant::now() + limit))
    }
}

impl Shared {
    fn set_run(&self, run_id: &str) {
        if let Ok(mut id) = self.run_id.lock()
            && id.is_none()
        {
            *id = Some(run_id.to_string());
        }
    }
}

/// Ctrl-C while a call is in flight: say where the run stands and exit 130.
fn stop_now(shared: &Shared) -> ! {
    let palette = Palette::stderr();
    let id = shared.run_id.lock().ok().and_then(|id| id.clone());
    let unanswered = shared.unanswered.lock().ok().and_then(|u| u.clone());
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err);
    if let Some(text) = unanswered {
        let note = format!(
            "interrupted: your last message was not answered: {}",
            crate::terminal::escape(&text)
        );
        let _ = writeln!(err, "{}", palette.paint(Role::Pause, &note));
    }
    match id {
        Some(id) => {
            let note = format!("interrupted: run {id} stays at its last checkpoint");
            let _ = writeln!(err, "{}", palette.paint(Role::Pause, &note));
            let _ = writeln!(
                err,
                "{}",
                palette.paint(Role::Pause, &format!("continue with: flow resume {id}"))
            );
        }
        None => {
            let note = "interrupted before the run's first step was saved: there is nothing to resume";
            let _ = writeln!(err, "{}", palette.paint(Role::Pause, note));
        }
    }
    let _ = err.flush();
    std::process::exit(i32::from(EXIT_INTERRUPTED));
}

#[cfg(unix)]
type Signals = Option<tokio::signal::unix::Signal>;

#[cfg(unix)]
fn interrupts() -> Signals {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok()
}

#[cfg(unix)]
async fn next_interrupt(signals: &mut Signals) -> bool {
    match signals {
        Some(s) => s.recv().await.is_some(),
        None => false,
    }
}

#[cfg(not(unix))]
type Signals = ();

#[cfg(not(unix))]
fn interrupts() -> Signals {}

#[cfg(not(unix))]
async fn next_interrupt(_: &mut Signals) -> bool {
    tokio::signal::ctrl_c().await.is_ok()
}
