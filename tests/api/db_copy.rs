//! `db copy`: an installation moved between databases keeps everything, and the copy
//! serves the same bytes. From SQLite into SQLite always; with
//! `CREATIVE_CALENDAR_TEST_POSTGRES` (as in CI) also into PostgreSQL and back.

use creative_calendar::db::copy::{TABLES, copy};
use creative_calendar::db::{self, DbPool};
use indicatif::ProgressBar;

use crate::helpers::*;

/// An installation with some of everything: events in several states, an organiser
/// who signed up and submitted, a moderator's decision, a token, a session.
async fn installation() -> TestApp {
    let app = spawn_app_on(tempfile::tempdir().unwrap()).await;
    app.event("braga").title("Noite das Lumières").insert();
    app.event("krakow").title("Kraków Jazz Festival").insert();
    app.event("braga").title("Feira do Livro").insert();
    let ana = app.organiser("ana@braga.example").await;
    let res = ana
        .submit_event(&[
            ("city", "braga"),
            ("kind", "performance"),
            ("title", "Órgão à noite"),
            ("venue", "Sé de Braga"),
            ("start_date", "2026-12-12"),
            ("start_time", "21:00"),
        ])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let mia = app.moderator("mia@braga.example", Some("braga")).await;
    let pending = app.get("/api/v1/events").await.json()["meta"]["total"].clone();
    assert_eq!(pending, 3, "the organiser's event waits for review");
    let _ = mia;
    {
        let mut conn = app.pool.get().unwrap();
        creative_calendar::auth::token::create_for_email(
            &mut conn,
            "ana@braga.example",
            "site",
            app.now,
        )
        .unwrap();
    }
    app
}

fn copy_between(
    from: &DbPool,
    to: &DbPool,
) -> anyhow::Result<creative_calendar::db::copy::CopyReport> {
    copy(
        &mut from.get().unwrap(),
        &mut to.get().unwrap(),
        &ProgressBar::hidden(),
    )
}

fn counts(pool: &DbPool) -> Vec<(&'static str, i64)> {
    use diesel::prelude::*;
    let mut conn = pool.get().unwrap();
    let mut all: Vec<(&'static str, i64)> = TABLES
        .iter()
        .map(|t| {
            let n: i64 = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {}", t.name))
                .get_result::<Count>(&mut conn)
                .unwrap()
                .n;
            (t.name, n)
        })
        .collect();
    let revision = creative_calendar::db::models::data_revision(&mut conn).unwrap();
    all.push(("data_revision", revision));
    all
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// What a subscriber and an API client see: the same bytes and validators on both.
async fn assert_same_answers(a: &TestApp, b: &TestApp) {
    for path in [
        "/calendar.ics",
        "/cities/braga/calendar.ics",
        "/cities/krakow/calendar.ics",
        "/events.ics?q=lumi",
        "/events.ics?q=krakow",
        "/api/v1/events",
        "/api/v1/events?q=LUMIERES",
        "/api/v1/cities/braga",
        "/api/v1/fields",
    ] {
        let (x, y) = (a.get(path).await, b.get(path).await);
        assert_eq!(x.status, 200, "{path}");
        assert_eq!(x.body, y.body, "{path}");
        assert_eq!(x.header("etag"), y.header("etag"), "{path}");
    }
    for q in ["lumi", "LUMIÈRES", "krak", "feira livro", "jazz"] {
        let path = format!("/events?q={}", urlencoding(q));
        let (x, y) = (
            a.get(&path).await.event_titles(),
            b.get(&path).await.event_titles(),
        );
        assert!(!x.is_empty(), "{q}");
        assert_eq!(x, y, "{q}");
    }
}

fn urlencoding(q: &str) -> String {
    serde_urlencoded::to_string([("", q)]).unwrap()[1..].to_owned()
}

#[actix_web::test]
async fn a_copy_keeps_everything_and_serves_the_same_bytes_on_either_backend() {
    let source = installation().await;
    let source_counts = counts(&source.pool);
    assert!(
        source_counts.iter().all(|(t, n)| *n > 0
            || !matches!(
                *t,
                "cities" | "events" | "accounts" | "sessions" | "api_tokens" | "moderator_roles"
            )),
        "{source_counts:?}"
    );

    let mut targets = vec![TestDatabase::sqlite_in(tempfile::tempdir().unwrap())];
    if test_postgres().is_some() {
        targets.push(TestDatabase::new());
    }
    for target in targets {
        let url = target.url();
        let pool = db::connect(url.clone(), 2).unwrap();
        let report = copy_between(&source.pool, &pool).unwrap();
        assert!(report.to_string().starts_with("copied "), "{report}");
        assert_eq!(counts(&pool), source_counts, "{url}");
        // Into a database that is no longer empty, nothing is written.
        let again = copy_between(&source.pool, &pool).unwrap_err();
        assert!(again.to_string().contains("not empty"), "{again}");
        assert_eq!(counts(&pool), source_counts);
        drop(pool);

        let copy = spawn_app_on_database(target).await;
        assert_same_answers(&source, &copy).await;
        // The organiser signs in on the copy with the password she chose (the hash came
        // along), and new rows get new ids (PostgreSQL's sequences moved on).
        let ana = copy.browser();
        let res = ana
            .submit(
                "/login",
                "/login",
                &[("email", "ana@braga.example"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, 303, "{url}: {}", res.body);
        let newest = copy.event("braga").title("Depois da mudança").insert();
        assert!(newest.id > 4, "{url}: {}", newest.id);

        // And back: from the copy into a new SQLite file, still the same.
        if url.is_postgres() {
            let back = TestDatabase::sqlite_in(tempfile::tempdir().unwrap());
            let back_pool = db::connect(back.url(), 2).unwrap();
            copy_between(&copy.pool, &back_pool).unwrap();
            assert_eq!(counts(&back_pool), counts(&copy.pool));
        }
    }
}

#[test]
fn the_command_copies_a_file_and_refuses_to_copy_onto_itself_or_into_a_full_database() {
    let dir = tempfile::tempdir().unwrap();
    let (from, to) = (dir.path().join("from.db"), dir.path().join("to.db"));
    let out = binary()
        .args(["demo", "--events", "40", "--seed", "7", "--database"])
        .arg(&from)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = |to: &std::path::Path| {
        binary()
            .args(["db", "copy", "--from"])
            .arg(&from)
            .arg("--to")
            .arg(to)
            .output()
            .unwrap()
    };
    let out = run(&to);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("copied ") && stdout.contains("events 40,"),
        "{stdout}"
    );
    let again = run(&to);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
    let same = run(&from);
    assert!(!same.status.success());
    assert!(String::from_utf8_lossy(&same.stderr).contains("the same database"));
}

/// Every table the migrations make, and every column, is in the copy's list: a table
/// or column added later cannot be left behind by `db copy`.
#[test]
fn the_copy_lists_every_table_and_column_the_migrations_make() {
    use diesel::prelude::*;
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let dir = tempfile::tempdir().unwrap();
    let pool = db::connect(dir.path().join("x.db"), 1).unwrap();
    let mut conn = pool.get().unwrap();
    let mut tables: Vec<String> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE 'events_search%' AND name <> '__diesel_schema_migrations'",
    )
    .load::<Name>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|n| n.name)
    .collect();
    tables.sort();
    let mut listed: Vec<String> = TABLES.iter().map(|t| t.name.to_owned()).collect();
    listed.push("data_revision".to_owned());
    listed.sort();
    assert_eq!(tables, listed);
    for table in TABLES {
        let columns: Vec<String> = diesel::sql_query(format!(
            "SELECT name FROM pragma_table_info('{}') ORDER BY cid",
            table.name
        ))
        .load::<Name>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
        assert_eq!(columns, table.columns, "{}", table.name);
    }
}
