use anyhow::Context;
use clap::Parser;
use creative_calendar::config::{
    AdminCommand, CitiesCommand, Cli, Command, Config, DatabaseArgs, DbCommand, TokensCommand,
};
use creative_calendar::startup::Application;
use creative_calendar::{cities_import, db, demo};
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

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
            let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                indicatif::ProgressBar::new(0).with_style(
                    indicatif::ProgressStyle::with_template(
                        "{bar:40} {pos}/{len} rows ({per_sec}, {eta} left) {msg}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                )
            } else {
                indicatif::ProgressBar::hidden()
            };
            let report = db::copy::copy(&mut source, &mut target, &bar)?;
            bar.finish_and_clear();
            // The planner's statistics were taken of the empty tables.
            db::optimize_after_bulk_load(&mut target)?;
            println!("{report}");
            Ok(())
        }
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
