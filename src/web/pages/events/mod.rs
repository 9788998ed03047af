//! Public event pages (the listing and one event's page), and, in submodules that
//! mirror `templates/events/`, the organisers' pages: the form, their list, and the
//! status actions.

pub mod form;
pub mod mine;
pub mod occurrence;
pub mod status;

use actix_web::web::Html;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

use super::{EventCard, Pager, render};
use crate::auth::{MaybeViewer, Viewer};
use crate::db::models::{City, CityFilter, Event, EventWithCity};
use crate::domain::{EventKind, EventSchedule, EventStatus, ModerationState, When};
use crate::error::AppError;
use crate::web::AppState;
use crate::web::calendar_links::{AddToCalendar, Subscription};
use crate::web::pages::account::no_store;
use crate::web::params::{EventFilter, EventsParams, OpenDay, canonical_id};
use crate::web::text::{description_html, json_for_script};
// Where the feeds and other branches' code found them before they moved.
pub(crate) use crate::filters::{calendar_name, event_query, filter_city, filter_heading};
use crate::urlencoded::Query;
use crate::workflows::{self, Actor};

#[derive(Template)]
#[template(path = "events/index.html")]
pub struct EventsPage {
    pub section: &'static str,
    pub filter: EventFilter,
    pub city: Option<City>,
    pub countries: Vec<(String, String)>,
    /// The name of the country filtered on.
    pub country_name: Option<String>,
    /// The name of the country filtered on, when no member city is there.
    pub no_member_city: Option<String>,
    /// (slug, "Name, Country") for the city filter.
    pub cities: Vec<(String, String)>,
    pub events: Vec<EventCard>,
    pub pager: Pager,
    pub heading: String,
    /// The feed of these filters; none for past events, which a feed does not hold.
    pub subscription: Option<Subscription>,
}

impl EventsPage {
    fn open_today(&self) -> bool {
        self.filter.open == Some(OpenDay::Today)
    }

    fn selected_field_slug(&self) -> &str {
        self.filter.field.map_or("", |f| f.slug())
    }
    fn is_kind(&self, k: &EventKind) -> bool {
        self.filter.kind == Some(*k)
    }
    fn selected_country_code(&self) -> &str {
        self.filter.country.as_ref().map_or("", |c| c.as_str())
    }
    fn date_from_input(&self) -> String {
        self.filter.from.map(|d| d.to_string()).unwrap_or_default()
    }
    fn date_to_input(&self) -> String {
        self.filter.to.map(|d| d.to_string()).unwrap_or_default()
    }
    fn q_value(&self) -> &str {
        self.filter.q.as_deref().unwrap_or_default()
    }
    fn city_value(&self) -> String {
        self.filter
            .city
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default()
    }
    /// Each filter in use, with a link to the same listing without it.
    fn active_filters(&self) -> Vec<(String, String)> {
        let f = &self.filter;
        let without = |clear: &dyn Fn(&mut EventFilter)| {
            let mut other = f.clone();
            clear(&mut other);
            other.url(1)
        };
        let mut chips = Vec::new();
        if let Some(city) = &self.city {
            chips.push((format!("City: {}", city.name), without(&|o| o.city = None)));
        }
        if let Some(name) = &self.country_name {
            chips.push((format!("Country: {name}"), without(&|o| o.country = None)));
        }
        if let Some(field) = f.field {
            chips.push((
                format!("Field: {}", field.label()),
                without(&|o| o.field = None),
            ));
        }
        if let Some(kind) = f.kind {
            chips.push((
                format!("Kind: {}", kind.label()),
                without(&|o| o.kind = None),
            ));
        }
        if let Some(from) = f.from {
            chips.push((
                format!("From: {}", from.format("%-d %b %Y")),
                without(&|o| o.from = None),
            ));
        }
        if let Some(to) = f.to {
            chips.push((
                format!("To: {}", to.format("%-d %b %Y")),
                without(&|o| o.to = None),
            ));
        }
        if let Some(q) = &f.q {
            chips.push((format!("Search: “{q}”"), without(&|o| o.q = None)));
        }
        if f.past {
            chips.push(("Past events".to_owned(), without(&|o| o.past = false)));
        }
        match self.filter.open {
            Some(OpenDay::Today) => {
                chips.push(("Open today".to_owned(), without(&|o| o.open = None)))
            }
            Some(OpenDay::Date(d)) => chips.push((
                format!("Open on {}", d.format("%a %-d %b %Y")),
                without(&|o| o.open = None),
            )),
            None => {}
        }
        chips
    }

    fn toggle_past_url(&self) -> String {
        let mut other = self.filter.clone();
        other.past = !other.past;
        other.url(1)
    }
}

pub async fn list_events(
    state: web::Data<AppState>,
    params: Query<EventsParams>,
) -> Result<Html, AppError> {
    let filter = EventFilter::try_from(&params.into_inner())?;
    let now = state.clock.now();
    let per_page = state.page_size;
    let f = filter.clone();
    let (city, countries, cities, result) = state
        .db(move |conn| {
            let city = filter_city(conn, &f)?;
            let result = event_query(&f, city.as_ref(), per_page, now).run(conn, now)?;
            let countries = City::countries(conn)?;
            let cities = City::list(conn, &CityFilter::default())?
                .into_iter()
                .map(|c| (c.slug.to_string(), format!("{}, {}", c.name, c.country)))
                .collect();
            Ok((city, countries, cities, result))
        })
        .await?;
    let country = filter
        .country
        .map(|code| City::country_named(&countries, code));
    let country_name = country.as_ref().map(|c| c.name.clone());
    let no_member_city = country.filter(|c| !c.has_cities).map(|c| c.name);
    let heading = listing_heading(&filter, city.as_ref(), country_name.as_deref());
    let pager = Pager::new(&result, |p| filter.url(p));
    let subscription = (!filter.past).then(|| {
        let (path, name) = if filter.is_filtered() {
            let qs = filter.query_string(1);
            let subject = filter_heading("", &filter, city.as_ref(), country_name.as_deref());
            (format!("/events.ics?{qs}"), calendar_name(&subject))
        } else {
            (
                "/calendar.ics".to_owned(),
                crate::filters::SITE_NAME.to_owned(),
            )
        };
        Subscription::new(&state.public_url, &path, &name)
    });
    render(&EventsPage {
        section: "events",
        events: EventCard::list(&result.events, &result.repetitions, now),
        pager,
        heading,
        subscription,
        city,
        countries,
        country_name,
        no_member_city,
        cities,
        filter,
    })
}

/// "Past Music events in Kraków", "Upcoming events".
fn listing_heading(filter: &EventFilter, city: Option<&City>, country: Option<&str>) -> String {
    let prefix = if filter.past {
        "Past"
    } else if filter.from.is_some() || filter.to.is_some() {
        ""
    } else {
        "Upcoming"
    };
    filter_heading(prefix, filter, city, country)
}

#[derive(Template)]
#[template(path = "events/show.html")]
pub struct EventShowPage {
    pub section: &'static str,
    pub event: Event,
    pub city: City,
    pub when: When,
    /// An imported event whose feed is in another zone than the city's: its time there,
    /// as the organiser wrote it ("Thu 25 Mar 2027, 18:00–19:30 Europe/London").
    pub source_time: Option<String>,
    pub description_html: String,
    pub json_ld: String,
    pub on_now: bool,
    pub ended: bool,
    pub add_to_calendar: AddToCalendar,
    /// The signed-in viewer submitted this event: show its state and the actions.
    pub is_owner: bool,
    /// The signed-in viewer moderates the event's city.
    pub can_moderate: bool,
    /// A series: how it repeats.
    pub repeats: Option<String>,
    /// A series' occurrences from now on (at most [`OCCURRENCES_SHOWN`]).
    pub occurrences: Vec<OccurrenceLine>,
    /// How many more follow those shown.
    pub more_occurrences: usize,
    /// Skipped dates, and occurrences moved, retitled or cancelled.
    pub exceptions: Vec<String>,
    /// An exhibition's week: (weekday, hours or "Closed").
    pub hours: Vec<(&'static str, String)>,
    pub closed_dates: Vec<String>,
    /// "Open today 10:00–18:00" or "Closed today", while it runs.
    pub open_today: Option<String>,
}

/// How many upcoming occurrences a series' page lists.
pub const OCCURRENCES_SHOWN: usize = 12;

/// One occurrence on a series' page.
pub struct OccurrenceLine {
    pub date: String,
    pub when: When,
    pub title: Option<String>,
    pub cancelled: bool,
    pub moved: bool,
}

impl EventShowPage {
    fn is_cancelled(&self) -> bool {
        self.event.status == EventStatus::Cancelled
    }
    fn is_postponed(&self) -> bool {
        self.event.status == EventStatus::Postponed
    }
    fn is_published(&self) -> bool {
        self.event.moderation == ModerationState::Published
    }
    fn is_pending(&self) -> bool {
        self.event.moderation == ModerationState::Pending
    }
    fn can_delete(&self) -> bool {
        self.event.first_published_at.is_none() && !self.is_published()
    }
    fn map_url(&self) -> Option<String> {
        let (lat, lon) = (self.event.latitude?, self.event.longitude?);
        Some(format!(
            "https://www.openstreetmap.org/?mlat={lat:.5}&mlon={lon:.5}#map=17/{lat:.5}/{lon:.5}"
        ))
    }
    fn price_text(&self) -> String {
        match (&self.event.price, self.event.is_free) {
            (_, true) => "Free".to_owned(),
            (Some(p), false) if !p.trim().is_empty() => p.clone(),
            _ => "Not stated".to_owned(),
        }
    }
}

/// The event at `id` (as written in a path), if the viewer may know it exists; any other
/// is "no event at this address", exactly like an id that was never used. Every address
/// of an event (its page, edit and status forms, moderation decisions) loads it here.
pub async fn visible_event(
    state: &AppState,
    viewer: Option<&Viewer>,
    id: &str,
) -> Result<EventWithCity, AppError> {
    let id = parse_event_id(id)?;
    let actor = viewer.map(Actor::from);
    state
        .db(move |conn| Ok(workflows::events::find_visible(conn, actor.as_ref(), id)?))
        .await
}

/// An event id as it appears in a path (see [`canonical_id`]).
pub fn parse_event_id(id: &str) -> Result<i32, AppError> {
    canonical_id(id).ok_or_else(no_event)
}

pub fn no_event() -> AppError {
    AppError::not_found(workflows::events::NO_EVENT)
}

pub async fn show_event(
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let viewer = viewer.0;
    let row = visible_event(&state, viewer.as_ref(), &id).await?;
    let is_owner = viewer
        .as_ref()
        .is_some_and(|v| row.event.organiser_id == Some(v.account.id));
    let can_moderate = viewer
        .as_ref()
        .is_some_and(|v| v.roles.can_moderate(row.event.city_id));
    let now = state.clock.now();
    let schedule = row.event.schedule();
    let page_url = format!("{}/events/{}", state.public_url, row.event.id);
    let add_to_calendar = AddToCalendar::new(&state.public_url, &row);
    let id = row.event.id;
    let (repetition, link) = state
        .db(move |conn| {
            Ok((
                crate::db::models::Repetition::load(conn, id)?,
                crate::db::models::ImportedEvent::of_event(conn, id)?,
            ))
        })
        .await?;
    let source_time = link
        .and_then(|l| l.source_timezone)
        .and_then(|name| name.parse::<chrono_tz::Tz>().ok())
        .filter(|tz| *tz != row.event.timezone.tz() && !row.event.all_day)
        .map(|tz| {
            let start = row.event.starts_at_utc().with_timezone(&tz);
            let end = row.event.ends_at_utc().with_timezone(&tz);
            let end = if end.date_naive() == start.date_naive() {
                end.format("%H:%M").to_string()
            } else {
                end.format("%a %-d %b %Y, %H:%M").to_string()
            };
            format!(
                "{}–{end} {}",
                start.format("%a %-d %b %Y, %H:%M"),
                tz.name()
            )
        });
    let repetition_view = RepetitionView::new(&row, &repetition, now);
    let json_ld = json_for_script(&with_schedule(
        json_ld(&row, &schedule, &page_url),
        &row,
        &repetition,
    ));
    let EventWithCity { event, city } = row;
    let RepetitionView {
        repeats,
        occurrences,
        more_occurrences,
        exceptions,
        hours,
        closed_dates,
        open_today,
    } = repetition_view;
    let page = EventShowPage {
        repeats,
        occurrences,
        more_occurrences,
        exceptions,
        hours,
        closed_dates,
        open_today,
        section: "events",
        when: When::full(&schedule, event.timezone.tz(), &city.name),
        source_time,
        description_html: description_html(&event.description),
        on_now: event.is_on_at(now),
        ended: event.last_ends_at_utc() <= now,
        json_ld,
        add_to_calendar,
        event,
        city,
        is_owner,
        can_moderate,
    };
    let html = page.render()?;
    Ok(if viewer.is_some() {
        // What a signed-in viewer sees may differ from the public page.
        no_store(actix_web::http::StatusCode::OK, html)
    } else {
        HttpResponse::Ok()
            .content_type(actix_web::http::header::ContentType::html())
            .body(html)
    })
}

/// What a page shows of an event's repetition.
struct RepetitionView {
    repeats: Option<String>,
    occurrences: Vec<OccurrenceLine>,
    more_occurrences: usize,
    exceptions: Vec<String>,
    hours: Vec<(&'static str, String)>,
    closed_dates: Vec<String>,
    open_today: Option<String>,
}

impl RepetitionView {
    fn new(row: &EventWithCity, rep: &crate::db::models::Repetition, now: DateTime<Utc>) -> Self {
        use crate::db::models::OccurrenceStatus;
        use crate::domain::recurrence::{weekday_name, weekdays};
        let e = &row.event;
        let tz = e.timezone.tz();
        let first = e.schedule();
        let upcoming: Vec<_> = rep.listed().filter(|o| o.ends_at_utc() > now).collect();
        let occurrences = upcoming
            .iter()
            .take(OCCURRENCES_SHOWN)
            .map(|o| OccurrenceLine {
                date: o.occurrence_date.to_string(),
                when: When::full(&o.schedule(), tz, &row.city.name),
                title: o.title.clone(),
                cancelled: o.status() == OccurrenceStatus::Cancelled,
                moved: o.is_moved(&first),
            })
            .collect();
        let mut exceptions = Vec::new();
        for o in &rep.occurrences {
            let day = o.occurrence_date.format("%a %-d %b %Y");
            match o.status() {
                OccurrenceStatus::Skipped => exceptions.push(format!("{day}: does not take place")),
                OccurrenceStatus::Cancelled => exceptions.push(format!("{day}: cancelled")),
                OccurrenceStatus::Scheduled if o.is_moved(&first) => exceptions.push(format!(
                    "{day}: moved to {}",
                    When::full(&o.schedule(), tz, &row.city.name).text()
                )),
                OccurrenceStatus::Scheduled => {}
            }
            if let Some(t) = &o.title {
                exceptions.push(format!("{day}: “{t}”"));
            }
        }
        let (hours, closed_dates, open_today) = match &rep.hours {
            None => (Vec::new(), Vec::new(), None),
            Some(h) => {
                let open_today = crate::web::pages::open_today(e, h, now);
                (
                    weekdays()
                        .map(|(_, d)| {
                            (
                                weekday_name(d),
                                h.week.on(d).map_or("Closed".to_owned(), |(o, c)| {
                                    format!("{}–{}", o.format("%H:%M"), c.format("%H:%M"))
                                }),
                            )
                        })
                        .collect(),
                    h.closed_dates
                        .iter()
                        .map(|d| d.format("%a %-d %b %Y").to_string())
                        .collect(),
                    open_today,
                )
            }
        };
        RepetitionView {
            repeats: crate::web::pages::series_line(e, rep, now),
            more_occurrences: upcoming.len().saturating_sub(OCCURRENCES_SHOWN),
            occurrences,
            exceptions,
            hours,
            closed_dates,
            open_today,
        }
    }
}

/// `value` with schema.org's `eventSchedule` for a series, or the opening hours of an
/// exhibition in the same vocabulary (one `Schedule` per run of equal hours).
fn with_schedule(
    mut value: serde_json::Value,
    row: &EventWithCity,
    rep: &crate::db::models::Repetition,
) -> serde_json::Value {
    use crate::domain::recurrence::{Frequency, weekday_name};
    let e = &row.event;
    let tz = e.timezone.tz().name();
    let day_url = |d: chrono::Weekday| format!("https://schema.org/{}", weekday_name(d));
    if let Some(rule) = &rep.rule {
        let last = rep
            .listed()
            .map(|o| o.start_date)
            .max()
            .unwrap_or(e.start_date);
        let unit = match rule.frequency {
            Frequency::Daily => "D",
            Frequency::Weekly => "W",
            Frequency::MonthlyByDate | Frequency::MonthlyByWeekday => "M",
            Frequency::Yearly => "Y",
        };
        let mut schedule = json!({
            "@type": "Schedule",
            "repeatFrequency": format!("P{}{unit}", rule.interval),
            "startDate": e.start_date.to_string(),
            "endDate": last.to_string(),
            "scheduleTimezone": tz,
            "exceptDate": rep.skip_dates().iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        });
        if let Some(t) = e.start_time {
            schedule["startTime"] = json!(t.format("%H:%M").to_string());
        }
        if let Some(t) = e.end_time {
            schedule["endTime"] = json!(t.format("%H:%M").to_string());
        }
        match rule.frequency {
            Frequency::Weekly => {
                schedule["byDay"] = json!(
                    rule.weekdays
                        .iter()
                        .map(|d| day_url(*d))
                        .collect::<Vec<_>>()
                );
            }
            Frequency::MonthlyByDate => {
                schedule["byMonthDay"] = json!(chrono::Datelike::day(&e.start_date));
            }
            Frequency::MonthlyByWeekday => {
                schedule["byDay"] = json!([day_url(chrono::Datelike::weekday(&e.start_date))]);
                schedule["byMonthWeek"] = json!(rule.nth.map_or(1, |n| n.get()));
            }
            _ => {}
        }
        value["eventSchedule"] = schedule;
    } else if let Some(hours) = &rep.hours {
        let schedules: Vec<serde_json::Value> = hours
            .week
            .iter()
            .map(|(d, o, c)| {
                json!({
                    "@type": "Schedule",
                    "repeatFrequency": "P1W",
                    "byDay": day_url(d),
                    "startTime": o.format("%H:%M").to_string(),
                    "endTime": c.format("%H:%M").to_string(),
                    "startDate": e.start_date.to_string(),
                    "endDate": e.end_date.to_string(),
                    "scheduleTimezone": tz,
                    "exceptDate": hours.closed_dates.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                })
            })
            .collect();
        value["eventSchedule"] = json!(schedules);
    }
    value
}

/// A schema.org `Event`. Timed events carry their local time with its UTC offset
/// (`2026-12-12T19:00:00+00:00`); all-day events are dates, as schema.org intends.
fn json_ld(row: &EventWithCity, schedule: &EventSchedule, url: &str) -> serde_json::Value {
    let e = &row.event;
    let tz = e.timezone.tz();
    let local = |t: DateTime<Utc>| {
        t.with_timezone(&tz)
            .to_rfc3339_opts(SecondsFormat::Secs, false)
    };
    let (start, end) = match schedule {
        EventSchedule::AllDay { first, last } => (first.to_string(), last.to_string()),
        EventSchedule::Timed { .. } => (local(e.starts_at_utc()), local(e.ends_at_utc())),
    };
    let mut place = json!({
        "@type": "Place",
        "name": e.venue_name,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": e.venue_address,
            "addressLocality": row.city.name,
            "addressCountry": row.city.country_code.as_str(),
        },
    });
    if let (Some(lat), Some(lon)) = (e.latitude, e.longitude) {
        place["geo"] = json!({"@type": "GeoCoordinates", "latitude": lat, "longitude": lon});
    }
    let mut value = json!({
        "@context": "https://schema.org",
        "@type": "Event",
        "name": e.title,
        "description": e.description,
        "startDate": start,
        "endDate": end,
        "eventStatus": e.status.schema_org(),
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "location": place,
        "url": url,
        "isAccessibleForFree": e.is_free,
    });
    if let Some(organizer) = &e.organizer_name {
        value["organizer"] = json!({"@type": "Organization", "name": organizer});
    }
    value
}
