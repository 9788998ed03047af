//! Rows, inserts and the queries that belong to them.

mod account;
mod api_token;
mod city;
mod event;
mod moderation;
mod series;
mod server_secret;
mod shipped_city;
mod source;

pub use account::{
    Account, Admission, LoginCheck, LoginFailure, ModeratorRole, NewAccount, Roles, Session,
    SignUp, ThrottleLimits, is_unique_violation,
};
pub use api_token::{ApiToken, MAX_TOKENS_PER_ACCOUNT, NewTokenError, WRITE_WINDOW, WriteLimited};
pub use city::{City, CityFilter, Country, NewCity};
pub use event::{
    COUNT_CAP, Event, EventChangeError, EventDetails, EventPage, EventQuery, EventWithCity,
    FeedEvents, NewEvent, Seek, SeekPage, UpcomingCounts, Window, data_revision,
};
pub use moderation::{
    COMMAND_LINE, EventReview, LogEntry, ManagedEvent, ManagedPage, NewLogEntry, Queue,
};
pub use series::{OccurrenceRow, OccurrenceStatus, Repetition};
pub use server_secret::ServerSecret;
pub use shipped_city::ShippedCity;
pub use source::{
    FetchState, ImportedEvent, NOTES_KEPT, NewRun, NewSource, OnVanish, RUNS_KEPT, RunNote, Source,
    SourceRun, SourceSettings,
};

/// Turns a text search into a LIKE pattern that matches it literally: `%` and `_`
/// typed by a visitor are not wildcards.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// `SELECT COUNT(*) FROM (query) AS capped`: the number of rows `query` returns, counted
/// by the database. With a LIMIT inside, it counts no further, and unlike loading the
/// ids and counting them here it sends one number over the wire, not ten thousand
/// (which is most of the cost of a listing on PostgreSQL).
#[derive(Debug, Clone, diesel::query_builder::QueryId)]
pub(crate) struct CountRows<Q>(pub Q);

impl<Q> diesel::query_builder::QueryFragment<crate::db::DbBackend> for CountRows<Q>
where
    Q: diesel::query_builder::QueryFragment<crate::db::DbBackend>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, crate::db::DbBackend>,
    ) -> diesel::QueryResult<()> {
        out.push_sql("SELECT COUNT(*) FROM (");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(") AS capped");
        Ok(())
    }
}

impl<Q> diesel::query_builder::Query for CountRows<Q> {
    type SqlType = diesel::sql_types::BigInt;
}

impl<Q> diesel::RunQueryDsl<crate::db::DbConnection> for CountRows<Q> {}

/// The database's plan for `Q`, one line a step: `EXPLAIN QUERY PLAN` on SQLite (whose
/// four columns are id, parent, unused and the step), `EXPLAIN` on PostgreSQL (one text
/// column, hence the row type `ST`). For the tests that hold listings to their indexes.
#[derive(Debug, Clone, diesel::query_builder::QueryId)]
pub(crate) struct Explain<Q, ST: 'static> {
    query: Q,
    prefix: &'static str,
    row: std::marker::PhantomData<ST>,
}

impl<Q, ST> diesel::query_builder::QueryFragment<crate::db::DbBackend> for Explain<Q, ST>
where
    Q: diesel::query_builder::QueryFragment<crate::db::DbBackend>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, crate::db::DbBackend>,
    ) -> diesel::QueryResult<()> {
        out.push_sql(self.prefix);
        self.query.walk_ast(out.reborrow())
    }
}

impl<Q, ST> diesel::query_builder::Query for Explain<Q, ST> {
    type SqlType = ST;
}

impl<Q, ST> diesel::RunQueryDsl<crate::db::DbConnection> for Explain<Q, ST> {}

/// The plan lines of `query` on `conn`'s backend.
pub(crate) fn explain<Q>(
    conn: &mut crate::db::DbConnection,
    query: Q,
) -> diesel::QueryResult<Vec<String>>
where
    Q: diesel::query_builder::QueryFragment<crate::db::DbBackend>
        + diesel::query_builder::QueryId
        + Send
        + 'static,
{
    use diesel::RunQueryDsl;
    use diesel::sql_types::{Integer, Text};
    Ok(match conn.dialect() {
        crate::db::Dialect::Sqlite => Explain {
            query,
            prefix: "EXPLAIN QUERY PLAN ",
            row: std::marker::PhantomData::<(Integer, Integer, Integer, Text)>,
        }
        .load::<(i32, i32, i32, String)>(conn)?
        .into_iter()
        .map(|(_, _, _, step)| step)
        .collect(),
        crate::db::Dialect::Postgres => Explain {
            query,
            prefix: "EXPLAIN ",
            row: std::marker::PhantomData::<Text>,
        }
        .load::<String>(conn)?,
    })
}

diesel::define_sql_function! {
    /// SQL's `lower()`.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Turns a visitor's search text into a full-text query that is only ever a list of
/// words: every word must appear, as a word or the start of one ("lumi" finds
/// "Lumières"). On SQLite an FTS5 query, each word quoted (`"lumi"*`); on PostgreSQL a
/// `tsquery` (`'lumi':* & 'krakow':*`). Words are letters and digits only, so `OR`,
/// `NEAR`, `-`, `!`, `&`, `:` or quotes typed by a visitor are never syntax. `None` when
/// the text has no letters or digits at all (such as "%").
pub(crate) fn fts_query(text: &str, dialect: crate::db::Dialect) -> Option<String> {
    // A bound on the work one query can ask of the index.
    const MAX_WORDS: usize = 16;
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_WORDS)
        .map(|w| match dialect {
            crate::db::Dialect::Sqlite => format!("\"{w}\"*"),
            crate::db::Dialect::Postgres => format!("'{w}':*"),
        })
        .collect();
    let joiner = match dialect {
        crate::db::Dialect::Sqlite => " ",
        crate::db::Dialect::Postgres => " & ",
    };
    (!words.is_empty()).then(|| words.join(joiner))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Dialect;

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(like_pattern("100%"), "%100\\%%");
        assert_eq!(like_pattern("a_b\\c"), "%a\\_b\\\\c%");
    }

    #[test]
    fn search_text_becomes_a_tsquery_of_prefix_words_on_postgres() {
        assert_eq!(
            fts_query("  Kraków, lumi! a:b & c'd", Dialect::Postgres).as_deref(),
            Some("'Kraków':* & 'lumi':* & 'a':* & 'b':* & 'c':* & 'd':*")
        );
        assert_eq!(fts_query("%_ --", Dialect::Postgres), None);
    }

    #[test]
    fn search_text_becomes_quoted_prefix_words() {
        assert_eq!(
            fts_query("Jazz night", Dialect::Sqlite).as_deref(),
            Some("\"Jazz\"* \"night\"*")
        );
        assert_eq!(
            fts_query("  Kraków, 2026! ", Dialect::Sqlite).as_deref(),
            Some("\"Kraków\"* \"2026\"*")
        );
        assert_eq!(
            fts_query("a OR b NEAR(c) -d \"e", Dialect::Sqlite).as_deref(),
            Some("\"a\"* \"OR\"* \"b\"* \"NEAR\"* \"c\"* \"d\"* \"e\"*")
        );
        assert_eq!(fts_query("%_ --", Dialect::Sqlite), None);
        assert_eq!(fts_query("", Dialect::Postgres), None);
        assert_eq!(
            fts_query(&"word ".repeat(100), Dialect::Sqlite)
                .unwrap()
                .matches('*')
                .count(),
            16
        );
    }
}
