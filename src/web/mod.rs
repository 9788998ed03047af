//! HTTP: routes, shared state, and the headers every response carries.

pub mod api;
pub mod assets;
pub mod cache;
pub mod calendar_links;
pub mod feeds;
pub mod multipart;
pub mod pages;
pub mod params;
pub mod text;

use actix_web::middleware::DefaultHeaders;
use actix_web::{guard, web};

use crate::error::AppError;

/// Kept here too, so that code written against `crate::web::AppState` still compiles.
pub use crate::state::AppState;

/// A page with a form: GET (and HEAD) shows it, POST sends it; other methods are 405.
fn form<G, GArgs, P, PArgs>(path: &str, show: G, send: P) -> actix_web::Resource
where
    G: actix_web::Handler<GArgs>,
    GArgs: actix_web::FromRequest + 'static,
    G::Output: actix_web::Responder + 'static,
    P: actix_web::Handler<PArgs>,
    PArgs: actix_web::FromRequest + 'static,
    P::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(
            web::route()
                .guard(guard::Any(guard::Get()).or(guard::Head()))
                .to(show),
        )
        .route(web::post().to(send))
        .default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(AppError::MethodNotAllowed("GET, HEAD, POST"))
        }))
}

/// An action: POST only. A GET (a link followed by a crawler or a prefetch) changes
/// nothing and is a 405.
fn action<P, PArgs>(path: &str, send: P) -> actix_web::Resource
where
    P: actix_web::Handler<PArgs>,
    PArgs: actix_web::FromRequest + 'static,
    P::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::post().to(send))
        .default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(AppError::MethodNotAllowed("POST"))
        }))
}

/// The largest form body: a 10,000-character description in any script, percent-encoded,
/// with room for the other fields. Anything larger is refused with 413 unread.
pub const MAX_FORM_BYTES: usize = 256 * 1024;

/// How long a form's or an API request's body may take to arrive, once its head has.
/// The request-head timeout does not cover the body, so without this a client that
/// trickles a byte a second holds its connection for ever. 256 KB in 30 s is a slow
/// mobile line; a form is a few KB.
pub const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// GET, and HEAD for the same resource (link checkers and `curl -I` use it); actix
/// sends no body for HEAD. Any other method on a known address is a 405 with `Allow`.
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
        .default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(AppError::MethodNotAllowed("GET, HEAD"))
        }))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    use pages::{account, admin, moderation, submissions};
    cfg.app_data(web::PayloadConfig::new(MAX_FORM_BYTES))
        .service(readable("/", pages::home::home))
        .service(form("/signup", account::signup_form, account::signup))
        .service(form("/login", account::login_form, account::login))
        .service(action("/logout", account::logout))
        .service(form(
            "/account",
            account::show_account,
            account::update_profile,
        ))
        .service(action("/account/password", account::change_password))
        .service(form(
            "/account/tokens",
            pages::tokens::list_tokens,
            pages::tokens::create_token,
        ))
        .service(action(
            "/account/tokens/{id}/revoke",
            pages::tokens::revoke_token,
        ))
        .service(readable("/healthz", pages::health::healthz))
        .service(readable("/calendar.ics", feeds::network_calendar))
        .service(readable("/cities", pages::cities::list_cities))
        .service(readable("/cities/{slug}", pages::cities::show_city))
        .service(readable(
            "/cities/{slug}/calendar.ics",
            feeds::city_calendar,
        ))
        .service(readable("/fields/{slug}", pages::fields::show_field))
        .service(readable(
            "/fields/{slug}/calendar.ics",
            feeds::field_calendar,
        ))
        .service(readable("/events", pages::events::list_events))
        .service(readable("/events.ics", feeds::filtered_calendar))
        .service(form(
            "/events/new",
            submissions::new_event_form,
            submissions::create_event,
        ))
        .service(readable("/my/events", submissions::my_events))
        .service(form(
            "/my/sources",
            pages::sources::list_sources,
            pages::sources::add_source,
        ))
        // The upload's handler reads its body itself, with the upload's own limit.
        .service(form(
            "/my/sources/upload",
            pages::sources::upload_form,
            pages::sources::upload_source,
        ))
        .service(readable("/my/sources/{id}", pages::sources::show_source))
        .service(form(
            "/my/sources/{id}/edit",
            pages::sources::edit_form,
            pages::sources::update_source,
        ))
        .service(form(
            "/my/sources/{id}/delete",
            pages::sources::delete_form,
            pages::sources::delete_source,
        ))
        .service(action(
            "/my/sources/{id}/{action}",
            pages::sources::source_action,
        ))
        .service(readable("/moderation", moderation::moderation_queue))
        .service(readable("/moderation/log", moderation::moderation_log))
        .service(readable("/admin/users", admin::list_users))
        .service(readable("/admin/users/{id}", admin::show_user))
        .service(action("/admin/users/{id}/{action}", admin::change_role))
        .service(form(
            "/moderation/events/{id}/{decision}",
            moderation::decide_form,
            moderation::decide,
        ))
        .service(readable("/events/{id}", pages::events::show_event))
        .service(readable("/events/{id}/calendar.ics", feeds::event_calendar))
        .service(form(
            "/events/{id}/edit",
            submissions::edit_event_form,
            submissions::update_event,
        ))
        .service(form(
            "/events/{id}/occurrences/{date}",
            pages::events::occurrence::occurrence_form,
            pages::events::occurrence::change_occurrence,
        ))
        // cancel, postpone, reinstate and delete: a confirmation page and its form.
        .service(form(
            "/events/{id}/{action}",
            submissions::status_form,
            submissions::change_status,
        ))
        .service(readable("/static/{file}", assets::serve_asset))
        .service(readable("/api", api::page::api_page))
        .configure(api::routes)
        .default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(AppError::not_found(
                "There is nothing at this address.",
            ))
        }));
}

/// Security headers on every response, error pages included. The pages use no script
/// at all, so the policy forbids it outright; JSON-LD blocks are data, not script, and
/// are not affected.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "strict-origin-when-cross-origin"))
        .add(("X-Frame-Options", "DENY"))
        .add((
            "Permissions-Policy",
            "geolocation=(), camera=(), microphone=()",
        ))
}
