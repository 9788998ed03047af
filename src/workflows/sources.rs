//! Organisers' own calendars as sources of their events: adding one, syncing it (now or
//! when it is due), pausing it and deleting it. A sync is the one place where a feed
//! changes events: it fetches outside any transaction, then applies the whole feed in
//! one write transaction, through the same rules as an organiser's own submissions and
//! edits ([`super::events`]).

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Deserialize;

use super::events::{change_occurrence_in, create_in, update_in};
use super::{Actor, WorkflowError};
use crate::db::DbConnection;
use crate::db::models::{
    City, Event, FetchState, ImportedEvent, NewRun, NewSource, OnVanish, Repetition, Source,
    SourceRun, SourceSettings,
};
use crate::domain::{CreativeField, EventKind, EventStatus, FieldErrors, FormCity, short};
use crate::import::fetch::{self, FetchError, Validators};
use crate::import::map::{CategoryMap, ImportDefaults, MappedEvent, map_calendar, reason_of};
use crate::import::{ImportSettings, ics};
use crate::workflows::events::OccurrenceForm;

/// What is said of a source that does not exist or that the actor may not see.
pub const NO_SOURCE: &str = "There is no source at this address.";

/// The note a cancelled event carries when it left its feed.
pub const VANISHED_NOTE: &str = "Removed from the organiser's own calendar.";

/// The longest a feed may be: the organisers' calendars, not archives.
pub const MAX_NAME_CHARS: usize = 120;

/// The source form, as typed; the names are the page's and the command line's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SourceForm {
    pub url: String,
    pub city: String,
    pub kind: String,
    pub field: String,
    pub category_map: String,
    /// `cancel` (or empty) or `remove`.
    pub on_vanish: String,
    /// Empty: the feed's own name (`X-WR-CALNAME`) or its address.
    pub name: String,
}

/// A checked source form.
#[derive(Debug, Clone)]
struct SourceDraft {
    url: Option<url::Url>,
    city: City,
    kind: EventKind,
    field: Option<CreativeField>,
    categories: CategoryMap,
    on_vanish: OnVanish,
    name: String,
}

fn parse_source_form(
    conn: &mut DbConnection,
    form: &SourceForm,
    needs_url: bool,
) -> Result<SourceDraft, WorkflowError> {
    let mut errors = FieldErrors::default();
    let url = match form.url.trim() {
        "" if needs_url => {
            errors.add(
                "url",
                "Enter the address of the calendar's .ics feed (https://…).",
            );
            None
        }
        "" => None,
        text => errors.check("url", fetch::parse_source_url(text)),
    };
    let slug = form.city.trim();
    let city = match City::find_by_slug(conn, slug) {
        Ok(c) => Some(c),
        Err(diesel::result::Error::NotFound) => {
            errors.add(
                "city",
                if slug.is_empty() {
                    "Choose the city the calendar's events take place in."
                } else {
                    "Choose one of the cities in the list."
                },
            );
            None
        }
        Err(e) => return Err(e.into()),
    };
    let kind = match form.kind.trim() {
        "" => Some(EventKind::Festival),
        k => errors.check(
            "kind",
            EventKind::parse(k).map_err(|_| format!("choose one of {}", EventKind::slugs())),
        ),
    };
    let field = match form.field.trim() {
        "" => None,
        f => errors.check(
            "field",
            CreativeField::parse(f)
                .map(Some)
                .map_err(|_| format!("choose one of {}", CreativeField::slugs())),
        ),
    }
    .flatten();
    let categories = errors.check("category_map", CategoryMap::parse(&form.category_map));
    let on_vanish = match form.on_vanish.trim() {
        "" => Some(OnVanish::Cancel),
        v => errors.check(
            "on_vanish",
            OnVanish::parse(v).ok_or("choose cancel or remove"),
        ),
    };
    let name = form.name.trim();
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        errors.add(
            "name",
            format!("Give a name of one line, up to {MAX_NAME_CHARS} characters."),
        );
    }
    match (city, kind, categories, on_vanish) {
        (Some(city), Some(kind), Some(categories), Some(on_vanish)) if errors.is_empty() => {
            Ok(SourceDraft {
                url,
                city,
                kind,
                field,
                categories,
                on_vanish,
                name: name.to_owned(),
            })
        }
        _ => Err(WorkflowError::Invalid(errors)),
    }
}

/// Adds a feed as a source of `actor`'s events; due at once. Anybody who may submit
/// events may add one; its events follow the actor's trust, as a submission does.
pub fn add(
    conn: &mut DbConnection,
    actor: &Actor,
    form: &SourceForm,
    now: DateTime<Utc>,
) -> Result<Source, WorkflowError> {
    let source = conn.immediate_transaction(|conn| {
        let draft = parse_source_form(conn, form, true)?;
        let host = draft
            .url
            .as_ref()
            .and_then(|u| u.host_str().map(str::to_owned));
        create(
            conn,
            actor,
            &draft,
            host.as_deref().unwrap_or("Calendar"),
            now,
        )
    })?;
    tracing::info!(source = source.id, owner = actor.id(), "source added");
    Ok(source)
}

/// Stores a checked source form, due at once; `default_name` when it names none.
fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    draft: &SourceDraft,
    default_name: &str,
    now: DateTime<Utc>,
) -> Result<Source, WorkflowError> {
    Ok(Source::create(
        conn,
        &NewSource {
            owner_id: actor.id(),
            city_id: draft.city.id,
            url: draft.url.as_ref().map(|u| u.to_string()),
            name: if draft.name.is_empty() {
                default_name.to_owned()
            } else {
                draft.name.clone()
            },
            kind: draft.kind.slug().to_owned(),
            field: draft.field.map(|f| f.slug().to_owned()),
            category_map: draft.categories.to_text(),
            on_vanish: draft.on_vanish.slug().to_owned(),
            next_fetch_at: now.naive_utc(),
            created_by: Some(actor.id()),
            created_at: now.naive_utc(),
            updated_at: now.naive_utc(),
        },
    )?)
}

/// The form of a stored source, as its edit page starts.
impl SourceForm {
    pub fn of(source: &Source, city: &City) -> SourceForm {
        SourceForm {
            url: source.url.clone().unwrap_or_default(),
            city: city.slug.to_string(),
            kind: source.kind.clone(),
            field: source.field.clone().unwrap_or_default(),
            category_map: source.category_map.clone(),
            on_vanish: source.on_vanish.clone(),
            name: source.name.clone(),
        }
    }
}

/// Changes the settings of the actor's source; it is fetched again at once under them
/// (its events follow at the next sync: a new city or kind moves them too). An uploaded
/// file has no address to change.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    form: &SourceForm,
    now: DateTime<Utc>,
) -> Result<Source, WorkflowError> {
    conn.immediate_transaction(|conn| {
        let (source, _) = own_source(conn, actor, id)?;
        let mut form = form.clone();
        if source.url.is_none() {
            form.url.clear();
        }
        let draft = parse_source_form(conn, &form, source.url.is_some())?;
        let name = if draft.name.is_empty() {
            source.name.clone()
        } else {
            draft.name.clone()
        };
        Ok(Source::update_settings(
            conn,
            id,
            &SourceSettings {
                city_id: draft.city.id,
                url: draft.url.as_ref().map(|u| u.to_string()),
                name,
                kind: draft.kind.slug().to_owned(),
                field: draft.field.map(|f| f.slug().to_owned()),
                category_map: draft.categories.to_text(),
                on_vanish: draft.on_vanish.slug().to_owned(),
            },
            now,
        )?)
    })
}

/// Source `id` with its city, if `actor` owns it or moderates its city; otherwise
/// `NotFound`, as for a missing id.
pub fn own_source(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
) -> Result<(Source, City), WorkflowError> {
    let source = match Source::find(conn, id) {
        Ok(s) => s,
        Err(diesel::result::Error::NotFound) => {
            return Err(WorkflowError::NotFound(NO_SOURCE.to_owned()));
        }
        Err(e) => return Err(e.into()),
    };
    if source.owner_id != actor.id() && !actor.roles.can_moderate(source.city_id) {
        return Err(WorkflowError::NotFound(NO_SOURCE.to_owned()));
    }
    let city = City::find(conn, source.city_id)?;
    Ok((source, city))
}

/// The sources `actor` may manage: their own, and those of the cities they moderate.
pub fn list(conn: &mut DbConnection, actor: &Actor) -> Result<Vec<Source>, WorkflowError> {
    let cities = actor.roles.moderated_cities();
    Ok(Source::list_for(conn, actor.id(), cities.as_deref())?)
}

/// Pauses (no more fetches) or resumes (due at once) the actor's source.
pub fn set_paused(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    paused: bool,
    now: DateTime<Utc>,
) -> Result<Source, WorkflowError> {
    conn.immediate_transaction(|conn| {
        let (source, _) = own_source(conn, actor, id)?;
        Source::set_paused(conn, source.id, paused, now)?;
        Ok(Source::find(conn, source.id)?)
    })
}

/// What deleting a source did to its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteReport {
    pub cancelled: usize,
    pub removed: usize,
}

/// Deletes the actor's source; its events are cancelled, or removed where they were
/// never published and `on_vanish` says so (`None`: as the source says).
pub fn delete(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    on_vanish: Option<OnVanish>,
    now: DateTime<Utc>,
) -> Result<DeleteReport, WorkflowError> {
    conn.immediate_transaction(|conn| {
        let (source, _) = own_source(conn, actor, id)?;
        let owner = Actor::load(conn, source.owner_id)?;
        let rule = on_vanish.unwrap_or(source.on_vanish());
        let mut report = DeleteReport::default();
        for link in ImportedEvent::of_source(conn, source.id)?.into_values() {
            match vanish(conn, &owner, &link, rule, now)? {
                Vanished::Cancelled => report.cancelled += 1,
                Vanished::Removed => report.removed += 1,
                Vanished::Already => {}
            }
        }
        Source::delete(conn, source.id)?;
        tracing::info!(source = id, ?report, "source deleted");
        Ok(report)
    })
}

enum Vanished {
    Cancelled,
    Removed,
    /// Already cancelled (or gone): nothing to do.
    Already,
}

/// An imported event whose VEVENT is gone: cancelled, or removed when `rule` says so
/// and nobody outside the site has seen it.
fn vanish(
    conn: &mut DbConnection,
    owner: &Actor,
    link: &ImportedEvent,
    rule: OnVanish,
    now: DateTime<Utc>,
) -> Result<Vanished, WorkflowError> {
    let before = match Event::find_with_city(conn, link.event_id) {
        Ok(row) => row,
        Err(diesel::result::Error::NotFound) => return Ok(Vanished::Already),
        Err(e) => return Err(e.into()),
    };
    if rule == OnVanish::Remove && Event::delete_unpublished(conn, link.event_id)? {
        return Ok(Vanished::Removed);
    }
    if before.event.status == EventStatus::Cancelled {
        return Ok(Vanished::Already);
    }
    let repetition = Repetition::load(conn, before.event.id)?;
    let before_form = before.event.to_form(&before.city, &repetition);
    let event = Event::set_status(
        conn,
        link.event_id,
        EventStatus::Cancelled,
        Some(VANISHED_NOTE),
        now,
    )?;
    let publishes = owner.roles.publishes_directly(before.event.city_id);
    super::events::after_organiser_change(conn, &before, &before_form, &event, publishes, now)?;
    Ok(Vanished::Cancelled)
}

/// Why a sync did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncSkip {
    /// Another server (or command) holds the source's lease.
    Busy,
    Paused,
}

/// One sync of a source: its run, as recorded, or why none was made.
#[derive(Debug, Clone)]
pub enum SyncOutcome {
    Ran(Box<SourceRun>),
    Skipped(SyncSkip),
}

/// When a source is tried again after `failures` failures in a row: a quarter of an
/// hour, doubling, at most a day.
pub fn backoff(failures: i32) -> TimeDelta {
    let minutes = 15i64.saturating_mul(1i64 << failures.clamp(1, 12).saturating_sub(1));
    TimeDelta::minutes(minutes.min(24 * 60))
}

/// Fetches source `id` and applies its feed, whether it is due or not (a paused source
/// too when `force`). The caller has checked who may ask (the schedule, an owner's
/// "sync now", the command line).
pub fn sync(
    conn: &mut DbConnection,
    settings: &ImportSettings,
    id: i32,
    now: DateTime<Utc>,
    force: bool,
) -> Result<SyncOutcome, WorkflowError> {
    let source = match Source::find(conn, id) {
        Ok(s) => s,
        Err(diesel::result::Error::NotFound) => {
            return Err(WorkflowError::NotFound(NO_SOURCE.to_owned()));
        }
        Err(e) => return Err(e.into()),
    };
    if source.paused && !force {
        return Ok(SyncOutcome::Skipped(SyncSkip::Paused));
    }
    let Some(url) = source.url.clone() else {
        return Err(WorkflowError::Conflict(
            "This source was a file uploaded once; upload the file again to update it.".to_owned(),
        ));
    };
    let lease = settings.fetch.timeout + Duration::from_secs(600);
    let until = now + TimeDelta::from_std(lease).unwrap_or(TimeDelta::hours(1));
    if !Source::take_lease(conn, id, &settings.holder, now, until)? {
        return Ok(SyncOutcome::Skipped(SyncSkip::Busy));
    }
    let result = fetch_and_apply(conn, settings, &source, &url, now);
    // The lease goes whatever happened; a crash leaves it to run out.
    let released = Source::release_lease(conn, id, &settings.holder);
    let run = result?;
    released?;
    Ok(SyncOutcome::Ran(Box::new(run)))
}

/// Syncs every source that is due, one after another; `progress` hears of each.
///
/// `keep_going` is asked before each source: a server that is stopping finishes the sync
/// it is in and starts no other (the rest stay due for the next start).
pub fn sync_due(
    conn: &mut DbConnection,
    settings: &ImportSettings,
    now: impl Fn() -> DateTime<Utc>,
    keep_going: impl Fn() -> bool,
    mut progress: impl FnMut(usize, usize, &Source, &Result<SyncOutcome, WorkflowError>),
) -> Result<usize, WorkflowError> {
    let due = Source::due(conn, now(), 10_000)?;
    for (n, id) in due.iter().enumerate() {
        if !keep_going() {
            break;
        }
        let source = match Source::find(conn, *id) {
            Ok(s) => s,
            Err(diesel::result::Error::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let outcome = sync(conn, settings, *id, now(), false);
        progress(n + 1, due.len(), &source, &outcome);
    }
    Ok(due.len())
}

/// Imports an uploaded `.ics` file once, as a source without a URL.
pub fn import_file(
    conn: &mut DbConnection,
    actor: &Actor,
    form: &SourceForm,
    file_name: &str,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<(Source, SourceRun), WorkflowError> {
    let mut form = form.clone();
    form.url.clear();
    if form.name.trim().is_empty() {
        form.name = short(file_name.trim());
    }
    let source = add_file_source(conn, actor, &form, now)?;
    let started = Instant::now();
    let run = match ics::read(bytes, None) {
        Ok(doc) => apply(conn, &source, &doc, now, started, None, bytes.len())?,
        Err(e) => record_failure(conn, &source, now, started, None, None, &e.to_string())?,
    };
    Ok((Source::find(conn, source.id)?, run))
}

fn add_file_source(
    conn: &mut DbConnection,
    actor: &Actor,
    form: &SourceForm,
    now: DateTime<Utc>,
) -> Result<Source, WorkflowError> {
    conn.immediate_transaction(|conn| {
        let draft = parse_source_form(conn, form, false)?;
        create(conn, actor, &draft, "Uploaded calendar", now)
    })
}

fn fetch_and_apply(
    conn: &mut DbConnection,
    settings: &ImportSettings,
    source: &Source,
    url: &str,
    now: DateTime<Utc>,
) -> Result<SourceRun, WorkflowError> {
    let started = Instant::now();
    let url = match fetch::parse_source_url(url) {
        Ok(u) => u,
        Err(e) => return record_failure(conn, source, now, started, None, None, &e),
    };
    let previous = Validators {
        etag: source.etag.clone(),
        last_modified: source.last_modified.clone(),
    };
    let fetched = match fetch::fetch(&url, &previous, &settings.fetch) {
        Ok(f) => f,
        Err(e) => {
            let message = fetch_message(&e);
            return record_failure(conn, source, now, started, e.status(), None, &message);
        }
    };
    let status = Some(fetched.status);
    let next = now + settings.interval;
    let Some(body) = fetched.body else {
        let state = FetchState {
            etag: fetched.validators.etag.clone(),
            last_modified: fetched.validators.last_modified.clone(),
            body_hash: source.body_hash.clone(),
            next_fetch_at: next.naive_utc(),
            failures: 0,
        };
        let run = NewRun {
            bytes: Some(0),
            ..new_run(source, now, started, status, "not_modified")
        };
        let message = "Not modified since the last fetch (HTTP 304).";
        return record_run(conn, &state, run, message);
    };
    let hash = body_hash(&body);
    let fetch_state = FetchState {
        etag: fetched.validators.etag.clone(),
        last_modified: fetched.validators.last_modified.clone(),
        body_hash: Some(hash.clone()),
        next_fetch_at: next.naive_utc(),
        failures: 0,
    };
    let live = ImportedEvent::live_count(conn, source.id)?;
    if source.body_hash.as_deref() == Some(hash.as_str()) {
        let run = NewRun {
            bytes: Some(body.len() as i64),
            unchanged: i32::try_from(live).unwrap_or(i32::MAX),
            ..new_run(source, now, started, status, "unchanged")
        };
        return record_run(
            conn,
            &fetch_state,
            run,
            "The same feed as at the last fetch.",
        );
    }
    let doc = match ics::read(&body, fetched.charset.as_deref()) {
        Ok(doc) => doc,
        Err(e) => {
            return record_failure(
                conn,
                source,
                now,
                started,
                status,
                Some(body.len()),
                &format!("{e} Nothing was changed."),
            );
        }
    };
    if !doc.complete {
        return record_failure(
            conn,
            source,
            now,
            started,
            status,
            Some(body.len()),
            "The feed ends before END:VCALENDAR (a download cut short); nothing was changed, and nothing was cancelled.",
        );
    }
    // A calendar that suddenly holds nothing is far more often a server's mistake (a
    // calendar made private, an export that failed) than an organiser cancelling their
    // whole programme: it cancels nothing. Deleting the source cancels, if that is meant.
    if live > 0 && doc.calendar.children_named("VEVENT").next().is_none() {
        return record_failure(
            conn,
            source,
            now,
            started,
            status,
            Some(body.len()),
            &format!(
                "The feed holds no events at all, where {live} came from it before; nothing was changed, and nothing was cancelled. If the calendar really is empty now, delete this source to cancel its events."
            ),
        );
    }
    apply(
        conn,
        source,
        &doc,
        now,
        started,
        Some((status, fetch_state)),
        body.len(),
    )
}

fn fetch_message(e: &FetchError) -> String {
    let mut message = crate::domain::sentence(&e.to_string());
    message.push_str(" Nothing was changed.");
    message
}

fn elapsed_ms(started: Instant) -> i32 {
    started.elapsed().as_millis().min(i32::MAX as u128) as i32
}

/// The body's SHA-256 without its DTSTAMP lines, which some servers (Google) renew on
/// every request.
fn body_hash(body: &[u8]) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for line in body.split(|b| *b == b'\n') {
        if !line.starts_with(b"DTSTAMP") {
            hasher.update(line);
            hasher.update(b"\n");
        }
    }
    crate::domain::hex(&hasher.finalize())
}

/// Records a failed fetch: nothing else changes, and the source is tried again later.
fn record_failure(
    conn: &mut DbConnection,
    source: &Source,
    now: DateTime<Utc>,
    started: Instant,
    status: Option<u16>,
    bytes: Option<usize>,
    message: &str,
) -> Result<SourceRun, WorkflowError> {
    tracing::warn!(source = source.id, %message, "source fetch failed");
    let failures = source.failures.saturating_add(1);
    let state = FetchState {
        etag: source.etag.clone(),
        last_modified: source.last_modified.clone(),
        body_hash: source.body_hash.clone(),
        next_fetch_at: (now + backoff(failures)).naive_utc(),
        failures,
    };
    let run = NewRun {
        bytes: bytes.map(|b| b as i64),
        ..new_run(source, now, started, status, "failed")
    };
    record_run(conn, &state, run, message)
}

/// A run of `source` that started at `now` (`started` on the monotonic clock).
fn new_run(
    source: &Source,
    now: DateTime<Utc>,
    started: Instant,
    status: Option<u16>,
    outcome: &str,
) -> NewRun {
    NewRun {
        source_id: source.id,
        started_at: now.naive_utc(),
        duration_ms: elapsed_ms(started),
        http_status: status.map(i32::from),
        outcome: outcome.to_owned(),
        ..NewRun::default()
    }
}

/// Records a run that changed no event, with its message, and the source's state for
/// the next fetch, together.
fn record_run(
    conn: &mut DbConnection,
    state: &FetchState,
    run: NewRun,
    message: &str,
) -> Result<SourceRun, WorkflowError> {
    conn.immediate_transaction(|conn| {
        Source::record_fetch(conn, run.source_id, state)?;
        let run = NewRun {
            message: Some(message.to_owned()),
            ..run
        };
        Ok(SourceRun::record(conn, &run, &[])?)
    })
}

/// Counts and notes of one applied feed.
#[derive(Debug)]
struct Tally {
    run: NewRun,
    notes: Vec<(String, Option<String>, Option<String>, String)>,
}

impl Tally {
    fn skip(&mut self, uid: Option<String>, summary: Option<String>, reason: String) {
        self.run.skipped += 1;
        self.notes
            .push(("skipped".to_owned(), uid, summary, reason));
    }

    fn warn(&mut self, uid: Option<&str>, message: String) {
        self.notes
            .push(("warning".to_owned(), uid.map(str::to_owned), None, message));
    }
}

/// Applies a parsed feed to the source's events, in one write transaction: created,
/// updated, unchanged, cancelled, removed and skipped, recorded as one run.
fn apply(
    conn: &mut DbConnection,
    source: &Source,
    doc: &ics::Document,
    now: DateTime<Utc>,
    started: Instant,
    fetch: Option<(Option<u16>, FetchState)>,
    bytes: usize,
) -> Result<SourceRun, WorkflowError> {
    let result = conn.immediate_transaction(|conn| {
        let city = City::find(conn, source.city_id)?;
        let owner = Actor::load(conn, source.owner_id)?;
        let tz = city.timezone.tz();
        let today = now.with_timezone(&tz).date_naive();
        let defaults = ImportDefaults {
            city_tz: tz,
            city_name: city.name.clone(),
            kind: EventKind::parse(&source.kind).unwrap_or(EventKind::Festival),
            field: source
                .field
                .as_deref()
                .and_then(|f| CreativeField::parse(f).ok()),
            categories: CategoryMap::parse(&source.category_map).unwrap_or_default(),
        };
        let mapped = map_calendar(doc, &defaults, today);
        let status = fetch.as_ref().and_then(|(status, _)| *status);
        let mut tally = Tally {
            run: NewRun {
                bytes: Some(bytes as i64),
                ..new_run(source, now, started, status, "imported")
            },
            notes: Vec::new(),
        };
        for w in doc.warnings.iter().chain(&mapped.warnings) {
            tally.warn(None, w.clone());
        }
        for s in &mapped.skipped {
            tally.skip(s.uid.clone(), s.summary.clone(), s.reason.clone());
        }
        let mut links = ImportedEvent::of_source(conn, source.id)?;
        let mut seen = HashSet::new();
        for event in &mapped.events {
            if !seen.insert(event.uid.clone()) {
                continue;
            }
            for w in &event.warnings {
                tally.warn(Some(&event.uid), w.clone());
            }
            let link = links.remove(&event.uid);
            apply_event(
                conn, &owner, &city, source, event, link, today, now, &mut tally,
            )?;
        }
        // What is left was in the feed before and is not now.
        for link in links.into_values() {
            if link.vanished || mapped.uids.contains(&link.source_uid) {
                continue;
            }
            match vanish(conn, &owner, &link, source.on_vanish(), now)? {
                // The link went with the event.
                Vanished::Removed => tally.run.removed += 1,
                done => {
                    if matches!(done, Vanished::Cancelled) {
                        tally.run.cancelled += 1;
                    }
                    ImportedEvent {
                        vanished: true,
                        ..link
                    }
                    .save(conn)?;
                }
            }
        }
        if let Some((_, state)) = &fetch {
            Source::record_fetch(conn, source.id, state)?;
        }
        if let Some(name) = mapped
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            && source.url.as_deref().is_some_and(|u| {
                fetch::parse_source_url(u)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .as_deref()
                    == Some(source.name.as_str())
            })
        {
            Source::set_name(conn, source.id, &short_name(name))?;
        }
        tally.run.duration_ms = elapsed_ms(started);
        Ok::<_, WorkflowError>(SourceRun::record(conn, &tally.run, &tally.notes)?)
    });
    match result {
        Ok(run) => {
            tracing::info!(source = source.id, counts = %run.counts(), "source synced");
            Ok(run)
        }
        // The transaction left nothing half-written; the run says why.
        Err(WorkflowError::Database(e)) => Err(WorkflowError::Database(e)),
        Err(e) => record_failure(
            conn,
            source,
            now,
            started,
            None,
            Some(bytes),
            &format!("{e}; nothing was changed."),
        ),
    }
}

fn short_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect()
}

/// One VEVENT (with its overrides) applied: created, updated, unchanged or skipped.
#[allow(clippy::too_many_arguments)]
fn apply_event(
    conn: &mut DbConnection,
    owner: &Actor,
    city: &City,
    source: &Source,
    mapped: &MappedEvent,
    link: Option<ImportedEvent>,
    today: NaiveDate,
    now: DateTime<Utc>,
    tally: &mut Tally,
) -> Result<(), WorkflowError> {
    let hash = mapped.content_hash();
    if let Some(link) = &link
        && link.content_hash == hash
        && !link.vanished
    {
        tally.run.unchanged += 1;
        return Ok(());
    }
    let summary = Some(mapped.form.title.clone());
    let mut form = mapped.form.clone();
    form.city = city.slug.to_string();
    let parsed = form.parse(
        Some(FormCity {
            tz: city.timezone.tz(),
            field: city.field,
        }),
        today,
        Some(owner.account.organiser_name()),
        mapped.status,
    );
    let mut draft = match parsed {
        Ok(d) => d,
        Err(errors) => {
            tally.skip(Some(mapped.uid.clone()), summary, reason_of(&errors));
            return Ok(());
        }
    };
    draft.coordinates = mapped.coordinates;
    // What the form's parsing cannot see (a time the clocks skip, checked against the
    // stored event) is refused before anything is written: the event is skipped, the
    // rest of the feed goes on.
    let refused = |e: WorkflowError, tally: &mut Tally| match e {
        WorkflowError::Invalid(errors) => {
            tally.skip(
                Some(mapped.uid.clone()),
                summary.clone(),
                reason_of(&errors),
            );
            Ok(())
        }
        WorkflowError::Conflict(why) => {
            tally.skip(Some(mapped.uid.clone()), summary.clone(), why);
            Ok(())
        }
        other => Err(other),
    };
    let mut cancelled_now = false;
    let (event_id, before_overrides, changed) = match &link {
        None => {
            let event = match create_in(conn, owner, city, &draft, now) {
                Ok(e) => e,
                Err(e) => return refused(e, tally),
            };
            ImportedEvent {
                source_id: source.id,
                source_uid: mapped.uid.clone(),
                event_id: event.id,
                content_hash: hash.clone(),
                source_timezone: mapped.source_timezone.clone(),
                vanished: false,
            }
            .insert(conn)?;
            tally.run.created += 1;
            (event.id, BTreeMap::new(), true)
        }
        Some(link) => {
            let before = Event::find_with_city(conn, link.event_id)?;
            let was_cancelled = before.event.status == EventStatus::Cancelled;
            let overridden: BTreeMap<NaiveDate, ()> = Repetition::load(conn, link.event_id)?
                .occurrences
                .iter()
                .filter(|o| o.overridden)
                .map(|o| (o.occurrence_date, ()))
                .collect();
            let event = match update_in(conn, owner, &before, city, draft, now) {
                Ok(e) => e,
                Err(e) => return refused(e, tally),
            };
            let changed = event.sequence != before.event.sequence;
            if changed && !was_cancelled && event.status == EventStatus::Cancelled {
                tally.run.cancelled += 1;
                cancelled_now = true;
            }
            (link.event_id, overridden, changed)
        }
    };
    // Overrides: the feed's, and a date overridden before but not now put back.
    let mut overrides_changed = false;
    let restore = OccurrenceForm::default();
    let wanted = before_overrides
        .keys()
        .filter(|d| !mapped.overrides.contains_key(d))
        .map(|d| (*d, &restore))
        .chain(mapped.overrides.iter().map(|(d, f)| (*d, f)));
    for (date, occurrence) in wanted {
        let before = Repetition::load(conn, event_id)?;
        let old = before.occurrence(date).cloned();
        match change_occurrence_in(conn, owner, event_id, date, occurrence, now) {
            Ok(new) => overrides_changed |= old.as_ref() != Some(&new),
            Err(WorkflowError::Database(e)) => return Err(WorkflowError::Database(e)),
            Err(e) => tally.warn(
                Some(&mapped.uid),
                format!(
                    "The override of {date} was left out: {}",
                    override_reason(&e)
                ),
            ),
        }
    }
    if let Some(link) = link {
        if cancelled_now {
            // Counted as cancelled.
        } else if changed || overrides_changed {
            tally.run.updated += 1;
        } else {
            tally.run.unchanged += 1;
        }
        ImportedEvent {
            content_hash: hash,
            source_timezone: mapped.source_timezone.clone(),
            vanished: false,
            ..link
        }
        .save(conn)?;
    }
    Ok(())
}

fn override_reason(e: &WorkflowError) -> String {
    match e {
        WorkflowError::Invalid(errors) => reason_of(errors),
        other => other.to_string(),
    }
}
