//! Organiser accounts: signing up, signing in and out, sessions, throttling, the
//! account page and the CSRF tokens that guard every form.

use std::time::Duration;

use chrono::TimeDelta;
use creative_calendar::db::models::{Account, NewAccount, Session};
use creative_calendar::db::schema::{accounts, login_checks, login_failures, sessions};
use diesel::prelude::*;

use crate::helpers::*;

const WRONG: &str = "not the right password";

/// The account stored for `email` (already normalised).
fn stored_account(app: &TestApp, email: &str) -> Account {
    let mut conn = app.pool.get().unwrap();
    Account::find_by_email(&mut conn, email).unwrap()
}

fn account_count(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    accounts::table.count().get_result(&mut conn).unwrap()
}

/// The sessions of the account with `email`.
fn sessions_of(app: &TestApp, email: &str) -> Vec<Session> {
    let id = stored_account(app, email).id;
    let mut conn = app.pool.get().unwrap();
    sessions::table
        .filter(sessions::account_id.eq(id))
        .select(Session::as_select())
        .load(&mut conn)
        .unwrap()
}

fn session_count(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    sessions::table.count().get_result(&mut conn).unwrap()
}

fn failure_count(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    login_failures::table.count().get_result(&mut conn).unwrap()
}

/// The whole `Set-Cookie` header that sets `name`, if the response has one.
fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The attributes of a `Set-Cookie` header after its name and value, lower-cased.
fn cookie_attributes(header: &str) -> Vec<String> {
    header
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

/// The `next` a redirect to the sign-in page carries, decoded.
fn login_next(response: &Response) -> String {
    let location = response.header("location").expect("a Location header");
    let query = location
        .strip_prefix("/login?")
        .unwrap_or_else(|| panic!("not the sign-in page: {location}"));
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    pairs
        .into_iter()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no next in {location}"))
}

/// A GET that carries only `cc_session=token`, the way a browser that kept an old cookie
/// (or someone who copied it) sends it. Redirects are not followed.
async fn get_with_session(app: &TestApp, path: &str, token: &str) -> Response {
    let client = awc::Client::builder().disable_redirects().finish();
    let mut res = client
        .get(format!("{}{}", app.address, path))
        .insert_header(("cookie", format!("cc_session={token}")))
        .send()
        .await
        .expect("the request is answered");
    let body = res.body().limit(20_000_000).await.expect("a body");
    Response {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body: String::from_utf8(body.to_vec()).expect("UTF-8"),
    }
}

/// Whether a session token signs someone in: `/my/events` answers 200, not a redirect.
async fn signs_in(app: &TestApp, token: &str) -> bool {
    let res = get_with_session(app, "/my/events", token).await;
    match res.status {
        200 => true,
        303 => {
            assert_eq!(login_next(&res), "/my/events");
            false
        }
        other => panic!("unexpected {other}: {}", res.body),
    }
}

async fn sign_in(browser: &Browser<'_>, email: &str, password: &str) -> Response {
    browser
        .submit(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
}

fn signup_fields<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("email", "ana@braga.example"),
        ("name", "Ana Silva"),
        ("organisation", "Braga Media Arts"),
        ("password", PASSWORD),
    ];
    for (k, v) in changes {
        fields.retain(|(name, _)| name != k);
        fields.push((k, v));
    }
    fields
}

// Signing up

#[actix_web::test]
async fn signing_up_signs_in_with_a_secure_cookie_and_stores_only_an_argon2id_hash() {
    let app = spawn_app().await;
    let browser = app.browser();

    let form = browser.get("/signup").await;
    assert_eq!(form.status, 200);
    assert_eq!(form.header("cache-control").as_deref(), Some("no-store"));
    let csrf_cookie = set_cookie(&form, "cc_csrf").expect("a CSRF cookie before sign-in");
    let attributes = cookie_attributes(&csrf_cookie);
    for flag in ["httponly", "samesite=lax", "secure", "path=/"] {
        assert!(
            attributes.iter().any(|a| a == flag),
            "{flag}: {csrf_cookie}"
        );
    }

    let res = browser
        .submit(
            "/signup",
            "/signup",
            &signup_fields(&[("email", "  Ana.Silva@Braga.EXAMPLE ")]),
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.header("location").as_deref(), Some("/my/events"));
    let header = set_cookie(&res, "cc_session").expect("a session cookie");
    let attributes = cookie_attributes(&header);
    for flag in ["httponly", "samesite=lax", "secure", "path=/"] {
        assert!(attributes.iter().any(|a| a == flag), "{flag}: {header}");
    }
    let token = browser.cookie("cc_session").unwrap();
    assert!(token.len() >= 43, "{token}");

    let account = stored_account(&app, "ana.silva@braga.example");
    assert_eq!(account.display_name, "Ana Silva");
    assert_eq!(account.organisation, "Braga Media Arts");
    assert!(!account.is_admin && !account.is_trusted);
    assert!(
        account.password_hash.starts_with("$argon2id$"),
        "{}",
        account.password_hash
    );
    assert!(!account.password_hash.contains(PASSWORD));
    assert!(creative_calendar::auth::verify_password(
        &account.password_hash,
        PASSWORD
    ));
    // The database keeps the token's hash, never the token itself.
    let sessions = sessions_of(&app, "ana.silva@braga.example");
    assert_eq!(sessions.len(), 1);
    assert_ne!(sessions[0].token_hash, token);
    assert!(!sessions[0].token_hash.contains(&token));

    let mine = browser.get("/my/events").await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(mine.text(".account-nav .who"), "Signed in as Ana Silva");
    // Signed in, the sign-up page sends them on instead of showing the form.
    let again = browser.get("/signup").await;
    assert_eq!(again.status, 303);
    assert_eq!(again.header("location").as_deref(), Some("/my/events"));
}

#[actix_web::test]
async fn each_sign_up_error_is_shown_at_its_field_keeping_the_other_values_but_not_the_password() {
    let app = spawn_app().await;
    let long_organisation = "O".repeat(201);
    let cases: [(&str, &str, &str); 6] = [
        ("email", "", "Enter your email address"),
        (
            "email",
            "ana at braga",
            "does not look like an email address",
        ),
        ("name", "   ", "name cannot be empty"),
        ("organisation", &long_organisation, "at most 200 characters"),
        ("password", "short pass", "at least 12 characters"),
        ("password", "", "at least 12 characters"),
    ];
    for (field, value, message) in cases {
        let browser = app.browser();
        let res = browser
            .submit("/signup", "/signup", &signup_fields(&[(field, value)]))
            .await;
        assert_eq!(res.status, 422, "{field}={value:?}: {}", res.body);
        assert!(browser.cookie("cc_session").is_none());
        assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
        assert_eq!(
            res.text(".error-summary h2"),
            "There is a problem; nothing was saved"
        );
        let error = res.text(&format!("p.field-error#{field}-error"));
        assert!(error.contains(message), "{field}: {error}");
        assert_eq!(res.texts("p.field-error").len(), 1, "{field}");
        assert_eq!(
            res.attr(&format!("#f-{field}"), "aria-invalid"),
            "true",
            "{field}"
        );
        // The other values are kept, the password never.
        for (other, kept) in signup_fields(&[(field, value)]) {
            if other == "password" {
                assert_eq!(res.attr("#f-password", "value"), "");
            } else {
                assert_eq!(res.attr(&format!("#f-{other}"), "value"), kept, "{other}");
            }
        }
        assert!(!res.body.contains(PASSWORD));
        if field == "password" && !value.is_empty() {
            assert!(!res.body.contains(value));
        }
        // The form can be sent again as it is shown: it carries a token.
        assert!(!res.attr(r#"input[name="csrf_token"]"#, "value").is_empty());
    }
    // Everything wrong at once: every field says so.
    let res = app
        .browser()
        .submit(
            "/signup",
            "/signup",
            &[
                ("email", "nope"),
                ("name", ""),
                ("organisation", &long_organisation),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(
        res.text(".error-summary h2"),
        "There are 4 problems; nothing was saved"
    );
    for field in ["email", "name", "organisation", "password"] {
        res.text(&format!("p.field-error#{field}-error"));
    }
    assert_eq!(account_count(&app), 0);
}

#[actix_web::test]
async fn an_email_already_taken_in_another_case_or_with_spaces_is_refused_at_the_email_field() {
    let app = spawn_app().await;
    app.organiser("ana@braga.example").await;
    let before = stored_account(&app, "ana@braga.example");

    for email in ["ana@braga.example", " ANA@Braga.Example  "] {
        let browser = app.browser();
        let res = browser
            .submit(
                "/signup",
                "/signup",
                &signup_fields(&[("email", email), ("password", "another long password")]),
            )
            .await;
        assert_eq!(res.status, 422, "{email}: {}", res.body);
        assert!(browser.cookie("cc_session").is_none());
        assert!(
            res.text("p.field-error#email-error")
                .contains("already exists"),
            "{}",
            res.body
        );
        assert_eq!(res.attr("#f-email", "aria-invalid"), "true");
        assert_eq!(res.attr("#f-name", "value"), "Ana Silva");
        assert_eq!(res.attr("#f-password", "value"), "");
        assert!(!res.body.contains("another long password"));
    }
    assert_eq!(account_count(&app), 1);
    let after = stored_account(&app, "ana@braga.example");
    assert_eq!(after.password_hash, before.password_hash);
    assert_eq!(after.display_name, before.display_name);
}

#[actix_web::test]
async fn hostile_sign_up_input_is_refused_or_shown_escaped() {
    let app = spawn_app().await;
    let script = "<script>alert(1)</script>";
    let breakout = r#""><img src=x onerror=alert(1)>"#;

    // In an email address: refused, and shown back only as the input's value.
    let hostile_email = format!("{breakout}@example.org");
    let res = app
        .browser()
        .submit(
            "/signup",
            "/signup",
            &signup_fields(&[("email", &hostile_email), ("name", script)]),
        )
        .await;
    assert_eq!(res.status, 422);
    res.text("p.field-error#email-error");
    assert_eq!(res.attr("#f-email", "value"), hostile_email);
    assert_eq!(res.attr("#f-name", "value"), script);
    assert!(!res.body.contains("<img src=x"), "{}", res.body);
    assert!(!res.body.contains("<script>"), "{}", res.body);
    assert!(res.html().select(&sel("img[onerror]")).next().is_none());

    // A 50,000-character name: refused with its limit, nothing stored.
    let huge = "n".repeat(50_000);
    let res = app
        .browser()
        .submit(
            "/signup",
            "/signup",
            &signup_fields(&[("email", "huge@example.org"), ("name", &huge)]),
        )
        .await;
    assert_eq!(res.status, 422);
    let error = res.text("p.field-error#name-error");
    assert!(error.contains("at most 100 characters"), "{error}");
    assert_eq!(account_count(&app), 0);

    // In a name and an organisation, markup is only text: stored as typed, shown escaped;
    // a right-to-left override, which could disguise the name, is dropped.
    let browser = app.browser();
    let name = format!("{script} Ana\u{202E}evil");
    let res = browser
        .submit(
            "/signup",
            "/signup",
            &signup_fields(&[("name", &name), ("organisation", breakout)]),
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let account = stored_account(&app, "ana@braga.example");
    assert_eq!(account.display_name, format!("{script} Anaevil"));
    assert_eq!(account.organisation, breakout);
    let page = browser.get("/account").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.text(".account-nav .who"),
        format!("Signed in as {script} Anaevil")
    );
    assert_eq!(page.attr("#f-name", "value"), format!("{script} Anaevil"));
    assert_eq!(page.attr("#f-organisation", "value"), breakout);
    assert!(!page.body.contains("<script>"), "{}", page.body);
    assert!(!page.body.contains("<img src=x"), "{}", page.body);
    assert!(!page.body.contains('\u{202E}'));
    assert!(page.html().select(&sel("img[onerror]")).next().is_none());
}

fn sel(selector: &str) -> scraper::Selector {
    scraper::Selector::parse(selector).unwrap()
}

// Signing in

#[actix_web::test]
async fn signing_in_starts_a_new_session_and_the_token_from_before_signs_nobody_in() {
    let app = spawn_app().await;
    let browser = app.organiser("ana@braga.example").await;
    let first = browser.cookie("cc_session").unwrap();
    assert!(signs_in(&app, &first).await);

    // Signing in again from the same browser replaces its session.
    let res = browser
        .submit(
            "/account",
            "/login",
            &[("email", "ana@braga.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.header("location").as_deref(), Some("/my/events"));
    let second = browser.cookie("cc_session").unwrap();
    assert_ne!(second, first);
    assert!(set_cookie(&res, "cc_session").is_some());
    assert!(!signs_in(&app, &first).await, "the old token still works");
    assert!(signs_in(&app, &second).await);
    assert_eq!(sessions_of(&app, "ana@braga.example").len(), 1);

    // Another browser gets a session of its own; the first one stays signed in.
    let other = app.browser();
    let res = sign_in(&other, " ANA@braga.example", PASSWORD).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let third = other.cookie("cc_session").unwrap();
    assert!(third != first && third != second);
    assert!(signs_in(&app, &second).await);
    assert!(signs_in(&app, &third).await);
    assert_eq!(sessions_of(&app, "ana@braga.example").len(), 2);
}

#[actix_web::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.organiser("ana@braga.example").await;

    let wrong = app.browser();
    let wrong_res = sign_in(&wrong, "ana@braga.example", WRONG).await;
    let unknown = app.browser();
    let unknown_res = sign_in(&unknown, "nobody@braga.example", WRONG).await;

    for (res, browser, email) in [
        (&wrong_res, &wrong, "ana@braga.example"),
        (&unknown_res, &unknown, "nobody@braga.example"),
    ] {
        assert_eq!(res.status, 422, "{}", res.body);
        assert!(set_cookie(res, "cc_session").is_none());
        assert!(browser.cookie("cc_session").is_none());
        assert_eq!(res.attr("#f-email", "value"), email);
        assert!(
            res.attr("#f-email", "aria-describedby")
                .contains("login-error")
        );
        assert!(!res.body.contains(WRONG));
    }
    assert_eq!(
        wrong_res.text("#login-error"),
        "The email address or the password is wrong. Check both and try again."
    );
    assert_eq!(
        wrong_res.text(".error-summary"),
        unknown_res.text(".error-summary")
    );
    assert_eq!(session_count(&app), 1, "only the sign-up's session");
}

#[actix_web::test]
async fn after_signing_in_only_a_path_on_this_site_is_followed() {
    let app = spawn_app().await;
    app.organiser("ana@braga.example").await;

    let cases = [
        ("/events/new", "/events/new"),
        ("/events/new?city=braga", "/events/new?city=braga"),
        ("https://evil.example", "/my/events"),
        ("https://evil.example/events/new", "/my/events"),
        ("//evil.example", "/my/events"),
        ("/\\evil.example", "/my/events"),
        ("javascript:alert(1)", "/my/events"),
        ("", "/my/events"),
    ];
    for (next, expected) in cases {
        let browser = app.browser();
        let res = browser
            .submit(
                "/login",
                "/login",
                &[
                    ("email", "ana@braga.example"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(res.status, 303, "{next}: {}", res.body);
        assert_eq!(res.header("location").as_deref(), Some(expected), "{next}");
    }

    // The sign-in page only carries a local path on to its form.
    let page = app.get("/login?next=%2F%2Fevil.example").await;
    assert_eq!(page.attr(r#"input[name="next"]"#, "value"), "");
    let page = app.get("/login?next=%2Fevents%2Fnew").await;
    assert_eq!(page.attr(r#"input[name="next"]"#, "value"), "/events/new");
    assert_eq!(page.text(".notice"), "Please sign in to continue.");

    // Signing up follows the same rule.
    let res = app
        .browser()
        .submit(
            "/signup?next=%2Fevents%2Fnew",
            "/signup",
            &signup_fields(&[("email", "bo@braga.example"), ("next", "/events/new")]),
        )
        .await;
    assert_eq!(res.header("location").as_deref(), Some("/events/new"));
    let res = app
        .browser()
        .submit(
            "/signup",
            "/signup",
            &signup_fields(&[("email", "cy@braga.example"), ("next", "//evil.example")]),
        )
        .await;
    assert_eq!(res.header("location").as_deref(), Some("/my/events"));
}

#[actix_web::test]
async fn pages_for_signed_in_people_send_visitors_to_sign_in_and_back() {
    let app = spawn_app().await;
    app.organiser("ana@braga.example").await;
    for path in [
        "/my/events",
        "/events/new",
        "/account",
        "/events/new?city=braga",
    ] {
        let browser = app.browser();
        let res = browser.get(path).await;
        assert_eq!(res.status, 303, "{path}");
        assert_eq!(login_next(&res), path);

        let login = browser.get(&res.header("location").unwrap()).await;
        assert_eq!(login.status, 200);
        assert_eq!(login.attr(r#"input[name="next"]"#, "value"), path);
        let res = sign_in_with_next(&browser, &login, path).await;
        assert_eq!(res.status, 303, "{}", res.body);
        assert_eq!(res.header("location").as_deref(), Some(path));
        assert_eq!(browser.get(path).await.status, 200, "{path}");
    }
}

/// Sends the sign-in form of `page` back as a browser would, hidden `next` included.
async fn sign_in_with_next(browser: &Browser<'_>, page: &Response, next: &str) -> Response {
    let token = page.attr(r#"input[name="csrf_token"]"#, "value");
    browser
        .post(
            "/login",
            &[
                ("csrf_token", &token),
                ("next", next),
                ("email", "ana@braga.example"),
                ("password", PASSWORD),
            ],
        )
        .await
}

// Signing out and sessions

#[actix_web::test]
async fn signing_out_takes_a_post_and_ends_the_session_for_good() {
    let app = spawn_app().await;
    let browser = app.organiser("ana@braga.example").await;
    let token = browser.cookie("cc_session").unwrap();

    // A link followed by a crawler or a prefetch changes nothing.
    let res = browser.get("/logout").await;
    assert_eq!(res.status, 405);
    assert_eq!(res.header("allow").as_deref(), Some("POST"));
    assert_eq!(sessions_of(&app, "ana@braga.example").len(), 1);
    assert!(signs_in(&app, &token).await);

    let res = browser.submit("/account", "/logout", &[]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        res.header("location").as_deref(),
        Some("/login?signed_out=1")
    );
    let removal = set_cookie(&res, "cc_session").expect("the cookie is removed");
    assert!(cookie_attributes(&removal).contains(&"max-age=0".to_owned()));
    assert!(browser.cookie("cc_session").is_none());
    assert!(sessions_of(&app, "ana@braga.example").is_empty());
    let page = browser.get("/login?signed_out=1").await;
    assert_eq!(page.text(".notice"), "You have signed out.");

    // The old cookie, sent again, signs nobody in.
    let res = get_with_session(&app, "/my/events", &token).await;
    assert_eq!(res.status, 303);
    assert_eq!(login_next(&res), "/my/events");
    let res = get_with_session(&app, "/account", &token).await;
    assert_eq!(res.status, 303);
    assert_eq!(login_next(&res), "/account");
}

#[actix_web::test]
async fn a_session_unused_for_longer_than_the_idle_limit_is_over() {
    let app = spawn_app_with(test_now(), |config| {
        config.session_idle = Duration::from_secs(60);
    })
    .await;
    let browser = app.organiser("ana@braga.example").await;
    let token = browser.cookie("cc_session").unwrap();
    assert!(signs_in(&app, &token).await);

    // 59 seconds of quiet: still signed in.
    move_last_seen(&app, "ana@braga.example", TimeDelta::seconds(59));
    assert!(signs_in(&app, &token).await);

    // Over a minute, behind the app's back: the cookie is worthless and the row is gone.
    move_last_seen(&app, "ana@braga.example", TimeDelta::seconds(61));
    let res = browser.get("/my/events").await;
    assert_eq!(res.status, 303);
    assert_eq!(login_next(&res), "/my/events");
    assert!(sessions_of(&app, "ana@braga.example").is_empty());
    assert!(!signs_in(&app, &token).await);
}

#[actix_web::test]
async fn a_session_in_use_outlives_an_idle_limit_shorter_than_the_refresh_interval() {
    let app = spawn_app_with(test_now(), |config| {
        config.session_idle = Duration::from_secs(60);
    })
    .await;
    let browser = app.organiser("ana@braga.example").await;
    let token = browser.cookie("cc_session").unwrap();
    // A request every 40 seconds, for two minutes: each one counts as use, so the
    // session never sits unused for a minute.
    for _ in 0..3 {
        move_last_seen(&app, "ana@braga.example", TimeDelta::seconds(40));
        assert!(signs_in(&app, &token).await, "signed out while active");
    }
}

/// Makes the session's last use `by` earlier than it is, as if that much time had
/// passed since (the app's clock stands still).
fn move_last_seen(app: &TestApp, email: &str, by: TimeDelta) {
    let id = stored_account(app, email).id;
    let mut conn = app.pool.get().unwrap();
    let last_seen: Vec<chrono::NaiveDateTime> = sessions::table
        .filter(sessions::account_id.eq(id))
        .select(sessions::last_seen_at)
        .load(&mut conn)
        .unwrap();
    assert_eq!(last_seen.len(), 1);
    diesel::update(sessions::table.filter(sessions::account_id.eq(id)))
        .set(sessions::last_seen_at.eq(last_seen[0] - by))
        .execute(&mut conn)
        .unwrap();
}

// Throttling

#[actix_web::test]
async fn after_five_wrong_passwords_even_the_right_one_is_refused_for_a_while() {
    let app = spawn_app().await;
    app.organiser("ana@braga.example").await;
    app.organiser("bo@braga.example").await;
    let sessions_before = session_count(&app);

    let browser = app.browser();
    // However the address is typed, it is the same account.
    for email in [
        "ana@braga.example",
        "ANA@braga.example",
        " ana@braga.example ",
        "Ana@Braga.Example",
        "ana@braga.example",
    ] {
        let res = sign_in(&browser, email, WRONG).await;
        assert_eq!(res.status, 422, "{}", res.body);
    }
    let res = sign_in(&browser, "ana@braga.example", PASSWORD).await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert_eq!(res.header("retry-after").as_deref(), Some("900"));
    let message = res.text("#login-error");
    assert!(message.contains("Too many failed attempts"), "{message}");
    assert!(message.contains("wait 15 minutes"), "{message}");
    assert!(browser.cookie("cc_session").is_none());
    assert_eq!(session_count(&app), sessions_before);
    // The page is still a sign-in form that can be sent later.
    assert_eq!(res.attr("#f-email", "value"), "ana@braga.example");
    assert!(!res.attr(r#"input[name="csrf_token"]"#, "value").is_empty());

    // Another account, from the same address, is not held back.
    let res = sign_in(&app.browser(), "bo@braga.example", PASSWORD).await;
    assert_eq!(res.status, 303, "{}", res.body);
}

/// Password checks under way, as the throttle holds them.
fn check_count(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    login_checks::table.count().get_result(&mut conn).unwrap()
}

/// Accounts made behind the app's back (signing up over HTTP stops at ten an hour from
/// one address), all with [`PASSWORD`], hashed once.
fn make_accounts(app: &TestApp, count: usize) -> Vec<String> {
    let password = creative_calendar::domain::Password::parse(PASSWORD).unwrap();
    let hash = creative_calendar::auth::hash_password(&password).unwrap();
    let mut conn = app.pool.get().unwrap();
    (0..count)
        .map(|n| {
            let email = format!("member{n}@class.example");
            NewAccount {
                email: &email,
                display_name: "Member",
                organisation: "",
                password_hash: &hash,
                is_admin: false,
                is_trusted: false,
                created_at: app.now.naive_utc(),
                updated_at: app.now.naive_utc(),
            }
            .insert(&mut conn)
            .unwrap();
            email
        })
        .collect()
}

/// Sends every `(email, password)` sign-in at the same moment, each from a browser of
/// its own that has fetched the form first. The statuses, in order.
async fn sign_in_all_at_once(app: &TestApp, attempts: &[(&str, &str)]) -> Vec<Response> {
    let mut browsers = Vec::new();
    for _ in attempts {
        let browser = app.browser();
        let token = browser.csrf_token("/login").await;
        browsers.push((browser, token));
    }
    let posts = browsers
        .iter()
        .zip(attempts)
        .map(|((browser, token), (email, password))| {
            let fields = [
                ("csrf_token", token.as_str()),
                ("email", *email),
                ("password", *password),
            ];
            async move { browser.post("/login", &fields).await }
        });
    futures_util::future::join_all(posts).await
}

fn statuses(responses: &[Response]) -> Vec<u16> {
    responses.iter().map(|r| r.status).collect()
}

#[actix_web::test]
async fn guesses_sent_all_at_once_get_no_more_tries_than_guesses_sent_one_by_one() {
    let app = spawn_app().await;
    app.organiser("ana@braga.example").await;
    let responses = sign_in_all_at_once(&app, &[("ana@braga.example", WRONG); 12]).await;
    let statuses = statuses(&responses);
    let checked = statuses.iter().filter(|s| **s == 422).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, throttled), (5, 7), "{statuses:?}");
    for res in responses.iter().filter(|r| r.status == 429) {
        assert_eq!(res.header("retry-after").as_deref(), Some("900"));
    }
    assert_eq!(failure_count(&app), 5);
    assert_eq!(check_count(&app), 0, "every check was settled");

    // The sixth wrong password is stopped, and so, for a while, is the right one.
    let browser = app.browser();
    let res = sign_in(&browser, "ana@braga.example", WRONG).await;
    assert_eq!(res.status, 429, "{}", res.body);
    let res = sign_in(&browser, "ana@braga.example", PASSWORD).await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert_eq!(res.header("retry-after").as_deref(), Some("900"));
    assert!(browser.cookie("cc_session").is_none());
}

#[actix_web::test]
async fn guesses_at_many_accounts_sent_all_at_once_get_twenty_tries_from_one_address() {
    let app = spawn_app().await;
    make_accounts(&app, 1);
    let emails: Vec<String> = (0..25).map(|n| format!("guess{n}@braga.example")).collect();
    let attempts: Vec<(&str, &str)> = emails.iter().map(|e| (e.as_str(), WRONG)).collect();
    let statuses = statuses(&sign_in_all_at_once(&app, &attempts).await);
    let checked = statuses.iter().filter(|s| **s == 422).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, throttled), (20, 5), "{statuses:?}");
    assert_eq!(failure_count(&app), 20);
    let res = sign_in(&app.browser(), "member0@class.example", PASSWORD).await;
    assert_eq!(res.status, 429, "{}", res.body);
}

#[actix_web::test]
async fn right_passwords_sent_all_at_once_to_one_account_all_sign_in() {
    let app = spawn_app().await;
    app.organiser("ana@braga.example").await;
    let responses = sign_in_all_at_once(&app, &[("ana@braga.example", PASSWORD); 10]).await;
    assert_eq!(statuses(&responses), [303; 10], "{:?}", responses[0].body);
    assert_eq!(sessions_of(&app, "ana@braga.example").len(), 1 + 10);
    assert_eq!(failure_count(&app), 0);
    assert_eq!(check_count(&app), 0);
}

#[actix_web::test]
async fn right_passwords_sent_all_at_once_from_one_address_all_sign_in() {
    let app = spawn_app().await;
    let emails = make_accounts(&app, 25);
    // Twenty-five accounts: more than the address's twenty places.
    let attempts: Vec<(&str, &str)> = emails.iter().map(|e| (e.as_str(), PASSWORD)).collect();
    let responses = sign_in_all_at_once(&app, &attempts).await;
    assert_eq!(statuses(&responses), [303; 25], "{:?}", responses[0].body);
    // Twenty-five times one account: more than both its five and the address's twenty.
    let responses = sign_in_all_at_once(&app, &[(emails[0].as_str(), PASSWORD); 25]).await;
    assert_eq!(statuses(&responses), [303; 25], "{:?}", responses[0].body);
    assert_eq!(session_count(&app), 50);
    assert_eq!(failure_count(&app), 0);
    assert_eq!(check_count(&app), 0);
}

/// Five checks of ana's password under way, started at `at`, behind the app's back.
fn checks_under_way(app: &TestApp, at: chrono::DateTime<chrono::Utc>) {
    let mut conn = app.pool.get().unwrap();
    for _ in 0..5 {
        diesel::insert_into(login_checks::table)
            .values((
                login_checks::email.eq("ana@braga.example"),
                login_checks::client.eq("127.0.0.1"),
                login_checks::started_at.eq(at.naive_utc()),
            ))
            .execute(&mut conn)
            .unwrap();
    }
}

#[actix_web::test]
async fn a_sign_in_waits_for_the_checks_ahead_of_it_instead_of_being_refused() {
    let app = spawn_app().await;
    app.organiser("ana@braga.example").await;
    checks_under_way(&app, app.now);
    let browser = app.browser();
    let token = browser.csrf_token("/login").await;
    let started = std::time::Instant::now();
    let fields = [
        ("csrf_token", token.as_str()),
        ("email", "ana@braga.example"),
        ("password", PASSWORD),
    ];
    let settle = async {
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        // The five checks pass, and give their places back.
        let mut conn = app.pool.get().unwrap();
        diesel::delete(login_checks::table)
            .execute(&mut conn)
            .unwrap();
    };
    let (res, ()) = futures_util::future::join(browser.post("/login", &fields), settle).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(started.elapsed() >= Duration::from_millis(300), "it waited");
}

#[actix_web::test]
async fn a_check_its_server_abandoned_counts_as_a_failure() {
    let app = spawn_app().await;
    app.organiser("ana@braga.example").await;
    // Started a minute ago and never settled: their server stopped half-way.
    checks_under_way(&app, app.now - TimeDelta::minutes(1));
    let res = sign_in(&app.browser(), "ana@braga.example", PASSWORD).await;
    assert_eq!(res.status, 429, "{}", res.body);
}

#[actix_web::test]
async fn twenty_failures_from_one_address_hold_back_every_email_from_it() {
    let app = spawn_app().await;
    app.organiser("ana@braga.example").await;
    let browser = app.browser();
    for i in 0..20 {
        // Never more than four tries per email, so only the address's count can stop them.
        let email = format!("guess{}@braga.example", i / 4);
        let res = sign_in(&browser, &email, WRONG).await;
        assert_eq!(res.status, 422, "attempt {i}: {}", res.body);
    }
    let res = sign_in(&browser, "fresh@braga.example", WRONG).await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert!(res.header("retry-after").is_some());
    let res = sign_in(&app.browser(), "ana@braga.example", PASSWORD).await;
    assert_eq!(res.status, 429, "{}", res.body);
}

#[actix_web::test]
async fn the_throttle_message_does_not_tell_whether_the_email_has_an_account() {
    let app = spawn_app().await;
    app.organiser("ana@braga.example").await;
    let mut answers = Vec::new();
    for email in ["ana@braga.example", "ghost@braga.example"] {
        let browser = app.browser();
        for _ in 0..5 {
            assert_eq!(sign_in(&browser, email, WRONG).await.status, 422);
        }
        let res = sign_in(&browser, email, WRONG).await;
        assert_eq!(res.status, 429, "{email}: {}", res.body);
        answers.push((
            res.text(".error-summary"),
            res.header("retry-after").unwrap(),
        ));
    }
    assert_eq!(answers[0], answers[1]);
}

// The account page

#[actix_web::test]
async fn the_profile_is_saved_and_a_bad_one_comes_back_with_its_errors() {
    let app = spawn_app().await;
    let browser = app.organiser("ana@braga.example").await;

    let page = browser.get("/account").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(page.attr("#f-name", "value"), "Test Organiser");
    assert!(page.text(".facts").contains("ana@braga.example"));

    let res = browser
        .submit(
            "/account",
            "/account",
            &[
                ("name", "  Ana   Silva "),
                ("organisation", "Braga Media Arts"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        res.header("location").as_deref(),
        Some("/account?saved=profile")
    );
    let account = stored_account(&app, "ana@braga.example");
    assert_eq!(account.display_name, "Ana Silva");
    assert_eq!(account.organisation, "Braga Media Arts");
    let page = browser.get("/account?saved=profile").await;
    assert_eq!(
        page.text(".notice"),
        "Your name and organisation are saved."
    );
    assert_eq!(page.attr("#f-name", "value"), "Ana Silva");
    assert_eq!(page.attr("#f-organisation", "value"), "Braga Media Arts");

    let long = "O".repeat(201);
    let res = browser
        .submit(
            "/account",
            "/account",
            &[("name", ""), ("organisation", &long)],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert_eq!(
        res.text(".error-summary h2"),
        "There are 2 problems; nothing was saved"
    );
    res.text("p.field-error#name-error");
    assert!(
        res.text("p.field-error#organisation-error")
            .contains("at most 200 characters")
    );
    assert_eq!(res.attr("#f-name", "aria-invalid"), "true");
    assert_eq!(res.attr("#f-name", "value"), "");
    assert_eq!(res.attr("#f-organisation", "value"), long);
    let unchanged = stored_account(&app, "ana@braga.example");
    assert_eq!(unchanged.display_name, "Ana Silva");
    assert_eq!(unchanged.organisation, "Braga Media Arts");
}

#[actix_web::test]
async fn a_password_change_needs_the_current_password_and_a_long_new_one() {
    let app = spawn_app().await;
    let browser = app.organiser("ana@braga.example").await;
    let before = stored_account(&app, "ana@braga.example").password_hash;

    let res = browser
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", WRONG),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert_eq!(
        res.text("p.field-error#current_password-error"),
        "Error: This is not your current password."
    );
    assert_eq!(res.attr("#f-current_password", "aria-invalid"), "true");
    assert_eq!(res.attr("#f-current_password", "value"), "");
    assert_eq!(res.attr("#f-new_password", "value"), "");
    assert!(!res.body.contains(WRONG));
    assert!(!res.body.contains("a brand new passphrase"));

    let res = browser
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "too short"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(
        res.text("p.field-error#new_password-error")
            .contains("at least 12 characters")
    );
    assert!(res.texts("p.field-error#current_password-error").is_empty());

    assert_eq!(
        stored_account(&app, "ana@braga.example").password_hash,
        before
    );
    assert_eq!(sessions_of(&app, "ana@braga.example").len(), 1);
}

#[actix_web::test]
async fn a_new_password_signs_out_other_browsers_keeps_this_one_and_replaces_the_old() {
    let app = spawn_app().await;
    let here = app.organiser("ana@braga.example").await;
    let elsewhere = app.browser();
    assert_eq!(
        sign_in(&elsewhere, "ana@braga.example", PASSWORD)
            .await
            .status,
        303
    );
    let elsewhere_token = elsewhere.cookie("cc_session").unwrap();
    assert!(signs_in(&app, &elsewhere_token).await);

    let new_password = "a brand new passphrase";
    let res = here
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new_password),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        res.header("location").as_deref(),
        Some("/account?saved=password")
    );
    let page = here.get("/account?saved=password").await;
    assert_eq!(page.status, 200, "this browser stays signed in");
    assert!(page.text(".notice").contains("signed out"));
    assert!(!signs_in(&app, &elsewhere_token).await);
    assert_eq!(sessions_of(&app, "ana@braga.example").len(), 1);

    let hash = stored_account(&app, "ana@braga.example").password_hash;
    assert!(hash.starts_with("$argon2id$"));
    assert!(!hash.contains(new_password));
    assert_eq!(
        sign_in(&app.browser(), "ana@braga.example", PASSWORD)
            .await
            .status,
        422
    );
    assert_eq!(
        sign_in(&app.browser(), "ana@braga.example", new_password)
            .await
            .status,
        303
    );
}

// CSRF

/// The three ways a form can arrive without this visitor's token.
fn bad_tokens(other_visitor: &str) -> [(&'static str, Option<&str>); 4] {
    [
        ("no token", None),
        ("an empty token", Some("")),
        (
            "a wrong token",
            Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ),
        ("another visitor's token", Some(other_visitor)),
    ]
}

async fn post_with<'a>(
    browser: &Browser<'_>,
    path: &str,
    token: Option<&'a str>,
    fields: &[(&'a str, &'a str)],
) -> Response {
    let mut all: Vec<(&str, &str)> = fields.to_vec();
    if let Some(token) = token {
        all.push(("csrf_token", token));
    }
    browser.post(path, &all).await
}

fn assert_refused(res: &Response, what: &str) {
    assert_eq!(res.status, 403, "{what}: {}", res.body);
    assert!(
        res.text(".error-message")
            .contains("did not come from this site"),
        "{what}: {}",
        res.body
    );
}

#[actix_web::test]
async fn sign_up_and_sign_in_without_the_visitors_own_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.organiser("ana@braga.example").await;
    let other = app.browser();
    let other_token = other.csrf_token("/signup").await;
    let sessions_before = session_count(&app);

    // A visitor with no cookie at all, and one whose cookie does not match.
    let cookieless = app.browser();
    let res = post_with(
        &cookieless,
        "/signup",
        Some(&other_token),
        &signup_fields(&[("email", "new@braga.example")]),
    )
    .await;
    assert_refused(&res, "sign-up without a cookie");
    let res = post_with(
        &cookieless,
        "/login",
        Some(&other_token),
        &[("email", "ana@braga.example"), ("password", PASSWORD)],
    )
    .await;
    assert_refused(&res, "sign-in without a cookie");
    // The right token, but its cookie has gone (expired, or never set on this site).
    let forgetful = app.browser();
    let token = forgetful.csrf_token("/signup").await;
    forgetful.drop_cookie("cc_csrf");
    let res = post_with(
        &forgetful,
        "/signup",
        Some(&token),
        &signup_fields(&[("email", "new@braga.example")]),
    )
    .await;
    assert_refused(&res, "sign-up whose cookie is gone");

    for (what, token) in bad_tokens(&other_token) {
        let browser = app.browser();
        browser.csrf_token("/signup").await;
        assert!(browser.cookie("cc_csrf").is_some());
        let res = post_with(
            &browser,
            "/signup",
            token,
            &signup_fields(&[("email", "new@braga.example")]),
        )
        .await;
        assert_refused(&res, what);
        assert!(browser.cookie("cc_session").is_none());

        for password in [PASSWORD, WRONG] {
            let res = post_with(
                &browser,
                "/login",
                token,
                &[("email", "ana@braga.example"), ("password", password)],
            )
            .await;
            assert_refused(&res, what);
            assert!(browser.cookie("cc_session").is_none());
        }
    }
    assert_eq!(account_count(&app), 1);
    assert_eq!(session_count(&app), sessions_before);
    assert_eq!(failure_count(&app), 0, "a refused form is not an attempt");
}

/// The sign-in and sign-up forms, each sent by `browser` with `token` and no other.
async fn post_both_forms(browser: &Browser<'_>, token: &str) -> [Response; 2] {
    let signup = signup_fields(&[("email", "new@braga.example")]);
    let login = [("email", "ana@braga.example"), ("password", PASSWORD)];
    [
        post_with(browser, "/signup", Some(token), &signup).await,
        post_with(browser, "/login", Some(token), &login).await,
    ]
}

#[actix_web::test]
async fn a_planted_csrf_cookie_the_site_did_not_issue_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.organiser("ana@braga.example").await;
    let sessions_before = session_count(&app);
    let issued = app.browser().csrf_token("/login").await;
    let (random, _) = issued.split_once('.').expect("a token is random.mac");

    for (what, forged) in [
        ("any value", "x".to_owned()),
        (
            "a well-formed random token",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        ),
        ("an issued token without its MAC", random.to_owned()),
        (
            "an issued random with a made-up MAC",
            format!("{random}.{random}"),
        ),
    ] {
        // The attacker sets the cookie and sends the same value in the form.
        let browser = app.browser();
        browser.plant_cookie("cc_csrf", &forged);
        for res in post_both_forms(&browser, &forged).await {
            assert_refused(&res, what);
        }
        assert!(browser.cookie("cc_session").is_none());
    }
    assert_eq!(account_count(&app), 1);
    assert_eq!(session_count(&app), sessions_before);
    assert_eq!(failure_count(&app), 0);
    assert_eq!(check_count(&app), 0);

    // A visitor who was given such a cookie gets one the site issued with the form, and
    // the form works.
    let browser = app.browser();
    browser.plant_cookie("cc_csrf", "x");
    let token = browser.csrf_token("/login").await;
    assert_ne!(token, "x");
    assert_eq!(browser.cookie("cc_csrf").as_deref(), Some(token.as_str()));
    let res = sign_in(&browser, "ana@braga.example", PASSWORD).await;
    assert_eq!(res.status, 303, "{}", res.body);
}

#[actix_web::test]
async fn a_real_token_planted_by_another_site_is_refused_by_its_origin() {
    let app = spawn_app().await;
    app.organiser("ana@braga.example").await;
    let sessions_before = session_count(&app);
    // The attacker fetches a token the site really issued, then plants it in the
    // victim's browser and posts the sign-in form from their own page.
    let issued = app.browser().csrf_token("/login").await;
    let body = serde_urlencoded::to_string([
        ("csrf_token", issued.as_str()),
        ("email", "ana@braga.example"),
        ("password", PASSWORD),
    ])
    .unwrap();
    let host = app.address.trim_start_matches("http://").to_owned();
    let post = |origin: Option<String>| {
        let mut request = awc::Client::builder()
            .disable_redirects()
            .finish()
            .post(format!("{}/login", app.address))
            .insert_header(("cookie", format!("cc_csrf={issued}")))
            .insert_header(("content-type", "application/x-www-form-urlencoded"));
        if let Some(origin) = origin {
            request = request.insert_header(("origin", origin));
        }
        let body = body.clone();
        async move { request.send_body(body).await.unwrap().status().as_u16() }
    };
    for evil in [
        "https://evil.example.org",
        "https://sub.calendar.example.org",
        "http://calendar.example.org",
        "not a url",
    ] {
        assert_eq!(post(Some(evil.to_owned())).await, 403, "{evil}");
    }
    assert_eq!(session_count(&app), sessions_before);
    // From the site itself, by its public address or the address it was reached at, or
    // from a client that sends no Origin, the token decides.
    assert_eq!(post(Some("https://calendar.example.org".into())).await, 303);
    assert_eq!(post(Some(format!("http://{host}"))).await, 303);
    assert_eq!(post(None).await, 303);
}

const KEY: &str = "the secret key of the test servers, 32 bytes or more";

#[actix_web::test]
async fn a_token_issued_with_another_secret_key_is_refused() {
    let key = |key: &str| {
        let key = creative_calendar::auth::SecretKey::parse(key).unwrap();
        move |config: &mut creative_calendar::config::Config| config.secret_key = Some(key)
    };
    let first = spawn_app_with(test_now(), key(KEY)).await;
    let token = first.browser().csrf_token("/login").await;

    let other = spawn_app_with(test_now(), key("another key, also 32 bytes or more")).await;
    other.organiser("ana@braga.example").await;
    let browser = other.browser();
    browser.plant_cookie("cc_csrf", &token);
    for res in post_both_forms(&browser, &token).await {
        assert_refused(&res, "a token from a server with another key");
    }
    assert_eq!(account_count(&other), 1);

    // A server given the same key accepts it, whatever its database.
    let same = spawn_app_with(test_now(), key(KEY)).await;
    same.organiser("ana@braga.example").await;
    let forms = [
        ("/signup", signup_fields(&[("email", "new@braga.example")])),
        (
            "/login",
            vec![("email", "ana@braga.example"), ("password", PASSWORD)],
        ),
    ];
    for (path, fields) in &forms {
        // A browser for each: the first form signs it in, and a session has its own token.
        let browser = same.browser();
        browser.plant_cookie("cc_csrf", &token);
        let res = post_with(&browser, path, Some(&token), fields).await;
        assert_eq!(res.status, 303, "{path}: {}", res.body);
    }
}

#[actix_web::test]
async fn the_generated_secret_key_survives_a_restart_and_is_shared_on_one_database() {
    let first = spawn_app().await;
    first.organiser("ana@braga.example").await;
    let token = first.browser().csrf_token("/login").await;
    // Started later on the same file: a restart, or a second server.
    let second = first.another_server(|_| {}).await;
    let later = second.browser().csrf_token("/login").await;

    for (server, token) in [(&second, &token), (&first, &later)] {
        let browser = server.browser();
        browser.plant_cookie("cc_csrf", token);
        let res = post_with(
            &browser,
            "/login",
            Some(token),
            &[("email", "ana@braga.example"), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(res.status, 303, "{}", res.body);
    }

    // A key given in the configuration wins over the stored one.
    let configured = first
        .another_server(|config| {
            config.secret_key = Some(creative_calendar::auth::SecretKey::parse(KEY).unwrap());
        })
        .await;
    let browser = configured.browser();
    browser.plant_cookie("cc_csrf", &token);
    for res in post_both_forms(&browser, &token).await {
        assert_refused(&res, "a token signed with the stored key");
    }
}

#[test]
fn servers_starting_at_once_on_a_new_database_keep_one_secret_key() {
    use creative_calendar::auth::SecretKey;
    use creative_calendar::db::models::ServerSecret;

    let dir = tempfile::tempdir().unwrap();
    let pool = creative_calendar::db::connect(dir.path().join("new.db"), 8).unwrap();
    let start = std::sync::Arc::new(std::sync::Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (pool, start) = (pool.clone(), std::sync::Arc::clone(&start));
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                let candidate = SecretKey::generate();
                start.wait();
                let kept = ServerSecret::get_or_insert(
                    &mut conn,
                    "secret_key",
                    candidate.as_bytes(),
                    test_now(),
                )
                .unwrap();
                (candidate.as_bytes().to_vec(), kept)
            })
        })
        .collect();
    let results: Vec<(Vec<u8>, Vec<u8>)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let kept = &results[0].1;
    assert!(results.iter().all(|(_, k)| k == kept), "they disagree");
    assert_eq!(
        results
            .iter()
            .filter(|(candidate, _)| candidate == kept)
            .count(),
        1,
        "the key one of them made"
    );
}

#[actix_web::test]
async fn signed_in_forms_without_the_sessions_own_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let bo = app.organiser("bo@braga.example").await;
    let bo_token = bo.csrf_token("/account").await;
    // The token ana's browser was given before she signed in is no longer hers to use.
    let before_sign_in = ana.cookie("cc_csrf").unwrap();
    let before = stored_account(&app, "ana@braga.example");
    let sessions_before = sessions_of(&app, "ana@braga.example");
    assert_eq!(sessions_before.len(), 1);

    let forms: [(&str, Vec<(&str, &str)>); 3] = [
        ("/logout", vec![]),
        (
            "/account",
            vec![("name", "Mallory"), ("organisation", "Evil Corp")],
        ),
        (
            "/account/password",
            vec![
                ("current_password", PASSWORD),
                ("new_password", "chosen by the attacker"),
            ],
        ),
    ];
    let mut tokens = bad_tokens(&bo_token).to_vec();
    tokens.push(("the token from before signing in", Some(&before_sign_in)));
    for (path, fields) in &forms {
        for (what, token) in &tokens {
            let res = post_with(&ana, path, *token, fields).await;
            assert_refused(&res, &format!("{path} with {what}"));
        }
    }

    let after = stored_account(&app, "ana@braga.example");
    assert_eq!(after.display_name, before.display_name);
    assert_eq!(after.organisation, before.organisation);
    assert_eq!(after.password_hash, before.password_hash);
    let sessions_after = sessions_of(&app, "ana@braga.example");
    assert_eq!(sessions_after.len(), 1);
    assert_eq!(sessions_after[0].id, sessions_before[0].id);
    assert_eq!(sessions_of(&app, "bo@braga.example").len(), 1);
    assert_eq!(ana.get("/account").await.status, 200, "still signed in");

    // The same forms with ana's own token do go through.
    let res = ana
        .submit(
            "/account",
            "/account",
            &[("name", "Ana Silva"), ("organisation", "")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
}

#[actix_web::test]
async fn guessing_the_current_password_is_throttled_like_signing_in() {
    let app = spawn_app().await;
    let browser = app.organiser("ana@braga.example").await;
    for _ in 0..5 {
        let res = browser
            .submit(
                "/account",
                "/account/password",
                &[
                    ("current_password", WRONG),
                    ("new_password", "a brand new passphrase"),
                ],
            )
            .await;
        assert_eq!(res.status, 422);
    }
    // The sixth try is refused even with the right password, and nothing changes.
    let before = stored_account(&app, "ana@braga.example").password_hash;
    let res = browser
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert!(
        res.text("#current_password-error")
            .contains("Too many wrong passwords")
    );
    assert_eq!(
        stored_account(&app, "ana@braga.example").password_hash,
        before
    );
}

#[actix_web::test]
async fn an_eleventh_account_from_one_address_within_an_hour_is_refused() {
    let app = spawn_app().await;
    for n in 0..10 {
        app.organiser(&format!("member{n}@class.example")).await;
    }
    let browser = app.browser();
    let res = browser
        .submit(
            "/signup",
            "/signup",
            &[
                ("email", "eleventh@class.example"),
                ("name", "Eleventh"),
                ("organisation", ""),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert!(res.text(".error-summary").contains("Too many accounts"));
    assert_eq!(res.attr("#f-email", "value"), "eleventh@class.example");
    let mut conn = app.pool.get().unwrap();
    assert!(
        creative_calendar::db::models::Account::find_by_email(&mut conn, "eleventh@class.example")
            .is_err(),
        "nothing was written"
    );
}
