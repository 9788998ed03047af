//! The moderation log: every decision and role change, newest first.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::require_moderator;
use crate::auth::Viewer;
use crate::db::models::LogEntry;
use crate::error::AppError;
use crate::urlencoded::Query;
use crate::web::AppState;
use crate::web::pages::Pager;
use crate::web::pages::account::no_store;
use crate::web::pages::utc_text;
use crate::web::params::parse_page;

#[derive(Template)]
#[template(path = "moderation/log.html")]
pub struct LogPage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub entries: Vec<LogLine>,
    pub pager: Pager,
}

pub struct LogLine {
    pub at: String,
    pub at_iso: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub event_id: Option<i32>,
    pub reason: String,
}

const LOG_PER_PAGE: u32 = 50;

pub async fn moderation_log(
    state: web::Data<AppState>,
    viewer: Viewer,
    params: Query<crate::web::params::PageParams>,
) -> Result<HttpResponse, AppError> {
    require_moderator(&viewer)?;
    let page = parse_page(&params.page)?;
    let covered = viewer.roles.moderated_cities();
    let limit = i64::from(LOG_PER_PAGE);
    let offset = i64::from(page - 1) * limit;
    let (entries, total) = state
        .db(move |conn| Ok(LogEntry::list(conn, covered.as_deref(), limit, offset)?))
        .await?;
    let pager = Pager::for_total(total, page, LOG_PER_PAGE, |p| {
        crate::web::pages::paged("/moderation/log", p)
    });
    let page = LogPage {
        section: "moderation-log",
        csrf: viewer.csrf_token.clone(),
        viewer,
        entries: entries
            .into_iter()
            .map(|e| LogLine {
                at: utc_text(&e.created_at),
                at_iso: format!("{}Z", e.created_at.format("%Y-%m-%dT%H:%M:%S")),
                actor: e.actor_name,
                action: e.action.label().to_owned(),
                subject: e.subject,
                event_id: e.event_id,
                reason: e.reason,
            })
            .collect(),
        pager,
    };
    Ok(no_store(StatusCode::OK, page.render()?))
}
