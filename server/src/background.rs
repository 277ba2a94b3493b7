//! The server's own loops: approval and silence deadlines fired by
//! themselves, runs a crash left `running` taken up again on start, and
//! finished runs deleted after `--retain-finished` days. A scheduler and the
//! webhook deliverer join here.

use crate::app::App;
use crate::turns;
use flow_runtime::RunStatus;
use flow_runtime::store::{Delivery, RunQuery, TriggerKind};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often due timers are looked for: deadlines fire within this (and 1 s).
pub const TIMER_TICK: Duration = Duration::from_millis(200);

/// Fires every due deadline, each on its own task, until the server stops.
pub async fn timers(app: Arc<App>) {
    let firing: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut stopping = app.stopping.subscribe();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(TIMER_TICK) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
        let now = app.runtime.clock().now().as_millisecond();
        let due = match app.runtime.store().due_timers(now).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "due timers could not be read");
                continue;
            }
        };
        for timer in due {
            if !firing
                .lock()
                .map(|mut f| f.insert(timer.run_id.clone()))
                .unwrap_or(false)
            {
                continue;
            }
            let (app, firing) = (Arc::clone(&app), Arc::clone(&firing));
            app.turns.clone().spawn(async move {
                fire(&app, &timer.run_id, timer.pause).await;
                if let Ok(mut f) = firing.lock() {
                    f.remove(&timer.run_id);
                }
            });
        }
    }
}

/// One run's deadline: taken now, or posted for the turn that holds the run.
async fn fire(app: &Arc<App>, run_id: &str, pause: u64) {
    let Ok(Some(stored)) = app.runtime.store().load(run_id).await else {
        return;
    };
    let delivery = Delivery::Timeout { pause };
    match turns::deliver(app, run_id, stored.record.origin.mode, delivery.clone()).await {
        Ok(out) => tracing::info!(run = %run_id, status = out.status.as_str(), "a deadline passed"),
        Err(e) if e.code == crate::problem::Code::Conflict => {
            // Held by a turn (or another process): its holder takes it from the inbox.
            let waiting = app.runtime.store().inbox(run_id).await.unwrap_or_default();
            if !waiting.iter().any(|p| p.delivery == delivery) {
                let _ = app.runtime.post(run_id, &delivery).await;
            }
        }
        Err(e) => tracing::warn!(run = %run_id, error = %e.detail, "a deadline could not be taken"),
    }
}

/// Takes up again, from their last committed step, the runs a crash left
/// `running` (not `flow run`'s: `flow resume` takes those).
pub async fn take_up(app: Arc<App>) {
    let mut before = None;
    loop {
        let page = app
            .runtime
            .store()
            .query(&RunQuery {
                statuses: vec![RunStatus::Running],
                not_trigger: Some(TriggerKind::Cli),
                before,
                limit: 100,
                ..RunQuery::default()
            })
            .await;
        let Ok(page) = page else { return };
        let Some(last) = page.last() else { return };
        before = Some(last.position);
        for row in page {
            let id = row.record.run_id.clone();
            let app = Arc::clone(&app);
            app.turns.clone().spawn(async move {
                match turns::resume(&app, &id, row.record.origin.mode).await {
                    Ok(out) => tracing::info!(run = %id, status = out.status.as_str(), "taken up after a restart"),
                    Err(e) => tracing::warn!(run = %id, error = %e.detail, "could not be taken up after a restart"),
                }
            });
        }
    }
}

/// Deletes finished runs last changed more than `days` ago, hourly.
pub async fn retention(app: Arc<App>, days: u32) {
    let mut stopping = app.stopping.subscribe();
    loop {
        let cutoff = app.runtime.clock().now() - jiff::SignedDuration::from_hours(24 * i64::from(days));
        let mut before = None;
        let mut deleted = 0usize;
        loop {
            let page = app
                .runtime
                .store()
                .query(&RunQuery {
                    statuses: vec![RunStatus::Completed, RunStatus::Failed, RunStatus::Cancelled],
                    before,
                    limit: 200,
                    ..RunQuery::default()
                })
                .await;
            let Ok(page) = page else { break };
            let Some(last) = page.last() else { break };
            before = Some(last.position);
            for row in page {
                let old = row.state.updated.parse::<jiff::Timestamp>().is_ok_and(|t| t < cutoff);
                if old
                    && app
                        .runtime
                        .store()
                        .delete_finished(&row.record.run_id)
                        .await
                        .unwrap_or(false)
                {
                    deleted += 1;
                }
            }
        }
        if deleted > 0 {
            tracing::info!(deleted, days, "finished runs past retention deleted");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
    }
}

/// How often waiting runs are checked against their workflow's `idle_timeout`.
const IDLE_TICK: Duration = Duration::from_secs(5);

/// Cancels runs that have waited for a user longer than their workflow's
/// `idle_timeout` (SERVER.md "Schedules and hooks"), so abandoned
/// conversations do not hold `max_concurrent_runs`.
pub async fn idle(app: Arc<App>) {
    let mut stopping = app.stopping.subscribe();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(IDLE_TICK) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
        let mut after: Option<String> = None;
        loop {
            let Ok(page) = app.catalog.workflows(after.as_deref(), 200).await else {
                break;
            };
            let Some(last) = page.last() else { break };
            after = Some(last.name.clone());
            for workflow in page {
                if let Some(seconds) = workflow.idle_timeout {
                    cancel_idle(&app, &workflow.name, seconds).await;
                }
            }
        }
    }
}

async fn cancel_idle(app: &Arc<App>, workflow: &str, seconds: u64) {
    let now = app.runtime.clock().now();
    let limit = jiff::SignedDuration::from_secs(i64::try_from(seconds).unwrap_or(i64::MAX));
    let Ok(waiting) = app
        .runtime
        .store()
        .query(&RunQuery {
            workflow: Some(workflow.to_string()),
            statuses: vec![RunStatus::WaitingForUser],
            limit: 1000,
            ..RunQuery::default()
        })
        .await
    else {
        return;
    };
    for row in waiting {
        let since = row.state.updated.parse::<jiff::Timestamp>().ok();
        if since.is_some_and(|t| now.duration_since(t) > limit) {
            let delivery = Delivery::Cancel {
                by: "idle_timeout".into(),
            };
            match turns::deliver(app, &row.record.run_id, row.record.origin.mode, delivery).await {
                Ok(_) => tracing::info!(run = %row.record.run_id, "cancelled after waiting longer than idle_timeout"),
                Err(e) => tracing::debug!(run = %row.record.run_id, error = %e.detail, "idle run not cancelled now"),
            }
        }
    }
}
