use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::shipped_cities;

/// The rows of the shipped city list that a database has had (`shipped_cities`), by
/// the name and country code the list gives them. Kept apart from `cities`, which admins
/// may change, so that what the start has already added stays known after an admin has
/// renamed or deleted the city; the migration that makes the table says more.
pub struct ShippedCity;

impl ShippedCity {
    /// Every recorded (name, country code), spelled as the shipped list spelled them.
    pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<(String, String)>> {
        shipped_cities::table
            .select((shipped_cities::name, shipped_cities::country_code))
            .load(conn)
    }

    /// Records that the shipped row (`name`, `country_code`) has been applied. INSERT OR
    /// IGNORE, so that recording a row twice is no error and keeps the first date.
    pub fn record(
        conn: &mut DbConnection,
        name: &str,
        country_code: &str,
        now: DateTime<Utc>,
    ) -> QueryResult<usize> {
        crate::on_backend!(conn, c => diesel::insert_into(shipped_cities::table)
            .values((
                shipped_cities::name.eq(name),
                shipped_cities::country_code.eq(country_code),
                shipped_cities::applied_at.eq(now.naive_utc()),
            ))
            .on_conflict_do_nothing()
            .execute(c))
    }
}
