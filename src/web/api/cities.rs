//! `/api/v1/cities` and `/api/v1/cities/{slug}`.

use actix_web::{HttpRequest, web};

use super::json::{CitiesBody, CityBody, CityJson};
use super::{ApiResult, BadParameter, Missing, Unchanged, json_response};
use crate::db::models::City;
use crate::error::{AppError, OrWhenMissing};
use crate::urlencoded::Query;
use crate::web::AppState;
use crate::web::pages::cities::{CitiesParams, CitySearch};
use crate::web::params::short;

/// Every member city matching the filters (those of `/cities`), by name; all of them,
/// a few hundred, with no paging.
#[utoipa::path(
    get,
    path = "/api/v1/cities",
    tag = "cities",
    params(CitiesParams),
    responses(
        (status = 200, description = "The cities", body = CitiesBody,
            headers(("ETag" = String, description = "Send it back in If-None-Match"))),
        Unchanged,
        BadParameter,
    )
)]
pub async fn list_cities(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: Query<CitiesParams>,
) -> ApiResult {
    let search = CitySearch::try_from(&params.into_inner())?;
    let counts = state.upcoming_counts().await?;
    let cities = state.db(move |conn| search.run(conn)).await?;
    let body = CitiesBody {
        cities: cities
            .iter()
            .map(|c| {
                let upcoming = counts.by_city.get(&c.id).copied().unwrap_or(0);
                CityJson::new(c, upcoming, &state.public_url)
            })
            .collect(),
    };
    json_response(&req, &body)
}

/// One member city.
#[utoipa::path(
    get,
    path = "/api/v1/cities/{slug}",
    tag = "cities",
    params(("slug" = String, Path, description = "The city's slug, as in its `url`", example = "krakow")),
    responses(
        (status = 200, description = "The city", body = CityBody,
            headers(("ETag" = String, description = "Send it back in If-None-Match"))),
        Unchanged,
        Missing,
    )
)]
pub async fn show_city(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
) -> ApiResult {
    let slug = slug.into_inner();
    let counts = state.upcoming_counts().await?;
    let city = state
        .db(move |conn| {
            City::find_by_slug(conn, &slug).or_when_missing(|| {
                AppError::not_found(format!("No city has the slug “{}”.", short(&slug)))
            })
        })
        .await?;
    let upcoming = counts.by_city.get(&city.id).copied().unwrap_or(0);
    json_response(
        &req,
        &CityBody {
            city: CityJson::new(&city, upcoming, &state.public_url),
        },
    )
}
