use anyhow::Context;
use clap::Parser;
use creative_calendar::config::{
    AdminCommand, CitiesCommand, Cli, Command, Config, DatabaseArgs, DbCommand, SourcesCommand,
    TokensCommand,
};
use creative_calendar::startup::Application;
use creative_calendar::{cities_import, db, demo};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let log_format = match &cli.command {
        None => cli.serve.log_format,
        Some(Command::Serve(args)) => args.log_format,
        // The other commands talk to people; their logs stay text.
        Some(_) => creative_calendar::observe::LogFormat::Text,
    };
    // Kept to the end of main: dropping it writes out the log lines still queued.
    let _logs = creative_calendar::observe::init_logging(log_format);

    match cli.command {
        None => serve(Config::from_serve_args(&cli.serve)?),
        Some(Command::Serve(args)) => serve(Config::from_serve_args(&args)?),
        Some(Command::Demo {
            db,
            events,
            seed,
            zone_edges,
        }) => {
            let mut conn = open_database(&db)?;
            let now = chrono::Utc::now();
            let report = if zone_edges {
                demo::zone_edges::generate(&mut conn, now)?
            } else {
                demo::generate(&mut conn, events, seed, now, true)?
            };
            println!("{report}");
            Ok(())
        }
        Some(Command::Cities {
            command: CitiesCommand::Import { db, file },
        }) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            // The same database a `serve` would make of it, then the file on top.
            let mut conn = open_database(&db)?;
            let report = cities_import::import_csv(&mut conn, &text, chrono::Utc::now())?;
            println!("{report}");
            Ok(())
        }
        Some(Command::Admin {
            command:
                AdminCommand::Create {
                    db,
                    email,
                    name,
                    organisation,
                },
        }) => {
            let password = admin_password()?;
            let mut conn = open_database(&db)?;
            let report = creative_calendar::workflows::accounts::create_admin(
                &mut conn,
                &email,
                &name,
                &organisation,
                &password,
                chrono::Utc::now(),
            )
            .map_err(cli_error)?;
            println!("{report}");
            Ok(())
        }
        Some(Command::Db {
            command: DbCommand::Copy { from, to },
        }) => {
            anyhow::ensure!(from != to, "--from and --to are the same database");
            let source = db::connect(&from, 1)?;
            let target = db::connect(&to, 1)?;
            let (mut source, mut target) = (source.get()?, target.get()?);
            let bar = progress_bar("{bar:40} {pos}/{len} rows ({per_sec}, {eta} left) {msg}");
            let report = db::copy::copy(&mut source, &mut target, &bar)?;
            bar.finish_and_clear();
            // The planner's statistics were taken of the empty tables.
            db::optimize_after_bulk_load(&mut target)?;
            println!("{report}");
            Ok(())
        }
        Some(Command::Backup { db, file }) => {
            // Not `open_database`: a backup adds nothing of its own, not even the cities.
            let pool = db::connect(&db.database, 1)?;
            let mut conn = pool.get().context("getting a database connection")?;
            let report = db::backup::backup(&mut conn, &file)?;
            println!("{report}");
            Ok(())
        }
        Some(Command::Sources { command }) => sources(command),
        Some(Command::Tokens {
            command: TokensCommand::Create { db, email, name },
        }) => {
            let mut conn = open_database(&db)?;
            let minted = creative_calendar::auth::token::create_for_email(
                &mut conn,
                &email,
                &name,
                chrono::Utc::now(),
            )?;
            // The token alone on standard output; what it is goes to the log.
            tracing::info!(id = minted.token.id, name = %minted.token.name, "made an API token");
            println!("{}", minted.secret);
            Ok(())
        }
    }
}

/// `creative-calendar sources …`.
fn sources(command: SourcesCommand) -> anyhow::Result<()> {
    use creative_calendar::db::models::{Account, SourceRun};
    use creative_calendar::workflows::sources::{self, SourceForm, SyncOutcome, SyncSkip};
    use creative_calendar::workflows::{Actor, WorkflowError};
    match command {
        SourcesCommand::Add {
            db,
            url,
            city,
            email,
            kind,
            field,
            on_vanish,
            name,
        } => {
            let mut conn = open_database(&db)?;
            let account = match Account::find_by_email(&mut conn, email.trim()) {
                Ok(a) => a,
                Err(diesel::result::Error::NotFound) => {
                    anyhow::bail!("--email: there is no account with the address {email}")
                }
                Err(e) => return Err(e.into()),
            };
            let actor = Actor::load(&mut conn, account.id).map_err(cli_error)?;
            let form = SourceForm {
                url,
                city,
                kind,
                field,
                category_map: String::new(),
                on_vanish,
                name,
            };
            let source =
                sources::add(&mut conn, &actor, &form, chrono::Utc::now()).map_err(cli_error)?;
            println!("{}", source.id);
            Ok(())
        }
        SourcesCommand::Sync { db, id, import } => {
            let mut conn = open_database(&db)?;
            let mut settings = creative_calendar::import::ImportSettings::new(
                import.public_url.trim_end_matches('/'),
                import.import_allow_private_addresses,
            );
            settings.interval = chrono::TimeDelta::minutes(import.import_interval_minutes as i64);
            let line = |source: &creative_calendar::db::models::Source,
                        outcome: &Result<SyncOutcome, WorkflowError>| {
                let what = match outcome {
                    Ok(SyncOutcome::Ran(run)) => run_line(run),
                    Ok(SyncOutcome::Skipped(SyncSkip::Busy)) => {
                        "skipped: another server is syncing it now".to_owned()
                    }
                    Ok(SyncOutcome::Skipped(SyncSkip::Paused)) => "skipped: paused".to_owned(),
                    Err(e) => format!("error: {e}"),
                };
                format!("source {} ({}): {what}", source.id, source.name)
            };
            fn run_line(run: &SourceRun) -> String {
                match run.outcome.as_str() {
                    "failed" => format!(
                        "failed: {}",
                        run.message.as_deref().unwrap_or("no reason was recorded")
                    ),
                    "not_modified" => format!("not modified (HTTP 304); {}", run.counts()),
                    _ => run.counts(),
                }
            }
            let failed = match id {
                Some(id) => {
                    let source = creative_calendar::db::models::Source::find(&mut conn, id)
                        .map_err(|_| anyhow::anyhow!("--id: there is no source {id}"))?;
                    let outcome = sources::sync(&mut conn, &settings, id, chrono::Utc::now(), true);
                    println!("{}", line(&source, &outcome));
                    outcome.is_err()
                }
                None => {
                    let bar = progress_bar("{bar:40} {pos}/{len} sources {msg}");
                    let mut lines = Vec::new();
                    let mut failed = false;
                    let due = sources::sync_due(
                        &mut conn,
                        &settings,
                        chrono::Utc::now,
                        || true,
                        |n, total, source, outcome| {
                            bar.set_length(total as u64);
                            bar.set_position(n as u64);
                            bar.set_message(source.name.clone());
                            failed |= outcome.is_err();
                            lines.push(line(source, outcome));
                        },
                    )
                    .map_err(cli_error)?;
                    bar.finish_and_clear();
                    for l in &lines {
                        println!("{l}");
                    }
                    if due == 0 {
                        println!("no source is due");
                    }
                    failed
                }
            };
            anyhow::ensure!(!failed, "a source could not be synced");
            Ok(())
        }
        SourcesCommand::List { db } => {
            let mut conn = open_database(&db)?;
            let all = creative_calendar::db::models::Source::list_for(&mut conn, 0, None)?;
            let ids: Vec<i32> = all.iter().map(|s| s.id).collect();
            let latest = SourceRun::latest_of(&mut conn, &ids)?;
            for s in &all {
                let last = latest
                    .get(&s.id)
                    .map(|r| {
                        format!(
                            "{} {}: {}",
                            r.started_at.format("%Y-%m-%d %H:%M"),
                            r.outcome,
                            r.counts()
                        )
                    })
                    .unwrap_or_else(|| "never fetched".to_owned());
                println!(
                    "{}\t{}\t{}\t{}{}",
                    s.id,
                    s.name,
                    s.url.as_deref().unwrap_or("(uploaded file)"),
                    last,
                    if s.paused { "\tpaused" } else { "" }
                );
            }
            Ok(())
        }
    }
}

/// A progress bar on a terminal, nothing otherwise (a script's log stays clean).
fn progress_bar(template: &str) -> indicatif::ProgressBar {
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::new(0).with_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        )
    } else {
        indicatif::ProgressBar::hidden()
    }
}

/// A workflow's refusal in the words of the command line: a wrong field is named as
/// the option that gave it (`--email: …`).
fn cli_error(e: creative_calendar::workflows::WorkflowError) -> anyhow::Error {
    use creative_calendar::workflows::WorkflowError;
    match e {
        WorkflowError::Invalid(errors) => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                // The password comes from a prompt or the environment, not an option.
                .map(|(field, message)| match field {
                    "password" => format!("the password: {message}"),
                    option => format!("--{option}: {message}"),
                })
                .collect::<Vec<_>>()
                .join("\n")
        ),
        other => other.into(),
    }
}

/// The database of a command other than `serve`, migrated and with the shipped cities
/// it lacks, as `serve` would leave it.
fn open_database(args: &DatabaseArgs) -> anyhow::Result<db::DbConn> {
    let pool = db::connect(&args.database, 2)?;
    let mut conn = pool.get().context("getting a database connection")?;
    cities_import::add_shipped_cities(&mut conn, chrono::Utc::now())?;
    Ok(conn)
}

/// From the environment (scripts, containers), or asked twice at the terminal.
fn admin_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("CREATIVE_CALENDAR_ADMIN_PASSWORD") {
        return Ok(password);
    }
    let first = rpassword::prompt_password("Password for the new admin (12 characters or more): ")
        .context(
            "reading the password; set CREATIVE_CALENDAR_ADMIN_PASSWORD when there is no terminal",
        )?;
    let second =
        rpassword::prompt_password("The same password again: ").context("reading the password")?;
    anyhow::ensure!(first == second, "the two passwords differ");
    Ok(first)
}

fn serve(config: Config) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config).await?;
        app.run_until_stopped().await
    })
}
