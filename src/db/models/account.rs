use crate::db::DbConnection;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;

use crate::db::schema::{
    accounts, cities, login_checks, login_failures, moderator_roles, sessions, sign_ups,
};

/// An organiser's account; moderators and admins are organisers with roles.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = accounts, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Account {
    pub id: i32,
    /// Trimmed and lower-cased (see [`crate::domain::Email`]).
    pub email: String,
    pub display_name: String,
    pub organisation: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub is_trusted: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = accounts)]
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub organisation: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
    pub is_trusted: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl NewAccount<'_> {
    /// Inserts the account; an email already taken is a `UniqueViolation`.
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<Account> {
        crate::on_backend!(conn, c => diesel::insert_into(accounts::table)
            .values(self)
            .returning(Account::as_returning())
            .get_result(c))
    }
}

/// Whether a database error is a unique constraint refusing a duplicate.
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

impl Account {
    pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Account> {
        accounts::table
            .find(id)
            .select(Account::as_select())
            .first(conn)
    }

    /// `email` must already be normalised.
    pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Account> {
        accounts::table
            .filter(accounts::email.eq(email))
            .select(Account::as_select())
            .first(conn)
    }

    /// Every account, newest first, optionally only those whose email or name
    /// contains `search`.
    pub fn list(
        conn: &mut DbConnection,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> QueryResult<(Vec<Account>, i64)> {
        let filtered = || {
            let mut query = accounts::table.into_boxed();
            if let Some(search) = search {
                // Lowered on both sides: PostgreSQL's LIKE, unlike SQLite's, heeds case.
                let pattern = super::like_pattern(&search.to_lowercase());
                query = query.filter(
                    super::lower(accounts::email)
                        .like(pattern.clone())
                        .escape('\\')
                        .or(super::lower(accounts::display_name)
                            .like(pattern.clone())
                            .escape('\\'))
                        .or(super::lower(accounts::organisation)
                            .like(pattern)
                            .escape('\\')),
                );
            }
            query
        };
        let total = filtered().count().get_result(conn)?;
        let rows = filtered()
            .order(accounts::id.desc())
            .limit(limit)
            .offset(offset)
            .select(Account::as_select())
            .load(conn)?;
        Ok((rows, total))
    }

    pub fn update_profile(
        conn: &mut DbConnection,
        id: i32,
        display_name: &str,
        organisation: &str,
        now: DateTime<Utc>,
    ) -> QueryResult<Account> {
        crate::on_backend!(conn, c => diesel::update(accounts::table.find(id))
            .set((
                accounts::display_name.eq(display_name),
                accounts::organisation.eq(organisation),
                accounts::updated_at.eq(now.naive_utc()),
            ))
            .returning(Account::as_returning())
            .get_result(c))
    }

    pub fn update_password(
        conn: &mut DbConnection,
        id: i32,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::update(accounts::table.find(id))
            .set((
                accounts::password_hash.eq(password_hash),
                accounts::updated_at.eq(now.naive_utc()),
            ))
            .execute(conn)
    }

    pub fn set_trusted(conn: &mut DbConnection, id: i32, trusted: bool) -> QueryResult<usize> {
        diesel::update(accounts::table.find(id))
            .set(accounts::is_trusted.eq(trusted))
            .execute(conn)
    }

    pub fn set_admin(conn: &mut DbConnection, id: i32, admin: bool) -> QueryResult<usize> {
        diesel::update(accounts::table.find(id))
            .set(accounts::is_admin.eq(admin))
            .execute(conn)
    }

    pub fn count_admins(conn: &mut DbConnection) -> QueryResult<i64> {
        accounts::table
            .filter(accounts::is_admin.eq(true))
            .count()
            .get_result(conn)
    }

    /// The name shown for the account's events: the organisation, or the person.
    pub fn organiser_name(&self) -> String {
        if self.organisation.is_empty() {
            self.display_name.clone()
        } else {
            self.organisation.clone()
        }
    }
}

/// A moderator role of an account, with the city's name (none: the whole network).
#[derive(Debug, Clone, PartialEq)]
pub struct ModeratorRole {
    pub id: i32,
    pub account_id: i32,
    pub city_id: Option<i32>,
    pub city_name: Option<String>,
}

/// What an account may do beyond organising.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Roles {
    pub admin: bool,
    pub trusted: bool,
    pub moderator: Vec<ModeratorRole>,
}

impl Roles {
    pub fn load(conn: &mut DbConnection, account: &Account) -> QueryResult<Roles> {
        Ok(Roles {
            admin: account.is_admin,
            trusted: account.is_trusted,
            moderator: ModeratorRole::for_account(conn, account.id)?,
        })
    }

    pub fn moderates_network(&self) -> bool {
        self.admin || self.moderator.iter().any(|r| r.city_id.is_none())
    }

    pub fn is_moderator(&self) -> bool {
        self.admin || !self.moderator.is_empty()
    }

    pub fn can_moderate(&self, city_id: i32) -> bool {
        self.moderates_network() || self.moderator.iter().any(|r| r.city_id == Some(city_id))
    }

    /// The cities a moderator covers; `None` means all of them.
    pub fn moderated_cities(&self) -> Option<Vec<i32>> {
        (!self.moderates_network())
            .then(|| self.moderator.iter().filter_map(|r| r.city_id).collect())
    }

    /// Whether an event in `city_id` by this account is published without review.
    pub fn publishes_directly(&self, city_id: i32) -> bool {
        self.trusted || self.can_moderate(city_id)
    }
}

impl ModeratorRole {
    pub fn for_account(conn: &mut DbConnection, account_id: i32) -> QueryResult<Vec<Self>> {
        let rows: Vec<(i32, i32, Option<i32>, Option<String>)> = moderator_roles::table
            .left_join(cities::table)
            .filter(moderator_roles::account_id.eq(account_id))
            // The network role first, then by city: spelled out, because SQLite sorts
            // NULLs (the network role's city) first and PostgreSQL last.
            .order((
                moderator_roles::city_id.is_not_null().asc(),
                cities::name.asc(),
                moderator_roles::id.asc(),
            ))
            .select((
                moderator_roles::id,
                moderator_roles::account_id,
                moderator_roles::city_id,
                cities::name.nullable(),
            ))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(id, account_id, city_id, city_name)| ModeratorRole {
                id,
                account_id,
                city_id,
                city_name,
            })
            .collect())
    }

    /// Grants a role; granting one the account already has changes nothing and says so.
    pub fn grant(
        conn: &mut DbConnection,
        account_id: i32,
        city_id: Option<i32>,
        now: DateTime<Utc>,
    ) -> QueryResult<bool> {
        let inserted = crate::on_backend!(conn, c => diesel::insert_into(moderator_roles::table)
            .values((
                moderator_roles::account_id.eq(account_id),
                moderator_roles::city_id.eq(city_id),
                moderator_roles::created_at.eq(now.naive_utc()),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(inserted > 0)
    }

    /// Removes role `id` of `account_id`; the role as it was, if there was one.
    pub fn revoke(
        conn: &mut DbConnection,
        account_id: i32,
        id: i32,
    ) -> QueryResult<Option<ModeratorRole>> {
        let role = ModeratorRole::for_account(conn, account_id)?
            .into_iter()
            .find(|r| r.id == id);
        if role.is_some() {
            diesel::delete(
                moderator_roles::table
                    .filter(moderator_roles::id.eq(id))
                    .filter(moderator_roles::account_id.eq(account_id)),
            )
            .execute(conn)?;
        }
        Ok(role)
    }
}

/// A signed-in browser.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sessions, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Session {
    pub id: i32,
    pub token_hash: String,
    pub account_id: i32,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
}

impl Session {
    pub fn create(
        conn: &mut DbConnection,
        account_id: i32,
        token_hash: &str,
        csrf_token: &str,
        now: DateTime<Utc>,
    ) -> QueryResult<Session> {
        crate::on_backend!(conn, c => diesel::insert_into(sessions::table)
            .values((
                sessions::token_hash.eq(token_hash),
                sessions::account_id.eq(account_id),
                sessions::csrf_token.eq(csrf_token),
                sessions::created_at.eq(now.naive_utc()),
                sessions::last_seen_at.eq(now.naive_utc()),
            ))
            .returning(Session::as_returning())
            .get_result(c))
    }

    pub fn find_by_token_hash(
        conn: &mut DbConnection,
        token_hash: &str,
    ) -> QueryResult<(Session, Account)> {
        sessions::table
            .inner_join(accounts::table)
            .filter(sessions::token_hash.eq(token_hash))
            .select((Session::as_select(), Account::as_select()))
            .first(conn)
    }

    pub fn touch(conn: &mut DbConnection, id: i32, now: DateTime<Utc>) -> QueryResult<usize> {
        diesel::update(sessions::table.find(id))
            .set(sessions::last_seen_at.eq(now.naive_utc()))
            .execute(conn)
    }

    pub fn delete(conn: &mut DbConnection, id: i32) -> QueryResult<usize> {
        diesel::delete(sessions::table.find(id)).execute(conn)
    }

    /// Signs the account out everywhere but in session `keep`.
    pub fn delete_others(
        conn: &mut DbConnection,
        account_id: i32,
        keep: Option<i32>,
    ) -> QueryResult<usize> {
        diesel::delete(
            sessions::table
                .filter(sessions::account_id.eq(account_id))
                .filter(sessions::id.ne(keep.unwrap_or(-1))),
        )
        .execute(conn)
    }

    /// Removes sessions idle since before `idle_before` or started before
    /// `started_before`.
    pub fn purge(
        conn: &mut DbConnection,
        idle_before: DateTime<Utc>,
        started_before: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::delete(
            sessions::table.filter(
                sessions::last_seen_at
                    .lt(idle_before.naive_utc())
                    .or(sessions::created_at.lt(started_before.naive_utc())),
            ),
        )
        .execute(conn)
    }
}

/// Failed sign-ins, counted to throttle guessing.
pub struct LoginFailure;

impl LoginFailure {
    pub fn record(
        conn: &mut DbConnection,
        email: &str,
        client: &str,
        now: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::email.eq(email),
                login_failures::client.eq(client),
                login_failures::failed_at.eq(now.naive_utc()),
            ))
            .execute(conn)
    }

    /// Failures for `email` and from `client` since `since`.
    pub fn count_since(
        conn: &mut DbConnection,
        email: &str,
        client: &str,
        since: DateTime<Utc>,
    ) -> QueryResult<(i64, i64)> {
        let since = since.naive_utc();
        let by_email = login_failures::table
            .filter(login_failures::email.eq(email))
            .filter(login_failures::failed_at.gt(since))
            .count()
            .get_result(conn)?;
        let by_client = login_failures::table
            .filter(login_failures::client.eq(client))
            .filter(login_failures::failed_at.gt(since))
            .count()
            .get_result(conn)?;
        Ok((by_email, by_client))
    }

    /// A successful sign-in forgives the account's failures (not the address's).
    pub fn clear_for_email(conn: &mut DbConnection, email: &str) -> QueryResult<usize> {
        diesel::delete(login_failures::table.filter(login_failures::email.eq(email))).execute(conn)
    }

    /// Forgets failures, and checks that were never settled, from before `before`.
    pub fn purge(conn: &mut DbConnection, before: DateTime<Utc>) -> QueryResult<usize> {
        let before = before.naive_utc();
        let checks =
            diesel::delete(login_checks::table.filter(login_checks::started_at.lt(before)))
                .execute(conn)?;
        let failures =
            diesel::delete(login_failures::table.filter(login_failures::failed_at.lt(before)))
                .execute(conn)?;
        Ok(checks + failures)
    }
}

/// How many failed password checks the throttle allows, and for how long it counts them.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    /// Failures for one typed email address.
    pub per_email: i64,
    /// Failures from one client address, whatever the email.
    pub per_client: i64,
    /// Failures older than this no longer count.
    pub window: TimeDelta,
    /// A check still not settled after this long was abandoned (its server stopped in
    /// the middle): it counts as a failure, since nobody can say that it was not one.
    pub abandoned_after: TimeDelta,
}

/// A password check under way: a row of `login_checks`, holding one of the throttle's
/// places until [`LoginCheck::passed`] or [`LoginCheck::failed`] settles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginCheck {
    pub id: i32,
}

/// Whether a password check may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// It may; its place is reserved.
    Granted(LoginCheck),
    /// The failures alone have reached a limit: no check at all.
    Refused,
    /// The limit is reached only when the checks still running are counted. Some of
    /// them may pass and give their places back, so the answer is not yet known: ask
    /// again shortly.
    Wait,
}

impl LoginCheck {
    /// Reserves a place for a check of a password typed for `email` from `client`,
    /// unless the failures and the checks under way fill the limits.
    ///
    /// A check under way counts as a failure until it is settled, so that guesses sent
    /// all at once get no more checks than guesses sent one by one; and the count and
    /// the reservation are one write transaction, so that two requests cannot both take
    /// the last place. A right password gives its place back, so it never counts as a
    /// failure: concurrent right sign-ins are told to wait, not refused.
    pub fn admit(
        conn: &mut DbConnection,
        email: &str,
        client: &str,
        limits: &ThrottleLimits,
        now: DateTime<Utc>,
    ) -> QueryResult<Admission> {
        conn.immediate_transaction(|conn| {
            let since = now - limits.window;
            let (mut failed_email, mut failed_client) =
                LoginFailure::count_since(conn, email, client, since)?;
            // Few rows: the limits bound how many checks can be under way at once.
            let checks: Vec<(String, String, NaiveDateTime)> = login_checks::table
                .filter(
                    login_checks::email
                        .eq(email)
                        .or(login_checks::client.eq(client)),
                )
                .filter(login_checks::started_at.gt(since.naive_utc()))
                .select((
                    login_checks::email,
                    login_checks::client,
                    login_checks::started_at,
                ))
                .load(conn)?;
            let abandoned = (now - limits.abandoned_after).naive_utc();
            let (mut running_email, mut running_client) = (0, 0);
            for (check_email, check_client, started_at) in &checks {
                let (failed, running) = if *started_at <= abandoned {
                    (1, 0)
                } else {
                    (0, 1)
                };
                if check_email == email {
                    failed_email += failed;
                    running_email += running;
                }
                if check_client == client {
                    failed_client += failed;
                    running_client += running;
                }
            }
            if failed_email >= limits.per_email || failed_client >= limits.per_client {
                return Ok(Admission::Refused);
            }
            if failed_email + running_email >= limits.per_email
                || failed_client + running_client >= limits.per_client
            {
                return Ok(Admission::Wait);
            }
            let id = diesel::insert_into(login_checks::table)
                .values((
                    login_checks::email.eq(email),
                    login_checks::client.eq(client),
                    login_checks::started_at.eq(now.naive_utc()),
                ))
                .returning(login_checks::id)
                .get_result(conn)?;
            Ok(Admission::Granted(LoginCheck { id }))
        })
    }

    /// The password was right: the place is given back, and the account's failures are
    /// forgiven (not the address's).
    pub fn passed(self, conn: &mut DbConnection, email: &str) -> QueryResult<()> {
        conn.immediate_transaction(|conn| {
            diesel::delete(login_checks::table.find(self.id)).execute(conn)?;
            LoginFailure::clear_for_email(conn, email)?;
            Ok(())
        })
    }

    /// The password was wrong: the place becomes a failure.
    pub fn failed(
        self,
        conn: &mut DbConnection,
        email: &str,
        client: &str,
        now: DateTime<Utc>,
    ) -> QueryResult<()> {
        conn.immediate_transaction(|conn| {
            diesel::delete(login_checks::table.find(self.id)).execute(conn)?;
            LoginFailure::record(conn, email, client, now)?;
            Ok(())
        })
    }
}

/// Accounts made, by client address, to throttle sign-ups in bulk.
pub struct SignUp;

impl SignUp {
    /// How many accounts `client` made since `since`.
    pub fn count_since(
        conn: &mut DbConnection,
        client: &str,
        since: DateTime<Utc>,
    ) -> QueryResult<i64> {
        sign_ups::table
            .filter(sign_ups::client.eq(client))
            .filter(sign_ups::signed_up_at.gt(since.naive_utc()))
            .count()
            .get_result(conn)
    }

    /// Records a sign-up from `client`, and forgets those older than `forget_before`.
    pub fn record(
        conn: &mut DbConnection,
        client: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::delete(
            sign_ups::table.filter(sign_ups::signed_up_at.lt(forget_before.naive_utc())),
        )
        .execute(conn)?;
        diesel::insert_into(sign_ups::table)
            .values((
                sign_ups::client.eq(client),
                sign_ups::signed_up_at.eq(now.naive_utc()),
            ))
            .execute(conn)
    }
}
