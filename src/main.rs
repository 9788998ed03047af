use anyhow::Context;
use clap::Parser;
use creative_calendar::config::{AdminCommand, CitiesCommand, Cli, Command, Config, TokensCommand};
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
            let pool = db::connect(&db.database, 2)?;
            let mut conn = pool.get().context("getting a database connection")?;
            cities_import::seed_if_empty(&mut conn)?;
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
            let pool = db::connect(&db.database, 2)?;
            let mut conn = pool.get().context("getting a database connection")?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            // The same database a first `serve` would make, then the file on top.
            cities_import::seed_if_empty(&mut conn)?;
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
            let pool = db::connect(&db.database, 2)?;
            let mut conn = pool.get().context("getting a database connection")?;
            cities_import::seed_if_empty(&mut conn)?;
            let report = creative_calendar::auth::admin::create_admin(
                &mut conn,
                &email,
                &name,
                &organisation,
                &password,
                chrono::Utc::now(),
            )?;
            println!("{report}");
            Ok(())
        }
        Some(Command::Tokens {
            command: TokensCommand::Create { db, email, name },
        }) => {
            let pool = db::connect(&db.database, 2)?;
            let mut conn = pool.get().context("getting a database connection")?;
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
