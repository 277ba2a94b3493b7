use super::*;

// The Standard Webhooks specification's published vector (its libraries'
// "sign function works" test): this secret, id, timestamp and body sign to
// exactly this header value.
const VECTOR_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const VECTOR_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const VECTOR_TIMESTAMP: i64 = 1614265330;
const VECTOR_BODY: &[u8] = br#"{"test": 2432232314}"#;
const VECTOR_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

fn signed<'a>(id: &'a str, timestamp: &'a str, signature: &'a str) -> SignedHeaders<'a> {
    SignedHeaders {
        id: Some(id),
        timestamp: Some(timestamp),
        signature: Some(signature),
    }
}

#[test]
fn the_specification_vector_signs_to_its_published_value() {
    assert_eq!(
        sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY).unwrap(),
        VECTOR_SIGNATURE
    );
}

#[test]
fn the_specification_vector_verifies_and_a_secret_without_the_prefix_is_decoded_whole() {
    let headers = signed(VECTOR_ID, "1614265330", VECTOR_SIGNATURE);
    assert_eq!(
        verify(VECTOR_SECRET, headers, VECTOR_BODY, VECTOR_TIMESTAMP, TOLERANCE_S),
        Ok(())
    );
    let bare = VECTOR_SECRET.strip_prefix(SECRET_PREFIX).unwrap();
    assert_eq!(
        sign(bare, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY).unwrap(),
        VECTOR_SIGNATURE
    );
    assert_eq!(
        verify(bare, headers, VECTOR_BODY, VECTOR_TIMESTAMP, TOLERANCE_S),
        Ok(())
    );
}

#[test]
fn the_headers_carry_the_id_the_timestamp_and_the_signature() {
    let headers = headers(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY).unwrap();
    assert_eq!(
        headers,
        [
            ("webhook-id", VECTOR_ID.to_string()),
            ("webhook-timestamp", "1614265330".to_string()),
            ("webhook-signature", VECTOR_SIGNATURE.to_string()),
        ]
    );
}

#[test]
fn a_new_secret_is_the_prefix_and_24_bytes_in_padded_base64() {
    let secret = new_secret().unwrap();
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap();
    assert_eq!(encoded.len(), 32, "{secret}");
    assert_eq!(STANDARD.decode(encoded).unwrap().len(), SECRET_BYTES);
    assert_ne!(new_secret().unwrap(), secret);
}

#[test]
fn a_new_secret_round_trips() {
    let secret = new_secret().unwrap();
    let body = br#"{"type":"run.completed","timestamp":"2026-01-05T09:00:00Z","data":{}}"#;
    let signature = sign(&secret, "evt_1", 1_767_600_000, body).unwrap();
    assert!(signature.starts_with("v1,"));
    let headers = signed("evt_1", "1767600000", &signature);
    assert_eq!(verify(&secret, headers, body, 1_767_600_000, TOLERANCE_S), Ok(()));
}

#[test]
fn a_tampered_body_id_or_timestamp_fails() {
    let now = VECTOR_TIMESTAMP;
    let tampered = br#"{"test": 2432232315}"#;
    let headers = signed(VECTOR_ID, "1614265330", VECTOR_SIGNATURE);
    assert_eq!(
        verify(VECTOR_SECRET, headers, tampered, now, TOLERANCE_S),
        Err(VerifyError::NoMatch)
    );
    let other_id = signed("msg_other", "1614265330", VECTOR_SIGNATURE);
    assert_eq!(
        verify(VECTOR_SECRET, other_id, VECTOR_BODY, now, TOLERANCE_S),
        Err(VerifyError::NoMatch)
    );
    let other_time = signed(VECTOR_ID, "1614265331", VECTOR_SIGNATURE);
    assert_eq!(
        verify(VECTOR_SECRET, other_time, VECTOR_BODY, now, TOLERANCE_S),
        Err(VerifyError::NoMatch)
    );
}

#[test]
fn a_wrong_secret_fails() {
    let other = new_secret().unwrap();
    let headers = signed(VECTOR_ID, "1614265330", VECTOR_SIGNATURE);
    assert_eq!(
        verify(&other, headers, VECTOR_BODY, VECTOR_TIMESTAMP, TOLERANCE_S),
        Err(VerifyError::NoMatch)
    );
}

#[test]
fn any_one_of_several_signatures_passes_and_other_versions_are_ignored() {
    let header = format!(
        "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,{} not-a-pair v1,%%% {VECTOR_SIGNATURE} v1,AAAA",
        &VECTOR_SIGNATURE[3..]
    );
    let headers = signed(VECTOR_ID, "1614265330", &header);
    assert_eq!(
        verify(VECTOR_SECRET, headers, VECTOR_BODY, VECTOR_TIMESTAMP, TOLERANCE_S),
        Ok(())
    );
    // The right bytes under another version do not count.
    let v2_only = format!("v2,{}", &VECTOR_SIGNATURE[3..]);
    let headers = signed(VECTOR_ID, "1614265330", &v2_only);
    assert_eq!(
        verify(VECTOR_SECRET, headers, VECTOR_BODY, VECTOR_TIMESTAMP, TOLERANCE_S),
        Err(VerifyError::NoMatch)
    );
}

#[test]
fn a_truncated_or_unpadded_signature() {
    let now = VECTOR_TIMESTAMP;
    for partial in ["v1,", "v1,g0hM9SsE", &VECTOR_SIGNATURE[..VECTOR_SIGNATURE.len() - 2]] {
        let headers = signed(VECTOR_ID, "1614265330", partial);
        assert_eq!(
            verify(VECTOR_SECRET, headers, VECTOR_BODY, now, TOLERANCE_S),
            Err(VerifyError::NoMatch),
            "{partial}"
        );
    }
    // The same 32 bytes without the base64 padding still match.
    let unpadded = VECTOR_SIGNATURE.trim_end_matches('=');
    let headers = signed(VECTOR_ID, "1614265330", unpadded);
    assert_eq!(verify(VECTOR_SECRET, headers, VECTOR_BODY, now, TOLERANCE_S), Ok(()));
}

#[test]
fn timestamps_beyond_the_tolerance_are_refused_either_way() {
    let secret = new_secret().unwrap();
    let body = b"{}";
    let at = |timestamp: i64, now: i64| {
        let signature = sign(&secret, "evt", timestamp, body).unwrap();
        let text = timestamp.to_string();
        verify(&secret, signed("evt", &text, &signature), body, now, TOLERANCE_S)
    };
    let now = 1_800_000_000;
    assert_eq!(at(now - 300, now), Ok(()));
    assert_eq!(at(now + 300, now), Ok(()));
    assert_eq!(at(now - 301, now), Err(VerifyError::TooOld(301)));
    assert_eq!(at(now + 301, now), Err(VerifyError::TooNew(301)));
    // A correctly signed old request (a replay) is refused however good its signature.
    assert_eq!(at(now - 86_400, now), Err(VerifyError::TooOld(86_400)));
}

#[test]
fn missing_or_malformed_headers_are_named() {
    let (s, b, now, t) = (VECTOR_SECRET, VECTOR_BODY, VECTOR_TIMESTAMP, TOLERANCE_S);
    let full = signed(VECTOR_ID, "1614265330", VECTOR_SIGNATURE);
    let cases = [
        (
            SignedHeaders { id: None, ..full },
            VerifyError::MissingHeader("webhook-id"),
        ),
        (
            SignedHeaders { id: Some(" "), ..full },
            VerifyError::MissingHeader("webhook-id"),
        ),
        (
            SignedHeaders {
                timestamp: None,
                ..full
            },
            VerifyError::MissingHeader("webhook-timestamp"),
        ),
        (
            SignedHeaders {
                signature: None,
                ..full
            },
            VerifyError::MissingHeader("webhook-signature"),
        ),
        (
            SignedHeaders {
                timestamp: Some("hello"),
                ..full
            },
            VerifyError::BadTimestamp,
        ),
        (
            SignedHeaders {
                timestamp: Some("-1614265330"),
                ..full
            },
            VerifyError::BadTimestamp,
        ),
        (
            SignedHeaders {
                timestamp: Some("1614265330.5"),
                ..full
            },
            VerifyError::BadTimestamp,
        ),
        (
            SignedHeaders {
                timestamp: Some("99999999999999999999999"),
                ..full
            },
            VerifyError::BadTimestamp,
        ),
    ];
    for (headers, expected) in cases {
        assert_eq!(verify(s, headers, b, now, t), Err(expected.clone()), "{headers:?}");
    }
    assert_eq!(
        VerifyError::MissingHeader("webhook-id").to_string(),
        "the webhook-id header is missing"
    );
}

#[test]
fn a_secret_that_is_not_base64_is_refused_without_showing_it() {
    let bad = "whsec_not base64!";
    assert_eq!(sign(bad, "id", 1, b""), Err(SignError::NotBase64));
    assert_eq!(sign("whsec_", "id", 1, b""), Err(SignError::Empty));
    let headers = signed(VECTOR_ID, "1614265330", VECTOR_SIGNATURE);
    let err = verify(bad, headers, VECTOR_BODY, VECTOR_TIMESTAMP, TOLERANCE_S).unwrap_err();
    assert_eq!(err, VerifyError::Secret(SignError::NotBase64));
    assert!(!err.to_string().contains("not base64!"), "{err}");
}
