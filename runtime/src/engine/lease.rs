//! How a [`super::Run`] holds its lease: renewed before a commit once a third
//! of its time to live has passed (so a run taking steps keeps it without a
//! timer of its own; a host whose steps can outlast the lease renews it in its
//! own loop), released when the run is closed or dropped, and marked in the
//! runtime's table of runs held by this process (a second holder in the same
//! process is refused at once, without asking the store).

use crate::store::{Lease, Store, StoreError};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The runs this process holds, by id.
pub(super) type Held = Arc<Mutex<HashSet<String>>>;

/// A run's lease and what keeps it.
pub(super) struct Hold {
    store: Arc<dyn Store>,
    lease: Lease,
    ttl: Duration,
    held: Held,
    released: bool,
    renewed: std::time::Instant,
}

impl Hold {
    /// Holds `lease`; `None` when this process already holds the run.
    pub(super) fn new(store: Arc<dyn Store>, lease: Lease, ttl: Duration, held: Held) -> Option<Hold> {
        let fresh = Hold::claim(&held, &lease.run_id);
        fresh.then(|| Hold::claimed(store, lease, ttl, held))
    }

    /// Marks a run as held by this process: `false` when it already is.
    pub(super) fn claim(held: &Held, run_id: &str) -> bool {
        held.lock().is_ok_and(|mut h| h.insert(run_id.to_string()))
    }

    /// Unmarks a run claimed with [`Hold::claim`] that was not taken after all.
    pub(super) fn unclaim(held: &Held, run_id: &str) {
        if let Ok(mut h) = held.lock() {
            h.remove(run_id);
        }
    }

    /// Wraps a lease for a run already claimed with [`Hold::claim`].
    pub(super) fn claimed(store: Arc<dyn Store>, lease: Lease, ttl: Duration, held: Held) -> Hold {
        Hold {
            store,
            lease,
            ttl,
            held,
            released: false,
            renewed: std::time::Instant::now(),
        }
    }

    /// The lease.
    pub(super) fn lease(&self) -> &Lease {
        &self.lease
    }

    /// Renews the lease when a third of its time to live has passed since it
    /// was taken or last renewed; a lease another holder has taken is a conflict.
    pub(super) async fn keep(&mut self) -> Result<(), StoreError> {
        if self.renewed.elapsed() < self.ttl / 3 {
            return Ok(());
        }
        self.lease = self.store.renew(&self.lease, self.ttl).await?;
        self.renewed = std::time::Instant::now();
        Ok(())
    }

    /// Releases the lease now.
    pub(super) async fn release(&mut self) -> Result<(), StoreError> {
        if self.released {
            return Ok(());
        }
        self.released = true;
        self.unmark();
        self.store.release(&self.lease).await
    }

    fn unmark(&self) {
        Hold::unclaim(&self.held, &self.lease.run_id);
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        self.unmark();
        let (store, lease) = (Arc::clone(&self.store), self.lease.clone());
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    let _ = store.release(&lease).await;
                });
            }
            // Dropped outside any runtime (after a host's `block_on`): release
            // on a runtime of its own, so the run is free at once.
            Err(_) => {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    let _ = rt.block_on(store.release(&lease));
                }
            }
        }
    }
}
