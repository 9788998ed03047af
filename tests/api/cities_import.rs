//! Loading the network's cities: the shipped list at every start, and `cities import`.

use crate::helpers::binary;
use creative_calendar::cities_import::{self, NETWORK_CSV, ShippedReport};
use creative_calendar::db::{self, DbConnection, models::City};
use diesel::prelude::*;
use diesel_migrations::MigrationHarness;

const HEADER: &str = "name,country,country_code,field,year,latitude,longitude,timezone\n";

fn fresh_db() -> (tempfile::TempDir, db::DbPool) {
    let dir = tempfile::tempdir().unwrap();
    let pool = db::connect(dir.path().join("cities.db"), 2).unwrap();
    (dir, pool)
}

fn now() -> chrono::DateTime<chrono::Utc> {
    crate::helpers::test_now()
}

#[test]
fn the_first_start_loads_406_cities_and_later_starts_add_none() {
    let (_dir, pool) = fresh_db();
    let mut conn = pool.get().unwrap();
    let report = cities_import::add_shipped_cities(&mut conn, now()).unwrap();
    assert_eq!(report.added, 406);
    assert_eq!(City::count(&mut conn).unwrap(), 406);
    let again = cities_import::add_shipped_cities(&mut conn, now()).unwrap();
    assert_eq!(again, ShippedReport::default());
    assert_eq!(City::count(&mut conn).unwrap(), 406);
}

#[test]
fn the_two_granadas_get_distinct_slugs_and_other_cities_plain_ones() {
    let (_dir, pool) = fresh_db();
    let mut conn = pool.get().unwrap();
    cities_import::add_shipped_cities(&mut conn, now()).unwrap();
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
    cities_import::add_shipped_cities(&mut conn, now()).unwrap();
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
    cities_import::add_shipped_cities(&mut conn, now()).unwrap();
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
    cities_import::add_shipped_cities(&mut conn, now()).unwrap();
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
    cities_import::add_shipped_cities(&mut conn, now()).unwrap();
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

/// The cities of the 2025 round that the shipped list gained after its first release of
/// 392 rows, by the slug the slug rules give them.
const ADDED_IN_2025: [(&str, &str); 14] = [
    ("hebron", "Hebron"),
    ("ho-chi-minh-city", "Ho Chi Minh City"),
    ("hohr-grenzhausen", "Höhr-Grenzhausen"),
    ("kelowna", "Kelowna"),
    ("korhogo", "Korhogo"),
    ("lalitpur", "Lalitpur"),
    ("liege", "Liège"),
    ("lubango", "Lubango"),
    ("lucknow", "Lucknow"),
    ("niksic", "Nikšić"),
    ("ponorogo", "Ponorogo"),
    ("safi", "Safi"),
    ("songkhla", "Songkhla"),
    ("varna", "Varna"),
];

/// The list the releases before `shipped_cities` shipped: today's without those 14.
fn first_list() -> String {
    let text: String = NETWORK_CSV
        .lines()
        .filter(|line| {
            !ADDED_IN_2025
                .iter()
                .any(|(_, name)| line.starts_with(&format!("{name},")))
        })
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(text.lines().count(), 1 + 392);
    text
}

/// A database as those releases left it: their migrations, and the 392 cities their
/// first start loaded. `edit` then does what its admins did before the upgrade.
fn old_installation(edit: impl FnOnce(&mut DbConnection)) -> (tempfile::TempDir, db::DbPool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    {
        let mut conn =
            DbConnection::Sqlite(SqliteConnection::establish(path.to_str().unwrap()).unwrap());
        // Every migration before the one that makes `shipped_cities`, in their order.
        loop {
            let pending = conn.pending_migrations(db::SQLITE_MIGRATIONS).unwrap();
            let next = pending.first().expect("the shipped_cities migration");
            if next.name().to_string().ends_with("_create_shipped_cities") {
                break;
            }
            conn.run_migration(&**next).unwrap();
        }
        cities_import::import_csv(&mut conn, &first_list(), now()).unwrap();
        edit(&mut conn);
    }
    // The upgrade: the new migrations run when the new binary opens the file.
    let pool = db::connect(&path, 4).unwrap();
    (dir, pool)
}

fn all_cities(conn: &mut DbConnection) -> Vec<City> {
    City::list(conn, &Default::default()).unwrap()
}

#[test]
fn a_database_of_the_392_city_list_gains_the_14_new_cities_on_its_next_start() {
    let (_dir, pool) = old_installation(|_| {});
    let mut conn = pool.get().unwrap();
    let before = all_cities(&mut conn);
    assert_eq!(before.len(), 392);

    let later = now() + chrono::Duration::days(3);
    let report = cities_import::add_shipped_cities(&mut conn, later).unwrap();
    assert_eq!(
        report,
        ShippedReport {
            added: 14,
            already_present: 0
        }
    );
    assert_eq!(report.to_string(), "added 14 cities from the shipped list");
    let after = all_cities(&mut conn);
    assert_eq!(after.len(), 406);
    for (slug, name) in ADDED_IN_2025 {
        let city = City::find_by_slug(&mut conn, slug).unwrap();
        assert_eq!((city.name.as_str(), city.designation_year), (name, 2025));
        assert_eq!(city.created_at, later.naive_utc());
    }
    // Not one of the 392 was touched, down to its updated_at.
    let untouched = |c: &City| format!("{c:?}");
    let old: Vec<_> = before.iter().map(untouched).collect();
    let kept: Vec<_> = after
        .iter()
        .filter(|c| {
            !ADDED_IN_2025
                .iter()
                .any(|(slug, _)| c.slug.as_str() == *slug)
        })
        .map(untouched)
        .collect();
    assert_eq!(old, kept);

    assert_eq!(
        cities_import::add_shipped_cities(&mut conn, later).unwrap(),
        ShippedReport::default(),
        "a second start adds nothing"
    );
    // The list and the database now agree: importing it changes nothing.
    let import = cities_import::import_csv(&mut conn, NETWORK_CSV, later).unwrap();
    assert_eq!(
        (import.added, import.updated, import.unchanged),
        (0, 0, 406)
    );
}

#[actix_web::test]
async fn a_server_started_on_an_old_database_lists_the_406_cities() {
    let (dir, pool) = old_installation(|_| {});
    drop(pool);
    let app = crate::helpers::spawn_app_on(dir).await;
    let res = app.get("/cities").await;
    assert_eq!(res.text("p.result-count"), "406 cities");
    assert_eq!(app.get("/cities/hebron").await.text("h1"), "Hebron");
    // A restart, or a second server on the same file, adds nothing more.
    let again = app.another_server(|_| {}).await;
    assert_eq!(again.get("/cities").await.texts(".city-card").len(), 406);
}

#[test]
fn the_start_keeps_what_admins_did_to_the_shipped_cities() {
    use creative_calendar::db::schema::cities;
    // Before the upgrade: Lyon's year corrected, Kraków renamed, Aberystwyth removed.
    let (_dir, pool) = old_installation(|conn| {
        diesel::update(cities::table.filter(cities::slug.eq("lyon")))
            .set(cities::designation_year.eq(2008))
            .execute(conn)
            .unwrap();
        diesel::update(cities::table.filter(cities::slug.eq("krakow")))
            .set(cities::name.eq("Cracow"))
            .execute(conn)
            .unwrap();
        diesel::delete(cities::table.filter(cities::name.eq("Aberystwyth")))
            .execute(conn)
            .unwrap();
    });
    let mut conn = pool.get().unwrap();
    let report = cities_import::add_shipped_cities(&mut conn, now()).unwrap();
    assert_eq!(report.added, 14);
    assert_eq!(City::count(&mut conn).unwrap(), 391 + 14);
    assert_eq!(
        City::find_by_slug(&mut conn, "krakow").unwrap().name,
        "Cracow"
    );
    let polish: Vec<_> = all_cities(&mut conn)
        .into_iter()
        .filter(|c| c.country_code.as_str() == "PL")
        .map(|c| c.name)
        .collect();
    assert!(!polish.contains(&"Kraków".to_owned()), "{polish:?}");
    assert_eq!(
        City::find_by_slug(&mut conn, "lyon")
            .unwrap()
            .designation_year,
        2008
    );
    assert!(
        !all_cities(&mut conn)
            .iter()
            .any(|c| c.name == "Aberystwyth")
    );

    // After it: a city the start added is renamed; the next start leaves it so.
    diesel::update(cities::table.filter(cities::slug.eq("hebron")))
        .set(cities::name.eq("Al-Khalil"))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(
        cities_import::add_shipped_cities(&mut conn, now()).unwrap(),
        ShippedReport::default()
    );
    assert_eq!(
        City::find_by_slug(&mut conn, "hebron").unwrap().name,
        "Al-Khalil"
    );
    assert_eq!(City::count(&mut conn).unwrap(), 405);
}

#[test]
fn a_new_city_an_admin_had_imported_already_is_left_as_the_admin_made_it() {
    let (_dir, pool) = old_installation(|conn| {
        let text =
            format!("{HEADER}Hebron,Palestine,PS,Crafts and Folk Art,2024,31.5,35.1,Asia/Hebron\n");
        cities_import::import_csv(conn, &text, now()).unwrap();
    });
    let mut conn = pool.get().unwrap();
    let report = cities_import::add_shipped_cities(&mut conn, now()).unwrap();
    assert_eq!(
        report,
        ShippedReport {
            added: 13,
            already_present: 1
        }
    );
    let hebron = City::find_by_slug(&mut conn, "hebron").unwrap();
    assert_eq!((hebron.designation_year, hebron.latitude), (2024, 31.5));
    assert_eq!(City::count(&mut conn).unwrap(), 406);
}

#[test]
fn servers_starting_at_once_on_an_old_database_add_the_new_cities_once() {
    let (_dir, pool) = old_installation(|_| {});
    let barrier = std::sync::Barrier::new(4);
    let reports: Vec<ShippedReport> = std::thread::scope(|scope| {
        let starts: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let mut conn = pool.get().unwrap();
                    barrier.wait();
                    cities_import::add_shipped_cities(&mut conn, now()).unwrap()
                })
            })
            .collect();
        starts.into_iter().map(|s| s.join().unwrap()).collect()
    });
    assert_eq!(reports.iter().map(|r| r.added).sum::<usize>(), 14);
    assert_eq!(City::count(&mut pool.get().unwrap()).unwrap(), 406);
}

#[test]
fn the_cities_import_command_gives_an_old_database_the_new_cities_first() {
    let (dir, pool) = old_installation(|_| {});
    drop(pool);
    let db_file = dir.path().join("test.db");
    let file = dir.path().join("one.csv");
    std::fs::write(
        &file,
        format!("{HEADER}Lyon,France,FR,Media Arts,2008,45.7491,4.8479,Europe/Paris\n"),
    )
    .unwrap();
    let out = import_command(&db_file, &file);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "cities: 0 added, 1 updated, 0 unchanged"
    );
    assert!(
        stderr.contains("added 14 cities from the shipped list"),
        "{stderr}"
    );
    let pool = db::connect(&db_file, 1).unwrap();
    assert_eq!(City::count(&mut pool.get().unwrap()).unwrap(), 406);
}

/// `creative-calendar cities import --database DB FILE`.
fn import_command(db: &std::path::Path, file: &std::path::Path) -> std::process::Output {
    binary()
        .args(["cities", "import", "--database"])
        .arg(db)
        .arg(file)
        .output()
        .unwrap()
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
    let out = import_command(&db, &bad);
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
    let out = import_command(&db, &good);
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
            2,
            "FULL: an answered write survives a power cut"
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
