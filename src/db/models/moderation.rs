//! Events as organisers and moderators see them: every moderation state, the review of
//! changes, and the log of who decided what.

use std::collections::HashMap;

use crate::db::DbBackend;
use crate::db::DbConnection;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::{Account, City, Event, EventWithCity};
use crate::db::schema::{accounts, cities, event_reviews, events, moderation_log};
use crate::domain::{EventForm, ModerationAction, ModerationState};

/// Who the moderation log says made a change from the command line, where nobody is
/// signed in: whoever can run the binary against the database.
pub const COMMAND_LINE: &str = "the command line";

/// An event with its city and the account that submitted it, for the organiser's and
/// the moderators' lists.
#[derive(Debug, Clone)]
pub struct ManagedEvent {
    pub row: EventWithCity,
    pub organiser: Option<Account>,
    /// When a change by an organiser who is not trusted is waiting for a look.
    pub changed_at: Option<NaiveDateTime>,
    pub repetition: super::Repetition,
}

/// A page of [`ManagedEvent`]s and how many there are in all.
#[derive(Debug, Clone)]
pub struct ManagedPage {
    pub events: Vec<ManagedEvent>,
    pub total: i64,
}

/// Which moderation list to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// Submitted, waiting for a first decision.
    Pending,
    /// Published, then changed by an organiser who is not trusted.
    Changed,
}

impl Event {
    /// An event in any moderation state, with its city. Who may see it is the caller's
    /// question.
    pub fn find_with_city(conn: &mut DbConnection, id: i32) -> QueryResult<EventWithCity> {
        events::table
            .inner_join(cities::table)
            .filter(events::id.eq(id))
            .select(EventWithCity::as_select())
            .first(conn)
    }

    /// The events `account_id` submitted, the most recently created first.
    pub fn for_organiser(
        conn: &mut DbConnection,
        account_id: i32,
        limit: i64,
        offset: i64,
    ) -> QueryResult<ManagedPage> {
        let total = events::table
            .filter(events::organiser_id.eq(account_id))
            .count()
            .get_result(conn)?;
        let rows = events::table
            .inner_join(cities::table)
            .filter(events::organiser_id.eq(account_id))
            .order((events::created_at.desc(), events::id.desc()))
            .limit(limit)
            .offset(offset)
            .select(EventWithCity::as_select())
            .load(conn)?;
        Ok(ManagedPage {
            events: managed(conn, rows)?,
            total,
        })
    }

    /// Up to `limit` of the events `account_id` submitted, the most recently created
    /// first, starting after the event with sort key `after` (`(created_at, id)`); and
    /// whether more follow. Keyset, so that events added while a client pages neither
    /// repeat nor hide others.
    pub fn for_organiser_after(
        conn: &mut DbConnection,
        account_id: i32,
        after: Option<(NaiveDateTime, i32)>,
        limit: i64,
    ) -> QueryResult<(ManagedPage, bool)> {
        let total = events::table
            .filter(events::organiser_id.eq(account_id))
            .count()
            .get_result(conn)?;
        let mut query = events::table
            .inner_join(cities::table)
            .filter(events::organiser_id.eq(account_id))
            .into_boxed::<DbBackend>();
        if let Some((created, id)) = after {
            query = query.filter(
                events::created_at
                    .lt(created)
                    .or(events::created_at.eq(created).and(events::id.lt(id))),
            );
        }
        let mut rows = query
            .order((events::created_at.desc(), events::id.desc()))
            .limit(limit + 1)
            .select(EventWithCity::as_select())
            .load(conn)?;
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        Ok((
            ManagedPage {
                events: managed(conn, rows)?,
                total,
            },
            more,
        ))
    }

    /// A moderation list, oldest first (first come, first served), limited to `cities`
    /// (`None`: all) and to `city` when a moderator filters.
    pub fn queue(
        conn: &mut DbConnection,
        queue: Queue,
        cities: Option<&[i32]>,
        city: Option<i32>,
        limit: i64,
        offset: i64,
    ) -> QueryResult<ManagedPage> {
        let filtered = || {
            let mut query = events::table
                .left_join(event_reviews::table)
                .into_boxed::<DbBackend>();
            query = match queue {
                Queue::Pending => {
                    query.filter(events::moderation.eq(ModerationState::Pending.slug()))
                }
                Queue::Changed => query
                    .filter(events::moderation.eq(ModerationState::Published.slug()))
                    .filter(event_reviews::changed_at.is_not_null()),
            };
            if let Some(ids) = cities {
                query = query.filter(events::city_id.eq_any(ids.to_vec()));
            }
            if let Some(id) = city {
                query = query.filter(events::city_id.eq(id));
            }
            query
        };
        let total = filtered().count().get_result(conn)?;
        let ids: Vec<i32> = match queue {
            Queue::Pending => filtered()
                .order((events::created_at.asc(), events::id.asc()))
                .select(events::id),
            Queue::Changed => filtered()
                .order((event_reviews::changed_at.asc(), events::id.asc()))
                .select(events::id),
        }
        .limit(limit)
        .offset(offset)
        .load(conn)?;
        let mut rows: Vec<EventWithCity> = events::table
            .inner_join(cities::table)
            .filter(events::id.eq_any(&ids))
            .select(EventWithCity::as_select())
            .load(conn)?;
        rows.sort_by_key(|r| ids.iter().position(|id| *id == r.event.id));
        Ok(ManagedPage {
            events: managed(conn, rows)?,
            total,
        })
    }

    /// The event's form as last approved, if it was approved and changed since.
    pub fn review(conn: &mut DbConnection, id: i32) -> QueryResult<Option<EventReview>> {
        event_reviews::table
            .find(id)
            .select(EventReview::as_select())
            .first(conn)
            .optional()
    }

    /// Publishes a pending (or rejected) event and remembers what was approved.
    /// `updated_at` moves, because the event now enters feeds, whose Last-Modified must
    /// say so; `SEQUENCE` does not: no calendar has seen an earlier version.
    pub fn approve(
        conn: &mut DbConnection,
        id: i32,
        actor: &Account,
        now: DateTime<Utc>,
    ) -> QueryResult<Event> {
        conn.transaction(|conn| {
            let row = Event::find_with_city(conn, id)?;
            let now_naive = now.naive_utc();
            let event = crate::on_backend!(conn, c => diesel::update(events::table.find(id))
                .set((
                    events::moderation.eq(ModerationState::Published.slug()),
                    events::moderation_note.eq(None::<String>),
                    events::first_published_at
                        .eq(row.event.first_published_at.unwrap_or(now_naive)),
                    events::updated_at.eq(now_naive),
                ))
                .returning(Event::as_returning())
                .get_result(c))?;
            EventReview::approved(conn, &event, &row.city, now)?;
            LogEntry::event(actor, ModerationAction::Approve, &event, "").insert(conn, now)?;
            Ok(event)
        })
    }

    /// Rejects a pending event, or unpublishes a published one, with a reason its
    /// organiser sees.
    pub fn reject(
        conn: &mut DbConnection,
        id: i32,
        actor: &Account,
        reason: &str,
        now: DateTime<Utc>,
    ) -> QueryResult<Event> {
        conn.transaction(|conn| {
            let old = Event::find_with_city(conn, id)?.event;
            let action = if old.moderation == ModerationState::Published {
                ModerationAction::Unpublish
            } else {
                ModerationAction::Reject
            };
            let event = crate::on_backend!(conn, c => diesel::update(events::table.find(id))
                .set((
                    events::moderation.eq(ModerationState::Rejected.slug()),
                    events::moderation_note.eq(reason),
                    events::updated_at.eq(now.naive_utc()),
                ))
                .returning(Event::as_returning())
                .get_result(c))?;
            EventReview::settle(conn, id)?;
            LogEntry::event(actor, action, &event, reason).insert(conn, now)?;
            Ok(event)
        })
    }

    /// A moderator has looked at a change and keeps it: it becomes the approved version.
    pub fn accept_change(
        conn: &mut DbConnection,
        id: i32,
        actor: &Account,
        now: DateTime<Utc>,
    ) -> QueryResult<Event> {
        conn.transaction(|conn| {
            let row = Event::find_with_city(conn, id)?;
            EventReview::approved(conn, &row.event, &row.city, now)?;
            LogEntry::event(actor, ModerationAction::AcceptChange, &row.event, "")
                .insert(conn, now)?;
            Ok(row.event)
        })
    }

    /// Records that an organiser changed a published event without being trusted to: it
    /// stays public and joins the moderators' "recently changed" list. `before` is the
    /// event as it was, in case no version was ever recorded as approved.
    pub fn mark_changed(
        conn: &mut DbConnection,
        before: &EventWithCity,
        before_form: &EventForm,
        now: DateTime<Utc>,
    ) -> QueryResult<()> {
        let form = serde_json::to_string(before_form)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        crate::on_backend!(conn, c => diesel::insert_into(event_reviews::table)
            .values((
                event_reviews::event_id.eq(before.event.id),
                event_reviews::approved_form.eq(form),
                event_reviews::approved_at.eq(before.event.updated_at),
                event_reviews::changed_at.eq(now.naive_utc()),
            ))
            .on_conflict(event_reviews::event_id)
            .do_update()
            .set(event_reviews::changed_at.eq(now.naive_utc()))
            .execute(c))?;
        Ok(())
    }

    /// A rejected event edited by its organiser goes back to the queue (`Pending`), or
    /// straight out (`Published`) when the organiser is trusted.
    pub fn resubmit(
        conn: &mut DbConnection,
        id: i32,
        to: ModerationState,
        now: DateTime<Utc>,
    ) -> QueryResult<usize> {
        let now = now.naive_utc();
        let published = to == ModerationState::Published;
        diesel::update(events::table.find(id))
            .set((
                events::moderation.eq(to.slug()),
                events::moderation_note.eq(None::<String>),
                events::updated_at.eq(now),
                events::first_published_at.eq(diesel::dsl::sql::<
                    diesel::sql_types::Nullable<diesel::sql_types::Timestamp>,
                >(if published {
                    "COALESCE(first_published_at, updated_at)"
                } else {
                    "first_published_at"
                })),
            ))
            .execute(conn)
    }

    /// Deletes an event that was never published: nothing outside the site has seen it.
    /// Returns false (and deletes nothing) for one that was.
    pub fn delete_unpublished(conn: &mut DbConnection, id: i32) -> QueryResult<bool> {
        let deleted = diesel::delete(
            events::table
                .filter(events::id.eq(id))
                .filter(events::first_published_at.is_null())
                .filter(events::moderation.ne(ModerationState::Published.slug())),
        )
        .execute(conn)?;
        Ok(deleted > 0)
    }

    /// The event as its form: what the edit page starts from, and what a review keeps.
    pub fn to_form(&self, city: &City, repetition: &super::Repetition) -> EventForm {
        let time = |t: Option<chrono::NaiveTime>| t.map(|t| t.format("%H:%M").to_string());
        let (end_date, end_time) = if self.all_day {
            let end = (self.end_date != self.start_date).then(|| self.end_date.to_string());
            (end.unwrap_or_default(), String::new())
        } else {
            match self.end_time {
                Some(_) => (
                    self.end_date.to_string(),
                    time(self.end_time).unwrap_or_default(),
                ),
                None => (String::new(), String::new()),
            }
        };
        EventForm {
            city: city.slug.to_string(),
            kind: self.kind.slug().to_owned(),
            field: self.field.slug().to_owned(),
            title: self.title.clone(),
            description: self.description.clone(),
            venue: self.venue_name.clone(),
            address: self.venue_address.clone(),
            url: self.url.clone().unwrap_or_default(),
            price: self.price.clone().unwrap_or_default(),
            all_day: self
                .all_day
                .then(|| crate::domain::ALL_DAY_TICKED.to_owned()),
            start_date: self.start_date.to_string(),
            end_date,
            start_time: time(self.start_time).unwrap_or_default(),
            end_time,
            ..EventForm::default()
        }
        .with_repetition(repetition)
    }
}

/// Pairs events with the accounts that submitted them and their review state.
fn managed(conn: &mut DbConnection, rows: Vec<EventWithCity>) -> QueryResult<Vec<ManagedEvent>> {
    let mut account_ids: Vec<i32> = rows.iter().filter_map(|r| r.event.organiser_id).collect();
    account_ids.sort_unstable();
    account_ids.dedup();
    let accounts: HashMap<i32, Account> = accounts::table
        .filter(accounts::id.eq_any(account_ids))
        .select(Account::as_select())
        .load(conn)?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let event_ids: Vec<i32> = rows.iter().map(|r| r.event.id).collect();
    let changed: HashMap<i32, Option<NaiveDateTime>> = event_reviews::table
        .filter(event_reviews::event_id.eq_any(event_ids))
        .select((event_reviews::event_id, event_reviews::changed_at))
        .load::<(i32, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .collect();
    let ids: Vec<i32> = rows.iter().map(|r| r.event.id).collect();
    let mut repetitions = super::Repetition::load_many(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| ManagedEvent {
            repetition: repetitions.remove(&row.event.id).unwrap_or_default(),
            organiser: row
                .event
                .organiser_id
                .and_then(|id| accounts.get(&id).cloned()),
            changed_at: changed.get(&row.event.id).copied().flatten(),
            row,
        })
        .collect())
}

/// The event's form as JSON, as `event_reviews` keeps it.
fn form_json(conn: &mut DbConnection, event: &Event, city: &City) -> QueryResult<String> {
    serde_json::to_string(&event.to_form(city, &super::Repetition::load(conn, event.id)?))
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
}

/// The version of an event a moderator last approved.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = event_reviews, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct EventReview {
    pub event_id: i32,
    /// [`EventForm`] as JSON.
    pub approved_form: String,
    pub approved_at: NaiveDateTime,
    pub changed_at: Option<NaiveDateTime>,
}

impl EventReview {
    /// The approved version as a form; `None` if it cannot be read back.
    pub fn form(&self) -> Option<EventForm> {
        serde_json::from_str(&self.approved_form).ok()
    }

    /// Records `event` as the approved version, with nothing waiting for review.
    fn approved(
        conn: &mut DbConnection,
        event: &Event,
        city: &City,
        now: DateTime<Utc>,
    ) -> QueryResult<()> {
        let form = form_json(conn, event, city)?;
        crate::on_backend!(conn, c => diesel::insert_into(event_reviews::table)
            .values((
                event_reviews::event_id.eq(event.id),
                event_reviews::approved_form.eq(&form),
                event_reviews::approved_at.eq(now.naive_utc()),
                event_reviews::changed_at.eq(None::<NaiveDateTime>),
            ))
            .on_conflict(event_reviews::event_id)
            .do_update()
            .set((
                event_reviews::approved_form.eq(&form),
                event_reviews::approved_at.eq(now.naive_utc()),
                event_reviews::changed_at.eq(None::<NaiveDateTime>),
            ))
            .execute(c))?;
        Ok(())
    }

    /// Nothing waits for review any more (a change was put back, or the event
    /// unpublished).
    pub fn settle(conn: &mut DbConnection, event_id: i32) -> QueryResult<usize> {
        diesel::update(event_reviews::table.find(event_id))
            .set(event_reviews::changed_at.eq(None::<NaiveDateTime>))
            .execute(conn)
    }
}

/// One line of the moderation log.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = moderation_log, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct LogEntry {
    pub id: i32,
    pub actor_id: Option<i32>,
    pub actor_name: String,
    #[diesel(deserialize_as = String)]
    pub action: ModerationAction,
    pub event_id: Option<i32>,
    pub account_id: Option<i32>,
    pub city_id: Option<i32>,
    /// The event's title or the account's email, as it was.
    pub subject: String,
    pub reason: String,
    pub created_at: NaiveDateTime,
}

/// A log line to write.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = moderation_log)]
pub struct NewLogEntry {
    pub actor_id: Option<i32>,
    pub actor_name: String,
    pub action: &'static str,
    pub event_id: Option<i32>,
    pub account_id: Option<i32>,
    pub city_id: Option<i32>,
    pub subject: String,
    pub reason: String,
}

impl LogEntry {
    /// A decision about an event.
    pub fn event(
        actor: &Account,
        action: ModerationAction,
        event: &Event,
        reason: &str,
    ) -> NewLogEntry {
        NewLogEntry {
            actor_id: Some(actor.id),
            actor_name: actor.display_name.clone(),
            action: action.slug(),
            event_id: Some(event.id),
            account_id: event.organiser_id,
            city_id: Some(event.city_id),
            subject: event.title.clone(),
            reason: reason.to_owned(),
        }
    }

    /// A change to an account's roles; `city` for a moderator role of one city.
    pub fn account(
        actor: &Account,
        action: ModerationAction,
        account: &Account,
        city: Option<(i32, &str)>,
        reason: &str,
    ) -> NewLogEntry {
        let subject = match city {
            Some((_, name)) => format!("{} ({name})", account.email),
            None => account.email.clone(),
        };
        NewLogEntry {
            actor_id: Some(actor.id),
            actor_name: actor.display_name.clone(),
            action: action.slug(),
            event_id: None,
            account_id: Some(account.id),
            city_id: city.map(|(id, _)| id),
            subject,
            reason: reason.to_owned(),
        }
    }

    /// A change to an account made from the command line, where nobody is signed in:
    /// its actor is [`COMMAND_LINE`].
    pub fn by_command_line(
        action: ModerationAction,
        account: &Account,
        reason: &str,
    ) -> NewLogEntry {
        NewLogEntry {
            actor_id: None,
            actor_name: COMMAND_LINE.to_owned(),
            action: action.slug(),
            event_id: None,
            account_id: Some(account.id),
            city_id: None,
            subject: account.email.clone(),
            reason: reason.to_owned(),
        }
    }

    /// The newest first, limited to events of `cities` (`None`: everything, role
    /// changes included).
    pub fn list(
        conn: &mut DbConnection,
        cities: Option<&[i32]>,
        limit: i64,
        offset: i64,
    ) -> QueryResult<(Vec<LogEntry>, i64)> {
        let filtered = || {
            let mut query = moderation_log::table.into_boxed::<DbBackend>();
            if let Some(ids) = cities {
                query = query
                    .filter(moderation_log::city_id.eq_any(ids.to_vec()))
                    .filter(moderation_log::event_id.is_not_null());
            }
            query
        };
        let total = filtered().count().get_result(conn)?;
        let rows = filtered()
            .order((moderation_log::created_at.desc(), moderation_log::id.desc()))
            .limit(limit)
            .offset(offset)
            .select(LogEntry::as_select())
            .load(conn)?;
        Ok((rows, total))
    }
}

impl NewLogEntry {
    pub fn insert(&self, conn: &mut DbConnection, now: DateTime<Utc>) -> QueryResult<usize> {
        diesel::insert_into(moderation_log::table)
            .values((self, moderation_log::created_at.eq(now.naive_utc())))
            .execute(conn)
    }
}
