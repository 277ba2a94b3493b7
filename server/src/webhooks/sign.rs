//! Standard Webhooks signatures (SERVER.md "Webhooks"): a secret is `whsec_`
//! and the base64 of 24 random bytes; a delivery carries `webhook-id`,
//! `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 of
//! HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, where `key` is the decoded
//! part of the secret after `whsec_`. Errors never show a secret or a
//! signature.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

/// What every signing secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";

/// How many random bytes a new secret holds.
pub const SECRET_BYTES: usize = 24;

/// How far (seconds) a `webhook-timestamp` may be from now: 5 minutes.
pub const TOLERANCE_S: i64 = 300;

/// The header names, as sent.
pub const ID_HEADER: &str = "webhook-id";
/// The `webhook-timestamp` header's name.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The `webhook-signature` header's name.
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// Standard base64 that decodes with or without padding (secrets and
/// signatures made by other tools sometimes drop it).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A new signing secret: `whsec_` and the standard base64 (with padding) of
/// 24 bytes of the system's random source. An error says that source failed.
pub fn new_secret() -> Result<String, String> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| format!("the system's random source failed: {e}"))?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
}

/// Why a secret cannot sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignError {
    /// The part after `whsec_` is not base64.
    NotBase64,
    /// The secret decodes to no bytes.
    Empty,
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::NotBase64 => write!(f, "the signing secret is not `whsec_` followed by base64"),
            SignError::Empty => write!(f, "the signing secret is empty"),
        }
    }
}

impl std::error::Error for SignError {}

/// The HMAC key of a secret: the base64-decoded part after `whsec_` (a
/// secret without the prefix is decoded whole).
fn key(secret: &str) -> Result<Vec<u8>, SignError> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = LENIENT.decode(encoded).map_err(|_| SignError::NotBase64)?;
    if key.is_empty() {
        return Err(SignError::Empty);
    }
    Ok(key)
}

/// The HMAC state after `{id}.{timestamp}.{body}`.
fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Result<HmacSha256, SignError> {
    // HMAC takes a key of any length; the error cannot happen, but is not unwrapped.
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| SignError::Empty)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac)
}

/// The `webhook-signature` value for one delivery: `v1,` and the base64 of
/// HMAC-SHA256(key, "{id}.{timestamp}.{body}").
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, SignError> {
    let tag = mac(&key(secret)?, id, timestamp, body)?.finalize().into_bytes();
    Ok(format!("v1,{}", STANDARD.encode(tag)))
}

/// The three headers of one delivery, by name: `webhook-id`,
/// `webhook-timestamp` and `webhook-signature`.
pub fn headers(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<[(&'static str, String); 3], SignError> {
    Ok([
        (ID_HEADER, id.to_string()),
        (TIMESTAMP_HEADER, timestamp.to_string()),
        (SIGNATURE_HEADER, sign(secret, id, timestamp, body)?),
    ])
}

/// The Standard Webhooks headers of a request, as received (None: absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct SignedHeaders<'a> {
    /// `webhook-id`.
    pub id: Option<&'a str>,
    /// `webhook-timestamp`.
    pub timestamp: Option<&'a str>,
    /// `webhook-signature`: one or more space-separated `v1,<base64>`.
    pub signature: Option<&'a str>,
}

/// Why a request's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// A header is absent or empty (its name).
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not a whole number of seconds.
    BadTimestamp,
    /// The timestamp is more than the tolerance before now (by how many seconds).
    TooOld(i64),
    /// The timestamp is more than the tolerance after now (by how many seconds).
    TooNew(i64),
    /// No `v1` signature in the header matches the body.
    NoMatch,
    /// The secret itself cannot sign.
    Secret(SignError),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::MissingHeader(name) => write!(f, "the {name} header is missing"),
            VerifyError::BadTimestamp => write!(f, "the {TIMESTAMP_HEADER} header is not a Unix time in seconds"),
            VerifyError::TooOld(s) => write!(f, "the {TIMESTAMP_HEADER} is {s} s in the past, beyond the tolerance"),
            VerifyError::TooNew(s) => write!(f, "the {TIMESTAMP_HEADER} is {s} s in the future, beyond the tolerance"),
            VerifyError::NoMatch => write!(f, "no signature in the {SIGNATURE_HEADER} header matches the body"),
            VerifyError::Secret(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// A header's value, or the error naming it when it is absent or blank.
fn present<'a>(value: Option<&'a str>, name: &'static str) -> Result<&'a str, VerifyError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or(VerifyError::MissingHeader(name))
}

/// Checks a received request: its three headers are present, its timestamp
/// is within `tolerance_s` seconds of `now_unix` (either way), and at least
/// one `v1` entry of the signature header is the body's signature (compared
/// in constant time). Entries of other versions and entries that are not
/// base64 are passed over, as the specification says.
pub fn verify(
    secret: &str,
    headers: SignedHeaders<'_>,
    body: &[u8],
    now_unix: i64,
    tolerance_s: i64,
) -> Result<(), VerifyError> {
    let id = present(headers.id, ID_HEADER)?;
    let timestamp = present(headers.timestamp, TIMESTAMP_HEADER)?;
    let signature = present(headers.signature, SIGNATURE_HEADER)?;
    let timestamp = timestamp.trim();
    if !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::BadTimestamp);
    }
    let timestamp: i64 = timestamp.parse().map_err(|_| VerifyError::BadTimestamp)?;
    let skew = now_unix.saturating_sub(timestamp);
    if skew > tolerance_s {
        return Err(VerifyError::TooOld(skew));
    }
    if skew < tolerance_s.saturating_neg() {
        return Err(VerifyError::TooNew(skew.saturating_neg()));
    }
    let key = key(secret).map_err(VerifyError::Secret)?;
    let expected = mac(&key, id, timestamp, body).map_err(VerifyError::Secret)?;
    for entry in signature.split_whitespace() {
        let Some(("v1", encoded)) = entry.split_once(',') else {
            continue;
        };
        let Ok(candidate) = LENIENT.decode(encoded) else {
            continue;
        };
        if expected.clone().verify_slice(&candidate).is_ok() {
            return Ok(());
        }
    }
    Err(VerifyError::NoMatch)
}

#[cfg(test)]
mod tests;
