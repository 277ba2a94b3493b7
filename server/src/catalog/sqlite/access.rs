//! API keys (by hash) and idempotency keys, in SQL.
//!
//! A revoked key keeps its row (flagged) so its name can be given to a new
//! key; only keys not revoked must have distinct names. An idempotency key's
//! row holds the request's hash and, once answered, the status and body.

use super::io;
use super::workflows::immediate;
use crate::catalog::{CatalogError, IdemBegin, KeyRow, Scope};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, params};

/// How long an idempotency key is kept: 24 h.
const IDEM_KEEP_MS: i64 = 24 * 60 * 60 * 1000;
/// How long a request may stay in progress before it counts as abandoned: 10 min.
const IDEM_ABANDONED_MS: i64 = 10 * 60 * 1000;

fn key_row(row: &Row<'_>) -> rusqlite::Result<KeyRow> {
    let scope: String = row.get(1)?;
    let scope = Scope::parse(&scope).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(1, Type::Text, format!("unknown scope `{scope}`").into())
    })?;
    Ok(KeyRow {
        name: row.get(0)?,
        scope,
        created: row.get(2)?,
    })
}

/// Stores a key by its hash; Conflict when a key of that name (not revoked) exists.
pub(super) fn create_key(
    conn: &mut Connection,
    name: &str,
    scope: Scope,
    hash: &str,
    now: &str,
) -> Result<KeyRow, CatalogError> {
    let tx = immediate(conn)?;
    let what = format!("cannot store the key `{name}`");
    let taken = tx
        .query_row("SELECT 1 FROM api_keys WHERE name = ?1 AND revoked = 0", [name], |_| {
            Ok(())
        })
        .optional()
        .map_err(io(&what))?
        .is_some();
    if taken {
        return Err(CatalogError::Conflict(format!("a key named {name} exists")));
    }
    let same_hash = tx
        .query_row("SELECT 1 FROM api_keys WHERE hash = ?1", [hash], |_| Ok(()))
        .optional()
        .map_err(io(&what))?
        .is_some();
    if same_hash {
        // Never says the hash: it is as good as a name for the key.
        return Err(CatalogError::Conflict(format!(
            "the key given for `{name}` is already stored (under another name or revoked)"
        )));
    }
    tx.execute(
        "INSERT INTO api_keys (name, scope, hash, created) VALUES (?1, ?2, ?3, ?4)",
        params![name, scope.as_str(), hash, now],
    )
    .map_err(io(&what))?;
    tx.commit().map_err(io(&what))?;
    Ok(KeyRow {
        name: name.to_string(),
        scope,
        created: now.to_string(),
    })
}

/// The key with this hash, unless revoked.
pub(super) fn key_by_hash(conn: &Connection, hash: &str) -> Result<Option<KeyRow>, CatalogError> {
    conn.prepare_cached("SELECT name, scope, created FROM api_keys WHERE hash = ?1 AND revoked = 0")
        .and_then(|mut statement| statement.query_row([hash], key_row).optional())
        .map_err(io("cannot look up an API key"))
}

/// Every key not revoked, by name.
pub(super) fn keys(conn: &Connection) -> Result<Vec<KeyRow>, CatalogError> {
    let mut statement = conn
        .prepare_cached("SELECT name, scope, created FROM api_keys WHERE revoked = 0 ORDER BY name")
        .map_err(io("cannot list the API keys"))?;
    let rows = statement
        .query_map([], key_row)
        .map_err(io("cannot list the API keys"))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(io("cannot list the API keys"))
}

/// Revokes the key of that name; false when there was none.
pub(super) fn revoke_key(conn: &mut Connection, name: &str) -> Result<bool, CatalogError> {
    let changed = conn
        .execute(
            "UPDATE api_keys SET revoked = 1 WHERE name = ?1 AND revoked = 0",
            [name],
        )
        .map_err(io(&format!("cannot revoke the key `{name}`")))?;
    Ok(changed > 0)
}

/// What a stored idempotency key holds.
struct Held {
    request: String,
    state: String,
    status: Option<u16>,
    body: Option<Vec<u8>>,
    created_ms: i64,
}

/// Begins a request under an idempotency key (see `Catalog::idem_begin`).
/// Keys older than 24 h, of every owner, are removed on the way.
pub(super) fn idem_begin(
    conn: &mut Connection,
    owner: &str,
    key: &str,
    request: &str,
    now_ms: i64,
) -> Result<IdemBegin, CatalogError> {
    let tx = immediate(conn)?;
    let what = "cannot read or write an idempotency key";
    tx.execute(
        "DELETE FROM idempotency WHERE created_ms < ?1",
        [now_ms.saturating_sub(IDEM_KEEP_MS)],
    )
    .map_err(io(what))?;
    let held = tx
        .query_row(
            "SELECT request, state, status, body, created_ms FROM idempotency WHERE owner = ?1 AND key = ?2",
            params![owner, key],
            |row| {
                Ok(Held {
                    request: row.get(0)?,
                    state: row.get(1)?,
                    status: row.get(2)?,
                    body: row.get(3)?,
                    created_ms: row.get(4)?,
                })
            },
        )
        .optional()
        .map_err(io(what))?;
    let age = |held: &Held| now_ms.saturating_sub(held.created_ms);
    let answer = match held {
        Some(held) if age(&held) > IDEM_KEEP_MS => None,
        Some(held) if held.state == "in_progress" && age(&held) > IDEM_ABANDONED_MS => None,
        Some(held) if held.request != request => Some(IdemBegin::Mismatch),
        Some(held) if held.state == "in_progress" => Some(IdemBegin::InProgress),
        Some(held) => Some(IdemBegin::Replay {
            status: held.status.unwrap_or(500),
            body: held.body.unwrap_or_default(),
        }),
        None => None,
    };
    if let Some(answer) = answer {
        return Ok(answer);
    }
    tx.execute(
        "INSERT OR REPLACE INTO idempotency (owner, key, request, state, status, body, created_ms)
         VALUES (?1, ?2, ?3, 'in_progress', NULL, NULL, ?4)",
        params![owner, key, request, now_ms],
    )
    .map_err(io(what))?;
    tx.commit().map_err(io(what))?;
    Ok(IdemBegin::Fresh)
}

/// Records the answer of a request in progress; NotFound when none is.
pub(super) fn idem_finish(
    conn: &mut Connection,
    owner: &str,
    key: &str,
    status: u16,
    body: &[u8],
) -> Result<(), CatalogError> {
    let changed = conn
        .execute(
            "UPDATE idempotency SET state = 'done', status = ?3, body = ?4
             WHERE owner = ?1 AND key = ?2 AND state = 'in_progress'",
            params![owner, key, status, body],
        )
        .map_err(io("cannot record the answer of an idempotency key"))?;
    if changed == 0 {
        return Err(CatalogError::NotFound(format!(
            "no request is in progress under the idempotency key `{key}`"
        )));
    }
    Ok(())
}

/// Forgets a request in progress (nothing when there is none).
pub(super) fn idem_abandon(conn: &mut Connection, owner: &str, key: &str) -> Result<(), CatalogError> {
    conn.execute(
        "DELETE FROM idempotency WHERE owner = ?1 AND key = ?2 AND state = 'in_progress'",
        params![owner, key],
    )
    .map_err(io("cannot forget an idempotency key"))?;
    Ok(())
}
