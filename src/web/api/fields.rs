//! `/api/v1/fields`.

use std::collections::HashMap;

use actix_web::{HttpRequest, web};

use super::json::{FieldJson, FieldsBody};
use super::{ApiResult, Unchanged, json_response};
use crate::db::models::{City, CityFilter};
use crate::domain::CreativeField;
use crate::web::AppState;

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
    let counts = state.upcoming_counts().await?;
    let cities = state
        .db(|conn| Ok(City::list(conn, &CityFilter::default())?))
        .await?;
    let mut cities_by_field: HashMap<CreativeField, i64> = HashMap::new();
    for city in &cities {
        *cities_by_field.entry(city.field).or_default() += 1;
    }
    let public_url = &state.public_url;
    let body = FieldsBody {
        fields: CreativeField::ALL
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
            .collect(),
    };
    json_response(&req, &body)
}
