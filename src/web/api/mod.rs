//! The public JSON API, under `/api/v1`: the calendar as data for city portals,
//! festival sites and apps. Reads need no account; see `docs/api.md` for its
//! conventions (envelopes, errors, pagination, times, caching, CORS).
//!
//! Every handler parses with the same code as the pages (`web::params`,
//! `web::pages::events::event_query`) and answers in the shapes of [`json`]; every error
//! is an [`ApiError`], JSON, whatever went wrong (a bad parameter, an unknown address,
//! a wrong method).

pub mod cities;
pub mod events;
pub mod fields;
pub mod json;
pub mod openapi;
pub mod page;

use actix_web::http::header::{self, CacheControl, CacheDirective, EntityTag, IfNoneMatch};
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, HttpResponse, guard, web};
use serde::Serialize;

use crate::error::{ApiError, AppError, ErrorsBody};
use crate::web::feeds::{accepts_gzip, content_tag, gzip_if_large, gzip_tag, none_match};

/// What every address of the API answers to.
const ALLOW: &str = "GET, HEAD, OPTIONS";

/// How long a client or shared cache may reuse an answer without asking again. Short:
/// the calendar changes during the day, and asking again with `If-None-Match` costs one
/// query and an empty 304.
const MAX_AGE: u32 = 60;

pub type ApiResult = Result<HttpResponse, ApiError>;

// The answers the reads share besides their 200, for the OpenAPI document; the doc
// comments are the descriptions it shows.
#[derive(utoipa::IntoResponses)]
#[response(status = 304)]
/// Unchanged since the ETag sent in If-None-Match; no body.
pub struct Unchanged;

#[derive(utoipa::IntoResponses)]
#[response(status = 400)]
/// A parameter is wrong, given twice or not text; `parameter` names it.
pub struct BadParameter(#[to_schema] pub ErrorsBody);

#[derive(utoipa::IntoResponses)]
#[response(status = 404)]
/// Nothing has this id or slug.
pub struct Missing(#[to_schema] pub ErrorsBody);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .wrap(cors_headers())
            // A path segment that is not text (`%FF`) is a 404 like any unknown address.
            .app_data(web::PathConfig::default().error_handler(|_, _| not_found().into()))
            .service(readable("/events", events::list_events))
            .service(readable("/events/{id}", events::show_event))
            .service(readable("/cities", cities::list_cities))
            .service(readable("/cities/{slug}", cities::show_city))
            .service(readable("/fields", fields::list_fields))
            .service(readable("/openapi.json", openapi::openapi_json))
            .default_service(web::to(|| async { Err::<HttpResponse, _>(not_found()) })),
    )
    // Any other address under /api/ (a mistyped version, a trailing slash): still JSON.
    .service(
        web::scope("/api")
            .wrap(cors_headers())
            .default_service(web::to(|| async { Err::<HttpResponse, _>(not_found()) })),
    );
}

fn not_found() -> ApiError {
    ApiError(AppError::not_found(
        "There is nothing at this address; the API's addresses are listed at /api/v1/openapi.json.",
    ))
}

/// Reads are public: any site may call them from a browser. `*` rather than the
/// caller's origin, because no read depends on who asks (no cookie is read under
/// `/api/`), so caches need no `Vary: Origin`. Every response gets them, errors and 304s
/// included (a browser hides an error's body from a script without them). `ETag` is
/// exposed so that scripts can revalidate.
fn cors_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .add((header::ACCESS_CONTROL_EXPOSE_HEADERS, "ETag"))
}

/// GET and HEAD run `handler`; OPTIONS is the CORS preflight answer; any other method
/// is a JSON 405 with `Allow`.
fn readable<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(
            web::route()
                .guard(guard::Any(guard::Get()).or(guard::Head()))
                .to(handler),
        )
        .route(web::route().guard(guard::Options()).to(preflight))
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError(AppError::MethodNotAllowed(ALLOW)))
        }))
}

/// A browser asks before a cross-origin GET that carries a header outside the CORS
/// safelist, such as `If-None-Match`. The answer may be kept for a day.
async fn preflight() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((header::ALLOW, ALLOW))
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOW))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "If-None-Match"))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
        .finish()
}

/// `value` as a JSON answer with an `ETag` (a hash of the bytes, as for the feeds), or
/// an empty `304` when the request's `If-None-Match` names that tag. Gzipped, with an
/// ETag of its own, for a client that takes it and an answer large enough to gain (a
/// list of every city is some 200 KB of JSON and a tenth of that gzipped).
pub fn json_response(req: &HttpRequest, value: &impl Serialize) -> ApiResult {
    let body = serde_json::to_vec(value).map_err(|e| ApiError(AppError::Internal(e.into())))?;
    let tag = content_tag(&body);
    let zipped = if accepts_gzip(req) {
        gzip_if_large(&body)
    } else {
        None
    };
    let etag = EntityTag::new_strong(match zipped {
        Some(_) => gzip_tag(&tag),
        None => tag,
    });
    // A header that does not parse matches nothing (RFC 9110 13.1.2).
    let condition = req
        .headers()
        .contains_key(header::IF_NONE_MATCH)
        .then(|| <IfNoneMatch as header::Header>::parse(req).ok());
    let not_modified = condition.is_some_and(|c| none_match(c.as_ref(), &etag));
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header(header::ETag(etag))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(MAX_AGE),
        ]));
    if not_modified {
        return Ok(response.finish());
    }
    let body = match zipped {
        Some(zipped) => {
            response.insert_header((header::CONTENT_ENCODING, "gzip"));
            zipped
        }
        None => body,
    };
    Ok(response.content_type("application/json").body(body))
}
