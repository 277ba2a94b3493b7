//! A workflow's `max_concurrent_runs` for runs started through the API
//! (SERVER.md "Schedules and hooks": API starts beyond it are 429). A run is
//! in the store only once its first turn has committed, so the runs this
//! server is starting are counted here until then; checks are taken one at a
//! time, so two starts at once cannot both take the last place.

use crate::problem::{ApiError, ApiResult, Code};
use crate::routes::workflows::UNFINISHED;
use flow_runtime::store::{RunMode, RunQuery, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Runs being started, by workflow.
type Starting = Arc<Mutex<HashMap<String, usize>>>;

/// The admissions of the server.
#[derive(Default)]
pub struct Admissions {
    /// Held while one start is checked against its workflow's cap.
    check: tokio::sync::Mutex<()>,
    starting: Starting,
}

/// A place under a workflow's cap, held until the run's first turn has
/// committed (the run then counts in the store).
#[derive(Debug)]
pub struct Admitted {
    starting: Starting,
    workflow: String,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut starting = self.starting.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = starting.get_mut(&self.workflow) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                starting.remove(&self.workflow);
            }
        }
    }
}

impl Admissions {
    /// A place for one more live run of `workflow` under `cap`, counting its
    /// unfinished live runs in `store` and those being started; 429 (with
    /// `Retry-After`) when there is none.
    pub async fn admit(&self, store: &dyn Store, workflow: &str, cap: u32) -> ApiResult<Admitted> {
        let _one_at_a_time = self.check.lock().await;
        let unfinished = store
            .query(&RunQuery {
                workflow: Some(workflow.to_string()),
                statuses: UNFINISHED.to_vec(),
                mode: Some(RunMode::Live),
                limit: cap as usize,
                ..RunQuery::default()
            })
            .await?
            .len();
        let mut starting = self.starting.lock().unwrap_or_else(PoisonError::into_inner);
        let being_started = starting.get(workflow).copied().unwrap_or(0);
        if unfinished + being_started >= cap as usize {
            return Err(ApiError::new(
                Code::RateLimited,
                format!("workflow `{workflow}` has {cap} unfinished live runs, its `max_concurrent_runs`"),
            )
            .retry_after(5));
        }
        *starting.entry(workflow.to_string()).or_insert(0) += 1;
        Ok(Admitted {
            starting: Arc::clone(&self.starting),
            workflow: workflow.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flow_runtime::store::MemoryStore;

    #[tokio::test]
    async fn places_are_held_until_dropped() {
        let admissions = Admissions::default();
        let store = MemoryStore::new();
        let first = admissions.admit(&store, "chat", 2).await.unwrap();
        let second = admissions.admit(&store, "chat", 2).await.unwrap();
        let refused = admissions.admit(&store, "chat", 2).await.unwrap_err();
        assert_eq!((refused.code, refused.retry_after), (Code::RateLimited, Some(5)));
        assert!(
            admissions.admit(&store, "other", 1).await.is_ok(),
            "caps are per workflow"
        );
        drop(first);
        let third = admissions.admit(&store, "chat", 2).await.unwrap();
        drop((second, third));
        assert!(admissions.starting.lock().unwrap().is_empty());
    }
}
