//! Webhook deliveries never use a proxy (SERVER.md "Secrets and
//! addresses"), even when the environment names one. Its own test binary:
//! it sets the proxy variables for the whole process.

use flow_server::webhooks::address::AddressPolicy;
use flow_server::webhooks::connect::{GuardedResolver, Lookup, client_with};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn the_environment_s_proxy_is_not_used() {
    let proxy = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(299))
        .mount(&proxy)
        .await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        // SAFETY: set before any client reads the environment; this binary's only test.
        unsafe { std::env::set_var(name, proxy.uri()) };
    }
    for name in ["NO_PROXY", "no_proxy"] {
        // SAFETY: as above.
        unsafe { std::env::remove_var(name) };
    }
    let url = format!("http://receiver.example:{}/hook", receiver.address().port());

    // A client that honours the environment goes to the proxy: the variables work.
    let ordinary = reqwest::Client::new().post(&url).body("{}").send().await.unwrap();
    assert_eq!(ordinary.status(), 299);
    assert_eq!(proxy.received_requests().await.unwrap().len(), 1);

    // The webhook client goes straight to the receiver.
    let lookup: Lookup = Arc::new(|_: &str| Box::pin(async { Ok(vec!["127.0.0.1".parse::<IpAddr>().unwrap()]) }));
    let policy = Arc::new(AddressPolicy::parse(Some("127.0.0.0/8")).unwrap());
    let client = client_with(GuardedResolver::with_lookup(policy, lookup), Duration::from_secs(5)).unwrap();
    let answer = client.post(&url).body("{}").send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(receiver.received_requests().await.unwrap().len(), 1);
    assert_eq!(proxy.received_requests().await.unwrap().len(), 1);
}
