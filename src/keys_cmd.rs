//! `flow keys create|list|revoke`: the API keys of `flow serve` (SERVER.md,
//! "Keys, start, stop"). They work on the store's file while a server runs:
//! the server looks keys up per request, so a new or revoked key counts at
//! once. A key is printed once, by `create`, and never stored: the store
//! keeps its SHA-256.

use crate::run_cmd::{open_store, store_path};
use crate::{EXIT_USAGE, clock_env, terminal, wait};
use clap::Subcommand;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use flow_server::catalog::{Catalog, CatalogError, Scope, SqliteCatalog};
use flow_server::keys;
use std::path::{Path, PathBuf};

/// Exit status 1: the key named does not exist.
const EXIT_NO_KEY: u8 = 1;

/// What `flow keys` does.
#[derive(Subcommand)]
pub enum KeysCommand {
    /// Make a key and print it (once: it is not stored, only its hash).
    Create {
        /// Its name: 1 to 64 of A-Z a-z 0-9 _ . -
        name: String,
        /// What it may do.
        #[arg(long, value_parser = scope_parser())]
        scope: Scope,
        /// The store (default: `$FLOW_STORE`, else `.flow/runs.sqlite`).
        #[arg(long, value_name = "PATH")]
        store: Option<PathBuf>,
    },
    /// List the keys: name, scope, when made (never the keys themselves).
    List {
        /// The store (default: `$FLOW_STORE`, else `.flow/runs.sqlite`).
        #[arg(long, value_name = "PATH")]
        store: Option<PathBuf>,
    },
    /// Revoke a key at once; its name can then be given to a new key.
    Revoke {
        /// The key's name.
        name: String,
        /// The store (default: `$FLOW_STORE`, else `.flow/runs.sqlite`).
        #[arg(long, value_name = "PATH")]
        store: Option<PathBuf>,
    },
}

/// `--scope`: the names [`Scope::as_str`] gives, read back with [`Scope::parse`].
fn scope_parser() -> impl TypedValueParser<Value = Scope> {
    PossibleValuesParser::new(Scope::ALL.map(Scope::as_str))
        .try_map(|name| Scope::parse(&name).ok_or_else(|| format!("unknown scope `{name}`")))
}

/// Runs a `flow keys` command; its exit status.
pub fn run(command: KeysCommand) -> u8 {
    match command {
        KeysCommand::Create { name, scope, store } => create(&name, scope, store.as_deref()),
        KeysCommand::List { store } => list(store.as_deref()),
        KeysCommand::Revoke { name, store } => revoke(&name, store.as_deref()),
    }
}

/// Opens the run store (creating or upgrading its tables), then the catalog
/// beside it, not exclusively; or says why not (exit 2).
fn open(given: Option<&Path>) -> Result<SqliteCatalog, u8> {
    let path = store_path(given);
    let text = path.to_string_lossy();
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        return Err(fail("PostgreSQL stores are not supported yet"));
    }
    let store = open_store(Some(&path))?;
    let catalog = SqliteCatalog::open(&path, false).map_err(|e| fail(&e.to_string()))?;
    drop(store);
    Ok(catalog)
}

/// Waits for a catalog call from this synchronous command.
fn call<T>(future: impl Future<Output = Result<T, CatalogError>>) -> Result<T, CatalogError> {
    wait::wait(future).unwrap_or_else(|e| Err(CatalogError::Io(e)))
}

fn fail(message: &str) -> u8 {
    eprintln!("error: {message}");
    EXIT_USAGE
}

fn create(name: &str, scope: Scope, given: Option<&Path>) -> u8 {
    if let Err(rule) = keys::check_name(name) {
        return fail(&format!("{rule} ({name:?} is not)"));
    }
    let catalog = match open(given) {
        Ok(catalog) => catalog,
        Err(code) => return code,
    };
    let key = match keys::generate() {
        Ok(key) => key,
        Err(e) => return fail(&e),
    };
    let now = flow_runtime::clock::rfc3339(clock_env::clock().now());
    match call(catalog.create_key(name, scope, &keys::hash(&key), &now)) {
        Ok(_) => {
            outln!("{key}");
            eprintln!(
                "created the {} key {name}: store it now: it is not shown again",
                scope.as_str()
            );
            0
        }
        Err(e) => fail(&e.to_string()),
    }
}

fn list(given: Option<&Path>) -> u8 {
    let catalog = match open(given) {
        Ok(catalog) => catalog,
        Err(code) => return code,
    };
    let rows = match call(catalog.keys()) {
        Ok(rows) => rows,
        Err(e) => return fail(&e.to_string()),
    };
    if rows.is_empty() {
        eprintln!("no keys in {}", store_path(given).display());
        return 0;
    }
    let names: Vec<String> = rows.iter().map(|k| terminal::escape(&k.name)).collect();
    let w_name = names.iter().map(|n| n.chars().count()).max().unwrap_or(0).max(4);
    let w_scope = Scope::ALL.iter().map(|s| s.as_str().len()).max().unwrap_or(0).max(5);
    outln!("{:<w_name$}  {:<w_scope$}  CREATED", "NAME", "SCOPE");
    for (row, name) in rows.iter().zip(&names) {
        outln!("{name:<w_name$}  {:<w_scope$}  {}", row.scope.as_str(), row.created);
    }
    0
}

fn revoke(name: &str, given: Option<&Path>) -> u8 {
    let catalog = match open(given) {
        Ok(catalog) => catalog,
        Err(code) => return code,
    };
    // A name no key can have is shown quoted, so that it prints safely.
    let shown = match keys::check_name(name) {
        Ok(()) => name.to_string(),
        Err(_) => format!("{name:?}"),
    };
    match call(catalog.revoke_key(name)) {
        Ok(true) => {
            eprintln!("revoked {shown}");
            0
        }
        Ok(false) => {
            eprintln!("error: no key named {shown}");
            EXIT_NO_KEY
        }
        Err(e) => fail(&e.to_string()),
    }
}
