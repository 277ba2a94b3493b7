use super::*;
use serde_json::json;

fn one(value: &str) -> Redactor {
    Redactor::new([(value.to_string(), "[S]".to_string())])
}

/// The forms a secret can take in a text: as it is, JSON-escaped,
/// percent-encoded (both cases of hex) and form-encoded.
fn forms(secret: &str) -> Vec<String> {
    let json = serde_json::to_string(secret).unwrap();
    let json = json[1..json.len() - 1].to_string();
    let upper: String = secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let form: String = secret
        .bytes()
        .map(|b| match b {
            b' ' => "+".to_string(),
            b if b.is_ascii_alphanumeric() => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect();
    let unicode: String = secret.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
    vec![
        secret.to_string(),
        json,
        upper.clone(),
        upper.to_lowercase(),
        form,
        unicode,
    ]
}

#[test]
fn every_form_of_a_secret_is_redacted() {
    let secret = r#"pa"ss\wo+rd/x=y%z w"#;
    let r = one(secret);
    for form in forms(secret) {
        let text = format!("before {form} after");
        assert_eq!(r.redact(&text), "before [S] after", "form {form}");
        assert!(r.contains(&text), "form {form}");
    }
    // Mixed: JSON-escaped quote, then percent-encoded rest.
    assert_eq!(r.redact(r#"pa\"ss%5Cwo%2Brd%2Fx%3Dy%25z+w"#), "[S]");
    assert!(!r.contains("pa\"ss\\wo+rd/x=y%z"), "a prefix is not the secret");
}

#[test]
fn values_inside_json_are_redacted_on_decoded_strings() {
    let secret = "tok\"en\\with+/=chars";
    let r = one(secret);
    let value = json!({ "echo": secret, "nested": [{ "k": format!("x{secret}y") }], secret: 1 });
    let out = r.redact_value(value);
    assert_eq!(out, json!({ "echo": "[S]", "nested": [{ "k": "x[S]y" }], "[S]": 1 }));
    assert!(!out.to_string().contains("tok"));
}

#[test]
fn short_secrets_are_redacted_only_as_whole_tokens() {
    let r = one("X");
    assert_eq!(r.redact("the run reXched"), "the run reXched");
    assert_eq!(r.redact("key X, key=X."), "key [S], key=[S].");
    let long = one("abcdefgh");
    assert_eq!(long.redact("xxabcdefghyy"), "xx[S]yy", "8 characters or more: anywhere");
}

#[test]
fn the_longest_secret_wins_and_empty_ones_are_ignored() {
    let r = Redactor::new([
        ("abcdefgh".to_string(), "[A]".to_string()),
        ("abcdefgh-ijkl".to_string(), "[B]".to_string()),
        (String::new(), "[C]".to_string()),
    ]);
    assert_eq!(r.redact("abcdefgh-ijkl abcdefgh"), "[B] [A]");
    assert!(!Redactor::new([(String::new(), "[C]".to_string())]).contains("anything"));
}

#[test]
fn urls_lose_credentials_and_queries() {
    assert_eq!(
        shown_url("http://user:pass@127.0.0.1:9/v1?key=abc#frag"),
        "http://127.0.0.1:9/v1"
    );
    assert_eq!(shown_url("https://api.example.com/v1"), "https://api.example.com/v1");
    assert_eq!(shown_url("http://u:p@[bad/v1?key=k"), "http://[bad/v1");
}
