//! Personal API tokens: made, listed and revoked by their organiser, looked up by hash
//! when a request brings one.

use crate::db::DbConnection;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;

use super::Account;
use crate::db::schema::{accounts, api_tokens};

/// How many live tokens one account may hold: enough for every system an organiser
/// runs, few enough that a leaked session cannot mint them without end.
pub const MAX_TOKENS_PER_ACCOUNT: i64 = 20;

/// `last_used_at` is written at most this often: a script writing hundreds of events
/// must not turn every request into two writes.
const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(1);

/// A token as stored: never the token itself.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_tokens)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ApiToken {
    pub id: i32,
    pub account_id: i32,
    pub name: String,
    pub token_hash: String,
    /// The token's first characters, to tell tokens apart on the account page.
    pub prefix: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Why a new token was not made.
#[derive(Debug, thiserror::Error)]
pub enum NewTokenError {
    #[error("an account holds at most {MAX_TOKENS_PER_ACCOUNT} tokens; revoke one first")]
    TooMany,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl ApiToken {
    /// Stores a token for `account_id` whose SHA-256 is `token_hash`; refuses past
    /// [`MAX_TOKENS_PER_ACCOUNT`] live ones, counted in the same write transaction so
    /// that two requests at once cannot both take the last place.
    pub fn create(
        conn: &mut DbConnection,
        account_id: i32,
        name: &str,
        token_hash: &str,
        prefix: &str,
        now: DateTime<Utc>,
    ) -> Result<ApiToken, NewTokenError> {
        conn.immediate_transaction(|conn| {
            let live: i64 = api_tokens::table
                .filter(api_tokens::account_id.eq(account_id))
                .filter(api_tokens::revoked_at.is_null())
                .count()
                .get_result(conn)?;
            if live >= MAX_TOKENS_PER_ACCOUNT {
                return Err(NewTokenError::TooMany);
            }
            Ok(
                crate::on_backend!(conn, c => diesel::insert_into(api_tokens::table)
                .values((
                    api_tokens::account_id.eq(account_id),
                    api_tokens::name.eq(name),
                    api_tokens::token_hash.eq(token_hash),
                    api_tokens::prefix.eq(prefix),
                    api_tokens::created_at.eq(now.naive_utc()),
                ))
                .returning(ApiToken::as_returning())
                .get_result(c))?,
            )
        })
    }

    /// An account's tokens, live ones first, newest first.
    pub fn for_account(conn: &mut DbConnection, account_id: i32) -> QueryResult<Vec<ApiToken>> {
        api_tokens::table
            .filter(api_tokens::account_id.eq(account_id))
            .order((
                api_tokens::revoked_at.is_not_null(),
                api_tokens::created_at.desc(),
                api_tokens::id.desc(),
            ))
            .select(ApiToken::as_select())
            .load(conn)
    }

    /// Revokes token `id` if it is `account_id`'s and still live; whether it was.
    pub fn revoke(
        conn: &mut DbConnection,
        account_id: i32,
        id: i32,
        now: DateTime<Utc>,
    ) -> QueryResult<bool> {
        let changed = diesel::update(api_tokens::table.find(id))
            .filter(api_tokens::account_id.eq(account_id))
            .filter(api_tokens::revoked_at.is_null())
            .set(api_tokens::revoked_at.eq(now.naive_utc()))
            .execute(conn)?;
        Ok(changed > 0)
    }

    /// The live token whose hash is `token_hash`, with its account, marked as used.
    pub fn authenticate(
        conn: &mut DbConnection,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> QueryResult<(ApiToken, Account)> {
        let (token, account) = api_tokens::table
            .inner_join(accounts::table)
            .filter(api_tokens::token_hash.eq(token_hash))
            .filter(api_tokens::revoked_at.is_null())
            .select((ApiToken::as_select(), Account::as_select()))
            .first(conn)?;
        let stale = token
            .last_used_at
            .is_none_or(|at| now - at.and_utc() >= TOUCH_EVERY);
        if stale {
            diesel::update(api_tokens::table.find(token.id))
                .set(api_tokens::last_used_at.eq(now.naive_utc()))
                .execute(conn)?;
        }
        Ok((token, account))
    }
}

/// The window the limit on writes counts over.
pub const WRITE_WINDOW: TimeDelta = TimeDelta::hours(1);

/// Refused: the token made its `limit` writes in the last [`WRITE_WINDOW`]; another is
/// allowed from `retry_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteLimited {
    pub retry_at: NaiveDateTime,
}

impl ApiToken {
    /// Records one write by token `token_id` at `now`, unless it already made `limit`
    /// in the window before: then when the oldest of them leaves the window. In one
    /// immediate transaction, so that two servers counting at once cannot both take
    /// the last write.
    pub fn spend_write(
        conn: &mut DbConnection,
        token_id: i32,
        limit: u32,
        now: DateTime<Utc>,
    ) -> QueryResult<Result<(), WriteLimited>> {
        use crate::db::schema::api_token_writes as w;
        let now = now.naive_utc();
        let since = now - WRITE_WINDOW;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX).max(1);
        conn.immediate_transaction(|conn| {
            // Writes out of the window count for nothing; dropping them keeps the table
            // at most `limit` rows per token.
            diesel::delete(
                w::table
                    .filter(w::token_id.eq(token_id))
                    .filter(w::written_at.le(since)),
            )
            .execute(conn)?;
            let recent: Vec<NaiveDateTime> = w::table
                .filter(w::token_id.eq(token_id))
                .select(w::written_at)
                .order(w::written_at.asc())
                .load(conn)?;
            if recent.len() >= limit {
                // Oldest first: the place that frees next is the `len - limit`-th write
                // (in range, by the check just above).
                let freeing = recent[recent.len() - limit];
                return Ok(Err(WriteLimited {
                    retry_at: freeing + WRITE_WINDOW,
                }));
            }
            diesel::insert_into(w::table)
                .values((w::token_id.eq(token_id), w::written_at.eq(now)))
                .execute(conn)?;
            Ok(Ok(()))
        })
    }
}
