//! HTTP: routes, shared state, and the headers every response carries.

pub mod assets;
pub mod calendar_links;
pub mod feeds;
pub mod pages;
pub mod params;
pub mod text;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::middleware::DefaultHeaders;
use actix_web::{guard, web};
use diesel::SqliteConnection;

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
    feeds_clock: AtomicU64,
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
    pub fn new(pool: DbPool, config: &Config) -> AppState {
        AppState {
            pool,
            clock: config.clock,
            page_size: config.page_size.max(1),
            public_url: config.public_url.clone(),
            feed_max_events: config.feed_max_events.max(1),
            feeds: feeds::FeedCache::new(config.feed_cache_bytes),
            feeds_clock: AtomicU64::new(0),
            counts: CountsCache {
                ttl: config.counts_ttl,
                slot: Mutex::new(None),
            },
        }
    }

    /// A counter that orders feed cache uses, for evicting the least recently used.
    pub fn feeds_tick(&self) -> u64 {
        self.feeds_clock.fetch_add(1, Ordering::Relaxed)
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
    cfg.app_data(params::query_config())
        .service(readable("/", pages::home::home))
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
        .service(readable("/events/{id}", pages::events::show_event))
        .service(readable("/events/{id}/calendar.ics", feeds::event_calendar))
        .service(readable("/static/{file}", assets::serve_asset))
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
