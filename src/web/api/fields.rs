//! `/api/v1/fields`.

use std::collections::HashMap;

use actix_web::{HttpRequest, web};

use super::json::{FieldBody, FieldJson, FieldsBody};
use super::{ApiResult, Missing, Unchanged, json_response};
use crate::db::models::{City, CityFilter};
use crate::domain::CreativeField;
use crate::error::AppError;
use crate::web::AppState;
use crate::web::params::short;

/// The eight creative fields, with how many member cities and upcoming events each has.
#[utoipa::path(
    get,
    path = "/api/v1/fields",
    tag = "fields",
    responses(
        (status = 200, description = "The fields", body = FieldsBody,
            headers(("ETag" = String, description = "Send it back in If-None-Match"))),
        Unchanged,
    )
)]
pub async fn list_fields(state: web::Data<AppState>, req: HttpRequest) -> ApiResult {
    let all = fields(&state).await?;
    json_response(&req, &FieldsBody { fields: all })
}

/// One creative field.
#[utoipa::path(
    get,
    path = "/api/v1/fields/{slug}",
    tag = "fields",
    params(("slug" = CreativeField, Path, description = "The field's slug")),
    responses(
        (status = 200, description = "The field", body = FieldBody,
            headers(("ETag" = String, description = "Send it back in If-None-Match"))),
        Unchanged,
        Missing,
    )
)]
pub async fn show_field(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
) -> ApiResult {
    let wanted = CreativeField::parse(&slug).map_err(|_| {
        AppError::not_found(format!(
            "No creative field has the slug “{}”; they are {}.",
            short(&slug),
            CreativeField::slugs()
        ))
    })?;
    let field = fields(&state)
        .await?
        .into_iter()
        .find(|f| f.slug == wanted)
        .ok_or_else(|| AppError::not_found("No creative field has this slug."))?;
    json_response(&req, &FieldBody { field })
}

/// Every field, with how many member cities and upcoming events each has.
async fn fields(state: &AppState) -> Result<Vec<FieldJson>, AppError> {
    let counts = state.upcoming_counts().await?;
    let cities = state
        .db(|conn| Ok(City::list(conn, &CityFilter::default())?))
        .await?;
    let mut cities_by_field: HashMap<CreativeField, i64> = HashMap::new();
    for city in &cities {
        *cities_by_field.entry(city.field).or_default() += 1;
    }
    let public_url = &state.public_url;
    Ok(CreativeField::ALL
        .iter()
        .map(|&field| {
            let url = format!("{public_url}/fields/{}", field.slug());
            FieldJson {
                slug: field,
                name: field.label().to_owned(),
                cities: cities_by_field.get(&field).copied().unwrap_or(0),
                upcoming_events: counts.by_field.get(&field).copied().unwrap_or(0),
                ics_url: format!("{url}/calendar.ics"),
                url,
            }
        })
        .collect())
}
