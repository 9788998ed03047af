use actix_web::web;
use actix_web::web::Html;
use askama::Template;

use super::{EventCard, render};
use crate::db::models::{City, Event, Repetition};
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
    let (on_now, next, city_count, repetitions) = state
        .db(move |conn| {
            let on_now = Event::on_now(conn, now, 6)?;
            let next = Event::starting_next(conn, now, 12)?;
            let ids: Vec<i32> = on_now.iter().chain(&next).map(|r| r.event.id).collect();
            let repetitions = Repetition::load_many(conn, &ids)?;
            Ok((on_now, next, City::count(conn)?, repetitions))
        })
        .await?;
    render(&HomePage {
        section: "home",
        on_now: EventCard::list(&on_now, &repetitions, now),
        next: EventCard::list(&next, &repetitions, now),
        fields: CreativeField::ALL
            .iter()
            .map(|f| (*f, counts.by_field.get(f).copied().unwrap_or(0)))
            .collect(),
        city_count,
    })
}
