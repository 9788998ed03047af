//! The `.ics` feeds: the network, a city, a field, any `/events` filter, one event.
//!
//! A calendar app polls a feed for as long as it is subscribed, so an unchanged feed must
//! cost next to nothing. Each built feed is kept in memory with the data revision it was
//! built from (see the `data_revision` migration) and the day it was built on (the window
//! moves at midnight UTC). A poll reads that revision, one primary-key row, and answers
//! `304` or the kept bytes; only a change rebuilds the feed, one build at a time however
//! many writes come (see `cache.rs`). The ETag is a hash of the bytes, so a change
//! elsewhere in the network leaves this feed's ETag as it was. `Last-Modified` and
//! `If-Modified-Since` are held against the full-precision time of the last change (see
//! [`last_modified`]).

use std::time::{Duration, Instant, SystemTime};

use crate::db::DbConnection;
use actix_web::http::header::{
    self, CacheControl, CacheDirective, ContentDisposition, DispositionParam, DispositionType,
    HttpDate, IfModifiedSince, IfNoneMatch,
};
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::Connection;

use crate::db;
use crate::db::models::{City, Event, EventQuery, EventWithCity, FeedEvents, data_revision};
use crate::domain::{CreativeField, Slug};
use crate::error::{AppError, OrWhenMissing};
use crate::filters::{event_query, filter_city, filter_heading};
use crate::ical::{self, CalendarInfo, Site};
use crate::web::AppState;
use crate::web::pages::events::{no_event, parse_event_id};
use crate::web::pages::thousands;
use crate::web::params::{EventFilter, EventsParams, short};

pub use crate::feed_cache::FeedCache;
use crate::feed_cache::{Built, BuiltFeed, Got, Wanted};
pub(crate) use crate::feed_cache::{content_tag, gzip_if_large, gzip_tag};
use crate::urlencoded::Query;

/// How long shared caches may serve a feed without asking again. Short next to the
/// refresh interval clients are told, so that a cancellation travels within the hour.
const MAX_AGE: u32 = 15 * 60;

pub use crate::filters::{SITE_NAME, calendar_name};

/// Which feed a request asks for.
#[derive(Debug, Clone)]
enum FeedSpec {
    Network,
    City(String),
    Field(CreativeField),
    Filtered(EventFilter),
    Event(i32),
}

impl FeedSpec {
    /// The cache key: one per distinct feed.
    fn key(&self) -> String {
        match self {
            FeedSpec::Network => "network".to_owned(),
            FeedSpec::City(slug) => format!("city:{slug}"),
            FeedSpec::Field(field) => format!("field:{}", field.slug()),
            FeedSpec::Filtered(filter) => format!("events:{}", filter.query_string(1)),
            FeedSpec::Event(id) => format!("event:{id}"),
        }
    }
}

pub use crate::error::FeedError;

type FeedResult = Result<HttpResponse, FeedError>;

/// `/calendar.ics`: the whole network.
pub async fn network_calendar(state: web::Data<AppState>, req: HttpRequest) -> FeedResult {
    serve(state, &req, FeedSpec::Network).await
}

/// `/cities/{slug}/calendar.ics`.
pub async fn city_calendar(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
) -> FeedResult {
    let slug = Slug::parse(&slug).map_err(|_| unknown_city(&slug))?;
    serve(state, &req, FeedSpec::City(slug.to_string())).await
}

/// `/fields/{slug}/calendar.ics`.
pub async fn field_calendar(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
) -> FeedResult {
    let field = CreativeField::parse(&slug).map_err(|_| {
        AppError::not_found(format!(
            "There is no creative field called “{}”. The fields are: {}.",
            short(&slug),
            CreativeField::slugs()
        ))
    })?;
    serve(state, &req, FeedSpec::Field(field)).await
}

/// `/events.ics?…`: the filters of `/events`, all pages of them.
pub async fn filtered_calendar(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: Query<EventsParams>,
) -> FeedResult {
    let mut filter = EventFilter::try_from(&params.into_inner())?;
    if filter.past {
        return Err(AppError::bad_request(
            "past",
            "a feed holds upcoming events and those of the last 30 days; \
             use from and to for other dates",
        )
        .into());
    }
    // A feed is every page at once.
    filter.page = 1;
    serve(state, &req, FeedSpec::Filtered(filter)).await
}

/// `/events/{id}/calendar.ics`: one event, for "add to calendar".
pub async fn event_calendar(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> FeedResult {
    let id = parse_event_id(&id)?;
    serve(state, &req, FeedSpec::Event(id)).await
}

fn unknown_city(slug: &str) -> AppError {
    AppError::not_found(format!("No city has the slug “{}”.", short(slug)))
}

async fn serve(state: web::Data<AppState>, req: &HttpRequest, spec: FeedSpec) -> FeedResult {
    let conditions = Conditions::of(req);
    let feed = feed(&state, spec, &conditions).await?;
    let now = SystemTime::from(state.clock.now());
    let not_modified = conditions.not_modified(&feed, now);
    let (etag, body, encoding) = match (&feed.gzip, conditions.gzip) {
        (Some(zipped), true) => (&zipped.etag, &zipped.body, Some("gzip")),
        _ => (&feed.etag, &feed.body, None),
    };
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header(header::ETag(etag.clone()))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(MAX_AGE),
        ]));
    if let Some(at) = last_modified(feed.changed, now) {
        response.insert_header(header::LastModified(HttpDate::from(at)));
    }
    if let Some(name) = &feed.filename {
        response.insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(name.clone())],
        });
    }
    // The revision of the data the feed shows: while a build runs it may be the version
    // before, which the response cache must not keep under the current revision.
    let data = crate::web::cache::DataRevision(feed.revision);
    if not_modified {
        let mut response = response.finish();
        response.extensions_mut().insert(data);
        return Ok(response);
    }
    if let Some(encoding) = encoding {
        response.insert_header((header::CONTENT_ENCODING, encoding));
    }
    let mut response = response
        .content_type("text/calendar; charset=utf-8")
        .body(crate::web::cache::SharedBody::new(body.clone()));
    response.extensions_mut().insert(data);
    Ok(response)
}

/// The feed a request gets: the one kept for the current data, or while a build runs the
/// version before it if young, or the one built for it (see `cache.rs`).
async fn feed(
    state: &web::Data<AppState>,
    spec: FeedSpec,
    conditions: &Conditions,
) -> Result<BuiltFeed, AppError> {
    let now = SystemTime::from(state.clock.now());
    let conditions = conditions.clone();
    // A feed kept without its body (larger than the whole cache) answers only a 304.
    let usable =
        move |feed: &BuiltFeed| !feed.body.is_empty() || conditions.not_modified(feed, now);
    let got = fetch(state, spec.clone(), usable).await?;
    if got.build_again {
        actix_web::rt::spawn(build_behind(state.clone(), spec));
    }
    Ok(got.feed)
}

/// Builds `spec` again in the background, for as long as requests keep asking for newer
/// data than the last build read: one build after another, never one per write.
async fn build_behind(state: web::Data<AppState>, spec: FeedSpec) {
    loop {
        match fetch(&state, spec.clone(), |_| true).await {
            Ok(got) if got.build_again => {}
            Ok(_) => return,
            Err(e) => {
                e.log();
                return;
            }
        }
    }
}

/// Learns the data revision (from memory when it is current enough, see
/// `crate::revision`) and gets the feed from the cache for it, building it on the
/// blocking pool if need be.
async fn fetch(
    state: &web::Data<AppState>,
    spec: FeedSpec,
    usable: impl Fn(&BuiltFeed) -> bool + Send + 'static,
) -> Result<Got, AppError> {
    let revision = state.revision().await?;
    let wanted = Wanted {
        revision,
        day: state.clock.now().date_naive(),
    };
    let key = spec.key();
    if let Some(feed) = state.feeds.find(&key, wanted, Instant::now(), &usable) {
        metrics::counter!("cache_hits_total", "cache" => "feed").increment(1);
        return Ok(Got {
            feed,
            build_again: false,
        });
    }
    // Building, and waiting for a build, both run on the blocking pool: the network feed
    // of a large database takes a second or more, which must not stall an async worker.
    // A waiting request holds no database connection.
    let state = state.clone();
    web::block(move || {
        state
            .feeds
            .get_or_build(&key, wanted, Instant::now(), usable, || {
                metrics::counter!("cache_misses_total", "cache" => "feed").increment(1);
                let started = Instant::now();
                let built = build_feed(&state, &spec);
                metrics::histogram!("feed_build_seconds").record(started.elapsed().as_secs_f64());
                built
            })
    })
    .await?
}

/// Whether the client takes gzip (`Accept-Encoding: gzip`, `x-gzip` or `*`, with a
/// non-zero quality). Without the header, the body goes as it is.
pub(crate) fn accepts_gzip(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    value.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default().to_ascii_lowercase();
        let quality = parts
            .find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
            .map_or(1.0, |q| q.parse::<f32>().unwrap_or(0.0));
        matches!(coding.as_str(), "gzip" | "x-gzip" | "*") && quality > 0.0
    })
}

/// What a request's validators ask, read once, so that they can be held against whichever
/// version of the feed it gets: the kept one, the one before it, or one built for it.
#[derive(Debug, Clone)]
struct Conditions {
    precondition: Precondition,
    gzip: bool,
}

#[derive(Debug, Clone)]
enum Precondition {
    None,
    /// RFC 9110 13.1: `If-None-Match` decides when present, with weak comparison; one
    /// that does not parse matches nothing.
    IfNoneMatch(Option<IfNoneMatch>),
    IfModifiedSince(SystemTime),
}

impl Conditions {
    fn of(req: &HttpRequest) -> Conditions {
        let precondition = if req.headers().contains_key(header::IF_NONE_MATCH) {
            Precondition::IfNoneMatch(header::Header::parse(req).ok())
        } else {
            match <IfModifiedSince as header::Header>::parse(req) {
                Ok(IfModifiedSince(since)) => Precondition::IfModifiedSince(since.into()),
                Err(_) => Precondition::None,
            }
        };
        Conditions {
            precondition,
            gzip: accepts_gzip(req),
        }
    }

    /// Whether `feed` is what the client holds, at `now`. The ETag compared is that of
    /// the representation the request gets.
    fn not_modified(&self, feed: &BuiltFeed, now: SystemTime) -> bool {
        let etag = match (&feed.gzip, self.gzip) {
            (Some(zipped), true) => &zipped.etag,
            _ => &feed.etag,
        };
        match &self.precondition {
            Precondition::None => false,
            Precondition::IfNoneMatch(header) => none_match(header.as_ref(), etag),
            Precondition::IfModifiedSince(since) => unchanged_since(feed.changed, *since, now),
        }
    }
}

/// Whether an `If-None-Match` header (`None`: one that did not parse) names `etag`, by
/// weak comparison (RFC 9110 13.1.2); the API's answers are held to it too.
pub(crate) fn none_match(header: Option<&IfNoneMatch>, etag: &header::EntityTag) -> bool {
    match header {
        None => false,
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(etag)),
    }
}

/// How long after a change's second a `Last-Modified` waits: the longest a write can take
/// from stamping `updated_at` to its commit (it stamps, then may wait for a pooled
/// connection and for SQLite's write lock, or fail), and a second more. A response made
/// before a write commits shows the data before it; if it carried a `Last-Modified` at
/// or after the write's stamp, that date would later pass for "not modified since".
const LAST_MODIFIED_SETTLES: Duration = db::CONNECTION_TIMEOUT
    .saturating_add(db::BUSY_TIMEOUT)
    .saturating_add(Duration::from_secs(1));

/// The `Last-Modified` to send at `now` for data last changed at `changed` (full
/// precision), if any.
///
/// An HTTP date has whole seconds. Rounded down, as it once was, a change, a poll and a
/// second change in the same second gave the second version the date the client already
/// held, and `If-Modified-Since` kept it on the first (issue 9, point 3). So the date is
/// the first whole second not before the change, and [`unchanged_since`] compares the
/// full-precision time. That date is sent only once no write stamped before it can still
/// be committing ([`LAST_MODIFIED_SETTLES`]): until then there is none, and a client that
/// revalidates only by date asks unconditionally, which is always right. RFC 9110 8.8.2.2
/// treats a date within a second of the response as weak anyway; this also keeps it
/// never later than now (8.8.2.1). Nothing here is kept per client or per server, so
/// several app servers answer alike.
fn last_modified(changed: SystemTime, now: SystemTime) -> Option<SystemTime> {
    let at = whole_second_not_before(changed);
    (at + LAST_MODIFIED_SETTLES <= now).then_some(at)
}

/// `If-Modified-Since`: true only when nothing changed after `since`, to the full precision
/// of the stored times, so a change in the very second the client names is modified. That
/// is `Last-Modified <= since` for the date [`last_modified`] sends, and it also holds for
/// clients that send the `Date` of their last response instead. A date later than now is
/// ignored, as RFC 2616 (14.25) had it: changes may still come before it.
fn unchanged_since(changed: SystemTime, since: SystemTime, now: SystemTime) -> bool {
    since <= now && changed <= since
}

fn whole_second_not_before(t: SystemTime) -> SystemTime {
    let since_epoch = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs() + u64::from(since_epoch.subsec_nanos() > 0);
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}

/// What a feed is made of, read in one go.
struct FeedData {
    info: CalendarInfo,
    events: FeedEvents,
    /// Latest change to anything shown, including the feed's own city.
    changed: Option<DateTime<Utc>>,
    filename: Option<String>,
}

/// Builds feed `spec` from the data as it is now. The revision and the rows are read in one
/// transaction, so they are of the same moment: a write made meanwhile is in neither
/// (in WAL mode a reader does not hold up writers).
fn build_feed(state: &AppState, spec: &FeedSpec) -> Result<Built, AppError> {
    let now = state.clock.now();
    let public_url = state.public_url.as_str();
    let mut conn = state.pool.get()?;
    let (revision, data) = conn.transaction(|conn| {
        let revision = data_revision(conn)?;
        let data = load(conn, spec, now, public_url, state.feed_max_events)?;
        Ok::<_, AppError>((revision, data))
    })?;
    // Every write it holds was committed, and so stamped, before this.
    let read_at = state.clock.now();
    drop(conn);
    let body = ical::render(
        &data.info,
        &Site { public_url },
        &data.events.events,
        &data.events.repetitions,
    );
    let changed = data
        .changed
        .map(|t| t.min(read_at))
        .map_or(SystemTime::UNIX_EPOCH, SystemTime::from);
    let mut feed = BuiltFeed::new(body, changed, data.filename);
    feed.revision = revision;
    Ok(Built {
        revision,
        day: now.date_naive(),
        feed,
    })
}

fn load(
    conn: &mut DbConnection,
    spec: &FeedSpec,
    now: DateTime<Utc>,
    public_url: &str,
    limit: usize,
) -> Result<FeedData, AppError> {
    let everything = EventQuery::default();
    let (info, query, city) = match spec {
        FeedSpec::Event(id) => return load_event(conn, *id, public_url),
        FeedSpec::Network => (
            CalendarInfo {
                name: SITE_NAME.to_owned(),
                description: "Festivals, exhibitions, workshops, performances and more in the \
                              cities of the UNESCO Creative Cities Network."
                    .to_owned(),
                page_url: format!("{public_url}/events"),
            },
            everything,
            None,
        ),
        FeedSpec::City(slug) => {
            let city = City::find_by_slug(conn, slug).or_when_missing(|| unknown_city(slug))?;
            let info = CalendarInfo {
                name: calendar_name(&city.name),
                description: format!(
                    "Events in {}, {}, UNESCO Creative City of {}.",
                    city.name,
                    city.country,
                    city.field.label()
                ),
                page_url: format!("{public_url}/cities/{}", city.slug),
            };
            let query = EventQuery {
                city_id: Some(city.id),
                ..everything
            };
            (info, query, Some(city))
        }
        FeedSpec::Field(field) => (
            CalendarInfo {
                name: calendar_name(field.label()),
                description: format!(
                    "{} events across the UNESCO Creative Cities Network.",
                    field.label()
                ),
                page_url: format!("{public_url}/fields/{}", field.slug()),
            },
            EventQuery {
                field: Some(*field),
                ..everything
            },
            None,
        ),
        FeedSpec::Filtered(filter) => {
            let city = filter_city(conn, filter)?;
            let country = match filter.country {
                Some(code) => Some(City::country_named(&City::countries(conn)?, code).name),
                None => None,
            };
            let heading = filter_heading("", filter, city.as_ref(), country.as_deref());
            let page_url = format!("{public_url}{}", filter.url(1));
            let info = CalendarInfo {
                name: calendar_name(&heading),
                description: format!("{heading}, as listed at {page_url}"),
                page_url,
            };
            (info, event_query(filter, city.as_ref(), 1, now), city)
        }
    };

    let window_start = ical::window_start(now);
    let events = query.feed(conn, window_start, limit)?;
    // Events leave a feed without a row of it changing: when the window passes them,
    // and when a moderator unpublishes one.
    let left_window = query
        .last_left_window(conn, window_start)?
        .map(ical::left_window_at)
        .max(query.last_withdrawn(conn, window_start)?);
    let mut info = info;
    if events.truncated {
        info.description.push_str(&format!(
            " This feed holds the first {} events only; \
             subscribe to a city or a field to see all of theirs.",
            thousands(i64::try_from(limit).unwrap_or(i64::MAX))
        ));
    }
    let changed = latest_change(&events.events, city.as_ref(), left_window);
    Ok(FeedData {
        info,
        events,
        changed,
        filename: None,
    })
}

/// One published event, as a download.
fn load_event(conn: &mut DbConnection, id: i32, public_url: &str) -> Result<FeedData, AppError> {
    let row = Event::find_published(conn, id).or_when_missing(no_event)?;
    let info = CalendarInfo {
        name: calendar_name(&row.event.title),
        description: format!("{}, {}", row.event.title, row.city.name),
        page_url: format!("{public_url}/events/{id}"),
    };
    let filename = download_name(&row.event.title, id);
    let repetitions = crate::db::models::Repetition::load_many(conn, &[id])?;
    let events = vec![row];
    Ok(FeedData {
        info,
        changed: latest_change(&events, None, None),
        events: FeedEvents {
            events,
            repetitions,
            truncated: false,
        },
        filename: Some(filename),
    })
}

/// The latest change to anything a feed shows: its events, their cities, the feed's own
/// city, and the moment the window last let an event go.
fn latest_change(
    events: &[EventWithCity],
    city: Option<&City>,
    left_window: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    events
        .iter()
        .flat_map(|r| [r.event.updated_at, r.city.updated_at])
        .chain(city.map(|c| c.updated_at))
        .max()
        .map(|t| t.and_utc())
        .into_iter()
        .chain(left_window)
        .max()
}

/// "jazz-night-in-braga.ics": the title's slug, or the id when the title has no
/// letters to make one from.
fn download_name(title: &str, id: i32) -> String {
    let stem = match Slug::from_name(title) {
        Ok(slug) => slug.as_str().chars().take(60).collect::<String>(),
        Err(_) => format!("event-{id}"),
    };
    format!("{}.ics", stem.trim_end_matches('-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        SystemTime::from(text.parse::<DateTime<Utc>>().unwrap())
    }

    #[test]
    fn last_modified_is_the_first_whole_second_not_before_the_change_once_it_settled() {
        let changed = at("2026-11-28T12:00:00.700Z");
        assert_eq!(last_modified(changed, at("2026-11-28T12:00:00.900Z")), None);
        assert_eq!(last_modified(changed, at("2026-11-28T12:00:16.999Z")), None);
        assert_eq!(
            last_modified(changed, at("2026-11-28T12:00:17Z")),
            Some(at("2026-11-28T12:00:01Z"))
        );
        // A change on a whole second is its own date.
        assert_eq!(
            last_modified(at("2026-11-20T08:30:00Z"), at("2026-11-28T12:00:00Z")),
            Some(at("2026-11-20T08:30:00Z"))
        );
    }

    #[test]
    fn if_modified_since_is_held_against_the_full_precision_change() {
        let now = at("2026-11-28T12:00:30Z");
        let changed = at("2026-11-28T12:00:00.700Z");
        // A date in the second of the change: it may have come after the client's copy.
        assert!(!unchanged_since(changed, at("2026-11-28T12:00:00Z"), now));
        // The date sent for it.
        assert!(unchanged_since(changed, at("2026-11-28T12:00:01Z"), now));
        assert!(!unchanged_since(changed, at("2026-11-27T12:00:00Z"), now));
        // Later than now: ignored.
        assert!(!unchanged_since(changed, at("2026-11-28T12:01:00Z"), now));
        let whole = at("2026-11-28T12:00:00Z");
        assert!(unchanged_since(whole, whole, now));
    }

    #[test]
    fn gzip_is_negotiated_by_accept_encoding() {
        use actix_web::test::TestRequest;
        let takes = |value: &str| {
            accepts_gzip(
                &TestRequest::default()
                    .insert_header(("Accept-Encoding", value))
                    .to_http_request(),
            )
        };
        assert!(takes("gzip"));
        assert!(takes("deflate, gzip;q=0.5, br"));
        assert!(takes("X-GZIP"));
        assert!(takes("*"));
        assert!(!takes("gzip;q=0"));
        assert!(!takes("identity"));
        assert!(!takes("br, deflate"));
        assert!(!accepts_gzip(&TestRequest::default().to_http_request()));
    }
}
