//! An organiser's list of their events, with each one's review and status.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::Viewer;
use crate::db::models::{Event, ManagedEvent};
use crate::domain::{EventStatus, ModerationState, When};
use crate::error::AppError;
use crate::urlencoded::Query;
use crate::web::AppState;
use crate::web::pages::account::no_store;
use crate::web::pages::{Pager, thousands};
use crate::web::params::{PageParams, parse_page};

#[derive(Template)]
#[template(path = "events/mine.html")]
pub struct MyEventsPage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub events: Vec<MyEvent>,
    pub pager: Pager,
    pub notice: Option<String>,
}

pub struct MyEvent {
    pub id: i32,
    pub title: String,
    pub city: String,
    pub when: When,
    pub moderation: ModerationState,
    pub status: EventStatus,
    pub moderation_note: Option<String>,
    pub changed: bool,
}

impl MyEvent {
    fn new(m: &ManagedEvent) -> MyEvent {
        let e = &m.row.event;
        MyEvent {
            id: e.id,
            title: e.title.clone(),
            city: m.row.city.name.clone(),
            when: When::full(&e.schedule(), e.timezone.tz(), &m.row.city.name),
            moderation: e.moderation,
            status: e.status,
            moderation_note: e.moderation_note.clone(),
            changed: m.changed_at.is_some(),
        }
    }
}

const MY_EVENTS_PER_PAGE: u32 = 50;

pub async fn my_events(
    state: web::Data<AppState>,
    viewer: Viewer,
    params: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = parse_page(&params.page)?;
    let id = viewer.account.id;
    let limit = i64::from(MY_EVENTS_PER_PAGE);
    let offset = i64::from(page - 1) * limit;
    let found = state
        .db(move |conn| Ok(Event::for_organiser(conn, id, limit, offset)?))
        .await?;
    let pager = Pager::for_total(found.total, page, MY_EVENTS_PER_PAGE, |p| {
        crate::web::pages::paged("/my/events", p)
    });
    let page = MyEventsPage {
        section: "my-events",
        csrf: viewer.csrf_token.clone(),
        viewer,
        events: found.events.iter().map(MyEvent::new).collect(),
        pager,
        notice: None,
    };
    Ok(no_store(StatusCode::OK, page.render()?))
}

impl MyEventsPage {
    fn count_text(&self) -> String {
        match self.pager.total {
            0 => "You have not submitted any events yet.".to_owned(),
            1 => "1 event".to_owned(),
            n => format!("{} events", thousands(n)),
        }
    }
}
