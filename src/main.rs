use anyhow::Context;
use clap::Parser;
use creative_calendar::config::{CitiesCommand, Cli, Command, Config};
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
        None => serve(Config::from_serve_args(&cli.serve)),
        Some(Command::Serve(args)) => serve(Config::from_serve_args(&args)),
        Some(Command::Demo { db, events, seed }) => {
            let pool = db::connect(&db.database, 2)?;
            let mut conn = pool.get().context("getting a database connection")?;
            cities_import::seed_if_empty(&mut conn)?;
            let report = demo::generate(&mut conn, events, seed, chrono::Utc::now(), true)?;
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
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config).await?;
        app.run_until_stopped().await
    })
}
