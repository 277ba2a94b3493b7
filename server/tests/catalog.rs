//! The SQLite catalog against a real store file: every method of `Catalog`,
//! its rules (numbering, activation, titles, pagination), keys, idempotency,
//! the exclusive lock, reopening and schema versions.

use flow_runtime::store::SqliteStore;
use flow_server::catalog::{
    Catalog, CatalogError, IdemBegin, NewRevision, RevisionStatus, Scope, Settings, SqliteCatalog,
};
use serde_json::json;
use std::path::{Path, PathBuf};

#[path = "catalog/access.rs"]
mod access;
use access::MS;
#[path = "catalog/file.rs"]
mod file;

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
