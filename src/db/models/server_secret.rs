use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::server_secrets;

/// Secrets that every server on one database shares (`server_secrets`).
pub struct ServerSecret;

impl ServerSecret {
    /// The secret called `name`. The first server to ask stores `candidate`; every other
    /// gets what that one stored. INSERT OR IGNORE and then a read, not a read and then
    /// an insert, so that servers starting at once on a new database cannot each keep a
    /// secret of their own.
    pub fn get_or_insert(
        conn: &mut DbConnection,
        name: &str,
        candidate: &[u8],
        now: DateTime<Utc>,
    ) -> QueryResult<Vec<u8>> {
        crate::on_backend!(conn, c => diesel::insert_into(server_secrets::table)
            .values((
                server_secrets::name.eq(name),
                server_secrets::value.eq(candidate),
                server_secrets::created_at.eq(now.naive_utc()),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        server_secrets::table
            .find(name)
            .select(server_secrets::value)
            .first(conn)
    }
}
