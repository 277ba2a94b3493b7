//! `flow keys create|list|revoke` from the binary: what each prints, exit
//! statuses, that the key itself is never stored, and that the commands work
//! beside a running server's exclusive hold of the store.

mod common;

use common::{flow, temp_dir};
use flow_server::catalog::{Catalog, Scope, SqliteCatalog};
use std::path::Path;
use std::process::{Command, Output};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// `flow keys ARGS` with a store of its own in `dir`.
fn keys(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["keys"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--store", "store/runs.sqlite"]);
    flow(&all, dir)
}

/// Creates a key and returns what stdout printed, checking it is one key alone.
fn create(dir: &Path, name: &str, scope: &str) -> String {
    let out = keys(dir, &["create", name, "--scope", scope]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let key = stdout.strip_suffix('\n').expect("one line");
    assert!(!key.contains('\n'), "more than the key on stdout: {stdout:?}");
    assert_eq!(key.len(), 48, "{key}");
    let body = key.strip_prefix("flow_").expect("flow_ prefix");
    assert!(
        body.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{key}"
    );
    assert!(text(&out.stderr).contains("not shown again"), "{}", text(&out.stderr));
    key.to_string()
}

#[test]
fn create_prints_the_key_alone_and_list_shows_it_without_the_key() {
    let dir = temp_dir("keys-create");
    let admin = create(&dir, "ops", "admin");
    let review = create(&dir, "reviewer.1", "review");
    assert_ne!(admin, review);

    let out = keys(&dir, &["list"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 3, "{listing}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["NAME", "SCOPE", "CREATED"]);
    let ops: Vec<&str> = lines[1].split_whitespace().collect();
    let reviewer: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(&ops[..2], ["ops", "admin"], "{listing}");
    assert_eq!(&reviewer[..2], ["reviewer.1", "review"], "{listing}");
    assert!(ops[2].parse::<jiff::Timestamp>().is_ok(), "{listing}");
    for key in [&admin, &review] {
        assert!(!listing.contains(key.as_str()), "{listing}");
        assert!(!listing.contains(&flow_server::keys::hash(key)), "{listing}");
    }
}

#[test]
fn the_store_keeps_the_keys_hash_and_never_the_key() {
    let dir = temp_dir("keys-stored");
    let path = dir.join("store/runs.sqlite");
    drop(flow_runtime::store::SqliteStore::open(&path).unwrap());
    // Held open, this connection keeps the WAL file in place after the command ends.
    let catalog = SqliteCatalog::open(&path, false).unwrap();
    let key = create(&dir, "ops", "run");
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend(std::fs::read(&wal).unwrap());
    let haystack = String::from_utf8_lossy(&bytes);
    assert!(!haystack.contains(&key), "the key is in the store's files");
    assert!(
        !haystack.contains(&key["flow_".len()..]),
        "the key is in the store's files"
    );
    let hash = flow_server::keys::hash(&key);
    assert!(
        haystack.contains(&hash),
        "the hash should be there: the wrong files were read"
    );

    // The hash stored is the printed key's: the server finds the key by it.
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let found = tokio.block_on(catalog.key_by_hash(&hash)).unwrap().unwrap();
    assert_eq!((found.name.as_str(), found.scope), ("ops", Scope::Run));
}

#[test]
fn revoke_removes_a_key_and_frees_its_name() {
    let dir = temp_dir("keys-revoke");
    let first = create(&dir, "ci", "run");
    let out = keys(&dir, &["revoke", "ci"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("revoked ci"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());

    let out = keys(&dir, &["list"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("no keys"), "{}", text(&out.stderr));

    let second = create(&dir, "ci", "review");
    assert_ne!(first, second);
    let listing = text(&keys(&dir, &["list"]).stdout);
    assert_eq!(listing.lines().count(), 2, "{listing}");
    assert!(listing.lines().nth(1).unwrap().contains("review"), "{listing}");
}

#[test]
fn revoking_an_unknown_key_exits_1() {
    let dir = temp_dir("keys-unknown");
    create(&dir, "ops", "admin");
    let out = keys(&dir, &["revoke", "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("error: no key named nobody"),
        "{}",
        text(&out.stderr)
    );
    // A name no key can have is quoted, control characters and all.
    let out = keys(&dir, &["revoke", "a\u{1b}[2Jb"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!text(&out.stderr).contains('\u{1b}'), "{:?}", text(&out.stderr));
}

#[test]
fn a_bad_scope_a_bad_name_and_a_duplicate_exit_2() {
    let dir = temp_dir("keys-bad");
    let out = keys(&dir, &["create", "ops", "--scope", "root"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("root"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let out = keys(&dir, &["create", "ops"]);
    assert_eq!(out.status.code(), Some(2), "--scope is required");

    for bad in ["", "has space", "a/b", &"n".repeat(65)] {
        let out = keys(&dir, &["create", bad, "--scope", "run"]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(out.stdout.is_empty(), "{bad:?}");
        assert!(text(&out.stderr).contains("1 to 64"), "{}", text(&out.stderr));
    }
    assert!(!dir.join("store").exists(), "a refused name opens no store");

    let key = create(&dir, "ops", "admin");
    let out = keys(&dir, &["create", "ops", "--scope", "run"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no second key is printed");
    assert!(
        text(&out.stderr).contains("error: a key named ops exists"),
        "{}",
        text(&out.stderr)
    );
    let listing = text(&keys(&dir, &["list"]).stdout);
    assert_eq!(listing.lines().count(), 2, "{listing}");
    assert!(listing.contains("admin"), "the first key is unchanged: {listing}");
    assert!(!listing.contains(&key));
}

#[test]
fn the_commands_work_while_a_server_holds_the_store() {
    let dir = temp_dir("keys-beside");
    let path = dir.join("store/runs.sqlite");
    drop(flow_runtime::store::SqliteStore::open(&path).unwrap());
    let server = SqliteCatalog::open(&path, true).unwrap();
    let key = create(&dir, "ops", "admin");
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let hash = flow_server::keys::hash(&key);
    assert!(tokio.block_on(server.key_by_hash(&hash)).unwrap().is_some());
    assert_eq!(keys(&dir, &["list"]).status.code(), Some(0));
    assert_eq!(keys(&dir, &["revoke", "ops"]).status.code(), Some(0));
    assert!(
        tokio.block_on(server.key_by_hash(&hash)).unwrap().is_none(),
        "a revoke counts at once"
    );
}

/// `flow keys ARGS` with an environment of its own (no `--store`).
fn with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flow"));
    command.arg("keys").args(args).current_dir(dir);
    command.env_remove("FLOW_STORE").env_remove("FLOW_CLOCK");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[test]
fn the_store_comes_from_flow_store_else_the_default() {
    let dir = temp_dir("keys-env");
    let out = with_env(
        &dir,
        &["create", "ops", "--scope", "run"],
        &[
            ("FLOW_STORE", "elsewhere.sqlite"),
            ("FLOW_CLOCK", "2026-01-05T09:00:00Z"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(dir.join("elsewhere.sqlite").is_file());
    let listing = text(&with_env(&dir, &["list"], &[("FLOW_STORE", "elsewhere.sqlite")]).stdout);
    assert!(
        listing.contains("2026-01-05T09:00:00Z"),
        "FLOW_CLOCK dates the key: {listing}"
    );

    let out = with_env(&dir, &["list"], &[("FLOW_CLOCK", "tomorrow")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("FLOW_CLOCK"), "{}", text(&out.stderr));
    assert!(!dir.join(".flow").exists(), "a bad clock opens no store");

    let out = with_env(&dir, &["list"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(dir.join(".flow/runs.sqlite").is_file(), "the default store");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

#[test]
fn a_postgres_store_is_refused_for_now() {
    let dir = temp_dir("keys-postgres");
    for args in [
        &["list", "--store", "postgres://db.example/flow"][..],
        &[
            "create",
            "ops",
            "--scope",
            "run",
            "--store",
            "postgres://db.example/flow",
        ][..],
    ] {
        let out = with_env(&dir, args, &[]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains("error: PostgreSQL stores are not supported yet"),
            "{}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
    let out = with_env(&dir, &["list"], &[("FLOW_STORE", "postgresql://db.example/flow")]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing was created");
}
