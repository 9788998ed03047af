//! What every door can reach: the pool, the clock, the settings and the caches. It lives
//! outside `web`, so that `auth` (and later the API and the CLI) need not import the
//! HTML pages to reach the database.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::db::DbConnection;
use actix_web::web;

use crate::auth::SecretKey;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::DbPool;
use crate::db::models::{UpcomingCounts, data_revision};
use crate::error::AppError;
use crate::feed_cache::FeedCache;
use crate::revision::{Reading, RevisionWatch};

/// What every handler can reach.
pub struct AppState {
    pub pool: DbPool,
    pub clock: Clock,
    pub page_size: u32,
    pub public_url: String,
    /// The most events one feed holds.
    pub feed_max_events: usize,
    pub feeds: FeedCache,
    /// A session unused for this long is over.
    pub session_idle: chrono::TimeDelta,
    /// Cookies only over https, when the site is served over https.
    pub secure_cookies: bool,
    /// Take the client's address from `X-Forwarded-For` (behind a reverse proxy).
    pub trust_forwarded_for: bool,
    /// Signs the CSRF tokens handed out before sign-in.
    pub secret_key: SecretKey,
    /// The most writes one API token may make in an hour (at least one).
    pub api_writes_per_hour: u32,
    /// How imports fetch, for "sync now" and new sources.
    pub import: crate::import::ImportSettings,
    counts: CountsCache,
    /// The data revision as this server knows it (see [`RevisionWatch`]).
    pub revisions: Arc<RevisionWatch>,
    /// Anonymous visitors' pages and API answers (see `web::cache`).
    pub responses: crate::web::cache::ResponseCache,
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
            feeds: FeedCache::new(config.feed_cache_bytes),
            session_idle: chrono::TimeDelta::from_std(config.session_idle)
                .unwrap_or(chrono::TimeDelta::days(14)),
            secure_cookies: config.public_url.starts_with("https://"),
            trust_forwarded_for: config.trust_forwarded_for,
            secret_key,
            api_writes_per_hour: config.api_writes_per_hour.max(1),
            import: config.import_settings(),
            counts: CountsCache {
                ttl: config.counts_ttl,
                slot: Mutex::new(None),
            },
            revisions: Arc::new(RevisionWatch::new(config.revision_check)),
            responses: crate::web::cache::ResponseCache::new(config.response_cache_bytes),
        }
    }

    /// Upcoming events per city and per field, from the cache when it is fresh.
    /// A change to any event or city makes them stale at once (the data revision moves);
    /// otherwise they last the TTL, because events also stop being upcoming as time
    /// passes.
    pub async fn upcoming_counts(&self) -> Result<Arc<UpcomingCounts>, AppError> {
        let revision = self.revision().await?;
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

    /// The data revision: as this server knows it when that is current enough, else read
    /// from the database (one primary-key row).
    pub async fn revision(&self) -> Result<i64, AppError> {
        match self.revisions.reading() {
            Reading::Known(revision) => Ok(revision),
            Reading::Read(ticket) => {
                let read = self.db(|conn| Ok(data_revision(conn)?)).await;
                self.revisions.store(ticket, read.as_ref().ok().copied());
                read
            }
        }
    }

    /// Runs blocking Diesel work on the blocking thread pool, off the async workers.
    pub async fn db<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let waited = Instant::now();
            let mut conn = pool.get()?;
            metrics::histogram!("db_pool_wait_seconds").record(waited.elapsed().as_secs_f64());
            work(&mut conn)
        })
        .await?
    }
}
