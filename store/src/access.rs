//! Who may call the HTTP API, and what it already answered: bearer tokens (kept as their
//! SHA-256 only) and the first answer to each command a caller sent with an
//! `Idempotency-Key`, kept for a bounded time and number ([`IdempotencyRetention`]).
//!
//! Neither is an event: a token is a credential, not a business fact, and an idempotency
//! record is a cache of an answer. Both live beside the log in the same database.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use rand::RngCore;
use sablier_domain::text::TokenLabel;
use sha2::{Digest, Sha256};

use crate::database::{Database, on_pool};
use crate::error::StoreError;

/// What a token stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenGrant {
    pub token_id: String,
    pub login: String,
    /// `customer`, `agent`, `analyst` or `admin`.
    pub role: String,
    pub label: String,
    pub created_at: String,
    pub created_by: String,
    pub revoked_at: Option<String>,
}

/// A token just created: the secret is shown once and never stored.
#[derive(Clone, Debug)]
pub struct IssuedToken {
    pub secret: String,
    pub grant: TokenGrant,
}

/// The prefix of every secret, so that a leaked one is recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "sbl_";

/// Whether `secret` has the shape of a token this store issues (the prefix and 64 hex
/// digits): anything else is refused without a lookup.
pub fn could_be_token(secret: &str) -> bool {
    secret.strip_prefix(TOKEN_PREFIX).is_some_and(|random| {
        random.len() == 64 && random.bytes().all(|byte| byte.is_ascii_hexdigit())
    })
}

/// An instant as the API tables store it (RFC 3339, whole seconds, UTC).
pub(crate) fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The SHA-256 of a secret, in hex: what the database keeps.
pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[derive(sqlx::FromRow)]
struct GrantRow {
    token_id: String,
    login: String,
    role: String,
    label: String,
    created_at: String,
    created_by: String,
    revoked_at: Option<String>,
}

impl From<GrantRow> for TokenGrant {
    fn from(row: GrantRow) -> Self {
        Self {
            token_id: row.token_id,
            login: row.login,
            role: row.role,
            label: row.label,
            created_at: row.created_at,
            created_by: row.created_by,
            revoked_at: row.revoked_at,
        }
    }
}

const GRANT_COLUMNS: &str = "token_id, login, role, label, created_at, created_by, revoked_at";

/// The token table.
#[derive(Clone, Debug)]
pub struct Tokens {
    database: Database,
}

impl Tokens {
    pub fn new(database: Database) -> Self {
        Self { database }
    }

    /// Creates a token of 256 random bits for `login` acting as `role`. The label is a
    /// parsed [`TokenLabel`]: free text reaches the table only through its parser (no
    /// control character, which PostgreSQL's text could not hold in the case of NUL).
    pub async fn issue(
        &self,
        login: &str,
        role: &str,
        label: &TokenLabel,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, StoreError> {
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let secret = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
        let mut id_bytes = [0u8; 8];
        rand::thread_rng().fill_bytes(&mut id_bytes);
        let grant = TokenGrant {
            token_id: format!("tok_{}", hex::encode(id_bytes)),
            login: login.to_owned(),
            role: role.to_owned(),
            label: label.as_str().to_owned(),
            created_at: instant(now),
            created_by: created_by.to_owned(),
            revoked_at: None,
        };
        let sql = "INSERT INTO api_tokens (token_hash, token_id, login, role, label, created_at, created_by) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let hash = token_hash(&secret);
        on_pool!(&self.database, |pool| {
            sqlx::query(sql)
                .bind(&hash)
                .bind(&grant.token_id)
                .bind(&grant.login)
                .bind(&grant.role)
                .bind(&grant.label)
                .bind(&grant.created_at)
                .bind(&grant.created_by)
                .execute(pool)
                .await?;
        });
        Ok(IssuedToken { secret, grant })
    }

    /// The grant of a secret, if it exists and is not revoked.
    pub async fn find(&self, secret: &str) -> Result<Option<TokenGrant>, StoreError> {
        let sql = format!(
            "SELECT {GRANT_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
        );
        let hash = token_hash(secret);
        let row: Option<GrantRow> = on_pool!(&self.database, |pool| {
            sqlx::query_as(&sql)
                .bind(&hash)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(TokenGrant::from))
    }

    /// Every token, revoked ones included, oldest first.
    pub async fn list(&self) -> Result<Vec<TokenGrant>, StoreError> {
        let sql = format!("SELECT {GRANT_COLUMNS} FROM api_tokens ORDER BY created_at, token_id");
        let rows: Vec<GrantRow> = on_pool!(&self.database, |pool| sqlx::query_as(&sql)
            .fetch_all(pool)
            .await?);
        Ok(rows.into_iter().map(TokenGrant::from).collect())
    }

    /// Revokes a token; `false` when no live token has this id.
    pub async fn revoke(&self, token_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let sql =
            "UPDATE api_tokens SET revoked_at = $1 WHERE token_id = $2 AND revoked_at IS NULL";
        let at = instant(now);
        let affected = on_pool!(&self.database, |pool| sqlx::query(sql)
            .bind(&at)
            .bind(token_id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(affected == 1)
    }

    /// Whether any token was ever created (a fresh database gets a first admin token).
    pub async fn any(&self) -> Result<bool, StoreError> {
        let sql = "SELECT COUNT(*) FROM api_tokens";
        let count: i64 = on_pool!(&self.database, |pool| sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await?);
        Ok(count > 0)
    }
}

/// What the first request with a key left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// The key is new: the caller now holds it and must `complete` or `release` it.
    Reserved,
    /// A request with this key is still running.
    InProgress,
    /// The key was used for a different request (another route or body).
    Mismatch,
    /// The first answer, to send again.
    Answered { status: u16, body: String },
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    fingerprint: String,
    status: Option<i64>,
    body: Option<String>,
}

/// How long idempotency records are kept, and how many per caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdempotencyRetention {
    /// A record older than this (counted from the first request with its key) is
    /// forgotten: a request with its key runs as a new one.
    pub ttl: Duration,
    /// The most answered records a caller keeps: each [`IdempotencyKeys::sweep`] deletes
    /// a caller's oldest answered records beyond it.
    pub records_per_caller: u32,
}

impl Default for IdempotencyRetention {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(24 * 60 * 60),
            records_per_caller: 10_000,
        }
    }
}

/// What a [`IdempotencyKeys::sweep`] deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Records older than the retention.
    pub expired: u64,
    /// Answered records beyond a caller's bound, oldest first.
    pub beyond_bound: u64,
}

/// Expired records are deleted this many at a time, so that no delete holds the write
/// lock long.
const SWEEP_BATCH: i64 = 10_000;

/// The idempotency records, each belonging to one caller (a token's id): the same key
/// from two callers is two records.
#[derive(Clone, Debug)]
pub struct IdempotencyKeys {
    database: Database,
    retention: IdempotencyRetention,
}

impl IdempotencyKeys {
    pub fn new(database: Database, retention: IdempotencyRetention) -> Self {
        Self {
            database,
            retention,
        }
    }

    /// The instant before which records have expired.
    fn expired_before(&self, now: DateTime<Utc>) -> String {
        let ttl = TimeDelta::from_std(self.retention.ttl).unwrap_or(TimeDelta::MAX);
        instant(
            now.checked_sub_signed(ttl)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
        )
    }

    /// Claims `key` for `caller`'s request with this `fingerprint` (method, path, body).
    /// An expired record of the same key is replaced, as if it had never been.
    pub async fn reserve(
        &self,
        caller: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<Reservation, StoreError> {
        let insert = "INSERT INTO idempotency_keys (caller, key, fingerprint, created_at) \
                      VALUES ($1, $2, $3, $4) ON CONFLICT (caller, key) DO UPDATE \
                      SET fingerprint = excluded.fingerprint, status = NULL, body = NULL, \
                          created_at = excluded.created_at \
                      WHERE idempotency_keys.created_at < $5";
        let select =
            "SELECT fingerprint, status, body FROM idempotency_keys WHERE caller = $1 AND key = $2";
        let at = instant(now);
        let expired_before = self.expired_before(now);
        let (inserted, row): (u64, Option<KeyRow>) = on_pool!(&self.database, |pool| {
            let inserted = sqlx::query(insert)
                .bind(caller)
                .bind(key)
                .bind(fingerprint)
                .bind(&at)
                .bind(&expired_before)
                .execute(pool)
                .await?
                .rows_affected();
            let row = if inserted == 1 {
                None
            } else {
                sqlx::query_as(select)
                    .bind(caller)
                    .bind(key)
                    .fetch_optional(pool)
                    .await?
            };
            (inserted, row)
        });
        if inserted == 1 {
            return Ok(Reservation::Reserved);
        }
        Ok(match row {
            None => Reservation::InProgress,
            Some(row) if row.fingerprint != fingerprint => Reservation::Mismatch,
            Some(KeyRow {
                status: Some(status),
                body: Some(body),
                ..
            }) => Reservation::Answered {
                status: u16::try_from(status).unwrap_or(500),
                body,
            },
            Some(_) => Reservation::InProgress,
        })
    }

    /// Records the answer to a reserved key.
    pub async fn complete(
        &self,
        caller: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        let sql =
            "UPDATE idempotency_keys SET status = $1, body = $2 WHERE caller = $3 AND key = $4";
        on_pool!(&self.database, |pool| {
            sqlx::query(sql)
                .bind(i64::from(status))
                .bind(body)
                .bind(caller)
                .bind(key)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Gives a reserved key up (the request failed without an answer worth repeating).
    pub async fn release(&self, caller: &str, key: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM idempotency_keys WHERE caller = $1 AND key = $2 AND status IS NULL";
        on_pool!(&self.database, |pool| {
            sqlx::query(sql)
                .bind(caller)
                .bind(key)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Deletes the expired records, then each caller's oldest answered records beyond
    /// `records_per_caller` (a record still in progress is kept).
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<Swept, StoreError> {
        let expired = "DELETE FROM idempotency_keys WHERE (caller, key) IN \
                       (SELECT caller, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2)";
        let crowded = "SELECT caller, COUNT(*) FROM idempotency_keys WHERE status IS NOT NULL \
                       GROUP BY caller HAVING COUNT(*) > $1";
        let oldest = "DELETE FROM idempotency_keys WHERE caller = $1 AND key IN \
                      (SELECT key FROM idempotency_keys WHERE caller = $1 AND status IS NOT NULL \
                       ORDER BY created_at DESC, key DESC LIMIT $2 OFFSET $3)";
        let expired_before = self.expired_before(now);
        let bound = i64::from(self.retention.records_per_caller);
        let mut swept = Swept::default();
        on_pool!(&self.database, |pool| {
            loop {
                let deleted = sqlx::query(expired)
                    .bind(&expired_before)
                    .bind(SWEEP_BATCH)
                    .execute(pool)
                    .await?
                    .rows_affected();
                swept.expired += deleted;
                if deleted < SWEEP_BATCH as u64 {
                    break;
                }
            }
            let callers: Vec<(String, i64)> =
                sqlx::query_as(crowded).bind(bound).fetch_all(pool).await?;
            for (caller, count) in callers {
                swept.beyond_bound += sqlx::query(oldest)
                    .bind(&caller)
                    .bind(count - bound)
                    .bind(bound)
                    .execute(pool)
                    .await?
                    .rows_affected();
            }
        });
        Ok(swept)
    }
}
