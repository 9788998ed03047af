//! Moderators' pages: the queue of submitted events, the list of published events that
//! organisers who are not trusted have changed, the decisions, and the log. Each page
//! sits beside its template in `templates/moderation/`: the queue here, the decisions in
//! `decide`, the log in `log`.

pub mod decide;
pub mod log;

pub use decide::{Decision, DecisionForm, DecisionPage, MAX_REASON_CHARS, decide, decide_form};
pub use log::{LogLine, LogPage, moderation_log};

use crate::web::pages::utc_text;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::account::no_store;
use crate::auth::Viewer;
use crate::db::models::{City, CityFilter, Event, EventReview, ManagedEvent, Queue};
use crate::domain::{EventStatus, When};
use crate::error::AppError;
use crate::urlencoded::Query;
use crate::web::AppState;
use crate::web::pages::{Pager, thousands};
use crate::web::params::parse_page;
use crate::workflows::{Actor, moderation};

const PER_PAGE: u32 = 20;

/// Only moderators (of some city, or of the network) and admins get past this.
pub(super) fn require_moderator(viewer: &Viewer) -> Result<(), AppError> {
    Ok(moderation::require_moderator(&Actor::from(viewer))?)
}

/// An event in a moderation list.
pub struct QueueItem {
    pub id: i32,
    pub title: String,
    pub city: String,
    pub when: When,
    pub kind: String,
    pub field: String,
    pub venue: String,
    pub url: Option<String>,
    pub description: String,
    pub organiser: String,
    pub organiser_trusted: bool,
    pub submitted: String,
    pub status: EventStatus,
    /// For changed events: (field, approved value, current value) of each difference.
    pub changes: Vec<(&'static str, String, String)>,
}

impl QueueItem {
    fn new(m: &ManagedEvent, review: Option<&EventReview>) -> QueueItem {
        let e = &m.row.event;
        let description: String = e.description.chars().take(600).collect();
        let changes = match review.and_then(EventReview::form) {
            Some(before) => before.differences(&e.to_form(&m.row.city, &m.repetition)),
            None => vec![],
        };
        QueueItem {
            id: e.id,
            title: e.title.clone(),
            city: format!("{}, {}", m.row.city.name, m.row.city.country),
            when: When::full(&e.schedule(), e.timezone.tz(), &m.row.city.name),
            kind: e.kind.label().to_owned(),
            field: e.field.label().to_owned(),
            venue: e.venue_name.clone(),
            url: e.url.clone(),
            description: if description.len() < e.description.len() {
                format!("{description}…")
            } else {
                description
            },
            organiser: match &m.organiser {
                Some(a) => format!("{} ({}), {}", a.display_name, a.organiser_name(), a.email),
                None => "imported".to_owned(),
            },
            organiser_trusted: m.organiser.as_ref().is_some_and(|a| a.is_trusted),
            submitted: utc_text(&m.changed_at.unwrap_or(e.created_at)),
            status: e.status,
            changes,
        }
    }
}

#[derive(Template)]
#[template(path = "moderation/index.html")]
pub struct ModerationPage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    /// (slug, name) of the cities this moderator covers, for the filter.
    pub cities: Vec<(String, String)>,
    pub city: String,
    pub pending: Vec<QueueItem>,
    pub pending_pager: Pager,
    pub changed: Vec<QueueItem>,
    pub changed_total: i64,
    pub notice: Option<String>,
    /// Where a decision returns to.
    pub back: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct QueueParams {
    pub city: Option<String>,
    pub page: Option<String>,
    pub done: Option<String>,
}

pub async fn moderation_queue(
    state: web::Data<AppState>,
    viewer: Viewer,
    params: Query<QueueParams>,
) -> Result<HttpResponse, AppError> {
    require_moderator(&viewer)?;
    let page = parse_page(&params.page)?;
    let covered = viewer.roles.moderated_cities();
    let slug = params
        .city
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let limit = i64::from(PER_PAGE);
    let offset = i64::from(page - 1) * limit;
    let (cities, city_id, pending, changed, reviews) = state
        .db(move |conn| {
            let all = City::list(conn, &CityFilter::default())?;
            let cities: Vec<City> = match &covered {
                None => all,
                Some(ids) => all.into_iter().filter(|c| ids.contains(&c.id)).collect(),
            };
            let city_id = match &slug {
                None => None,
                Some(slug) => Some(
                    cities
                        .iter()
                        .find(|c| c.slug.as_str() == slug)
                        .map(|c| c.id)
                        .ok_or_else(|| {
                            AppError::bad_request(
                                "city",
                                format!("you do not moderate a city with the slug “{slug}”"),
                            )
                        })?,
                ),
            };
            let pending = Event::queue(
                conn,
                Queue::Pending,
                covered.as_deref(),
                city_id,
                limit,
                offset,
            )?;
            let changed = Event::queue(conn, Queue::Changed, covered.as_deref(), city_id, 50, 0)?;
            let mut reviews = Vec::new();
            for m in &changed.events {
                reviews.push(Event::review(conn, m.row.event.id)?);
            }
            let cities = cities
                .into_iter()
                .map(|c| (c.slug.to_string(), format!("{}, {}", c.name, c.country)))
                .collect::<Vec<_>>();
            Ok((cities, city_id, pending, changed, reviews))
        })
        .await?;
    let city = params.city.clone().unwrap_or_default();
    let base = if city_id.is_some() {
        format!("/moderation?city={}", url_part(&city))
    } else {
        "/moderation".to_owned()
    };
    let pager_base = base.clone();
    let page = ModerationPage {
        section: "moderation",
        csrf: viewer.csrf_token.clone(),
        viewer,
        cities,
        pending: pending
            .events
            .iter()
            .map(|m| QueueItem::new(m, None))
            .collect(),
        pending_pager: Pager::for_total(pending.total, page, PER_PAGE, |p| {
            if p > 1 {
                let sep = if pager_base.contains('?') { '&' } else { '?' };
                format!("{pager_base}{sep}page={p}")
            } else {
                pager_base.clone()
            }
        }),
        changed: changed
            .events
            .iter()
            .zip(&reviews)
            .map(|(m, r)| QueueItem::new(m, r.as_ref()))
            .collect(),
        changed_total: changed.total,
        notice: params.done.as_deref().and_then(done_text),
        city: if city_id.is_some() {
            city
        } else {
            String::new()
        },
        back: base,
    };
    Ok(no_store(StatusCode::OK, page.render()?))
}

fn url_part(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .unwrap_or_default()
        .trim_start_matches('=')
        .to_owned()
}

fn done_text(done: &str) -> Option<String> {
    Some(
        match done {
            "approve" => "The event is published: it is now in the calendar and its feeds.",
            "reject" => "The event is rejected; its organiser sees your reason.",
            "unpublish" => "The event is unpublished; its organiser sees your reason.",
            "accept" => "The change is kept and is now the approved version.",
            "revert" => "The approved version is back; subscribed calendars receive it.",
            _ => return None,
        }
        .to_owned(),
    )
}

impl ModerationPage {
    fn pending_text(&self) -> String {
        match self.pending_pager.total {
            0 => "Nothing is waiting for review.".to_owned(),
            1 => "1 event is waiting for review.".to_owned(),
            n => format!("{} events are waiting for review.", thousands(n)),
        }
    }
    fn is_city(&self, slug: &str) -> bool {
        self.city == slug
    }
}
