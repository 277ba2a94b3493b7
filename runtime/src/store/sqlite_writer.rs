//! The SQLite store's one writer: a thread that owns the write connection and
//! commits in groups. Every write (a step's commit, a lease, a post) is a job;
//! the thread takes all jobs waiting, runs each inside its own savepoint (a
//! refused job is rolled back alone) and commits them in one transaction.
//! Only after that commit does any job's caller hear its result, so nothing
//! is shown before it is durable. Under load this turns a thousand small
//! transactions into a few large ones; alone, a job waits for no one.

use super::StoreError;
use rusqlite::Connection;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::{Duration, Instant};

/// What a job tells its caller once the group it ran in has committed (or not).
pub(super) type Reply = Box<dyn FnOnce(Option<StoreError>) + Send>;
/// A job: runs on the write connection inside a savepoint (or is told why the
/// group's transaction could not begin); `false` rolls it back.
pub(super) type Job = Box<dyn FnOnce(Result<&Connection, &StoreError>) -> (bool, Reply) + Send>;

/// The most jobs committed in one transaction.
const GROUP: usize = 512;
/// How long the writer looks for the next job before it sleeps: a run taking
/// steps back to back sends its next commit within this time, and finds the
/// writer awake.
const LINGER: Duration = Duration::from_micros(200);

/// A handle on the writer thread. Dropping it lets the thread finish the
/// jobs queued and close the connection (merging the WAL into the database),
/// and waits for that, so a process that exits after closing its store leaves
/// the file whole.
pub(super) struct Writer {
    jobs: Option<Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Writer {
    /// Starts the writer thread over `conn`.
    pub(super) fn start(conn: Connection) -> Result<Writer, StoreError> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("flow-sqlite-writer".into())
            .spawn(move || write_loop(conn, queue))
            .map_err(|e| StoreError::io(format!("cannot start the store's writer: {e}")))?;
        Ok(Writer {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `work` on the write connection and waits for its group to commit.
    pub(super) async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.enqueue(work).await
    }

    /// Queues `work` now (jobs run in the order they are queued) and returns
    /// what resolves when its group has committed.
    pub(super) fn enqueue<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> impl std::future::Future<Output = Result<T, StoreError>> + Send + 'static {
        let (tell, told) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let out = conn.map_err(StoreError::clone).and_then(work);
            let ok = out.is_ok();
            let reply: Reply = Box::new(move |failed| {
                let _ = tell.send(match failed {
                    Some(e) => Err(e),
                    None => out,
                });
            });
            (ok, reply)
        });
        let sent = self
            .jobs
            .as_ref()
            .ok_or(())
            .and_then(|jobs| jobs.send(job).map_err(|_| ()))
            .map_err(|()| StoreError::io("the store's writer has stopped"));
        async move {
            sent?;
            told.await
                .map_err(|_| StoreError::io("the store's writer stopped before answering"))?
        }
    }
}

fn write_loop(conn: Connection, queue: Receiver<Job>) {
    let mut group: Vec<Job> = Vec::with_capacity(GROUP);
    let mut since_checkpoint = 0usize;
    loop {
        // The WAL is merged into the database when the writer is about to
        // sleep (nothing came while it lingered), or after many groups under
        // constant load; never inside a commit a run waits for.
        if since_checkpoint >= CHECKPOINT_EVERY {
            checkpoint(&conn);
            since_checkpoint = 0;
        }
        let job = match linger(&queue) {
            Some(job) => job,
            None => {
                if since_checkpoint > 0 {
                    checkpoint(&conn);
                    since_checkpoint = 0;
                }
                match wait(&queue) {
                    Some(job) => job,
                    None => return,
                }
            }
        };
        group.push(job);
        while group.len() < GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        run_group(&conn, group.drain(..));
        since_checkpoint += 1;
    }
}

/// Groups committed between two merges of the WAL at the most.
const CHECKPOINT_EVERY: usize = 1000;

fn checkpoint(conn: &Connection) {
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
}

/// The next job if one comes within [`LINGER`], looked for without sleeping.
fn linger(queue: &Receiver<Job>) -> Option<Job> {
    let start = Instant::now();
    while start.elapsed() < LINGER {
        match queue.try_recv() {
            Ok(job) => return Some(job),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => std::hint::spin_loop(),
        }
    }
    None
}

/// The next job, waited for; `None` once every handle has gone.
fn wait(queue: &Receiver<Job>) -> Option<Job> {
    loop {
        match queue.recv_timeout(Duration::from_secs(3600)) {
            Ok(job) => return Some(job),
            Err(RecvTimeoutError::Disconnected) => return None,
            Err(RecvTimeoutError::Timeout) => continue,
        }
    }
}

fn run_group(conn: &Connection, jobs: impl Iterator<Item = Job>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let failed = StoreError::io(format!("cannot begin a transaction: {e}"));
        for job in jobs {
            let (_, reply) = job(Err(&failed));
            reply(None);
        }
        return;
    }
    let mut replies = Vec::new();
    let run = |sql: &str| conn.prepare_cached(sql).and_then(|mut s| s.execute([])).is_ok();
    for job in jobs {
        let saved = run("SAVEPOINT job");
        let (ok, reply) = job(Ok(conn));
        if saved {
            if !ok {
                run("ROLLBACK TO job");
            }
            run("RELEASE job");
        }
        replies.push(reply);
    }
    let failed = conn
        .execute_batch("COMMIT")
        .err()
        .map(|e| StoreError::io(format!("cannot commit: {e}")));
    if failed.is_some() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for reply in replies {
        reply(failed.clone());
    }
}
