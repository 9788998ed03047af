//! Loading the network's cities: on first start, and with `cities import`.

use std::process::Command;

use creative_calendar::cities_import::{self, NETWORK_CSV};
use creative_calendar::db::{self, models::City};

const HEADER: &str = "name,country,country_code,field,year,latitude,longitude,timezone\n";

fn fresh_db() -> (tempfile::TempDir, db::DbPool) {
    let dir = tempfile::tempdir().unwrap();
    let pool = db::connect(&dir.path().join("cities.db"), 2).unwrap();
    (dir, pool)
}

fn now() -> chrono::DateTime<chrono::Utc> {
    crate::helpers::test_now()
}

#[test]
fn the_first_start_loads_406_cities_and_later_starts_add_none() {
    let (_dir, pool) = fresh_db();
    let mut conn = pool.get().unwrap();
    let report = cities_import::seed_if_empty(&mut conn).unwrap().unwrap();
    assert_eq!(report.added, 406);
    assert_eq!(City::count(&mut conn).unwrap(), 406);
    assert!(cities_import::seed_if_empty(&mut conn).unwrap().is_none());
    assert_eq!(City::count(&mut conn).unwrap(), 406);
}

#[test]
fn the_two_granadas_get_distinct_slugs_and_other_cities_plain_ones() {
    let (_dir, pool) = fresh_db();
    let mut conn = pool.get().unwrap();
    cities_import::seed_if_empty(&mut conn).unwrap();
    let es = City::find_by_slug(&mut conn, "granada-es").unwrap();
    let ni = City::find_by_slug(&mut conn, "granada-ni").unwrap();
    assert_eq!(
        (es.country.as_str(), ni.country.as_str()),
        ("Spain", "Nicaragua")
    );
    assert_eq!(
        City::find_by_slug(&mut conn, "krakow").unwrap().name,
        "Kraków"
    );
    assert_eq!(
        City::find_by_slug(&mut conn, "sao-paulo").unwrap().name,
        "São Paulo"
    );
    assert!(City::find_by_slug(&mut conn, "granada").is_err());
}

#[test]
fn importing_the_same_file_again_adds_no_duplicates() {
    let (_dir, pool) = fresh_db();
    let mut conn = pool.get().unwrap();
    cities_import::seed_if_empty(&mut conn).unwrap();
    let report = cities_import::import_csv(&mut conn, NETWORK_CSV, now()).unwrap();
    assert_eq!(
        (report.added, report.updated, report.unchanged),
        (0, 0, 406)
    );
    assert_eq!(City::count(&mut conn).unwrap(), 406);
}

#[test]
fn an_import_adds_a_missing_city_and_updates_a_known_one() {
    let (_dir, pool) = fresh_db();
    let mut conn = pool.get().unwrap();
    cities_import::seed_if_empty(&mut conn).unwrap();
    let text = format!(
        "{HEADER}Newtown,Atlantis Republic,AT,Music,2027,47.0,15.4,Europe/Vienna\n\
         Kraków,Poland,PL,Literature,2013,50.0614,19.9366,Europe/Warsaw\n\
         Lyon,France,FR,Media Arts,2008,45.7491,4.8479,Europe/Paris\n"
    );
    let report = cities_import::import_csv(&mut conn, &text, now()).unwrap();
    assert_eq!((report.added, report.updated, report.unchanged), (1, 1, 1));
    assert_eq!(
        City::find_by_slug(&mut conn, "newtown")
            .unwrap()
            .designation_year,
        2027
    );
    let lyon = City::find_by_slug(&mut conn, "lyon").unwrap();
    assert_eq!(lyon.field.slug(), "media-arts");
}

#[test]
fn a_third_city_of_a_shared_name_gets_its_own_slug_and_old_slugs_stay() {
    let (_dir, pool) = fresh_db();
    let mut conn = pool.get().unwrap();
    cities_import::seed_if_empty(&mut conn).unwrap();
    // Kraków had the plain slug; a second Kraków elsewhere must not take it or change it.
    let text = format!("{HEADER}Kraków,Elsewhere,XE,Design,2030,1.0,1.0,Europe/Warsaw\n");
    cities_import::import_csv(&mut conn, &text, now()).unwrap();
    assert_eq!(
        City::find_by_slug(&mut conn, "krakow").unwrap().country,
        "Poland"
    );
    assert_eq!(
        City::find_by_slug(&mut conn, "krakow-xe").unwrap().country,
        "Elsewhere"
    );
}

#[test]
fn a_malformed_row_is_reported_by_line_and_nothing_is_written() {
    let (_dir, pool) = fresh_db();
    let mut conn = pool.get().unwrap();
    cities_import::seed_if_empty(&mut conn).unwrap();
    let text = format!(
        "{HEADER}Newtown,Somewhere,AT,Music,2027,47.0,15.4,Europe/Vienna\n\
         Oldtown,Somewhere,AT,Music,2027,47.0,15.4,Mars/Olympus_Mons\n"
    );
    let err = cities_import::import_csv(&mut conn, &text, now()).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("line 3"), "{message}");
    assert!(message.contains("Mars/Olympus_Mons"), "{message}");
    assert_eq!(
        City::count(&mut conn).unwrap(),
        406,
        "the good row was not written either"
    );
    assert!(City::find_by_slug(&mut conn, "newtown").is_err());
}

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_creative-calendar"))
}

#[test]
fn the_cities_import_command_reports_bad_rows_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!("{HEADER}Nowhere,Land,XX,Juggling,2027,1,1,UTC\n"),
    )
    .unwrap();
    let out = binary()
        .args(["cities", "import", "--database"])
        .arg(&db)
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(stderr.contains("Juggling"), "{stderr}");

    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        format!("{HEADER}Newtown,Land,XX,Music,2027,1,1,UTC\n"),
    )
    .unwrap();
    let out = binary()
        .args(["cities", "import", "--database"])
        .arg(&db)
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The first start seeded the network; the file added one city.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "cities: 1 added, 0 updated, 0 unchanged"
    );
}

#[test]
fn the_demo_command_fills_an_empty_table_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let run = || {
        binary()
            .args(["demo", "--events", "300", "--seed", "7", "--database"])
            .arg(&db)
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).starts_with("generated 300 sample events"));
    let second = run();
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("already holds 300 events"));
}

#[test]
fn every_pooled_connection_has_the_sqlite_pragmas() {
    use diesel::RunQueryDsl;
    use diesel::sql_types::{BigInt, Text};

    #[derive(diesel::QueryableByName)]
    struct Number {
        #[diesel(sql_type = BigInt)]
        value: i64,
    }
    #[derive(diesel::QueryableByName)]
    struct Word {
        #[diesel(sql_type = Text)]
        value: String,
    }

    let (_dir, pool) = fresh_db();
    // Check more connections than one, since each is set up on its own.
    let mut conns: Vec<_> = (0..2).map(|_| pool.get().unwrap()).collect();
    for conn in &mut conns {
        let number = |conn: &mut db::DbConn, sql: &str| {
            diesel::sql_query(sql)
                .get_result::<Number>(conn)
                .unwrap()
                .value
        };
        assert_eq!(
            number(
                conn,
                "SELECT foreign_keys AS value FROM pragma_foreign_keys"
            ),
            1
        );
        assert_eq!(
            number(conn, "SELECT synchronous AS value FROM pragma_synchronous"),
            1,
            "NORMAL"
        );
        assert_eq!(
            number(conn, "SELECT timeout AS value FROM pragma_busy_timeout"),
            5000
        );
        let mode = diesel::sql_query("SELECT journal_mode AS value FROM pragma_journal_mode")
            .get_result::<Word>(conn)
            .unwrap()
            .value;
        assert_eq!(mode, "wal");
    }
}
