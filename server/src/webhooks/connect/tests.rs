use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A resolver that answers `addresses` for every name and counts its calls.
fn fixed_lookup(addresses: &[&str], calls: Arc<AtomicUsize>) -> Lookup {
    let addresses: Vec<IpAddr> = addresses.iter().map(|a| a.parse().unwrap()).collect();
    Arc::new(move |_host: &str| {
        calls.fetch_add(1, Ordering::SeqCst);
        let addresses = addresses.clone();
        Box::pin(async move { Ok(addresses) })
    })
}

fn policy(flag: Option<&str>) -> Arc<AddressPolicy> {
    Arc::new(AddressPolicy::parse(flag).unwrap())
}

async fn receiver() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

/// The receiver's url under another host name (it listens on 127.0.0.1).
fn url_as(server: &MockServer, host: &str) -> String {
    format!("http://{host}:{}/hook", server.address().port())
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_when_connecting() {
    let server = receiver().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let guard = GuardedResolver::with_lookup(policy(None), fixed_lookup(&["127.0.0.1"], calls.clone()));
    let client = client_with(guard, Duration::from_secs(5)).unwrap();
    let url = url_as(&server, "receiver.example");
    // The name passes the creation check: only its addresses are refused.
    assert!(AddressPolicy::global_only().check_url(&url).is_ok());
    let err = client.post(&url).body("{}").send().await.unwrap_err();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let refused = refusal(&err).unwrap_or_else(|| panic!("not a refusal: {err:?}"));
    assert!(
        matches!(refused, AddressError::Resolved { address, .. } if address.to_string() == "127.0.0.1"),
        "{refused:?}"
    );
    assert!(
        refused.to_string().contains(
            "receiver.example resolves only to addresses that are not globally reachable (127.0.0.1: loopback"
        ),
        "{refused}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_same_name_is_allowed_when_the_flag_lists_loopback() {
    let server = receiver().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let guard = GuardedResolver::with_lookup(policy(Some("127.0.0.0/8")), fixed_lookup(&["127.0.0.1"], calls));
    let client = client_with(guard, Duration::from_secs(5)).unwrap();
    let answer = client
        .post(url_as(&server, "receiver.example"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn localhost_through_the_system_resolver_is_refused_then_allowed() {
    let server = receiver().await;
    let url = url_as(&server, "localhost");
    let strict = client(policy(None), Duration::from_secs(5)).unwrap();
    let err = strict.post(&url).send().await.unwrap_err();
    assert!(matches!(refusal(&err), Some(AddressError::Resolved { .. })), "{err:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
    let loopback = client(policy(Some("127.0.0.0/8")), Duration::from_secs(5)).unwrap();
    assert_eq!(loopback.post(&url).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn only_the_allowed_addresses_of_a_mixed_answer_are_kept() {
    let calls = Arc::new(AtomicUsize::new(0));
    let lookup = fixed_lookup(&["10.0.0.7", "127.0.0.1", "::1", "8.8.8.8"], calls);
    let strict = GuardedResolver::with_lookup(policy(None), lookup.clone());
    assert_eq!(
        strict.allowed_addresses("a.example").await.unwrap(),
        vec!["8.8.8.8".parse::<IpAddr>().unwrap()]
    );
    let loopback = GuardedResolver::with_lookup(policy(Some("127.0.0.0/8")), lookup);
    let kept = loopback.allowed_addresses("a.example").await.unwrap();
    assert_eq!(
        kept,
        ["127.0.0.1", "8.8.8.8"].map(|a| a.parse::<IpAddr>().unwrap()).to_vec()
    );
    // Nothing at all, and a failing resolver, are errors naming the host.
    let none = GuardedResolver::with_lookup(policy(None), fixed_lookup(&[], Arc::new(AtomicUsize::new(0))));
    assert_eq!(
        none.allowed_addresses("b.example").await,
        Err(AddressError::NoAddress("b.example".to_string()))
    );
    let failing: Lookup = Arc::new(|_: &str| Box::pin(async { Err(io::Error::other("no such host")) }));
    let failing = GuardedResolver::with_lookup(policy(None), failing);
    let err = failing.allowed_addresses("c.example").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the webhook host c.example could not be resolved: no such host"
    );
}

#[tokio::test]
async fn a_redirect_is_the_answer_and_is_not_followed() {
    let server = MockServer::start().await;
    let elsewhere = format!("{}/elsewhere", server.uri());
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", elsewhere.as_str()))
        .mount(&server)
        .await;
    Mock::given(path("/elsewhere"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let client = client(policy(Some("127.0.0.0/8")), Duration::from_secs(5)).unwrap();
    let answer = client
        .post(format!("{}/hook", server.uri()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 302);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_slow_answer_is_a_time_out() {
    let server = MockServer::start().await;
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let client = client(policy(None), Duration::from_millis(300)).unwrap();
    let started = std::time::Instant::now();
    let err = client.post(format!("{}/hook", server.uri())).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert!(refusal(&err).is_none());
}

#[test]
fn the_time_out_is_15_s_unless_the_variable_says_otherwise() {
    assert_eq!(timeout_from(None), Ok(Duration::from_secs(15)));
    assert_eq!(timeout_from(Some(" ")), Ok(Duration::from_secs(15)));
    assert_eq!(timeout_from(Some("2")), Ok(Duration::from_secs(2)));
    assert_eq!(timeout_from(Some("0.5")), Ok(Duration::from_millis(500)));
    for bad in ["0", "-1", "abc", "NaN", "inf", "1e9", "5s"] {
        let err = timeout_from(Some(bad)).unwrap_err();
        assert!(err.starts_with("FLOW_WEBHOOK_TIMEOUT="), "{bad}: {err}");
    }
}
