//! The stylesheet and icon, embedded in the binary. Their URLs carry a content hash
//! (computed by build.rs), so they can be cached "forever".

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, web};

use crate::error::AppError;

pub const STYLE_URL: &str = concat!("/static/style.", env!("STYLE_CSS_HASH"), ".css");
pub const ICON_URL: &str = concat!("/static/icon.", env!("ICON_SVG_HASH"), ".svg");

const STYLE_CSS: &str = include_str!("../../static/style.css");
const ICON_SVG: &str = include_str!("../../static/icon.svg");

pub async fn serve_asset(path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let requested = format!("/static/{}", path.into_inner());
    let (body, content_type) = if requested == STYLE_URL {
        (STYLE_CSS, "text/css; charset=utf-8")
    } else if requested == ICON_URL {
        (ICON_SVG, "image/svg+xml")
    } else {
        return Err(AppError::not_found("There is no such file."));
    };
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, content_type))
        .insert_header((CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(body))
}
