//! The cache of anonymous pages and API answers (`web::cache`), with the revision kept
//! in memory (`revision`): what a write invalidates, what a racing read may keep, and
//! whose page a viewer gets.

use serde_json::{Value, json};

use crate::api_writes::{call, token_for};
use crate::helpers::*;

/// A server that trusts the revision it read for an hour: only a write through it makes
/// it read again, so whatever it serves without a write came from memory.
async fn caching_app() -> TestApp {
    spawn_app_with(test_now(), |config| {
        config.revision_check = std::time::Duration::from_secs(3600);
    })
    .await
}

fn etag(res: &Response) -> String {
    res.header("etag").expect("an ETag")
}

async fn trusted_organiser<'a>(app: &'a TestApp, email: &str) -> (Browser<'a>, String) {
    let browser = app.organiser(email).await;
    app.set_trusted(email, true);
    let token = token_for(app, email);
    (browser, token)
}

fn concert(title: &str) -> Value {
    json!({
        "city": "braga",
        "kind": "performance",
        "title": title,
        "venue": "Theatro Circo",
        "start_date": "2026-12-12",
        "start_time": "21:00",
    })
}

async fn create(app: &TestApp, token: &str, title: &str) -> i64 {
    let res = call(app, "POST", "/api/v1/events", token, Some(&concert(title))).await;
    assert_eq!(res.status, 201, "{}", res.body);
    serde_json::from_str::<Value>(&res.body).unwrap()["event"]["id"]
        .as_i64()
        .unwrap()
}

#[actix_rt::test]
async fn an_anonymous_page_is_kept_and_answers_304_and_gzip_without_the_database() {
    let app = caching_app().await;
    app.event("braga").title("Kept Concert").insert();
    let first = app.get("/cities/braga").await;
    assert_eq!(first.status, 200);
    assert!(first.body.contains("Kept Concert"));
    assert_eq!(first.header("cache-control").as_deref(), Some("no-cache"));
    assert_eq!(
        first.header("vary").as_deref(),
        Some("Accept-Encoding, Cookie")
    );
    assert!(
        first.header("content-security-policy").is_some(),
        "the site's headers too"
    );
    let tag = etag(&first);

    // Written behind the server's back (as another server would, within its revision
    // interval): the page still comes from memory, so no query was made for it.
    app.event("braga").title("Unseen Concert").insert();
    let again = app.get("/cities/braga").await;
    assert_eq!(again.body, first.body);
    let revalidated = app
        .get_with("/cities/braga", &[("if-none-match", &tag)])
        .await;
    assert_eq!(revalidated.status, 304);
    assert_eq!(etag(&revalidated), tag);
    assert!(revalidated.body.is_empty());

    // The gzipped body is the same page under an ETag of its own.
    let zipped = app.get_gzipped("/cities/braga", "gzip").await;
    assert_eq!(zipped.header("content-encoding"), "gzip");
    assert_eq!(zipped.body, first.body);
    assert!(zipped.zipped_len < first.body.len() / 2);
    assert_ne!(zipped.header("etag"), tag);
    let zipped_304 = app
        .get_with(
            "/cities/braga",
            &[
                ("accept-encoding", "gzip"),
                ("if-none-match", &zipped.header("etag")),
            ],
        )
        .await;
    assert_eq!(zipped_304.status, 304);

    // HEAD is answered from the same entry, without a body.
    let head = app
        .request(awc::http::Method::HEAD, "/cities/braga", &[])
        .await;
    assert_eq!(head.status, 200);
    assert_eq!(etag(&head), tag);
    assert!(head.body.is_empty());
}

#[actix_rt::test]
async fn a_write_invalidates_its_city_the_network_its_field_and_the_api_lists_and_nothing_else() {
    let app = caching_app().await;
    let (_organiser, token) = trusted_organiser(&app, "braga@example.org").await;
    create(&app, &token, "First Night").await;
    let braga = app.city("braga");
    let field = braga.field.slug();
    let changed = [
        "/cities/braga".to_owned(),
        "/cities/braga/calendar.ics".to_owned(),
        "/calendar.ics".to_owned(),
        format!("/fields/{field}/calendar.ics"),
        format!("/fields/{field}"),
        "/events".to_owned(),
        "/api/v1/events".to_owned(),
        "/api/v1/events?city=braga".to_owned(),
    ];
    // A city elsewhere, in another field: its page and feed stay byte for byte.
    let other = "krakow";
    assert_ne!(app.city(other).field.slug(), field);
    let unchanged = [
        format!("/cities/{other}"),
        format!("/cities/{other}/calendar.ics"),
        format!("/api/v1/events?city={other}"),
    ];
    let mut before = Vec::new();
    for path in changed.iter().chain(&unchanged) {
        let res = app.get(path).await;
        assert_eq!(res.status, 200, "{path}");
        assert!(
            !res.body.contains("Second Night"),
            "{path} before the write"
        );
        before.push(etag(&res));
    }

    create(&app, &token, "Second Night").await;

    for (path, old) in changed.iter().zip(&before) {
        let res = app.get_with(path, &[("if-none-match", old)]).await;
        assert_eq!(
            res.status, 200,
            "{path} is not answered 304 after the write"
        );
        assert!(res.body.contains("Second Night"), "{path} shows the write");
        assert_ne!(&etag(&res), old, "{path} has a new ETag");
    }
    for (path, old) in unchanged.iter().zip(&before[changed.len()..]) {
        let res = app.get_with(path, &[("if-none-match", old)]).await;
        assert_eq!(res.status, 304, "{path} did not change");
    }
}

#[actix_rt::test]
async fn a_signed_in_viewer_never_gets_the_anonymous_page_nor_the_reverse() {
    let app = caching_app().await;
    let (owner, token) = trusted_organiser(&app, "owner@example.org").await;
    let id = create(&app, &token, "Owner's Night").await;
    let path = format!("/events/{id}");
    let manage = "Manage your event";

    // The anonymous page first, kept; then the owner's; then anonymous again.
    let anonymous = app.get(&path).await;
    assert_eq!(anonymous.status, 200);
    assert!(!anonymous.body.contains(manage));
    let owners = owner.get(&path).await;
    assert_eq!(owners.status, 200);
    assert!(owners.body.contains(manage), "the owner's own menu");
    assert!(
        owners.header("etag").is_none(),
        "a viewer's page is not kept"
    );
    let anonymous_again = app.get(&path).await;
    assert!(!anonymous_again.body.contains(manage));
    assert_eq!(anonymous_again.body, anonymous.body);

    // The owner's page first this time (on a page not yet kept), then anonymous.
    let other = create(&app, &token, "Owner's Second Night").await;
    let path = format!("/events/{other}");
    assert!(owner.get(&path).await.body.contains(manage));
    let anonymous = app.get(&path).await;
    assert!(!anonymous.body.contains(manage));
    assert!(anonymous.header("set-cookie").is_none());
    // An anonymous ETag sent with the owner's cookie gets the owner's page, not a 304.
    let tag = etag(&anonymous);
    let res = owner.get_with(&path, &[("if-none-match", &tag)]).await;
    assert_eq!(res.status, 200);
    assert!(res.body.contains(manage));
}

#[actix_rt::test]
async fn reads_racing_writes_never_keep_old_rows_under_a_new_revision() {
    let app = caching_app().await;
    let (_organiser, token) = trusted_organiser(&app, "racer@example.org").await;
    let id = create(&app, &token, "Title 0").await;
    let page = format!("/events/{id}");
    let api = format!("/api/v1/events/{id}");
    for round in 1..=15 {
        let title = format!("Title {round}");
        let change = json!({ "title": title });
        let write = call(&app, "PATCH", &api, &token, Some(&change));
        // Reads in flight while the write commits, each of which may keep what it read.
        let reads = futures_util::future::join_all((0..6).map(|i| {
            let path = if i % 2 == 0 {
                page.clone()
            } else {
                api.clone()
            };
            let app = &app;
            async move { app.get(&path).await }
        }));
        let (written, _) = futures_util::future::join(write, reads).await;
        assert_eq!(written.status, 200, "{}", written.body);
        // Once the write is answered, every read shows it.
        for path in [&page, &api] {
            let res = app.get(path).await;
            assert!(
                res.body.contains(&format!("{title}<"))
                    || res.body.contains(&format!("\"{title}\"")),
                "round {round}: {path} shows an older title"
            );
        }
    }
}

#[actix_rt::test]
async fn a_feed_poll_is_answered_from_memory_with_the_feeds_own_headers() {
    let app = caching_app().await;
    app.event("braga").title("Polled Concert").insert();
    let path = "/cities/braga/calendar.ics";
    let first = app.get(path).await;
    assert_eq!(first.status, 200);
    assert!(first.body.contains("SUMMARY:Polled Concert"));
    assert_eq!(
        first.header("cache-control").as_deref(),
        Some("public, max-age=900"),
        "a feed keeps its own caching headers"
    );
    assert_eq!(first.header("vary").as_deref(), Some("Accept-Encoding"));
    let tag = etag(&first);
    // Behind the server's back: the poll is answered from memory, 304 and all.
    app.event("braga").title("Unseen Concert").insert();
    let again = app.get_with(path, &[("if-none-match", &tag)]).await;
    assert_eq!(again.status, 304);
    assert_eq!(etag(&again), tag);
    assert!(again.header("last-modified").is_some() || first.header("last-modified").is_none());
    assert_eq!(app.get(path).await.body, first.body);
}
