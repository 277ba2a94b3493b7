//! Read commands (`flow runs`, `flow runs show`) on stores they cannot write:
//! they read, change nothing, and a missing store is named, not created.

mod common;

use common::{flow, temp_dir};
use std::path::Path;

const SAY: &str =
    "workflow hi {\n  start hello\n}\n\nsay hello {\n  \"Hello there.\"\n  -> bye\n}\n\nend bye {\n  outcome done\n}\n";

/// Every file below `dir` with its bytes, sorted by path.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.push((path.display().to_string(), Vec::new()));
                todo.push(path);
            } else {
                out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The store's folder cannot hold `-wal` / `-shm`: read-only by permissions
/// (for a normal user), and — because root ignores permissions — a folder in
/// the `-shm` file's place, which SQLite cannot open whoever runs it. Either
/// way a read-only open cannot get its shared memory and the immutable
/// fallback has to be taken.
#[cfg(unix)]
#[test]
fn read_commands_work_on_a_store_that_cannot_be_written() {
    let dir = temp_dir("store-readonly");
    std::fs::write(dir.join("hi.flow"), SAY).unwrap();
    let out = flow(&["run", "hi.flow", "--events", "events.jsonl"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let events = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(events.lines().next().unwrap()).unwrap();
    let id = first["run_id"].as_str().unwrap().to_string();
    let store = dir.join(".flow");
    assert!(
        !store.join("runs.sqlite-wal").exists(),
        "the last connection merged the WAL"
    );
    std::fs::create_dir(store.join("runs.sqlite-shm")).unwrap();
    set_mode(&store.join("runs.sqlite"), 0o444);
    set_mode(&store, 0o555);
    let before = snapshot(&store);

    let out = flow(&["runs"], &dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&id) && stdout.contains("completed"), "{stdout}");
    let out = flow(&["runs", "show", &id], &dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("state     completed"), "{stdout}");
    assert!(stdout.contains("says: Hello there."), "{stdout}");

    // SQLite may leave an empty `-wal` where the folder lets it (as root); it holds nothing.
    let after: Vec<_> = snapshot(&store)
        .into_iter()
        .filter(|(p, b)| !(p.ends_with("-wal") && b.is_empty()))
        .collect();
    let names = |s: &[(String, Vec<u8>)]| {
        s.iter()
            .map(|(p, b)| format!("{p} ({} bytes)", b.len()))
            .collect::<Vec<_>>()
    };
    assert!(
        after == before,
        "a read command changed the store's folder: {:?} -> {:?}",
        names(&before),
        names(&after)
    );
    set_mode(&store, 0o755);
}

#[test]
fn read_commands_name_a_missing_store_and_create_nothing() {
    let dir = temp_dir("store-missing");
    for args in [
        &["runs", "--store", "new/dir/x.sqlite"][..],
        &[
            "runs",
            "show",
            "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
            "--store",
            "new/dir/x.sqlite",
        ][..],
        &["runs"][..],
    ] {
        let out = flow(args, &dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("no run store at"), "{args:?}: {stderr}");
    }
    assert!(!dir.join("new").exists(), "a folder was created");
    assert!(!dir.join(".flow").exists(), "a store was created");
}
