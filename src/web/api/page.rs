//! `/api`: how to use the API, for people, in the site's layout.

use actix_web::web;
use actix_web::web::Html;
use askama::Template;

use super::events::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::domain::{CreativeField, EventKind};
use crate::error::AppError;
use crate::web::AppState;
use crate::web::pages::render;

#[derive(Template)]
#[template(path = "api/index.html")]
pub struct ApiPage {
    pub section: &'static str,
    /// The site's public address, for the examples.
    pub base: String,
    pub default_limit: u32,
    pub max_limit: u32,
    pub fields: String,
    pub kinds: String,
    /// How many writes a token may make in an hour.
    pub writes_per_hour: u32,
}

pub async fn api_page(state: web::Data<AppState>) -> Result<Html, AppError> {
    render(&ApiPage {
        section: "api",
        base: state.public_url.clone(),
        default_limit: DEFAULT_LIMIT,
        max_limit: MAX_LIMIT,
        fields: CreativeField::slugs(),
        kinds: EventKind::slugs(),
        writes_per_hour: state.api_writes_per_hour,
    })
}
