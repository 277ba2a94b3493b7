//! API keys and idempotency keys in the catalog.

use super::*;

#[tokio::test]
async fn keys_are_created_looked_up_revoked_and_their_names_reused() {
    let (_store, catalog) = open(&store_path("keys"), false);
    let (h1, h2, h3) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
    let row = catalog.create_key("ops", Scope::Admin, &h1, T0).await.unwrap();
    assert_eq!(
        (row.name.as_str(), row.scope, row.created.as_str()),
        ("ops", Scope::Admin, T0)
    );
    catalog.create_key("bot", Scope::Run, &h2, T1).await.unwrap();
    let dup = catalog.create_key("ops", Scope::Review, &h3, T1).await;
    assert!(
        matches!(&dup, Err(CatalogError::Conflict(m)) if m.contains("ops")),
        "{dup:?}"
    );
    let same_hash = catalog.create_key("third", Scope::Review, &h1, T1).await;
    assert!(
        matches!(&same_hash, Err(CatalogError::Conflict(m)) if !m.contains(&h1)),
        "{same_hash:?}"
    );

    assert_eq!(catalog.key_by_hash(&h1).await.unwrap(), Some(row.clone()));
    assert_eq!(catalog.key_by_hash(&h3).await.unwrap(), None);
    let names: Vec<_> = catalog
        .keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.name, k.scope))
        .collect();
    assert_eq!(
        names,
        [("bot".to_string(), Scope::Run), ("ops".to_string(), Scope::Admin)]
    );

    assert!(catalog.revoke_key("ops").await.unwrap());
    assert_eq!(catalog.key_by_hash(&h1).await.unwrap(), None);
    assert!(!catalog.revoke_key("ops").await.unwrap());
    assert!(!catalog.revoke_key("nobody").await.unwrap());
    assert_eq!(catalog.keys().await.unwrap().len(), 1);

    // The name is free again; the old key stays revoked.
    let again = catalog.create_key("ops", Scope::Review, &h3, T2).await.unwrap();
    assert_eq!(again.scope, Scope::Review);
    assert_eq!(catalog.key_by_hash(&h3).await.unwrap(), Some(again));
    assert_eq!(catalog.key_by_hash(&h1).await.unwrap(), None);
}

pub const MS: i64 = 1_767_600_000_000;
const MINUTE: i64 = 60_000;

#[tokio::test]
async fn an_idempotency_key_replays_its_first_answer() {
    let (_store, catalog) = open(&store_path("idem"), false);
    assert_eq!(
        catalog.idem_begin("ops", "k1", "req-a", MS).await.unwrap(),
        IdemBegin::Fresh
    );
    assert_eq!(
        catalog.idem_begin("ops", "k1", "req-a", MS + 1).await.unwrap(),
        IdemBegin::InProgress
    );
    assert_eq!(
        catalog.idem_begin("ops", "k1", "req-b", MS + 1).await.unwrap(),
        IdemBegin::Mismatch
    );
    // Another API key's Idempotency-Key of the same text is its own.
    assert_eq!(
        catalog.idem_begin("bot", "k1", "req-b", MS + 1).await.unwrap(),
        IdemBegin::Fresh
    );

    let body = b"{\"id\":\"r1\"}\x00\xff".to_vec();
    catalog.idem_finish("ops", "k1", 201, &body).await.unwrap();
    assert_eq!(
        catalog.idem_begin("ops", "k1", "req-a", MS + 2 * MINUTE).await.unwrap(),
        IdemBegin::Replay { status: 201, body }
    );
    assert_eq!(
        catalog.idem_begin("ops", "k1", "req-b", MS + 2 * MINUTE).await.unwrap(),
        IdemBegin::Mismatch
    );
    // Finishing again, or what was never begun, is refused.
    assert!(matches!(
        catalog.idem_finish("ops", "k1", 200, b"x").await,
        Err(CatalogError::NotFound(_))
    ));
    assert!(matches!(
        catalog.idem_finish("ops", "never", 200, b"x").await,
        Err(CatalogError::NotFound(_))
    ));
}

#[tokio::test]
async fn an_abandoned_request_is_tried_afresh() {
    let (_store, catalog) = open(&store_path("abandon"), false);
    assert_eq!(
        catalog.idem_begin("ops", "k", "req", MS).await.unwrap(),
        IdemBegin::Fresh
    );
    catalog.idem_abandon("ops", "k").await.unwrap();
    assert_eq!(
        catalog.idem_begin("ops", "k", "other", MS).await.unwrap(),
        IdemBegin::Fresh
    );
    // Abandoning what is not in progress changes nothing.
    catalog.idem_abandon("ops", "none").await.unwrap();
    catalog.idem_finish("ops", "k", 422, b"bad").await.unwrap();
    catalog.idem_abandon("ops", "k").await.unwrap();
    assert!(matches!(
        catalog.idem_begin("ops", "k", "other", MS).await.unwrap(),
        IdemBegin::Replay { status: 422, .. }
    ));
}

#[tokio::test]
async fn a_request_in_progress_for_10_minutes_counts_as_abandoned() {
    let (_store, catalog) = open(&store_path("stale"), false);
    assert_eq!(
        catalog.idem_begin("ops", "k", "req", MS).await.unwrap(),
        IdemBegin::Fresh
    );
    assert_eq!(
        catalog.idem_begin("ops", "k", "req", MS + 10 * MINUTE).await.unwrap(),
        IdemBegin::InProgress
    );
    assert_eq!(
        catalog
            .idem_begin("ops", "k", "req2", MS + 10 * MINUTE + 1)
            .await
            .unwrap(),
        IdemBegin::Fresh
    );
    // The new holder's request is the one compared from now on.
    assert_eq!(
        catalog
            .idem_begin("ops", "k", "req", MS + 10 * MINUTE + 2)
            .await
            .unwrap(),
        IdemBegin::Mismatch
    );
}

#[tokio::test]
async fn an_idempotency_key_expires_after_24_hours() {
    let (_store, catalog) = open(&store_path("expiry"), false);
    let day = 24 * 60 * MINUTE;
    assert_eq!(
        catalog.idem_begin("ops", "k", "req", MS).await.unwrap(),
        IdemBegin::Fresh
    );
    catalog.idem_finish("ops", "k", 201, b"first").await.unwrap();
    assert!(matches!(
        catalog.idem_begin("ops", "k", "req", MS + day).await.unwrap(),
        IdemBegin::Replay { .. }
    ));
    assert_eq!(
        catalog.idem_begin("ops", "k", "new", MS + day + 1).await.unwrap(),
        IdemBegin::Fresh
    );
    catalog.idem_finish("ops", "k", 201, b"second").await.unwrap();
    assert_eq!(
        catalog.idem_begin("ops", "k", "new", MS + day + 2).await.unwrap(),
        IdemBegin::Replay {
            status: 201,
            body: b"second".to_vec()
        }
    );
}
