//! HTTP: routes, shared state, and the headers every response carries.

pub mod api;
pub mod assets;
pub mod calendar_links;
pub mod feeds;
pub mod pages;
pub mod params;
pub mod text;
pub mod urlencoded;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::middleware::DefaultHeaders;
use actix_web::{guard, web};
use diesel::SqliteConnection;

use crate::auth::SecretKey;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::DbPool;
use crate::db::models::{UpcomingCounts, data_revision};
use crate::error::AppError;

/// What every handler can reach.
pub struct AppState {
    pub pool: DbPool,
    pub clock: Clock,
    pub page_size: u32,
    pub public_url: String,
    /// The most events one feed holds.
    pub feed_max_events: usize,
    pub feeds: feeds::FeedCache,
    /// A session unused for this long is over.
    pub session_idle: chrono::TimeDelta,
    /// Cookies only over https, when the site is served over https.
    pub secure_cookies: bool,
    /// Take the client's address from `X-Forwarded-For` (behind a reverse proxy).
    pub trust_forwarded_for: bool,
    /// Signs the CSRF tokens handed out before sign-in.
    pub secret_key: SecretKey,
    counts: CountsCache,
}

/// The per-city and per-field counts of upcoming events, kept for a short while: they
/// take a scan of the whole index, the home and cities pages show them on every visit,
/// and a count a minute old is as good as a fresh one.
struct CountsCache {
    ttl: Duration,
    /// When they were counted, at which data revision, and the counts.
    slot: Mutex<Option<(Instant, i64, Arc<UpcomingCounts>)>>,
}

impl AppState {
    /// The state for `config`, with the secret key the database or the configuration
    /// gave (see [`crate::startup::Application::build`]).
    pub fn new(pool: DbPool, config: &Config, secret_key: SecretKey) -> AppState {
        AppState {
            pool,
            clock: config.clock.clone(),
            page_size: config.page_size.max(1),
            public_url: config.public_url.clone(),
            feed_max_events: config.feed_max_events.max(1),
            feeds: feeds::FeedCache::new(config.feed_cache_bytes),
            session_idle: chrono::TimeDelta::from_std(config.session_idle)
                .unwrap_or(chrono::TimeDelta::days(14)),
            secure_cookies: config.public_url.starts_with("https://"),
            trust_forwarded_for: config.trust_forwarded_for,
            secret_key,
            counts: CountsCache {
                ttl: config.counts_ttl,
                slot: Mutex::new(None),
            },
        }
    }

    /// Upcoming events per city and per field, from the cache when it is fresh.
    /// A change to any event or city makes them stale at once (the data revision moves);
    /// otherwise they last the TTL, because events also stop being upcoming as time
    /// passes.
    pub async fn upcoming_counts(&self) -> Result<Arc<UpcomingCounts>, AppError> {
        let revision = self.db(|conn| Ok(data_revision(conn)?)).await?;
        if let Ok(slot) = self.counts.slot.lock()
            && let Some((at, of_revision, counts)) = slot.as_ref()
            && *of_revision == revision
            && at.elapsed() < self.counts.ttl
        {
            return Ok(Arc::clone(counts));
        }
        let now = self.clock.now();
        let counts = Arc::new(
            self.db(move |conn| Ok(UpcomingCounts::load(conn, now)?))
                .await?,
        );
        if let Ok(mut slot) = self.counts.slot.lock() {
            *slot = Some((Instant::now(), revision, Arc::clone(&counts)));
        }
        Ok(counts)
    }

    /// Runs blocking Diesel work on the blocking thread pool, off the async workers.
    pub async fn db<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut SqliteConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?
    }
}

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
