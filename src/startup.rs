//! Builds the application from a [`Config`]: the database, the data a start adds, and
//! the HTTP server. Tests build it the same way, on port 0 and a temporary file.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::auth::SecretKey;
use crate::config::Config;
use crate::db::models::ServerSecret;
use crate::db::{self, DbPool};
use crate::state::AppState;
use crate::{cities_import, demo};

pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
    pool: DbPool,
    /// Syncs organisers' calendars while the server runs.
    schedule: Option<crate::import::schedule::Schedule>,
    shutdown_timeout: std::time::Duration,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let pool = db::connect(&config.database, config.pool_size)?;
        prepare_data(&pool, &config).await?;
        let secret_key = match &config.secret_key {
            Some(key) => key.clone(),
            None => stored_secret_key(&pool, &config).await?,
        };

        let listener = TcpListener::bind(&config.bind)
            .with_context(|| format!("binding to {}", config.bind))?;
        let port = listener.local_addr()?.port();
        tracing::info!(
            "serving {} on http://{}",
            config.database,
            listener.local_addr()?
        );

        let state = web::Data::new(AppState::new(pool.clone(), &config, secret_key));
        let revisions = state.revisions.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                // Innermost: the cached answers get the headers and the log line too.
                .wrap(actix_web::middleware::from_fn(
                    crate::web::cache::serve_cached,
                ))
                .wrap(crate::web::security_headers())
                .wrap(actix_web::middleware::from_fn(crate::observe::log_request))
                .configure(crate::web::routes)
        })
        .listen(listener)?;
        let workers = config
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1);
        // Database work runs on each worker's blocking pool (actix's default is hundreds
        // of threads a worker). More threads than pooled connections would only queue
        // for a connection, a thread each; so each worker gets as many as the pool has
        // connections (at least four: requests waiting for a feed build hold a thread
        // but no connection, and must not starve the pages).
        let blocking = (config.pool_size as usize).max(4);
        let timeouts = config.client_timeouts;
        server = server
            .workers(workers)
            .worker_max_blocking_threads(blocking)
            // A client gets the head of its request in within this, or is closed: a
            // slow-loris connection costs a socket for seconds, not forever.
            .client_request_timeout(timeouts.request_head)
            .keep_alive(timeouts.keep_alive)
            .client_disconnect_timeout(std::time::Duration::from_secs(2))
            // A stop gives the requests in flight this long. The signals are ours
            // (`run_until_stopped`): actix's would make Ctrl-C a forced stop.
            .shutdown_timeout(config.shutdown_timeout.as_secs())
            .disable_signals();
        let metrics_port = match &config.metrics_bind {
            Some(bind) => Some(serve_metrics(bind, pool.clone())?),
            None => None,
        };
        let schedule = config.import_tick.map(|tick| {
            crate::import::schedule::start(
                pool.clone(),
                config.import_settings(),
                config.clock.clone(),
                tick,
                revisions,
            )
        });
        Ok(Application {
            port,
            metrics_port,
            server: server.run(),
            pool,
            schedule,
            shutdown_timeout: config.shutdown_timeout,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `/metrics`, when `--metrics-bind` asked for it.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// The pool the server uses, for tests that set up data behind its back.
    pub fn pool(&self) -> DbPool {
        self.pool.clone()
    }

    /// Serves until SIGTERM or Ctrl-C (SIGINT), then stops gracefully: no new
    /// connections, the requests in flight and a running sync finish (each within the
    /// shutdown timeout), and the pool is closed, which on SQLite checkpoints the WAL.
    ///
    /// actix's own handlers would treat Ctrl-C as a forced stop that drops requests in
    /// flight; both signals mean the same here.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let handle = self.server.handle();
        actix_web::rt::spawn(async move {
            let signal = stop_signal().await;
            tracing::info!(signal, "stopping: finishing the requests in flight");
            handle.stop(true).await;
        });
        let served = self.server.await.context("running the server");
        if let Some(schedule) = self.schedule {
            let limit = self.shutdown_timeout;
            let finished = actix_web::rt::task::spawn_blocking(move || schedule.stop(limit))
                .await
                .unwrap_or(false);
            if !finished {
                tracing::warn!("stopped before the running sync finished; it will run again");
            }
        }
        drop(self.pool);
        tracing::info!("stopped");
        served
    }
}

/// The first of SIGTERM and SIGINT, by name. Without a handler for SIGTERM (not a Unix
/// system), Ctrl-C alone.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use actix_web::rt::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            let term = std::pin::pin!(term.recv());
            let int = std::pin::pin!(actix_web::rt::signal::ctrl_c());
            return match futures_util::future::select(term, int).await {
                futures_util::future::Either::Left(_) => "SIGTERM",
                futures_util::future::Either::Right(_) => "SIGINT",
            };
        }
    }
    let _ = actix_web::rt::signal::ctrl_c().await;
    "SIGINT"
}

/// `/metrics` on a listener of its own, so that it is never on the public site: the
/// operator binds it to an address only their scraper reaches.
fn serve_metrics(bind: &str, pool: DbPool) -> anyhow::Result<u16> {
    crate::observe::metrics();
    let listener = TcpListener::bind(bind)
        .with_context(|| format!("binding the metrics listener to {bind}"))?;
    let port = listener.local_addr()?.port();
    tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
    let server = HttpServer::new(move || {
        let pool = pool.clone();
        App::new().route(
            "/metrics",
            web::get().to(move || {
                let pool = pool.clone();
                async move {
                    actix_web::HttpResponse::Ok()
                        .content_type("text/plain; version=0.0.4; charset=utf-8")
                        .body(crate::observe::render_metrics(&pool))
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)?
    .run();
    actix_web::rt::spawn(server);
    Ok(port)
}

/// Every start: the shipped cities the database lacks; with `--demo`, sample events on an
/// empty table.
async fn prepare_data(pool: &DbPool, config: &Config) -> anyhow::Result<()> {
    let pool = pool.clone();
    let demo_events = config.demo_events;
    let seed = config.demo_seed;
    let now = config.clock.now();
    actix_web::rt::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = pool.get().context("getting a database connection")?;
        cities_import::add_shipped_cities(&mut conn, now)?;
        if let Some(count) = demo_events {
            let report = demo::generate(&mut conn, count, seed, now, false)?;
            tracing::info!(%report, "demo data");
        }
        Ok(())
    })
    .await
    .context("preparing the database")?
}

/// The secret key kept in the database, made by whichever server asks first: without
/// `--secret-key`, this is how every server on the database, and every restart, signs
/// with the same key.
async fn stored_secret_key(pool: &DbPool, config: &Config) -> anyhow::Result<SecretKey> {
    let pool = pool.clone();
    let now = config.clock.now();
    actix_web::rt::task::spawn_blocking(move || -> anyhow::Result<SecretKey> {
        let mut conn = pool.get().context("getting a database connection")?;
        let candidate = SecretKey::generate();
        let stored =
            ServerSecret::get_or_insert(&mut conn, "secret_key", candidate.as_bytes(), now)
                .context("reading the secret key from the database")?;
        SecretKey::from_bytes(stored).context("the secret key in the database")
    })
    .await
    .context("reading the secret key")?
}
