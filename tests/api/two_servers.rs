//! Two app servers on one database, as behind a load balancer: what one writes, the
//! other serves at once, in its pages, feeds, counts and API, with the same validators.
//! On SQLite they share a file; with `CREATIVE_CALENDAR_TEST_POSTGRES` (as in CI) they
//! share a PostgreSQL database, which is the deployment this is for.

use crate::helpers::*;

#[actix_web::test]
async fn a_write_through_one_server_is_read_through_the_other_with_the_same_etag() {
    let a = spawn_app().await;
    let b = a.another_server(|_| {}).await;
    a.event("braga").title("Primeira noite").insert();

    // Both have built and cached the feed, the listing and the counts.
    let feed = "/cities/braga/calendar.ics";
    let (fa, fb) = (a.get(feed).await, b.get(feed).await);
    assert!(fa.body.contains("Primeira noite") && fb.body.contains("Primeira noite"));
    assert_eq!(fa.header("etag"), fb.header("etag"), "one feed, one ETag");
    assert_eq!(fa.body, fb.body);
    let home_before = b.get("/cities/braga").await.body;
    let api_before = b.get("/api/v1/events?city=braga").await.json();
    assert_eq!(api_before["meta"]["total"], 1);

    // An organiser's write through A, with the form.
    let ana = a.organiser("ana@braga.example").await;
    a.set_trusted("ana@braga.example", true);
    let res = ana
        .submit_event(&[
            ("city", "braga"),
            ("kind", "performance"),
            ("title", "Segunda noite"),
            ("venue", "Theatro Circo"),
            ("start_date", "2026-12-12"),
            ("start_time", "21:00"),
        ])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);

    // B serves it at once: no cache of B's holds the old answer.
    let fb2 = b.get(feed).await;
    assert!(fb2.body.contains("Segunda noite"), "B's feed");
    let fa2 = a.get(feed).await;
    assert_eq!(fa2.header("etag"), fb2.header("etag"));
    assert_ne!(fb2.header("etag"), fb.header("etag"));
    // A client holding B's old ETag gets the new feed, not a 304.
    let old = fb.header("etag").unwrap();
    assert_eq!(
        b.get_with(feed, &[("If-None-Match", &old)]).await.status,
        200
    );
    assert_ne!(b.get("/cities/braga").await.body, home_before);
    assert!(b.get("/cities/braga").await.body.contains("Segunda noite"));
    let api = b.get("/api/v1/events?city=braga").await.json();
    assert_eq!(api["meta"]["total"], 2);
    let cities = b.get("/api/v1/cities/braga").await.json();
    assert_eq!(
        cities["city"]["upcoming_events"], 2,
        "B's cached counts moved too"
    );
}

#[derive(diesel::QueryableByName)]
struct Setting {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// Every pooled connection gets the session settings the server relies on: on
/// PostgreSQL a statement timeout and SSD-like planner costs (unless the operator chose
/// other costs), on SQLite WAL, a busy timeout and enforced foreign keys.
#[actix_web::test]
async fn every_pooled_connection_gets_the_session_settings() {
    use diesel::RunQueryDsl;
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let show = |conn: &mut creative_calendar::db::DbConnection, sql: &str| {
        diesel::sql_query(sql)
            .get_result::<Setting>(conn)
            .unwrap()
            .value
    };
    if test_postgres().is_some() {
        assert_eq!(
            show(
                &mut conn,
                "SELECT current_setting('statement_timeout') AS value"
            ),
            "30s"
        );
        assert_eq!(
            show(
                &mut conn,
                "SELECT current_setting('random_page_cost') AS value"
            ),
            "1.1"
        );
    } else {
        assert_eq!(
            show(
                &mut conn,
                "SELECT journal_mode AS value FROM pragma_journal_mode"
            ),
            "wal"
        );
        assert_eq!(
            show(
                &mut conn,
                "SELECT CAST(foreign_keys AS TEXT) AS value FROM pragma_foreign_keys"
            ),
            "1"
        );
        assert_eq!(
            show(
                &mut conn,
                "SELECT CAST(timeout AS TEXT) AS value FROM pragma_busy_timeout"
            ),
            "5000"
        );
    }
}
