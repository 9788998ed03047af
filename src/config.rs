//! The command line and its settings. Every option can also come from a
//! `CREATIVE_CALENDAR_*` environment variable; the flag wins when both are given.

use crate::db::DatabaseUrl;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::auth::SecretKey;
use crate::clock::Clock;

#[derive(Debug, Parser)]
#[command(
    name = "creative-calendar",
    version,
    about = "A public event calendar for the UNESCO Creative Cities Network",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// `serve`'s options, so that `creative-calendar --demo` works without `serve`.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site (the default).
    Serve(ServeArgs),
    /// Fill an empty events table with realistic sample events.
    Demo {
        #[command(flatten)]
        db: DatabaseArgs,
        /// How many events to generate.
        #[arg(long, default_value_t = crate::demo::DEFAULT_EVENTS)]
        events: usize,
        /// Seed for the random generator, for a repeatable data set.
        #[arg(long, env = "CREATIVE_CALENDAR_DEMO_SEED")]
        seed: Option<u64>,
        /// Instead of random events, events at the edges of time zones (repeated and
        /// skipped hours, midnight, all-day events on change days) on every change of
        /// the clocks in the coming year, in ten member cities: to check feeds with.
        #[arg(long, conflicts_with_all = ["events", "seed"])]
        zone_edges: bool,
    },
    /// Manage the member cities.
    Cities {
        #[command(subcommand)]
        command: CitiesCommand,
    },
    /// Manage admin accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Manage personal API tokens.
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Organisers' own calendars (.ics feeds), imported and kept in step.
    Sources {
        #[command(subcommand)]
        command: SourcesCommand,
    },
    /// Make a consistent copy of a SQLite installation while it serves (restore: start
    /// on the copy). For PostgreSQL, use pg_dump.
    Backup {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The file to write; it must not exist.
        file: PathBuf,
    },
    /// Move an installation between databases.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Add a feed as a source of an organiser's events and print its id. It is due at
    /// once: the next `sources sync` (or the server's schedule) fetches it.
    Add {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The feed's address (https://…, http://… or webcal://…).
        #[arg(long)]
        url: String,
        /// The city its events take place in (its slug, as in /cities/krakow).
        #[arg(long)]
        city: String,
        /// The organiser whose events they become (their account's email address).
        #[arg(long)]
        email: String,
        /// The kind of the events whose CATEGORIES name none.
        #[arg(long, default_value = "festival")]
        kind: String,
        /// The creative field (default: the city's).
        #[arg(long, default_value = "")]
        field: String,
        /// What becomes of an event that leaves the feed: cancel, or remove (if it was
        /// never published).
        #[arg(long, default_value = "cancel")]
        on_vanish: String,
        /// The source's name (default: the feed's own).
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Fetch every source that is due, or with --id one source now, and print a line
    /// per source with what it did.
    Sync {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Sync this source now, due or not (paused too).
        #[arg(long)]
        id: Option<i32>,
        #[command(flatten)]
        import: ImportArgs,
    },
    /// List the sources with their last run.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// How a command fetches feeds (`serve` has the same options).
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Let imports fetch loopback, private, link-local and multicast addresses.
    #[arg(
        long,
        env = "CREATIVE_CALENDAR_IMPORT_ALLOW_PRIVATE_ADDRESSES",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub import_allow_private_addresses: bool,
    /// The site's public address, named in the User-Agent of fetches.
    #[arg(
        long,
        env = "CREATIVE_CALENDAR_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,
    /// Minutes until a source that worked is due again.
    #[arg(long, env = "CREATIVE_CALENDAR_IMPORT_INTERVAL_MINUTES", default_value_t = crate::import::DEFAULT_INTERVAL_MINUTES, value_parser = clap::value_parser!(u64).range(5..=10_080))]
    pub import_interval_minutes: u64,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy everything (cities, events, accounts with their password hashes, sessions,
    /// the moderation log, reviews, tokens) from one database into a new, empty one,
    /// keeping ids, UIDs, SEQUENCE numbers and timestamps; SQLite to PostgreSQL or back.
    /// One transaction on the target; the row counts are checked before it commits.
    /// Stop the servers first.
    Copy {
        /// The database to copy: a SQLite file or a postgres:// URL.
        #[arg(long)]
        from: DatabaseUrl,
        /// The empty database to copy into (a SQLite file is created).
        #[arg(long)]
        to: DatabaseUrl,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Make a personal API token for an existing account and print it on standard
    /// output, alone (so that a script can capture it); it is not shown again.
    Create {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The email address of the account the token acts for.
        #[arg(long)]
        email: String,
        /// What the token is for ("Festival website"), shown on the account page.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin account, or make an existing account admin. The password comes
    /// from CREATIVE_CALENDAR_ADMIN_PASSWORD, or is asked for at the terminal.
    Create {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The admin's email address (they sign in with it).
        #[arg(long)]
        email: String,
        /// The admin's name, as shown in the moderation log.
        #[arg(long)]
        name: String,
        /// The organisation they speak for.
        #[arg(long, default_value = "")]
        organisation: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CitiesCommand {
    /// Add or update cities from a CSV file in the format of data/creative_cities.csv.
    Import {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// The database: a SQLite file (a path, or `sqlite://path`; created if missing), or
    /// a PostgreSQL server (`postgres://user:password@host:5432/name`, or
    /// `postgresql://…`, with libpq's options such as `?sslmode=require`). Either way
    /// migrated at start and given the network's cities that it lacks.
    #[arg(
        long,
        env = "CREATIVE_CALENDAR_DATABASE",
        default_value = "./creative-calendar.db"
    )]
    pub database: DatabaseUrl,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,

    /// Address and port to listen on.
    #[arg(long, env = "CREATIVE_CALENDAR_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// On an empty events table, generate sample events first.
    #[arg(
        long,
        env = "CREATIVE_CALENDAR_DEMO",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub demo: bool,

    /// The site's public address, used in links that leave the site (feeds, JSON-LD).
    #[arg(long, env = "CREATIVE_CALENDAR_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "CREATIVE_CALENDAR_WORKERS")]
    pub workers: Option<usize>,

    /// Sign organisers out after this many minutes without a request.
    #[arg(long, env = "CREATIVE_CALENDAR_SESSION_IDLE_MINUTES", default_value_t = DEFAULT_SESSION_IDLE_MINUTES)]
    pub session_idle_minutes: u64,

    /// Behind a reverse proxy: take the client's address (for throttling sign-ins) from
    /// the last hop of `X-Forwarded-For`. Only set this when the proxy sets that header.
    #[arg(
        long,
        env = "CREATIVE_CALENDAR_TRUST_FORWARDED_FOR",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub trust_forwarded_for: bool,

    /// The most events one `.ics` feed holds (the soonest are kept).
    #[arg(long, env = "CREATIVE_CALENDAR_FEED_MAX_EVENTS", default_value_t = DEFAULT_FEED_MAX_EVENTS)]
    pub feed_max_events: usize,

    /// The most writes (creations, changes, deletions) one API token may make in an
    /// hour; past it, the API answers 429 with Retry-After.
    #[arg(long, env = "CREATIVE_CALENDAR_API_WRITES_PER_HOUR", default_value_t = DEFAULT_API_WRITES_PER_HOUR)]
    pub api_writes_per_hour: u32,

    /// Database connections this server keeps (at least 1). On PostgreSQL, the servers'
    /// pools together must fit in the server's `max_connections`.
    #[arg(long, env = "CREATIVE_CALENDAR_POOL_SIZE", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub pool_size: u32,

    /// Let imports fetch feeds from loopback, private, link-local and multicast
    /// addresses. Off by default, so that a source's URL cannot make the server reach
    /// into its own network (server-side request forgery); on for tests and intranets.
    #[arg(
        long,
        env = "CREATIVE_CALENDAR_IMPORT_ALLOW_PRIVATE_ADDRESSES",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub import_allow_private_addresses: bool,

    /// Minutes between two fetches of an organiser's calendar (errors back off on their
    /// own, up to a day).
    #[arg(long, env = "CREATIVE_CALENDAR_IMPORT_INTERVAL_MINUTES", default_value_t = crate::import::DEFAULT_INTERVAL_MINUTES, value_parser = clap::value_parser!(u64).range(5..=10_080))]
    pub import_interval_minutes: u64,

    /// Serve Prometheus metrics at `/metrics` on this address (a listener of its own,
    /// such as 127.0.0.1:9100); without it there are no metrics endpoint.
    #[arg(long, env = "CREATIVE_CALENDAR_METRICS_BIND")]
    pub metrics_bind: Option<String>,

    /// Milliseconds a data revision read from the database is trusted before it is read
    /// again: how long another server's (or the CLI's) write may stay unseen by this
    /// one's caches. A write through this server is seen at once.
    #[arg(long, env = "CREATIVE_CALENDAR_REVISION_CHECK_MS", default_value_t = DEFAULT_REVISION_CHECK_MS, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub revision_check_ms: u64,

    /// Seconds a stop (SIGTERM, Ctrl-C) waits for the requests in flight and a running
    /// sync to finish before the process exits anyway.
    #[arg(long, env = "CREATIVE_CALENDAR_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub shutdown_timeout_secs: u64,

    /// Megabytes of memory for anonymous visitors' pages and API answers.
    #[arg(long, env = "CREATIVE_CALENDAR_RESPONSE_CACHE_MB", default_value_t = 32, value_parser = clap::value_parser!(u64).range(0..=4096))]
    pub response_cache_mb: u64,

    /// Log lines as text (for people) or one JSON object a line (for log collectors);
    /// each request's line has its route, status, latency and request id.
    #[arg(long, env = "CREATIVE_CALENDAR_LOG_FORMAT", value_enum, default_value_t = crate::observe::LogFormat::Text)]
    pub log_format: crate::observe::LogFormat,

    /// The key (32 bytes or more) that signs the CSRF tokens of the sign-in and sign-up
    /// forms; give every server of the site the same one. Without it, one is generated
    /// at the first start and kept in the database.
    #[arg(long, env = "CREATIVE_CALENDAR_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
}

/// Two weeks: an organiser who comes back to update a festival the next week is
/// still signed in.
pub const DEFAULT_SESSION_IDLE_MINUTES: u64 = 14 * 24 * 60;

/// The soonest ten thousand events: a feed this size is about 10 MB, which calendar apps
/// still read. The network feed of a million events held every one of 100,000 (the
/// earlier default): 108 MB that each subscriber fetched on every change, more than the
/// apps open and more memory than the whole server should use. No city's feed comes
/// near it; an operator who wants more raises it.
pub const DEFAULT_FEED_MAX_EVENTS: usize = 10_000;

/// How stale another server's write may look here: a tenth of a second, a few reads of
/// one row a second under any load.
pub const DEFAULT_REVISION_CHECK_MS: u64 = 100;

/// Ten a minute on average: a festival's whole programme in a sitting, and not a runaway
/// script's worth of edits.
pub const DEFAULT_API_WRITES_PER_HOUR: u32 = 600;

/// Everything the application needs to start. Built from the command line in `main`,
/// by hand in tests; passed into [`crate::startup::Application::build`], never global.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub database: DatabaseUrl,
    pub public_url: String,
    pub workers: Option<usize>,
    /// Connections in the pool.
    pub pool_size: u32,
    /// Generate this many demo events at start when the events table is empty.
    pub demo_events: Option<usize>,
    pub demo_seed: Option<u64>,
    /// Events on one page of a listing.
    pub page_size: u32,
    /// How long the per-city and per-field counts of upcoming events are reused.
    pub counts_ttl: std::time::Duration,
    /// The most events one `.ics` feed holds.
    pub feed_max_events: usize,
    /// Memory for built feeds kept between polls.
    pub feed_cache_bytes: usize,
    /// A session unused for this long is over.
    pub session_idle: std::time::Duration,
    /// Read the client's address from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// The most writes one API token may make in an hour.
    pub api_writes_per_hour: u32,
    /// The site's secret key; `None`: the one kept in the database (made if missing).
    pub secret_key: Option<SecretKey>,
    pub clock: Clock,
    /// Imports may fetch private addresses (tests, intranets).
    pub import_allow_private_addresses: bool,
    /// Between two fetches of a source.
    pub import_interval: std::time::Duration,
    /// How often the schedule looks for due sources; `None`: no schedule (tests sync
    /// by hand).
    pub import_tick: Option<std::time::Duration>,
    /// A whole fetch, redirects included.
    pub import_timeout: std::time::Duration,
    /// The most bytes a fetch reads.
    pub import_max_bytes: u64,
    /// Where `/metrics` is served; `None`: nowhere.
    pub metrics_bind: Option<String>,
    /// How long a data revision read from the database is trusted before it is read
    /// again (a write through this server always makes it read again).
    pub revision_check: std::time::Duration,
    /// Memory for anonymous visitors' pages and API answers.
    pub response_cache_bytes: usize,
    /// How long a stop waits for the requests in flight and a running sync.
    pub shutdown_timeout: std::time::Duration,
    /// How long a connection may take to send a request's head (a slow-loris client is
    /// closed after it), and how long an idle keep-alive connection is kept.
    pub client_timeouts: ClientTimeouts,
}

/// The limits that keep slow and idle clients from holding the server.
#[derive(Debug, Clone, Copy)]
pub struct ClientTimeouts {
    /// From the connection (or the previous response) to the end of the request's head.
    pub request_head: std::time::Duration,
    /// An idle keep-alive connection is closed after this long.
    pub keep_alive: std::time::Duration,
}

impl Default for ClientTimeouts {
    fn default() -> ClientTimeouts {
        ClientTimeouts {
            request_head: std::time::Duration::from_secs(10),
            keep_alive: std::time::Duration::from_secs(15),
        }
    }
}

impl Config {
    /// How imports fetch and how often, for this site.
    pub fn import_settings(&self) -> crate::import::ImportSettings {
        let mut settings = crate::import::ImportSettings::new(
            &self.public_url,
            self.import_allow_private_addresses,
        );
        settings.fetch.timeout = self.import_timeout;
        settings.fetch.max_bytes = self.import_max_bytes;
        settings.interval = chrono::TimeDelta::from_std(self.import_interval)
            .unwrap_or(chrono::TimeDelta::hours(6));
        settings
    }

    pub fn new(database: impl Into<DatabaseUrl>, bind: impl Into<String>) -> Config {
        let bind = bind.into();
        Config {
            public_url: format!("http://{bind}"),
            bind,
            database: database.into(),
            workers: None,
            pool_size: 8,
            demo_events: None,
            demo_seed: None,
            page_size: 20,
            counts_ttl: std::time::Duration::from_secs(60),
            feed_max_events: DEFAULT_FEED_MAX_EVENTS,
            feed_cache_bytes: 128 * 1024 * 1024,
            session_idle: std::time::Duration::from_secs(DEFAULT_SESSION_IDLE_MINUTES * 60),
            trust_forwarded_for: false,
            api_writes_per_hour: DEFAULT_API_WRITES_PER_HOUR,
            secret_key: None,
            clock: Clock::System,
            import_allow_private_addresses: false,
            import_interval: std::time::Duration::from_secs(
                crate::import::DEFAULT_INTERVAL_MINUTES * 60,
            ),
            import_tick: None,
            import_timeout: std::time::Duration::from_secs(30),
            import_max_bytes: 20 * 1024 * 1024,
            metrics_bind: None,
            revision_check: std::time::Duration::from_millis(DEFAULT_REVISION_CHECK_MS),
            response_cache_bytes: 32 * 1024 * 1024,
            shutdown_timeout: std::time::Duration::from_secs(30),
            client_timeouts: ClientTimeouts::default(),
        }
    }

    /// The configuration `serve` runs with; a secret key too short to be one is an
    /// error, not something to start with (and the error does not repeat the key).
    pub fn from_serve_args(args: &ServeArgs) -> anyhow::Result<Config> {
        let mut config = Config::new(args.db.database.clone(), args.bind.clone());
        if let Some(key) = &args.secret_key {
            config.secret_key = Some(
                SecretKey::parse(key)
                    .context("--secret-key (or CREATIVE_CALENDAR_SECRET_KEY) is too short")?,
            );
        }
        if let Some(url) = &args.public_url {
            config.public_url = url.trim_end_matches('/').to_owned();
        }
        config.workers = args.workers;
        config.feed_max_events = args.feed_max_events;
        config.session_idle = std::time::Duration::from_secs(args.session_idle_minutes.max(1) * 60);
        config.trust_forwarded_for = args.trust_forwarded_for;
        config.api_writes_per_hour = args.api_writes_per_hour;
        config.pool_size = args.pool_size;
        config.import_allow_private_addresses = args.import_allow_private_addresses;
        config.import_interval = std::time::Duration::from_secs(args.import_interval_minutes * 60);
        config.import_tick = Some(std::time::Duration::from_secs(60));
        config.metrics_bind = args.metrics_bind.clone();
        config.revision_check = std::time::Duration::from_millis(args.revision_check_ms);
        config.response_cache_bytes =
            usize::try_from(args.response_cache_mb * 1024 * 1024).unwrap_or(usize::MAX);
        config.shutdown_timeout = std::time::Duration::from_secs(args.shutdown_timeout_secs);
        if args.demo {
            config.demo_events = Some(crate::demo::DEFAULT_EVENTS);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default_and_takes_the_same_options_with_or_without_its_name() {
        for args in [
            &[
                "creative-calendar",
                "--demo",
                "--bind",
                "0.0.0.0:9000",
                "--database",
                "x.db",
            ][..],
            &[
                "creative-calendar",
                "serve",
                "--demo",
                "--bind",
                "0.0.0.0:9000",
                "--database",
                "x.db",
            ][..],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            let serve = match cli.command {
                None => cli.serve,
                Some(Command::Serve(serve)) => serve,
                Some(other) => panic!("{other:?}"),
            };
            let config = Config::from_serve_args(&serve).unwrap();
            assert_eq!(config.bind, "0.0.0.0:9000");
            assert_eq!(config.database, DatabaseUrl::Sqlite(PathBuf::from("x.db")));
            assert_eq!(config.demo_events, Some(crate::demo::DEFAULT_EVENTS));
        }
    }

    #[test]
    fn demo_and_import_take_their_arguments() {
        let cli =
            Cli::try_parse_from(["creative-calendar", "demo", "--events", "1000000"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Demo {
                events: 1_000_000,
                ..
            })
        ));
        let cli =
            Cli::try_parse_from(["creative-calendar", "cities", "import", "new.csv"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Cities {
                command: CitiesCommand::Import { .. }
            })
        ));
        assert!(Cli::try_parse_from(["creative-calendar", "demo", "--events", "-5"]).is_err());
        let cli = Cli::try_parse_from(["creative-calendar", "demo", "--zone-edges"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Demo {
                zone_edges: true,
                ..
            })
        ));
        // Zone-edge events are not random: a count or a seed would mean nothing.
        for extra in ["--events", "--seed"] {
            let args = ["creative-calendar", "demo", "--zone-edges", extra, "5"];
            assert!(Cli::try_parse_from(args).is_err(), "{extra}");
        }
        assert!(Cli::try_parse_from(["creative-calendar", "cities", "import"]).is_err());
    }

    #[test]
    fn a_short_secret_key_is_refused_without_being_repeated() {
        let cli = Cli::try_parse_from(["creative-calendar", "--secret-key", "hunter2"]).unwrap();
        let error = format!("{:#}", Config::from_serve_args(&cli.serve).unwrap_err());
        assert!(error.contains("--secret-key"), "{error}");
        assert!(error.contains("at least 32"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");

        let key = "a key that is long enough to sign forms";
        let cli = Cli::try_parse_from(["creative-calendar", "serve", "--secret-key", key]).unwrap();
        let serve = match cli.command {
            Some(Command::Serve(serve)) => serve,
            other => panic!("{other:?}"),
        };
        let config = Config::from_serve_args(&serve).unwrap();
        assert_eq!(config.secret_key, Some(SecretKey::parse(key).unwrap()));
        assert!(!format!("{config:?}").contains(key));
    }

    #[test]
    fn a_public_url_loses_its_trailing_slash() {
        let cli = Cli::try_parse_from([
            "creative-calendar",
            "--public-url",
            "https://cal.example.org/",
        ])
        .unwrap();
        assert_eq!(
            Config::from_serve_args(&cli.serve).unwrap().public_url,
            "https://cal.example.org"
        );
    }
}
