use actix_web::web;
use actix_web::web::Html;
use askama::Template;

use super::{EventCard, render};
use crate::db::models::{City, Event};
use crate::domain::CreativeField;
use crate::error::AppError;
use crate::web::AppState;

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub section: &'static str,
    pub on_now: Vec<EventCard>,
    pub next: Vec<EventCard>,
    pub fields: Vec<(CreativeField, i64)>,
    pub city_count: i64,
}

pub async fn home(state: web::Data<AppState>) -> Result<Html, AppError> {
    let now = state.clock.now();
    let counts = state.upcoming_counts().await?;
    let (on_now, next, city_count) = state
        .db(move |conn| {
            Ok((
                Event::on_now(conn, now, 6)?,
                Event::starting_next(conn, now, 12)?,
                City::count(conn)?,
            ))
        })
        .await?;
    render(&HomePage {
        section: "home",
        on_now: EventCard::list(&on_now, now),
        next: EventCard::list(&next, now),
        fields: CreativeField::ALL
            .iter()
            .map(|f| (*f, counts.by_field.get(f).copied().unwrap_or(0)))
            .collect(),
        city_count,
    })
}
