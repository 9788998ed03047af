//! The API's writes: an organiser's token submits, changes, cancels and deletes their
//! events through the same workflows as the forms, with JSON errors, no CORS, and a
//! limit per token.

use creative_calendar::auth::token::mint;
use creative_calendar::db::models::{Account, ApiToken};
use creative_calendar::domain::{ModerationState, TokenName};
use serde_json::{Value, json};

use crate::helpers::*;

/// A token for the account with `email` (which must exist).
pub(crate) fn token_for(app: &TestApp, email: &str) -> String {
    let mut conn = app.pool.get().unwrap();
    let account = Account::find_by_email(&mut conn, email).unwrap();
    mint(
        &mut conn,
        account.id,
        &TokenName::parse("Script").unwrap(),
        app.now,
    )
    .unwrap()
    .secret
}

/// A request to the API with `token`, and `body` as JSON when given.
pub(crate) async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> Response {
    let body = body.map(|b| b.to_string());
    send(
        app,
        method,
        path,
        &bearer(token),
        body.as_deref(),
        "application/json",
    )
    .await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A request with exactly these headers and body.
async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    authorization: &str,
    body: Option<&str>,
    content_type: &str,
) -> Response {
    let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app
        .client
        .request(method, format!("{}{}", app.address, path));
    if !authorization.is_empty() {
        req = req.insert_header(("authorization", authorization));
    }
    let res = match body {
        Some(body) => {
            req.insert_header(("content-type", content_type))
                .send_body(body.to_owned())
                .await
        }
        None => req.send().await,
    };
    let mut res = res.expect("the request is answered");
    let bytes = res.body().limit(20_000_000).await.expect("a body");
    Response {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body: String::from_utf8(bytes.to_vec()).expect("UTF-8"),
    }
}

fn json_of(res: &Response) -> Value {
    serde_json::from_str(&res.body).unwrap_or_else(|e| panic!("{e}: {}", res.body))
}

/// The `field` of each error of a 422.
fn error_fields(res: &Response) -> Vec<String> {
    json_of(res)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn detail(res: &Response) -> String {
    json_of(res)["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn night() -> Value {
    json!({
        "city": "braga",
        "kind": "festival",
        "title": "Braga Media Arts Night",
        "description": "Projections on the cathedral.",
        "venue": "Theatro Circo",
        "address": "Av. da Liberdade 697, Braga",
        "start_date": "2026-12-12",
        "start_time": "19:00",
        "end_time": "23:00",
    })
}

async fn organiser_with_token<'a>(app: &'a TestApp, email: &str) -> (Browser<'a>, String) {
    let browser = app.organiser(email).await;
    let token = token_for(app, email);
    (browser, token)
}

/// Creates `night()` and returns its id.
async fn create(app: &TestApp, token: &str) -> i32 {
    let res = call(app, "POST", "/api/v1/events", token, Some(&night())).await;
    assert_eq!(res.status, 201, "{}", res.body);
    json_of(&res)["event"]["id"].as_i64().unwrap() as i32
}

async fn decide(moderator: &Browser<'_>, id: i32, decision: &str) -> Response {
    moderator
        .submit(
            "/moderation",
            &format!("/moderation/events/{id}/{decision}"),
            &[("reason", ""), ("back", "/moderation")],
        )
        .await
}

#[actix_web::test]
async fn an_organisers_whole_journey_through_the_api() {
    let app = spawn_app().await;
    let (_ana, token) = organiser_with_token(&app, "ana@braga.example").await;

    // Submitted: pending, shown to its owner, nowhere public.
    let res = call(&app, "POST", "/api/v1/events", &token, Some(&night())).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let body = json_of(&res);
    let id = body["event"]["id"].as_i64().unwrap();
    assert_eq!(
        res.header("location").as_deref(),
        Some(format!("https://calendar.example.org/api/v1/events/{id}").as_str())
    );
    assert_eq!(body["event"]["moderation"], "pending");
    assert_eq!(body["event"]["title"], "Braga Media Arts Night");
    assert_eq!(body["event"]["start"], "2026-12-12T19:00");
    assert_eq!(body["event"]["sequence"], 0);
    assert_eq!(res.header("access-control-allow-origin"), None);
    let list = app.get("/api/v1/events").await;
    assert!(!list.body.contains("Braga Media Arts Night"));
    assert_eq!(app.get(&format!("/api/v1/events/{id}")).await.status, 404);
    let feed = app.get("/cities/braga/calendar.ics").await;
    assert!(!feed.body.contains("Braga Media Arts Night"));
    let mine = call(&app, "GET", "/api/v1/my/events", &token, None).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(mine.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(mine.header("access-control-allow-origin"), None);
    let mine = json_of(&mine);
    assert_eq!(mine["meta"]["total"], 1);
    assert_eq!(mine["events"][0]["moderation"], "pending");

    // A moderator approves it in the HTML pages.
    let mia = app.moderator("mia@braga.example", Some("braga")).await;
    assert_eq!(decide(&mia, id as i32, "approve").await.status, 303);
    let list = app.get("/api/v1/events").await;
    assert!(list.body.contains("Braga Media Arts Night"));
    let before = app.get("/cities/braga/calendar.ics").await;
    let before_tag = before.header("etag").unwrap();

    // A new time: SEQUENCE rises, the feed changes.
    let res = call(
        &app,
        "PATCH",
        &format!("/api/v1/events/{id}"),
        &token,
        Some(&json!({"start_time": "20:00"})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let event = &json_of(&res)["event"];
    assert_eq!(event["start"], "2026-12-12T20:00");
    assert_eq!(event["end"], "2026-12-12T23:00");
    assert_eq!(event["title"], "Braga Media Arts Night");
    assert_eq!(event["sequence"], 1);
    assert_eq!(res.header("access-control-allow-origin"), None);
    let after = app.get("/cities/braga/calendar.ics").await;
    assert_ne!(after.header("etag").unwrap(), before_tag);
    assert!(after.body.contains("SEQUENCE:1"), "{}", after.body);

    // Cancelled, with a note: the feed says so.
    let res = call(
        &app,
        "POST",
        &format!("/api/v1/events/{id}/cancel"),
        &token,
        Some(&json!({"note": "The theatre is closed for repairs."})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let event = &json_of(&res)["event"];
    assert_eq!(event["status"], "cancelled");
    assert_eq!(event["status_note"], "The theatre is closed for repairs.");
    assert_eq!(event["sequence"], 2);
    let feed = app.get("/cities/braga/calendar.ics").await;
    assert!(feed.body.contains("STATUS:CANCELLED"), "{}", feed.body);

    // Cancelling again is a conflict, as on the pages; reinstating puts it back on.
    let again = call(
        &app,
        "POST",
        &format!("/api/v1/events/{id}/cancel"),
        &token,
        None,
    )
    .await;
    assert_eq!(again.status, 409, "{}", again.body);
    let back = call(
        &app,
        "POST",
        &format!("/api/v1/events/{id}/reinstate"),
        &token,
        None,
    )
    .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(json_of(&back)["event"]["status"], "scheduled");

    // Postponed without a note (no body at all).
    let res = call(
        &app,
        "POST",
        &format!("/api/v1/events/{id}/postpone"),
        &token,
        None,
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(json_of(&res)["event"]["status"], "postponed");

    // Published once, so never deleted: cancelled instead.
    let res = call(
        &app,
        "DELETE",
        &format!("/api/v1/events/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(res.status, 409, "{}", res.body);
    assert!(detail(&res).contains("cancel it instead"), "{}", res.body);
}

#[actix_web::test]
async fn a_trusted_organisers_event_is_published_at_once() {
    let app = spawn_app().await;
    let (_kai, token) = organiser_with_token(&app, "kai@braga.example").await;
    // Roles are read on each request: a token made before the change carries it.
    app.set_trusted("kai@braga.example", true);
    let res = call(&app, "POST", "/api/v1/events", &token, Some(&night())).await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(json_of(&res)["event"]["moderation"], "published");
    let id = json_of(&res)["event"]["id"].as_i64().unwrap();
    assert_eq!(app.get(&format!("/api/v1/events/{id}")).await.status, 200);
}

#[actix_web::test]
async fn an_event_never_published_is_deleted() {
    let app = spawn_app().await;
    let (_ana, token) = organiser_with_token(&app, "ana@braga.example").await;
    let id = create(&app, &token).await;
    let res = call(
        &app,
        "DELETE",
        &format!("/api/v1/events/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(res.status, 204, "{}", res.body);
    assert_eq!(res.body, "");
    assert_eq!(res.header("access-control-allow-origin"), None);
    let mine = json_of(&call(&app, "GET", "/api/v1/my/events", &token, None).await);
    assert_eq!(mine["meta"]["total"], 0);
    let res = call(
        &app,
        "DELETE",
        &format!("/api/v1/events/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(res.status, 404, "{}", res.body);
    // Nor can it be cancelled while never published.
    let id = create(&app, &token).await;
    let res = call(
        &app,
        "POST",
        &format!("/api/v1/events/{id}/cancel"),
        &token,
        None,
    )
    .await;
    assert_eq!(res.status, 409, "{}", res.body);
}

#[actix_web::test]
async fn every_invalid_field_is_named_at_once() {
    let app = spawn_app().await;
    let (_ana, token) = organiser_with_token(&app, "ana@braga.example").await;
    let res = call(
        &app,
        "POST",
        "/api/v1/events",
        &token,
        Some(&json!({
            "city": "atlantis",
            "kind": "festival",
            "title": "",
            "venue": "Hall",
            "address": "1 Street",
            "start_date": "2026-12-12",
            "end_date": "2026-12-10",
            "all_day": true,
        })),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.body);
    let fields = error_fields(&res);
    assert!(fields.contains(&"city".to_owned()), "{fields:?}");
    assert!(fields.contains(&"title".to_owned()), "{fields:?}");
    assert!(
        res.header("content-type")
            .unwrap()
            .contains("application/json")
    );
    let mine = json_of(&call(&app, "GET", "/api/v1/my/events", &token, None).await);
    assert_eq!(mine["meta"]["total"], 0);

    // The same rules as the form: an end before the start.
    let mut body = night();
    body["end_date"] = json!("2026-12-10");
    let res = call(&app, "POST", "/api/v1/events", &token, Some(&body)).await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(
        error_fields(&res).contains(&"end_date".to_owned()),
        "{}",
        res.body
    );

    // A change is checked whole, over the stored event, and changes nothing when wrong.
    let id = create(&app, &token).await;
    let res = call(
        &app,
        "PATCH",
        &format!("/api/v1/events/{id}"),
        &token,
        Some(&json!({"end_date": "2026-12-01", "title": ""})),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.body);
    let fields = error_fields(&res);
    assert!(fields.contains(&"end_date".to_owned()), "{fields:?}");
    assert!(fields.contains(&"title".to_owned()), "{fields:?}");
    assert_eq!(app.stored_event(id).title, "Braga Media Arts Night");
}

#[actix_web::test]
async fn bodies_that_are_not_json_objects_of_known_fields_are_refused_as_json() {
    let app = spawn_app().await;
    let (_ana, token) = organiser_with_token(&app, "ana@braga.example").await;
    let auth = bearer(&token);

    let form = send(
        &app,
        "POST",
        "/api/v1/events",
        &auth,
        Some("title=x"),
        "application/x-www-form-urlencoded",
    )
    .await;
    assert_eq!(form.status, 415, "{}", form.body);
    assert!(detail(&form).contains("application/json"));

    let broken = send(
        &app,
        "POST",
        "/api/v1/events",
        &auth,
        Some("{\n\"title\": \"x\",\n}"),
        "application/json",
    )
    .await;
    assert_eq!(broken.status, 400, "{}", broken.body);
    assert!(
        detail(&broken).contains("line 3 column 1"),
        "{}",
        broken.body
    );

    let unknown = send(
        &app,
        "POST",
        "/api/v1/events",
        &auth,
        Some(r#"{"title": "x", "colour": "red", "size": 2}"#),
        "application/json; charset=utf-8",
    )
    .await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    assert_eq!(error_fields(&unknown), vec!["colour", "size"]);
    assert!(detail(&unknown).contains("colour"));

    let wrong_type = send(
        &app,
        "POST",
        "/api/v1/events",
        &auth,
        Some(r#"{"all_day": "yes"}"#),
        "application/json",
    )
    .await;
    assert_eq!(wrong_type.status, 422, "{}", wrong_type.body);
    assert_eq!(error_fields(&wrong_type), vec!["all_day"]);

    let big = format!(r#"{{"description": "{}"}}"#, "a".repeat(300 * 1024));
    let too_large = send(
        &app,
        "POST",
        "/api/v1/events",
        &auth,
        Some(&big),
        "application/json",
    )
    .await;
    assert_eq!(too_large.status, 413, "{}", too_large.body);
    assert!(detail(&too_large).contains("256 KB"), "{}", too_large.body);
    // Without a Content-Length (chunked), it is cut off at the limit as it is read.
    let chunk = actix_web::web::Bytes::from(big);
    let chunked = app
        .client
        .post(format!("{}/api/v1/events", app.address))
        .insert_header(("authorization", auth.as_str()))
        .insert_header(("content-type", "application/json"))
        .send_stream(futures_util::stream::once(async move {
            Ok::<_, std::io::Error>(chunk)
        }))
        .await
        .unwrap();
    assert_eq!(chunked.status().as_u16(), 413);

    // None of these made anything, nor spent the token's writes.
    let mine = json_of(&call(&app, "GET", "/api/v1/my/events", &token, None).await);
    assert_eq!(mine["meta"]["total"], 0);
}

#[actix_web::test]
async fn writes_need_a_live_token_in_the_authorization_header() {
    let app = spawn_app().await;
    let (ana, token) = organiser_with_token(&app, "ana@braga.example").await;
    let body = night().to_string();

    let none = send(
        &app,
        "POST",
        "/api/v1/events",
        "",
        Some(&body),
        "application/json",
    )
    .await;
    assert_eq!(none.status, 401, "{}", none.body);
    assert!(
        none.header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    assert!(json_of(&none)["errors"][0]["detail"].is_string());
    // The token is checked before the body.
    let not_json = send(&app, "POST", "/api/v1/events", "", Some("x"), "text/plain").await;
    assert_eq!(not_json.status, 401, "{}", not_json.body);

    // The token as a cookie, under the session's name or any other, is no token; nor is
    // the organiser's own session cookie.
    let session = ana.cookie("cc_session").unwrap();
    for cookie in [
        format!("cc_session={token}"),
        format!("token={token}"),
        format!("cc_session={session}"),
    ] {
        let res = app
            .client
            .post(format!("{}/api/v1/events", app.address))
            .insert_header(("cookie", cookie.as_str()))
            .insert_header(("content-type", "application/json"))
            .send_body(body.clone())
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 401, "{cookie}");
    }

    // Revoked: 401 at once.
    {
        let mut conn = app.pool.get().unwrap();
        let account = Account::find_by_email(&mut conn, "ana@braga.example").unwrap();
        let stored = ApiToken::for_account(&mut conn, account.id).unwrap();
        assert!(ApiToken::revoke(&mut conn, account.id, stored[0].id, app.now).unwrap());
    }
    let revoked = call(&app, "POST", "/api/v1/events", &token, Some(&night())).await;
    assert_eq!(revoked.status, 401, "{}", revoked.body);
    let revoked = call(&app, "GET", "/api/v1/my/events", &token, None).await;
    assert_eq!(revoked.status, 401, "{}", revoked.body);
}

#[actix_web::test]
async fn another_organisers_event_is_forbidden_when_public_and_missing_when_hidden() {
    let app = spawn_app().await;
    let (_ana, ana) = organiser_with_token(&app, "ana@braga.example").await;
    let (_bo, bo) = organiser_with_token(&app, "bo@braga.example").await;
    let hidden = create(&app, &ana).await;
    let public = create(&app, &ana).await;
    let mia = app.moderator("mia@braga.example", Some("braga")).await;
    assert_eq!(decide(&mia, public, "approve").await.status, 303);

    let change = json!({"title": "Mine now"});
    let res = call(
        &app,
        "PATCH",
        &format!("/api/v1/events/{hidden}"),
        &bo,
        Some(&change),
    )
    .await;
    assert_eq!(res.status, 404, "{}", res.body);
    let res = call(
        &app,
        "DELETE",
        &format!("/api/v1/events/{hidden}"),
        &bo,
        None,
    )
    .await;
    assert_eq!(res.status, 404, "{}", res.body);
    let res = call(
        &app,
        "PATCH",
        &format!("/api/v1/events/{public}"),
        &bo,
        Some(&change),
    )
    .await;
    assert_eq!(res.status, 403, "{}", res.body);
    let res = call(
        &app,
        "POST",
        &format!("/api/v1/events/{public}/cancel"),
        &bo,
        None,
    )
    .await;
    assert_eq!(res.status, 403, "{}", res.body);
    let res = call(&app, "PATCH", "/api/v1/events/99999", &bo, Some(&change)).await;
    assert_eq!(res.status, 404, "{}", res.body);
    let res = call(&app, "PATCH", "/api/v1/events/abc", &bo, Some(&change)).await;
    assert_eq!(res.status, 404, "{}", res.body);
    assert_eq!(app.stored_event(public).title, "Braga Media Arts Night");
    let mine = json_of(&call(&app, "GET", "/api/v1/my/events", &bo, None).await);
    assert_eq!(mine["meta"]["total"], 0);
    assert_eq!(
        app.stored_event(hidden).moderation,
        ModerationState::Pending
    );
}

#[actix_web::test]
async fn a_token_past_its_hourly_writes_is_told_when_to_come_back() {
    let app = spawn_app_with(test_now(), |c| c.api_writes_per_hour = 3).await;
    let (_ana, token) = organiser_with_token(&app, "ana@braga.example").await;
    for _ in 0..3 {
        create(&app, &token).await;
    }
    let res = call(&app, "POST", "/api/v1/events", &token, Some(&night())).await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert_eq!(res.header("retry-after").as_deref(), Some("3600"));
    assert!(detail(&res).contains("3600 seconds"), "{}", res.body);
    // Reads are not writes.
    let mine = call(&app, "GET", "/api/v1/my/events", &token, None).await;
    assert_eq!(mine.status, 200);
    // Another server on the same database counts the same writes.
    let other = app.another_server(|c| c.api_writes_per_hour = 3).await;
    let res = call(&other, "POST", "/api/v1/events", &token, Some(&night())).await;
    assert_eq!(res.status, 429, "{}", res.body);
    // Another token of the same organiser has its own.
    let second = token_for(&app, "ana@braga.example");
    create(&app, &second).await;
}

#[actix_web::test]
async fn reads_keep_cors_and_writes_answer_wrong_methods_in_json() {
    let app = spawn_app().await;
    let list = app.get("/api/v1/events").await;
    assert_eq!(
        list.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    let res = app
        .request(awc::http::Method::PUT, "/api/v1/events", &[])
        .await;
    assert_eq!(res.status, 405);
    assert_eq!(
        res.header("allow").as_deref(),
        Some("GET, HEAD, OPTIONS, POST")
    );
    assert_eq!(res.header("access-control-allow-origin"), None);
    let res = app
        .request(awc::http::Method::GET, "/api/v1/events/1/cancel", &[])
        .await;
    assert_eq!(res.status, 405);
    assert_eq!(res.header("allow").as_deref(), Some("POST"));
    // The preflight does not offer the writes to other sites.
    let res = app
        .request(awc::http::Method::OPTIONS, "/api/v1/events", &[])
        .await;
    assert_eq!(
        res.header("access-control-allow-methods").as_deref(),
        Some("GET, HEAD, OPTIONS")
    );
    // Its Allow still says what the address takes.
    assert_eq!(
        res.header("allow").as_deref(),
        Some("GET, HEAD, OPTIONS, POST")
    );
}

#[actix_web::test]
async fn the_openapi_document_describes_the_writes_and_their_token() {
    let app = spawn_app().await;
    let doc = json_of(&app.get("/api/v1/openapi.json").await);
    assert_eq!(
        doc["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    let paths = &doc["paths"];
    for (path, method) in [
        ("/api/v1/events", "post"),
        ("/api/v1/events/{id}", "patch"),
        ("/api/v1/events/{id}", "delete"),
        ("/api/v1/events/{id}/cancel", "post"),
        ("/api/v1/events/{id}/postpone", "post"),
        ("/api/v1/events/{id}/reinstate", "post"),
        ("/api/v1/my/events", "get"),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path}");
        assert!(op["security"].is_array(), "{method} {path}");
    }
    let post = &paths["/api/v1/events"]["post"];
    for status in ["201", "400", "401", "413", "415", "422", "429"] {
        assert!(post["responses"][status].is_object(), "{status}");
    }
    assert!(doc["components"]["schemas"]["EventInput"]["properties"]["all_day"].is_object());

    // And the page for people explains them, with the configured limit.
    let page = app.get("/api").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.text("#writing"), "Writing");
    assert!(page.body.contains("600 times an hour"), "{}", page.body);
    assert!(page.body.contains("Authorization: Bearer cc_…"));
}

#[actix_web::test]
async fn the_owners_list_pages_by_cursor_and_inserts_between_pages_neither_repeat_nor_hide() {
    let app = spawn_app().await;
    let (_ana, token) = organiser_with_token(&app, "ana@braga.example").await;
    let mut made = Vec::new();
    for _ in 0..7 {
        made.push(create(&app, &token).await);
    }
    // Every event has the same creation time (the test's clock stands still): the id
    // breaks the tie, newest first.
    let page = |cursor: Option<String>| {
        let path = match cursor {
            Some(c) => format!("/api/v1/my/events?limit=3&cursor={c}"),
            None => "/api/v1/my/events?limit=3".to_owned(),
        };
        let (app, token) = (&app, &token);
        async move { json_of(&call(app, "GET", &path, token, None).await) }
    };
    let ids = |body: &Value| -> Vec<i32> {
        body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap() as i32)
            .collect()
    };
    let first = page(None).await;
    assert_eq!(first["meta"]["total"], 7);
    let mut seen = ids(&first);
    // One more, made while the client pages: it is newer than the position, so it is
    // not on the later pages, and nothing repeats.
    let newer = create(&app, &token).await;
    let second = page(first["meta"]["next_cursor"].as_str().map(str::to_owned)).await;
    seen.extend(ids(&second));
    let third = page(second["meta"]["next_cursor"].as_str().map(str::to_owned)).await;
    seen.extend(ids(&third));
    assert!(third["meta"]["next_cursor"].is_null());
    let mut expected = made.clone();
    expected.reverse();
    assert_eq!(seen, expected);
    assert!(!seen.contains(&newer));

    // A cursor is this owner's: another organiser's list refuses it.
    let (_bo, other) = organiser_with_token(&app, "bo@braga.example").await;
    let cursor = first["meta"]["next_cursor"].as_str().unwrap();
    let res = call(
        &app,
        "GET",
        &format!("/api/v1/my/events?cursor={cursor}"),
        &other,
        None,
    )
    .await;
    assert_eq!(res.status, 400, "{}", res.body);
    for bad in ["limit=0", "limit=101", "limit=", "cursor=nonsense"] {
        let res = call(
            &app,
            "GET",
            &format!("/api/v1/my/events?{bad}"),
            &token,
            None,
        )
        .await;
        assert_eq!(res.status, 400, "{bad}: {}", res.body);
    }
}

#[actix_web::test]
async fn paging_an_owners_events_made_in_one_instant_skips_none() {
    // A sync creates all its events at once; SQLite keeps that instant to the
    // nanosecond, and a cursor cut to microseconds once skipped the rest of them.
    let app = spawn_app().await;
    let (_ana, token) = organiser_with_token(&app, "ana@braga.example").await;
    let mut made = Vec::new();
    for n in 0..3 {
        let mut body = night();
        body["title"] = json!(format!("Night {n}"));
        let res = call(&app, "POST", "/api/v1/events", &token, Some(&body)).await;
        assert_eq!(res.status, 201, "{}", res.body);
        made.push(json_of(&res)["event"]["id"].as_i64().unwrap());
    }
    {
        use creative_calendar::db::schema::events;
        use diesel::prelude::*;
        let instant = chrono::NaiveDateTime::parse_from_str(
            "2026-11-28 11:59:59.123456789",
            "%Y-%m-%d %H:%M:%S%.f",
        )
        .unwrap();
        let mut conn = app.pool.get().unwrap();
        diesel::update(events::table)
            .set(events::created_at.eq(instant))
            .execute(&mut *conn)
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/my/events?limit=1".to_owned();
    loop {
        let page = json_of(&call(&app, "GET", &path, &token, None).await);
        seen.extend(
            page["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_i64().unwrap()),
        );
        match page["meta"]["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/my/events?limit=1&cursor={cursor}"),
            None => break,
        }
        assert!(seen.len() <= 3, "{seen:?}");
    }
    made.reverse();
    assert_eq!(seen, made);
}
