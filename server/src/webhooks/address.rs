//! Which urls a webhook may reach (SERVER.md "Webhooks" and "Secrets and
//! addresses"): `http` or `https`, no credentials, and no address that is
//! not globally reachable ([`ranges`](super::ranges)) unless the server was
//! started with `--allow-private-webhooks[=CIDR,...]`. An IP literal or
//! `localhost` is judged when the webhook is created and again before each
//! send; a name is judged on every connection, by the resolver of
//! [`connect`](super::connect).

use super::ranges::{Block, refused_block};
use ipnet::IpNet;
use reqwest::Url;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The flag that loosens the policy, as errors name it.
pub const FLAG: &str = "--allow-private-webhooks";

/// What `--allow-private-webhooks` allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allow: Allow,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Allow {
    /// Globally reachable addresses only (no flag).
    #[default]
    GlobalOnly,
    /// Every address (the flag without a list, or `*`).
    All,
    /// Globally reachable addresses and these blocks.
    Listed(Vec<IpNet>),
}

impl AddressPolicy {
    /// The policy without the flag: globally reachable addresses only.
    pub fn global_only() -> AddressPolicy {
        AddressPolicy {
            allow: Allow::GlobalOnly,
        }
    }

    /// The policy of the flag without a list: every address.
    pub fn allow_all() -> AddressPolicy {
        AddressPolicy { allow: Allow::All }
    }

    /// The policy from the flag's value: None (no flag) refuses every address
    /// that is not globally reachable; an empty value or `*` allows all; a
    /// comma-separated list of CIDRs (or single addresses) allows those on
    /// top of the global ones. An error names the entry that is not a block.
    pub fn parse(flag_value: Option<&str>) -> Result<AddressPolicy, String> {
        let Some(value) = flag_value.map(str::trim) else {
            return Ok(AddressPolicy::global_only());
        };
        if value.is_empty() || value == "*" {
            return Ok(AddressPolicy::allow_all());
        }
        let mut nets = Vec::new();
        for (i, entry) in value.split(',').map(str::trim).enumerate() {
            let net = entry
                .parse::<IpNet>()
                .map(|n| n.trunc())
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!(
                        "{FLAG}: entry {} ({entry:?}) is not an address block like 127.0.0.0/8 or fd00::/8 \
                         (give `*` alone, or no value, to allow every address)",
                        i + 1
                    )
                })?;
            nets.push(net);
        }
        Ok(AddressPolicy {
            allow: Allow::Listed(nets),
        })
    }

    /// Why `ip` may not be reached, or None when it may: the block of
    /// [`ranges`](super::ranges) it falls in, unless the flag allowed it.
    pub fn refusal(&self, ip: IpAddr) -> Option<&'static Block> {
        let block = refused_block(ip)?;
        match &self.allow {
            Allow::GlobalOnly => Some(block),
            Allow::All => None,
            Allow::Listed(nets) => {
                let canonical = ip.to_canonical();
                let listed = nets.iter().any(|n| n.contains(&ip) || n.contains(&canonical));
                if listed { None } else { Some(block) }
            }
        }
    }

    /// Whether a webhook may connect to `ip`.
    pub fn allowed(&self, ip: IpAddr) -> bool {
        self.refusal(ip).is_none()
    }

    /// Checks a webhook url when it is created or changed: a well-formed
    /// `http` or `https` url with a host and no user name or password, whose
    /// host, when it is an IP literal or `localhost`, the policy allows.
    pub fn check_url(&self, url: &str) -> Result<CheckedUrl, AddressError> {
        let url = Url::parse(url.trim()).map_err(|e| AddressError::Malformed(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(AddressError::Scheme(url.scheme().to_string()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(AddressError::Credentials);
        }
        let host = match url.host() {
            None => return Err(AddressError::NoHost),
            Some(url::Host::Ipv4(ip)) => Host::Ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Host::Ip(IpAddr::V6(ip)),
            Some(url::Host::Domain(name)) => Host::Name(name.to_string()),
        };
        match &host {
            Host::Ip(ip) => {
                if let Some(block) = self.refusal(*ip) {
                    return Err(AddressError::Refused {
                        host: ip.to_string(),
                        block,
                    });
                }
            }
            Host::Name(name) if is_localhost(name) => {
                let v4 = self.refusal(IpAddr::V4(Ipv4Addr::LOCALHOST));
                let v6 = self.refusal(IpAddr::V6(Ipv6Addr::LOCALHOST));
                if let (Some(block), Some(_)) = (v4, v6) {
                    return Err(AddressError::Refused {
                        host: name.clone(),
                        block,
                    });
                }
            }
            Host::Name(_) => {}
        }
        Ok(CheckedUrl { url, host })
    }

    /// The check to make before every send: with an IP literal url the HTTP
    /// client calls no resolver, so the connection-time guard would not see
    /// the address; this sees it (and refuses what [`Self::check_url`] does).
    pub fn check_before_send(&self, url: &str) -> Result<(), AddressError> {
        self.check_url(url).map(|_| ())
    }
}

/// `localhost`, `LocalHost.` or a name under it (RFC 6761: all loopback).
fn is_localhost(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// A url that passed [`AddressPolicy::check_url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedUrl {
    url: Url,
    host: Host,
}

/// A checked url's host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// An IP literal (judged already).
    Ip(IpAddr),
    /// A name, judged on every connection.
    Name(String),
}

impl CheckedUrl {
    /// The url, normalised (lower-case scheme and host, punycode).
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// The parsed url.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Its host.
    pub fn host(&self) -> &Host {
        &self.host
    }
}

/// Why a webhook url, or an address it resolved to, is refused. The texts
/// name the host, never the url's path, query or credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    /// Not a url (the parser's reason).
    Malformed(String),
    /// A scheme other than http and https.
    Scheme(String),
    /// A user name or password in the url.
    Credentials,
    /// No host.
    NoHost,
    /// An IP literal or `localhost` the policy refuses.
    Refused {
        /// The host as written (normalised).
        host: String,
        /// The block it falls in.
        block: &'static Block,
    },
    /// A name that resolved only to refused addresses (at connection time).
    Resolved {
        /// The name.
        host: String,
        /// The first refused address, and its block.
        address: IpAddr,
        /// The block of that address.
        block: &'static Block,
    },
    /// A name that resolved to no address at all.
    NoAddress(String),
    /// The system resolver failed for the name (its reason).
    Lookup {
        /// The name.
        host: String,
        /// The resolver's message.
        reason: String,
    },
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unless = format!("refused unless the server runs with {FLAG}");
        match self {
            AddressError::Malformed(reason) => write!(f, "the webhook url is not a url: {reason}"),
            AddressError::Scheme(scheme) => write!(
                f,
                "the webhook url's scheme is {scheme:?}: only http and https are sent to"
            ),
            AddressError::Credentials => write!(
                f,
                "the webhook url carries a user name or password, which is not allowed"
            ),
            AddressError::NoHost => write!(f, "the webhook url has no host"),
            AddressError::Refused { host, block } => {
                write!(
                    f,
                    "the webhook url's host {host} is not globally reachable: {} ({}, {}); {unless}",
                    block.name, block.net, block.source
                )
            }
            AddressError::Resolved { host, address, block } => write!(
                f,
                "the webhook host {host} resolves only to addresses that are not globally reachable ({address}: {}, {}, {}); {unless}",
                block.name, block.net, block.source
            ),
            AddressError::NoAddress(host) => write!(f, "the webhook host {host} resolves to no address"),
            AddressError::Lookup { host, reason } => {
                write!(f, "the webhook host {host} could not be resolved: {reason}")
            }
        }
    }
}

impl std::error::Error for AddressError {}

#[cfg(test)]
mod tests;
