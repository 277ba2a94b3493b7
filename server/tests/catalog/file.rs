//! The catalog's file: one exclusive opener, reopening, the run store's tables left alone, versions.

use super::*;

#[tokio::test]
async fn only_one_exclusive_open_at_a_time() {
    let path = store_path("exclusive");
    let (_store, first) = open(&path, true);
    let second = SqliteCatalog::open(&path, true);
    let Err(CatalogError::Io(message)) = second else {
        panic!("a second exclusive open succeeded");
    };
    assert!(message.contains("another `flow serve` uses the store"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");

    // A non-exclusive one (flow keys) works beside it, and both see the same rows.
    let beside = SqliteCatalog::open(&path, false).unwrap();
    beside
        .create_key("ops", Scope::Admin, &"d".repeat(64), T0)
        .await
        .unwrap();
    assert_eq!(first.key_by_hash(&"d".repeat(64)).await.unwrap().unwrap().name, "ops");
    assert!(beside.revoke_key("ops").await.unwrap());
    assert_eq!(first.key_by_hash(&"d".repeat(64)).await.unwrap(), None);

    // Once the first is closed, another exclusive open works.
    drop(first);
    SqliteCatalog::open(&path, true).unwrap();
}

#[tokio::test]
async fn reopening_keeps_everything() {
    let path = store_path("reopen");
    {
        let (_store, catalog) = open(&path, true);
        catalog
            .create_workflow("wf", compiled(Some("T"), "1"), T0)
            .await
            .unwrap();
        catalog.add_revision("wf", failed(None, "2"), false, T1).await.unwrap();
        let settings = Settings {
            max_concurrent_runs: Some(Some(2)),
            idle_timeout: Some(Some(60)),
        };
        catalog.update_settings("wf", &settings, T2).await.unwrap();
        catalog
            .create_key("ops", Scope::Review, &"e".repeat(64), T0)
            .await
            .unwrap();
        catalog.idem_begin("ops", "k", "req", MS).await.unwrap();
        catalog.idem_finish("ops", "k", 201, b"body").await.unwrap();
    }
    let (_store, catalog) = open(&path, true);
    let workflow = catalog.workflow("wf").await.unwrap().unwrap();
    assert_eq!(workflow.active_revision, Some(1));
    assert_eq!(workflow.latest_revision, 2);
    assert_eq!(
        (workflow.max_concurrent_runs, workflow.idle_timeout),
        (Some(2), Some(60))
    );
    assert_eq!(workflow.updated, T2);
    assert_eq!(
        catalog.revision("wf", 2).await.unwrap().unwrap().status,
        RevisionStatus::Failed
    );
    assert_eq!(
        catalog.key_by_hash(&"e".repeat(64)).await.unwrap().unwrap().scope,
        Scope::Review
    );
    assert_eq!(
        catalog.idem_begin("ops", "k", "req", MS + 1).await.unwrap(),
        IdemBegin::Replay {
            status: 201,
            body: b"body".to_vec()
        }
    );
}

#[tokio::test]
async fn the_catalog_leaves_the_run_stores_tables_alone() {
    // The catalog may open a file first; the run store then creates its own tables.
    let path = store_path("beside");
    let catalog = SqliteCatalog::open(&path, false).unwrap();
    catalog
        .create_key("ops", Scope::Admin, &"f".repeat(64), T0)
        .await
        .unwrap();
    let store = SqliteStore::open(&path).unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 3, "the run store's version is its own");
    let runs: i64 = conn.query_row("SELECT count(*) FROM runs", [], |r| r.get(0)).unwrap();
    assert_eq!(runs, 0);
    drop(catalog);
    let (_store, catalog) = open(&path, false);
    assert_eq!(catalog.keys().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_store_of_a_newer_service_schema_is_refused() {
    let path = store_path("newer");
    drop(open(&path, false));
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE service_schema SET version = 99", []).unwrap();
    drop(conn);
    let Err(CatalogError::Io(message)) = SqliteCatalog::open(&path, false) else {
        panic!("a newer schema was accepted");
    };
    assert!(message.contains("version 99"), "{message}");
    assert!(message.contains("newer"), "{message}");
    // It was refused without being changed.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("SELECT version FROM service_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 99);
}

#[test]
fn calls_outside_a_tokio_runtime_work_instead_of_panicking() {
    let (_store, catalog) = open(&store_path("no-runtime"), false);
    let created = block_on_without_tokio(catalog.create_key("ops", Scope::Run, &"9".repeat(64), T0));
    assert_eq!(created.unwrap().name, "ops");
    assert_eq!(block_on_without_tokio(catalog.keys()).unwrap().len(), 1);
}

/// Polls a future to its end on this thread, with no tokio runtime around.
fn block_on_without_tokio<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut context) {
            return out;
        }
        std::thread::yield_now();
    }
}
