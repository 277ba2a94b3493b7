//! The HTTP client webhooks are sent with (SERVER.md "Webhooks"): no
//! redirects followed (a 3xx is the answer), no proxy, one time-out for the
//! whole answer (15 s, `FLOW_WEBHOOK_TIMEOUT` seconds replacing it), and a
//! resolver that drops every address the [`AddressPolicy`] refuses, so a DNS
//! answer cannot lead a webhook to a private address. IP literal urls skip
//! resolvers: [`AddressPolicy::check_before_send`] covers them.

use super::address::{AddressError, AddressPolicy};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// The time-out of one attempt, connection to the end of the answer's body.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// The variable that replaces [`DEFAULT_TIMEOUT`] (seconds), for tests.
pub const TIMEOUT_VARIABLE: &str = "FLOW_WEBHOOK_TIMEOUT";

/// The time-out from `FLOW_WEBHOOK_TIMEOUT`'s value: None or empty is 15 s;
/// else a positive number of seconds (`0.5` allowed). An error names the
/// variable.
pub fn timeout_from(value: Option<&str>) -> Result<Duration, String> {
    let Some(text) = value.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(DEFAULT_TIMEOUT);
    };
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            format!("{TIMEOUT_VARIABLE}={text:?} is not a number of seconds between 0 and 86400, like 15 or 0.5")
        })
}

/// A future resolving a host name to its addresses.
pub type LookupFuture = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// A name resolver: the system's by default, another in tests.
pub type Lookup = Arc<dyn Fn(&str) -> LookupFuture + Send + Sync>;

/// The system resolver (`getaddrinfo`, through tokio).
pub fn system_lookup() -> Lookup {
    Arc::new(|host: &str| {
        let host = host.to_string();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    })
}

/// A resolver that keeps only the addresses the policy allows, and fails
/// when none is left ([`AddressError::Resolved`]).
#[derive(Clone)]
pub struct GuardedResolver {
    policy: Arc<AddressPolicy>,
    lookup: Lookup,
}

impl GuardedResolver {
    /// The guard over the system resolver.
    pub fn new(policy: Arc<AddressPolicy>) -> GuardedResolver {
        GuardedResolver {
            policy,
            lookup: system_lookup(),
        }
    }

    /// The guard over another resolver (tests).
    pub fn with_lookup(policy: Arc<AddressPolicy>, lookup: Lookup) -> GuardedResolver {
        GuardedResolver { policy, lookup }
    }

    /// The addresses of `host` the policy allows, in the resolver's order.
    pub async fn allowed_addresses(&self, host: &str) -> Result<Vec<IpAddr>, AddressError> {
        let found = (self.lookup)(host).await.map_err(|e| AddressError::Lookup {
            host: host.to_string(),
            reason: e.to_string(),
        })?;
        let Some(first) = found.first().copied() else {
            return Err(AddressError::NoAddress(host.to_string()));
        };
        let allowed: Vec<IpAddr> = found.into_iter().filter(|ip| self.policy.allowed(*ip)).collect();
        if allowed.is_empty() {
            let block = self.policy.refusal(first);
            return Err(match block {
                Some(block) => AddressError::Resolved {
                    host: host.to_string(),
                    address: first,
                    block,
                },
                None => AddressError::NoAddress(host.to_string()),
            });
        }
        Ok(allowed)
    }
}

impl std::fmt::Debug for GuardedResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedResolver")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.clone();
        Box::pin(async move {
            let allowed = guard.allowed_addresses(name.as_str()).await?;
            // Port 0: the client puts the url's port (or the scheme's) in.
            let addrs: Addrs = Box::new(allowed.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The client for webhook deliveries under `policy`: no redirects, no
/// proxy, `timeout` for the whole answer, names resolved through the guard.
pub fn client(policy: Arc<AddressPolicy>, timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    client_with(GuardedResolver::new(policy), timeout)
}

/// [`client`] with a given guard (tests give it another resolver).
pub fn client_with(resolver: GuardedResolver, timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .dns_resolver(Arc::new(resolver))
        .user_agent(concat!("flow-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The policy's refusal behind a failed send, when that is why it failed
/// (the guard's error travels in the client error's sources).
pub fn refusal(error: &reqwest::Error) -> Option<&AddressError> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<AddressError>() {
            return Some(refused);
        }
        source = e.source();
    }
    None
}

#[cfg(test)]
mod tests;
