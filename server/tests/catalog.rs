//! The SQLite catalog against a real store file: every method of `Catalog`,
//! its rules (numbering, activation, titles, pagination), keys, idempotency,
//! the exclusive lock, reopening and schema versions.

use flow_runtime::store::SqliteStore;
use flow_server::catalog::{
    Catalog, CatalogError, IdemBegin, NewRevision, RevisionStatus, Scope, Settings, SqliteCatalog,
};
use serde_json::json;
use std::path::{Path, PathBuf};

/// A fresh folder for one test, and the store path inside it.
fn store_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flow-catalog-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("runs.sqlite")
}

/// Opens the run store first (it creates its tables), as `flow serve` and `flow keys` do.
fn open(path: &Path, exclusive: bool) -> (SqliteStore, SqliteCatalog) {
    let store = SqliteStore::open(path).unwrap();
    let catalog = SqliteCatalog::open(path, exclusive).unwrap();
    (store, catalog)
}

fn compiled(title: Option<&str>, source: &str) -> NewRevision {
    let graph = format!("{{\"source\":{source:?}}}");
    NewRevision {
        status: RevisionStatus::Compiled,
        title: title.map(str::to_string),
        source: source.to_string(),
        diagnostics: json!([]),
        graph_hash: Some(flow_server::keys::hash(&graph)),
        graph: Some(graph),
    }
}

fn failed(title: Option<&str>, source: &str) -> NewRevision {
    NewRevision {
        status: RevisionStatus::Failed,
        title: title.map(str::to_string),
        source: source.to_string(),
        diagnostics: json!([{"code": "E0001", "severity": "error", "message": "expected `}`"}]),
        graph: None,
        graph_hash: None,
    }
}

const T0: &str = "2026-01-05T09:00:00.000Z";
const T1: &str = "2026-01-05T09:01:00.000Z";
const T2: &str = "2026-01-05T09:02:00.000Z";
const T3: &str = "2026-01-05T09:03:00.000Z";

#[tokio::test]
async fn a_workflow_is_created_once_with_its_first_revision() {
    let (_store, catalog) = open(&store_path("create"), false);
    let (workflow, revision) = catalog
        .create_workflow("support", compiled(Some("Support"), "v1"), T0)
        .await
        .unwrap();
    assert_eq!(workflow.name, "support");
    assert_eq!(workflow.active_revision, Some(1));
    assert_eq!(workflow.latest_revision, 1);
    assert_eq!(workflow.title.as_deref(), Some("Support"));
    assert_eq!((workflow.created.as_str(), workflow.updated.as_str()), (T0, T0));
    assert_eq!((workflow.max_concurrent_runs, workflow.idle_timeout), (None, None));
    assert_eq!(revision.revision, 1);
    assert_eq!(revision.workflow, "support");
    assert_eq!(revision.created, T0);
    assert_eq!(catalog.workflow("support").await.unwrap(), Some(workflow));
    assert_eq!(catalog.revision("support", 1).await.unwrap(), Some(revision));

    let again = catalog.create_workflow("support", compiled(None, "v1 again"), T1).await;
    assert!(
        matches!(&again, Err(CatalogError::Conflict(m)) if m.contains("support")),
        "{again:?}"
    );
    // Nothing of the refused one was stored.
    assert_eq!(catalog.revisions("support", None, 10).await.unwrap().len(), 1);
    assert_eq!(catalog.workflow("nobody").await.unwrap(), None);
    assert_eq!(catalog.revision("support", 2).await.unwrap(), None);
    assert_eq!(catalog.revision("support", u64::MAX).await.unwrap(), None);
}

#[tokio::test]
async fn a_revision_keeps_every_field_exactly() {
    let (_store, catalog) = open(&store_path("fields"), false);
    let bad = failed(Some("Broken"), "workflow broken {");
    let (workflow, revision) = catalog.create_workflow("broken", bad.clone(), T0).await.unwrap();
    let stored = catalog.revision("broken", 1).await.unwrap().unwrap();
    assert_eq!(stored, revision);
    assert_eq!(stored.status, RevisionStatus::Failed);
    assert_eq!(stored.source, bad.source);
    assert_eq!(stored.diagnostics, bad.diagnostics);
    assert_eq!((stored.graph, stored.graph_hash), (None, None));
    assert_eq!(workflow.active_revision, None);

    let good = compiled(None, "workflow broken {}\n");
    let second = catalog.add_revision("broken", good.clone(), false, T1).await.unwrap();
    let stored = catalog.revision("broken", 2).await.unwrap().unwrap();
    assert_eq!(stored, second);
    assert_eq!(stored.graph, good.graph);
    assert_eq!(stored.graph_hash, good.graph_hash);
}

#[tokio::test]
async fn revisions_are_numbered_and_activated_by_the_rules() {
    let (_store, catalog) = open(&store_path("activation"), false);
    // A failed first revision: created, nothing active.
    let (workflow, _) = catalog.create_workflow("wf", failed(None, "1"), T0).await.unwrap();
    assert_eq!(workflow.active_revision, None);
    // Another failed one, even asked to activate: still nothing active.
    let r2 = catalog.add_revision("wf", failed(None, "2"), true, T1).await.unwrap();
    assert_eq!(r2.revision, 2);
    assert_eq!(catalog.workflow("wf").await.unwrap().unwrap().active_revision, None);
    // The first that compiles is activated even with activate = false.
    let r3 = catalog
        .add_revision("wf", compiled(None, "3"), false, T1)
        .await
        .unwrap();
    assert_eq!(r3.revision, 3);
    assert_eq!(catalog.workflow("wf").await.unwrap().unwrap().active_revision, Some(3));
    // A later compiled one with activate = false is not.
    catalog
        .add_revision("wf", compiled(None, "4"), false, T2)
        .await
        .unwrap();
    let workflow = catalog.workflow("wf").await.unwrap().unwrap();
    assert_eq!((workflow.active_revision, workflow.latest_revision), (Some(3), 4));
    // With activate = true it is.
    catalog.add_revision("wf", compiled(None, "5"), true, T2).await.unwrap();
    assert_eq!(catalog.workflow("wf").await.unwrap().unwrap().active_revision, Some(5));
    // Rollback: an older compiled revision is activated.
    let workflow = catalog.activate("wf", 3, T3).await.unwrap();
    assert_eq!((workflow.active_revision, workflow.updated.as_str()), (Some(3), T3));
    // A failed one cannot be.
    let refused = catalog.activate("wf", 2, T3).await;
    assert!(
        matches!(&refused, Err(CatalogError::Conflict(m)) if m.contains("revision 2")),
        "{refused:?}"
    );
    assert_eq!(catalog.workflow("wf").await.unwrap().unwrap().active_revision, Some(3));
    // Unknown revision or workflow.
    assert!(matches!(
        catalog.activate("wf", 9, T3).await,
        Err(CatalogError::NotFound(_))
    ));
    assert!(matches!(
        catalog.activate("nope", 1, T3).await,
        Err(CatalogError::NotFound(_))
    ));
    assert!(matches!(
        catalog.add_revision("nope", compiled(None, "x"), true, T3).await,
        Err(CatalogError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_revision_must_say_consistently_whether_it_compiled() {
    let (_store, catalog) = open(&store_path("consistent"), false);
    let mut no_graph = compiled(None, "x");
    no_graph.graph = None;
    assert!(matches!(
        catalog.create_workflow("wf", no_graph, T0).await,
        Err(CatalogError::Conflict(_))
    ));
    let mut failed_with_graph = failed(None, "x");
    failed_with_graph.graph_hash = Some("abc".into());
    catalog.create_workflow("wf", failed(None, "x"), T0).await.unwrap();
    assert!(matches!(
        catalog.add_revision("wf", failed_with_graph, false, T1).await,
        Err(CatalogError::Conflict(_))
    ));
    assert_eq!(catalog.workflow("wf").await.unwrap().unwrap().latest_revision, 1);
}

#[tokio::test]
async fn the_title_is_the_active_revisions_else_the_latests() {
    let (_store, catalog) = open(&store_path("title"), false);
    catalog
        .create_workflow("wf", failed(Some("Draft"), "1"), T0)
        .await
        .unwrap();
    assert_eq!(
        catalog.workflow("wf").await.unwrap().unwrap().title.as_deref(),
        Some("Draft")
    );
    catalog
        .add_revision("wf", failed(Some("Draft 2"), "2"), false, T1)
        .await
        .unwrap();
    assert_eq!(
        catalog.workflow("wf").await.unwrap().unwrap().title.as_deref(),
        Some("Draft 2")
    );
    catalog
        .add_revision("wf", compiled(Some("Live"), "3"), false, T1)
        .await
        .unwrap();
    catalog
        .add_revision("wf", compiled(Some("Next"), "4"), false, T1)
        .await
        .unwrap();
    // Active is 3: its title, not the latest's.
    assert_eq!(
        catalog.workflow("wf").await.unwrap().unwrap().title.as_deref(),
        Some("Live")
    );
    // An active revision without a title: no title, though others have one.
    catalog.add_revision("wf", compiled(None, "5"), true, T2).await.unwrap();
    catalog
        .add_revision("wf", failed(Some("Six"), "6"), false, T2)
        .await
        .unwrap();
    catalog
        .add_revision("wf", compiled(Some("Seven"), "7"), false, T2)
        .await
        .unwrap();
    let listed = catalog.workflows(None, 10).await.unwrap();
    assert_eq!(listed[0].title, None);
    catalog.activate("wf", 4, T3).await.unwrap();
    assert_eq!(
        catalog.workflow("wf").await.unwrap().unwrap().title.as_deref(),
        Some("Next")
    );
}

#[tokio::test]
async fn updated_moves_on_revisions_activation_and_settings_only() {
    let (_store, catalog) = open(&store_path("updated"), false);
    catalog.create_workflow("wf", compiled(None, "1"), T0).await.unwrap();
    catalog
        .add_revision("wf", compiled(None, "2"), false, T1)
        .await
        .unwrap();
    let workflow = catalog.workflow("wf").await.unwrap().unwrap();
    assert_eq!((workflow.created.as_str(), workflow.updated.as_str()), (T0, T1));
    catalog.activate("wf", 2, T2).await.unwrap();
    assert_eq!(catalog.workflow("wf").await.unwrap().unwrap().updated, T2);
    // Reads and a refused change leave it.
    let _ = catalog.activate("wf", 7, T3).await;
    let _ = catalog.revisions("wf", None, 5).await.unwrap();
    assert_eq!(catalog.workflow("wf").await.unwrap().unwrap().updated, T2);
    let settings = Settings {
        max_concurrent_runs: Some(Some(3)),
        idle_timeout: None,
    };
    assert_eq!(catalog.update_settings("wf", &settings, T3).await.unwrap().updated, T3);
}

#[tokio::test]
async fn settings_are_set_kept_and_removed() {
    let path = store_path("settings");
    let (_store, catalog) = open(&path, false);
    catalog.create_workflow("wf", compiled(None, "1"), T0).await.unwrap();
    let both = Settings {
        max_concurrent_runs: Some(Some(5)),
        idle_timeout: Some(Some(3600)),
    };
    let workflow = catalog.update_settings("wf", &both, T1).await.unwrap();
    assert_eq!(
        (workflow.max_concurrent_runs, workflow.idle_timeout),
        (Some(5), Some(3600))
    );
    // None leaves a setting as it is; Some(None) removes it.
    let only_limit = Settings {
        max_concurrent_runs: Some(None),
        idle_timeout: None,
    };
    let workflow = catalog.update_settings("wf", &only_limit, T2).await.unwrap();
    assert_eq!(
        (workflow.max_concurrent_runs, workflow.idle_timeout),
        (None, Some(3600))
    );
    assert_eq!(catalog.workflow("wf").await.unwrap(), Some(workflow));
    let missing = catalog.update_settings("nope", &both, T2).await;
    assert!(
        matches!(&missing, Err(CatalogError::NotFound(m)) if m.contains("nope")),
        "{missing:?}"
    );
    let huge = Settings {
        max_concurrent_runs: None,
        idle_timeout: Some(Some(u64::MAX)),
    };
    assert!(catalog.update_settings("wf", &huge, T3).await.is_err());
    assert_eq!(catalog.workflow("wf").await.unwrap().unwrap().idle_timeout, Some(3600));
}

#[tokio::test]
async fn workflows_and_revisions_page_in_order() {
    let (_store, catalog) = open(&store_path("pages"), false);
    for name in ["delta", "alpha", "charlie", "bravo", "echo"] {
        catalog.create_workflow(name, compiled(None, name), T0).await.unwrap();
    }
    let names = |rows: Vec<flow_server::catalog::WorkflowRow>| rows.into_iter().map(|w| w.name).collect::<Vec<_>>();
    assert_eq!(names(catalog.workflows(None, 2).await.unwrap()), ["alpha", "bravo"]);
    assert_eq!(
        names(catalog.workflows(Some("bravo"), 2).await.unwrap()),
        ["charlie", "delta"]
    );
    assert_eq!(names(catalog.workflows(Some("delta"), 2).await.unwrap()), ["echo"]);
    assert!(catalog.workflows(Some("echo"), 2).await.unwrap().is_empty());
    assert!(catalog.workflows(None, 0).await.unwrap().is_empty());
    assert_eq!(catalog.workflows(None, usize::MAX).await.unwrap().len(), 5);

    for n in 2..=6 {
        catalog
            .add_revision("alpha", compiled(None, &n.to_string()), false, T1)
            .await
            .unwrap();
    }
    let numbers =
        |rows: Vec<flow_server::catalog::RevisionRow>| rows.into_iter().map(|r| r.revision).collect::<Vec<_>>();
    assert_eq!(numbers(catalog.revisions("alpha", None, 2).await.unwrap()), [6, 5]);
    assert_eq!(numbers(catalog.revisions("alpha", Some(5), 2).await.unwrap()), [4, 3]);
    assert_eq!(numbers(catalog.revisions("alpha", Some(3), 5).await.unwrap()), [2, 1]);
    assert!(catalog.revisions("alpha", Some(1), 5).await.unwrap().is_empty());
    assert_eq!(
        numbers(catalog.revisions("alpha", Some(u64::MAX), 1).await.unwrap()),
        [6]
    );
    // Another workflow's revisions are its own.
    assert_eq!(numbers(catalog.revisions("bravo", None, 10).await.unwrap()), [1]);
    assert!(catalog.revisions("nope", None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_deleted_workflow_can_be_created_again_from_revision_1() {
    let (_store, catalog) = open(&store_path("delete"), false);
    catalog
        .create_workflow("wf", compiled(Some("Old"), "1"), T0)
        .await
        .unwrap();
    catalog.add_revision("wf", compiled(None, "2"), true, T1).await.unwrap();
    catalog.create_workflow("other", compiled(None, "o"), T0).await.unwrap();
    assert!(catalog.delete_workflow("wf").await.unwrap());
    assert_eq!(catalog.workflow("wf").await.unwrap(), None);
    assert!(catalog.revisions("wf", None, 10).await.unwrap().is_empty());
    assert_eq!(catalog.revision("wf", 2).await.unwrap(), None);
    assert!(!catalog.delete_workflow("wf").await.unwrap());
    // The other workflow is untouched.
    assert_eq!(catalog.revisions("other", None, 10).await.unwrap().len(), 1);

    let (workflow, revision) = catalog
        .create_workflow("wf", failed(Some("New"), "n1"), T2)
        .await
        .unwrap();
    assert_eq!(revision.revision, 1);
    assert_eq!(revision.source, "n1");
    assert_eq!(workflow.latest_revision, 1);
    assert_eq!(workflow.active_revision, None);
    assert_eq!(workflow.title.as_deref(), Some("New"));
    assert_eq!(workflow.created, T2);
    assert_eq!(
        catalog
            .add_revision("wf", failed(None, "n2"), false, T3)
            .await
            .unwrap()
            .revision,
        2
    );
}

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

const MS: i64 = 1_767_600_000_000;
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
