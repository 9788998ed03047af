//! The public JSON API, under `/api/v1`: the calendar as data for city portals,
//! festival sites and apps. Reads need no account; see `docs/api.md` for its
//! conventions (envelopes, errors, pagination, times, caching, CORS).
//!
//! Every handler parses with the same code as the pages (`web::params`,
//! `web::pages::events::event_query`) and answers in the shapes of [`json`]; every error
//! is an [`ApiError`], JSON, whatever went wrong (a bad parameter, an unknown address,
//! a wrong method).

pub mod body;
pub mod cities;
pub mod events;
pub mod fields;
pub mod json;
pub mod openapi;
pub mod page;
pub mod schema;
pub mod writes;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, CacheControl, CacheDirective, EntityTag, IfNoneMatch};
use actix_web::http::{Method, header::HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpRequest, HttpResponse, guard, web};
use serde::Serialize;

use crate::error::{ApiError, AppError, ErrorsBody};
use crate::web::feeds::{accepts_gzip, content_tag, gzip_if_large, gzip_tag, none_match};

/// What every address of the API answers to, and what a browser may call from another
/// site (the preflight's `Access-Control-Allow-Methods`): the reads.
const ALLOW: &str = "GET, HEAD, OPTIONS";
/// What `/api/v1/events` answers to.
const ALLOW_EVENTS: &str = "GET, HEAD, OPTIONS, POST";
/// What `/api/v1/events/{id}` answers to.
const ALLOW_EVENT: &str = "GET, HEAD, OPTIONS, PATCH, DELETE";

/// How long a client or shared cache may reuse an answer without asking again. Short:
/// the calendar changes during the day, and asking again with `If-None-Match` costs no
/// query (the answer is kept in memory, `web::cache`), and an empty 304.
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
            .wrap(from_fn(cors_on_reads))
            // A path segment that is not text (`%FF`) is a 404 like any unknown address.
            .app_data(web::PathConfig::default().error_handler(|_, _| not_found().into()))
            .service(
                readable("/events", events::list_events, ALLOW_EVENTS)
                    .route(web::post().to(writes::create_event)),
            )
            .service(
                readable("/events/{id}", events::show_event, ALLOW_EVENT)
                    .route(web::patch().to(writes::update_event))
                    .route(web::delete().to(writes::delete_event)),
            )
            .service(readable(
                "/events/{id}/occurrences",
                events::list_occurrences,
                ALLOW,
            ))
            .service(
                web::resource("/events/{id}/occurrences/{date}")
                    .route(web::patch().to(writes::update_occurrence))
                    .default_service(web::to(|| async {
                        Err::<HttpResponse, _>(ApiError(AppError::MethodNotAllowed("PATCH")))
                    })),
            )
            .service(postable("/events/{id}/cancel").route(web::post().to(writes::cancel_event)))
            .service(
                postable("/events/{id}/postpone").route(web::post().to(writes::postpone_event)),
            )
            .service(
                postable("/events/{id}/reinstate").route(web::post().to(writes::reinstate_event)),
            )
            .service(readable("/my/events", writes::my_events, ALLOW))
            .service(readable("/cities", cities::list_cities, ALLOW))
            .service(readable("/cities/{slug}", cities::show_city, ALLOW))
            .service(readable("/fields", fields::list_fields, ALLOW))
            .service(readable("/fields/{slug}", fields::show_field, ALLOW))
            .service(readable("/openapi.json", openapi::openapi_json, ALLOW))
            .default_service(web::to(|| async { Err::<HttpResponse, _>(not_found()) })),
    )
    // Any other address under /api/ (a mistyped version, a trailing slash): still JSON.
    .service(
        web::scope("/api")
            .wrap(from_fn(cors_on_reads))
            .default_service(web::to(|| async { Err::<HttpResponse, _>(not_found()) })),
    );
}

fn not_found() -> ApiError {
    ApiError(AppError::not_found(
        "There is nothing at this address; the API's addresses are listed at /api/v1/openapi.json.",
    ))
}

/// Reads are public: any site may call them from a browser. `*` rather than the
/// caller's origin, because no public read depends on who asks (no cookie is read under
/// `/api/`), so caches need no `Vary: Origin`. Every read's response gets them, errors
/// and 304s included (a browser hides an error's body from a script without them).
/// `ETag` is exposed so that scripts can revalidate.
///
/// Writes and the token owner's own list (`/api/v1/my/`) get none: a script on another
/// site has no business sending an organiser's token, and without these headers the
/// browser keeps the answer from it.
async fn cors_on_reads(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let public_read = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && !req.path().starts_with("/api/v1/my/");
    let mut response = next.call(req).await?;
    if public_read {
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("ETag"),
        );
    }
    Ok(response)
}

/// GET and HEAD run `handler`; OPTIONS is the CORS preflight answer; any method not
/// routed is a JSON 405 with `allow`, what the resource answers to (writes are routed
/// on the result).
fn readable<F, Args>(path: &str, handler: F, allow: &'static str) -> actix_web::Resource
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
        .route(
            web::route()
                .guard(guard::Options())
                .to(move || preflight(allow)),
        )
        .default_service(web::to(move || async move {
            Err::<HttpResponse, _>(ApiError(AppError::MethodNotAllowed(allow)))
        }))
}

/// A resource for writes only (routed on the result): any other method is a JSON 405.
fn postable(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(|| async {
        Err::<HttpResponse, _>(ApiError(AppError::MethodNotAllowed("POST")))
    }))
}

/// A browser asks before a cross-origin GET that carries a header outside the CORS
/// safelist, such as `If-None-Match`. The answer may be kept for a day. `Allow` is what
/// the address takes (`allow`); other sites are offered the reads alone.
async fn preflight(allow: &'static str) -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((header::ALLOW, allow))
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
