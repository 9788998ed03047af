use actix_web::web;
use actix_web::web::Html;
use askama::Template;
use serde::Deserialize;

use super::{EventCard, Pager, paged, render};
use crate::db::models::{City, CityFilter, EventQuery, Window};
use crate::domain::{CreativeField, utc_offset_label, zone_label};
use crate::error::{AppError, OrWhenMissing};
use crate::filters::calendar_name;
use crate::urlencoded::Query;
use crate::web::AppState;
use crate::web::api::schema::{CountryParam, FieldParam};
use crate::web::calendar_links::Subscription;
use crate::web::params::{PageParams, parse_choice, parse_country, parse_page, parse_search_text};

/// The `/cities` query string (also that of `/api/v1/cities`).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CitiesParams {
    /// Only the cities of this creative field.
    #[param(value_type = Option<FieldParam>)]
    pub field: Option<String>,
    /// Only the cities in this country: an ISO 3166 alpha-2 code, either case.
    #[param(example = "PT", value_type = Option<CountryParam>)]
    pub country: Option<String>,
    /// Part of a city's or country's name, accents optional ("krakow", "brasil"); at
    /// most 200 characters as sent, and no NUL.
    #[param(max_length = 200, pattern = "^[^\\u0000]*$")]
    pub q: Option<String>,
}

pub struct CityRow {
    pub slug: String,
    pub name: String,
    pub country: String,
    pub field: CreativeField,
    pub year: i32,
    pub upcoming: i64,
}

#[derive(Template)]
#[template(path = "cities/index.html")]
pub struct CitiesPage {
    pub section: &'static str,
    pub cities: Vec<CityRow>,
    pub countries: Vec<(String, String)>,
    pub selected_field: Option<CreativeField>,
    pub selected_country: Option<String>,
    pub q: String,
}

impl CitiesPage {
    fn selected_field_slug(&self) -> &str {
        self.selected_field.map_or("", |f| f.slug())
    }

    fn selected_country_code(&self) -> &str {
        self.selected_country.as_deref().unwrap_or_default()
    }
}

/// The `/cities` filters, checked; `/cities` and `/api/v1/cities` read them alike.
#[derive(Debug, Clone, Default)]
pub struct CitySearch {
    pub filter: CityFilter,
    /// The search text as typed, cleaned, for the form to show again.
    pub q: String,
    /// `q` folded to lower-case ASCII.
    needle: String,
}

impl TryFrom<&CitiesParams> for CitySearch {
    type Error = AppError;

    fn try_from(params: &CitiesParams) -> Result<CitySearch, AppError> {
        let field = parse_choice(
            &params.field,
            "field",
            "a creative field",
            CreativeField::parse,
            CreativeField::slugs,
        )?;
        let country = parse_country(&params.country)?;
        let q = parse_search_text(&params.q)?.unwrap_or_default();
        Ok(CitySearch {
            filter: CityFilter { field, country },
            needle: fold(&q),
            q,
        })
    }
}

impl CitySearch {
    /// Whether `city` matches the search text (the other filters are in the query).
    pub fn matches(&self, city: &City) -> bool {
        self.needle.is_empty()
            || fold(&city.name).contains(&self.needle)
            || fold(&city.country).contains(&self.needle)
    }

    /// The matching cities, by name.
    pub fn run(&self, conn: &mut crate::db::DbConnection) -> Result<Vec<City>, AppError> {
        let mut cities = City::list(conn, &self.filter)?;
        cities.retain(|c| self.matches(c));
        Ok(cities)
    }
}

pub async fn list_cities(
    state: web::Data<AppState>,
    params: Query<CitiesParams>,
) -> Result<Html, AppError> {
    let search = CitySearch::try_from(&params.into_inner())?;
    let counts = state.upcoming_counts().await?;
    let selected_field = search.filter.field;
    let selected_country = search.filter.country.map(|c| c.to_string());
    let q = search.q.clone();
    let (cities, countries) = state
        .db(move |conn| Ok((search.run(conn)?, City::countries(conn)?)))
        .await?;
    render(&CitiesPage {
        section: "cities",
        cities: cities
            .into_iter()
            .map(|c| CityRow {
                upcoming: counts.by_city.get(&c.id).copied().unwrap_or(0),
                slug: c.slug.to_string(),
                name: c.name,
                country: c.country,
                field: c.field,
                year: c.designation_year,
            })
            .collect(),
        countries,
        selected_field,
        selected_country,
        q,
    })
}

/// Lower-case ASCII, so that "krakow" finds "Kraków" and "sao paulo" finds "São Paulo".
fn fold(text: &str) -> String {
    deunicode::deunicode(text).to_lowercase()
}

#[derive(Template)]
#[template(path = "cities/show.html")]
pub struct CityPage {
    pub section: &'static str,
    pub city: City,
    pub local_time: String,
    pub utc_offset: String,
    pub events: Vec<EventCard>,
    pub pager: Pager,
    pub past_url: String,
    pub subscription: Subscription,
}

impl CityPage {
    fn subscribe_what(&self) -> String {
        format!("the events in {}", self.city.name)
    }

    fn feed_title(&self) -> String {
        calendar_name(&self.city.name)
    }

    /// "50.06° N, 19.94° E".
    fn coordinates(&self) -> String {
        let (lat, lon) = (self.city.latitude, self.city.longitude);
        format!(
            "{:.2}° {}, {:.2}° {}",
            lat.abs(),
            if lat < 0.0 { 'S' } else { 'N' },
            lon.abs(),
            if lon < 0.0 { 'W' } else { 'E' }
        )
    }
}

pub async fn show_city(
    state: web::Data<AppState>,
    slug: web::Path<String>,
    params: Query<PageParams>,
) -> Result<Html, AppError> {
    let page = parse_page(&params.page)?;
    let slug = slug.into_inner();
    let now = state.clock.now();
    let per_page = state.page_size;
    let (city, result) = state
        .db(move |conn| {
            let city = City::find_by_slug(conn, &slug).or_when_missing(|| {
                AppError::not_found(format!("There is no city called “{slug}” in the network."))
            })?;
            let result = EventQuery {
                city_id: Some(city.id),
                window: Window::default(),
                page,
                per_page,
                ..Default::default()
            }
            .run(conn, now)?;
            Ok((city, result))
        })
        .await?;
    let base = format!("/cities/{}", city.slug);
    let local = now.with_timezone(&city.tz());
    render(&CityPage {
        section: "cities",
        local_time: format!(
            "{} ({})",
            local.format("%a %-d %b, %H:%M"),
            zone_label(city.tz(), &city.name, now)
        ),
        utc_offset: utc_offset_label(city.tz(), now),
        events: EventCard::list(&result.events, &result.repetitions, now),
        pager: Pager::new(&result, |p| paged(&base, p)),
        past_url: format!("/events?city={}&past=1", city.slug),
        subscription: Subscription::new(
            &state.public_url,
            &format!("/cities/{}/calendar.ics", city.slug),
            &calendar_name(&city.name),
        ),
        city,
    })
}
