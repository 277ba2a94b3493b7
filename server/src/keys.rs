//! API keys (SERVER.md, "Conventions"): a key is `flow_` and 32 random bytes
//! in base64url without padding; the store keeps only its SHA-256, in hex.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// What every key starts with.
pub const PREFIX: &str = "flow_";

/// A new key: `flow_` and 32 bytes of the system's random source (43
/// base64url characters). An error says the random source failed: no key is
/// ever made from weaker randomness.
pub fn generate() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("the system's random source failed: {e}"))?;
    Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// What the store keeps of a key: the SHA-256 of its bytes, in lower-case hex.
pub fn hash(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        hex.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    hex
}

/// The longest key name.
pub const MAX_NAME: usize = 64;

/// Whether `name` may name a key: 1 to 64 of `A-Z a-z 0-9 _ . -`. The error
/// says the rule (the name itself is the caller's to show).
pub fn check_name(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if name.is_empty() || name.len() > MAX_NAME || !name.chars().all(allowed) {
        return Err(format!(
            "a key's name is 1 to {MAX_NAME} of the characters A-Z a-z 0-9 _ . -"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_the_prefix_and_43_base64url_characters() {
        let key = generate().unwrap();
        let body = key.strip_prefix(PREFIX).unwrap();
        assert_eq!(body.len(), 43, "{key}");
        assert!(
            body.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{key}"
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(body).unwrap().len(), 32);
    }

    #[test]
    fn key_names_are_short_and_plain() {
        for good in ["ops", "ci-bot_2.prod", &"a".repeat(64)] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in ["", &"a".repeat(65), "has space", "é", "a/b", "x\n", "key:1"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn two_keys_differ() {
        assert_ne!(generate().unwrap(), generate().unwrap());
    }

    #[test]
    fn the_hash_is_stable_lower_hex_sha256() {
        let key = "flow_abc";
        assert_eq!(hash(key), hash(key));
        assert_eq!(hash(key).len(), 64);
        assert!(
            hash(key)
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(hash(key), hash("flow_abd"));
        // The SHA-256 of the empty string, a known value.
        assert_eq!(
            hash(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
