use super::*;
use crate::webhooks::ranges::{V4_GLOBAL, V4_REFUSED, V6_GLOBAL, V6_REFUSED};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn strict() -> AddressPolicy {
    AddressPolicy::parse(None).unwrap()
}

#[test]
fn every_block_the_spec_names_is_refused_at_both_ends_and_inside() {
    let refused = [
        // SERVER.md "Webhooks" details, and "Secrets and addresses".
        "127.0.0.1",
        "127.255.255.255",
        "10.0.0.0",
        "10.255.255.255",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.0.1",
        "192.168.255.255",
        "169.254.0.1",
        "169.254.169.254",
        "100.64.0.0",
        "100.127.255.255",
        "0.0.0.0",
        "0.255.255.255",
        "224.0.0.1",
        "239.255.255.255",
        "198.18.0.0",
        "198.19.255.255",
        "240.0.0.1",
        "255.255.255.254",
        "255.255.255.255",
        "192.0.2.1",
        "198.51.100.7",
        "203.0.113.9",
        "192.0.0.8",
        "192.0.0.170",
        "192.88.99.1",
        "::",
        "::1",
        "fe80::1",
        "febf:ffff::1",
        "fc00::1",
        "fdff:ffff::1",
        "ff02::1",
        "ff0e::1",
        "64:ff9b::7f00:1",
        "64:ff9b::808:808",
        "64:ff9b:1::1",
        "2002:7f00:1::1",
        "2002:808:808::1",
        "2001:db8::1",
        "2001::1",
        "2001:2::1",
        "2001:10::1",
        "100::1",
        "100:0:0:1::1",
        "3fff::1",
        "5f00::1",
        "fec0::1",
        // IPv4-mapped and IPv4-compatible forms.
        "::ffff:127.0.0.1",
        "::ffff:10.1.2.3",
        "::ffff:169.254.169.254",
        "::ffff:0.0.0.0",
        "::127.0.0.1",
        "::10.0.0.1",
        "::8.8.8.8",
        // Outside the global unicast space.
        "1::1",
        "4000::1",
        "e000::1",
    ];
    let policy = strict();
    for text in refused {
        assert!(!policy.allowed(ip(text)), "{text} should be refused");
        assert!(policy.refusal(ip(text)).is_some(), "{text}");
    }
}

#[test]
fn global_addresses_are_allowed() {
    let allowed = [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "9.255.255.255",
        "11.0.0.0",
        "100.63.255.255",
        "100.128.0.0",
        "126.255.255.255",
        "128.0.0.0",
        "169.253.255.255",
        "169.255.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.0.1.0",
        "192.0.3.0",
        "192.167.255.255",
        "192.169.0.0",
        "198.17.255.255",
        "198.20.0.0",
        "223.255.255.255",
        "192.0.0.9",
        "192.0.0.10",
        "192.31.196.1",
        "192.52.193.1",
        "192.175.48.1",
        "2606:4700:4700::1111",
        "2001:4860:4860::8888",
        "2a00:1450::1",
        "2620:4f:8000::1",
        "2001:1::1",
        "2001:1::2",
        "2001:1::3",
        "2001:3::1",
        "2001:4:112::1",
        "2001:20::1",
        "2001:30::1",
        "2001:200::1",
        "3ffe:ffff::1",
        "::ffff:8.8.8.8",
    ];
    let policy = strict();
    for text in allowed {
        assert!(
            policy.allowed(ip(text)),
            "{text} should be allowed: {:?}",
            policy.refusal(ip(text))
        );
    }
}

#[test]
fn the_table_is_consistent() {
    for block in V4_REFUSED.iter().chain(V6_REFUSED) {
        assert!(!block.name.is_empty() && !block.source.is_empty(), "{block:?}");
        assert_eq!(block.net, block.net.trunc(), "{block:?} has host bits");
        // Each block's first address is refused (the block it falls in may be an earlier, wider one).
        assert!(strict().refusal(block.net.network()).is_some(), "{block:?}");
    }
    // Every exception lies inside a refused block, or it would be no exception.
    for block in V4_GLOBAL.iter().chain(V6_GLOBAL) {
        let inside = V4_REFUSED.iter().chain(V6_REFUSED).any(|r| r.net.contains(&block.net));
        assert!(inside, "{block:?}");
        assert!(strict().allowed(block.net.network()), "{block:?}");
    }
}

#[test]
fn refusals_name_the_block() {
    let policy = strict();
    assert_eq!(policy.refusal(ip("127.0.0.1")).map(|b| b.name), Some("loopback"));
    assert_eq!(policy.refusal(ip("::ffff:127.0.0.1")).map(|b| b.name), Some("loopback"));
    assert_eq!(policy.refusal(ip("10.0.0.1")).map(|b| b.name), Some("private"));
    assert_eq!(
        policy.refusal(ip("100.64.1.1")).map(|b| b.name),
        Some("shared (carrier-grade NAT)")
    );
    assert_eq!(
        policy.refusal(ip("255.255.255.255")).map(|b| b.name),
        Some("limited broadcast")
    );
    assert_eq!(policy.refusal(ip("fe80::1")).map(|b| b.name), Some("link-local"));
    assert_eq!(policy.refusal(ip("2001::1")).map(|b| b.name), Some("Teredo"));
    assert_eq!(
        policy.refusal(ip("4000::1")).map(|b| b.name),
        Some("outside the global unicast space 2000::/3")
    );
}

#[test]
fn the_flag_allows_all_or_the_listed_blocks() {
    for all in [Some(""), Some("*"), Some(" * ")] {
        let policy = AddressPolicy::parse(all).unwrap();
        assert_eq!(policy, AddressPolicy::allow_all());
        for text in ["127.0.0.1", "10.0.0.1", "::1", "fe80::1", "224.0.0.1"] {
            assert!(policy.allowed(ip(text)), "{all:?} {text}");
        }
    }
    let listed = AddressPolicy::parse(Some("127.0.0.0/8, 10.1.0.0/16,fd00::/8,192.168.1.7")).unwrap();
    for text in [
        "127.0.0.1",
        "127.9.9.9",
        "::ffff:127.0.0.1",
        "10.1.200.1",
        "fd12::1",
        "192.168.1.7",
        "8.8.8.8",
    ] {
        assert!(listed.allowed(ip(text)), "{text}");
    }
    for text in [
        "10.2.0.1",
        "192.168.1.8",
        "::1",
        "fe80::1",
        "fc00::1",
        "169.254.169.254",
    ] {
        assert!(!listed.allowed(ip(text)), "{text}");
    }
    // Host bits in a block are dropped: 127.0.0.1/8 is 127.0.0.0/8.
    assert!(
        AddressPolicy::parse(Some("127.0.0.1/8"))
            .unwrap()
            .allowed(ip("127.1.2.3"))
    );
}

#[test]
fn a_bad_flag_value_names_the_entry() {
    for (value, entry) in [
        ("127.0.0.0/33", "127.0.0.0/33"),
        ("10.0.0.0/8,", "\"\""),
        ("localhost", "localhost"),
        ("*,10.0.0.0/8", "\"*\""),
    ] {
        let err = AddressPolicy::parse(Some(value)).unwrap_err();
        assert!(err.starts_with("--allow-private-webhooks: entry"), "{err}");
        assert!(err.contains(entry), "{value}: {err}");
    }
}

#[test]
fn urls_need_http_or_https_a_host_and_no_credentials() {
    let policy = strict();
    let ok = policy.check_url("HTTPS://Example.COM:8443/hooks?a=1").unwrap();
    assert_eq!(ok.as_str(), "https://example.com:8443/hooks?a=1");
    assert_eq!(ok.host(), &Host::Name("example.com".to_string()));
    assert_eq!(
        policy.check_url("http://8.8.8.8/x").unwrap().host(),
        &Host::Ip(ip("8.8.8.8"))
    );
    assert_eq!(
        policy.check_url("ftp://example.com/"),
        Err(AddressError::Scheme("ftp".to_string()))
    );
    assert_eq!(
        policy.check_url("file:///etc/passwd"),
        Err(AddressError::Scheme("file".to_string()))
    );
    assert_eq!(
        policy.check_url("https://user:hunter2@example.com/"),
        Err(AddressError::Credentials)
    );
    assert_eq!(
        policy.check_url("https://token@example.com/"),
        Err(AddressError::Credentials)
    );
    assert!(matches!(policy.check_url("not a url"), Err(AddressError::Malformed(_))));
    assert!(matches!(policy.check_url("http://"), Err(AddressError::Malformed(_))));
    assert!(matches!(
        policy.check_url("http://exa mple.com/"),
        Err(AddressError::Malformed(_))
    ));
    // The message never repeats a password.
    let err = policy
        .check_url("https://user:hunter2@example.com/")
        .unwrap_err()
        .to_string();
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn refused_literals_and_localhost_are_refused_at_creation() {
    let policy = strict();
    let refused = [
        "http://127.0.0.1/",
        "http://127.0.0.1.:8080/",
        "http://[::1]:9000/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://0/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://017700000001/",
        "http://127.1/",
        "https://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/",
        "http://localhost/",
        "http://LOCALHOST:8080/",
        "http://localhost./",
        "http://api.localhost/",
        "http://LocalHost./x",
    ];
    for url in refused {
        let err = policy.check_url(url).unwrap_err();
        assert!(matches!(err, AddressError::Refused { .. }), "{url}: {err:?}");
        assert!(err.to_string().contains("--allow-private-webhooks"), "{err}");
        assert_eq!(policy.check_before_send(url), Err(err), "{url}");
    }
    let err = policy
        .check_url("http://127.0.0.1:8080/secret-path?token=abc")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "the webhook url's host 127.0.0.1 is not globally reachable: loopback (127.0.0.0/8, RFC 1122); \
         refused unless the server runs with --allow-private-webhooks"
    );
    assert!(!err.contains("token=abc") && !err.contains("secret-path"), "{err}");
    // Names that are not localhost pass here; they are judged on connection.
    for url in [
        "http://localhost.example.com/",
        "http://mylocalhost/",
        "http://internal.corp/",
    ] {
        assert!(policy.check_url(url).is_ok(), "{url}");
    }
}

#[test]
fn the_flag_lets_private_literals_and_localhost_through() {
    let loopback = AddressPolicy::parse(Some("127.0.0.0/8")).unwrap();
    for url in [
        "http://127.0.0.1:8080/",
        "http://localhost:8080/",
        "http://[::ffff:127.0.0.1]/",
    ] {
        assert!(loopback.check_url(url).is_ok(), "{url}");
        assert_eq!(loopback.check_before_send(url), Ok(()), "{url}");
    }
    assert!(loopback.check_url("http://10.0.0.1/").is_err());
    assert!(loopback.check_url("http://[::1]/").is_err());
    let all = AddressPolicy::allow_all();
    for url in ["http://10.0.0.1/", "http://[::1]/", "http://localhost/"] {
        assert!(all.check_url(url).is_ok(), "{url}");
    }
}
