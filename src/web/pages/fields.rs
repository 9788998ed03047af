use actix_web::web;
use actix_web::web::Html;
use askama::Template;

use super::{EventCard, Pager, paged, render};
use crate::db::models::{City, CityFilter, EventQuery};
use crate::domain::CreativeField;
use crate::error::AppError;
use crate::filters::calendar_name;
use crate::urlencoded::Query;
use crate::web::AppState;
use crate::web::calendar_links::Subscription;
use crate::web::params::{PageParams, parse_page};

#[derive(Template)]
#[template(path = "fields/show.html")]
pub struct FieldPage {
    pub section: &'static str,
    pub field: CreativeField,
    pub cities: Vec<City>,
    pub events: Vec<EventCard>,
    pub pager: Pager,
    pub subscription: Subscription,
}

impl FieldPage {
    fn subscribe_what(&self) -> String {
        format!("{} events across the network", self.field.label())
    }

    fn feed_title(&self) -> String {
        calendar_name(self.field.label())
    }
}

pub async fn show_field(
    state: web::Data<AppState>,
    slug: web::Path<String>,
    params: Query<PageParams>,
) -> Result<Html, AppError> {
    let field = CreativeField::parse(&slug)
        .map_err(|_| AppError::not_found("There is no creative field at this address."))?;
    let page = parse_page(&params.page)?;
    let now = state.clock.now();
    let per_page = state.page_size;
    let (cities, result) = state
        .db(move |conn| {
            let cities = City::list(
                conn,
                &CityFilter {
                    field: Some(field),
                    country: None,
                },
            )?;
            let result = EventQuery {
                field: Some(field),
                page,
                per_page,
                ..Default::default()
            }
            .run(conn, now)?;
            Ok((cities, result))
        })
        .await?;
    let base = format!("/fields/{}", field.slug());
    render(&FieldPage {
        section: "fields",
        field,
        cities,
        events: EventCard::list(&result.events, &result.repetitions, now),
        pager: Pager::new(&result, |p| paged(&base, p)),
        subscription: Subscription::new(
            &state.public_url,
            &format!("{base}/calendar.ics"),
            &calendar_name(field.label()),
        ),
    })
}
