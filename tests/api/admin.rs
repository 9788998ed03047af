//! Admins: the first admin from the command line, the users and roles pages, and the
//! moderation log entry every role change writes.

use creative_calendar::auth::verify_password;
use creative_calendar::db::models::{Account, COMMAND_LINE, LogEntry};
use creative_calendar::db::schema::{accounts, moderation_log, moderator_roles};
use creative_calendar::domain::ModerationAction;
use creative_calendar::workflows::accounts::{AdminCreated, create_admin};
use diesel::prelude::*;
use scraper::Selector;

use crate::helpers::*;

const ADMIN_NAME: &str = "Rita Admin";

/// A signed-in admin called [`ADMIN_NAME`]: signed up as an organiser, then made admin
/// the way the command line does it.
async fn admin<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let browser = app.organiser(email).await;
    let mut conn = app.pool.get().unwrap();
    let made = create_admin(&mut conn, email, ADMIN_NAME, "", "unused password", app.now).unwrap();
    let AdminCreated::Promoted(id) = made else {
        panic!("{email} should have been promoted: {made:?}");
    };
    Account::update_profile(&mut conn, id, ADMIN_NAME, "", app.now).unwrap();
    browser
}

fn stored_account(app: &TestApp, email: &str) -> Account {
    let mut conn = app.pool.get().unwrap();
    Account::find_by_email(&mut conn, email).unwrap()
}

/// The moderation log as stored, oldest first, without the entries of the command line
/// (the [`admin`] of each test is made there).
fn log_entries(app: &TestApp) -> Vec<LogEntry> {
    let mut conn = app.pool.get().unwrap();
    moderation_log::table
        .filter(moderation_log::actor_id.is_not_null())
        .order(moderation_log::id.asc())
        .select(LogEntry::as_select())
        .load(&mut conn)
        .unwrap()
}

/// Every account's (email, admin, trusted), and every moderator role's (account, city).
type RolesSnapshot = (Vec<(String, bool, bool)>, Vec<(i32, Option<i32>)>);

/// Who holds which role, to show that nothing changed.
fn roles_snapshot(app: &TestApp) -> RolesSnapshot {
    let mut conn = app.pool.get().unwrap();
    let accounts = accounts::table
        .order(accounts::id)
        .select((accounts::email, accounts::is_admin, accounts::is_trusted))
        .load(&mut conn)
        .unwrap();
    let roles = moderator_roles::table
        .order(moderator_roles::id)
        .select((moderator_roles::account_id, moderator_roles::city_id))
        .load(&mut conn)
        .unwrap();
    (accounts, roles)
}

/// The rows of the moderation log page: when, who, did, what, why; without those of the
/// command line (the [`admin`] of each test is made there).
fn log_rows(page: &Response) -> Vec<Vec<String>> {
    let html = page.html();
    let rows = Selector::parse("table.moderation-log tbody tr").unwrap();
    let cells = Selector::parse("td").unwrap();
    html.select(&rows)
        .map(|row| {
            row.select(&cells)
                .map(|c| {
                    c.text()
                        .collect::<String>()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect::<Vec<String>>()
        })
        .filter(|row| row.get(1).map(String::as_str) != Some(COMMAND_LINE))
        .collect()
}

/// The moderator roles a user page lists: (where, the role's id for removing it).
fn roles_on_page(page: &Response) -> Vec<(String, String)> {
    let html = page.html();
    let items = Selector::parse("ul.roles li").unwrap();
    let name = Selector::parse("span").unwrap();
    let role = Selector::parse(r#"input[name="role"]"#).unwrap();
    html.select(&items)
        .map(|li| {
            let text = li.select(&name).next().unwrap().text().collect::<String>();
            let id = li.select(&role).next().unwrap().value().attr("value");
            (text, id.unwrap().to_owned())
        })
        .collect()
}

/// Posts a role change from the user's page, as the admin's browser would.
async fn change(browser: &Browser<'_>, id: i32, action: &str, fields: &[(&str, &str)]) -> Response {
    browser
        .submit(
            &format!("/admin/users/{id}"),
            &format!("/admin/users/{id}/{action}"),
            fields,
        )
        .await
}

fn assert_saved(res: &Response, id: i32) {
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        res.header("location"),
        Some(format!("/admin/users/{id}?done=1"))
    );
}

// The command line

fn admin_command(database: &std::path::Path, email: &str, password: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_creative-calendar"))
        .args(["admin", "create", "--database"])
        .arg(database)
        .args([
            "--email",
            email,
            "--name",
            "Rita Admin",
            "--organisation",
            "Network office",
        ])
        .env("CREATIVE_CALENDAR_ADMIN_PASSWORD", password)
        .env_remove("CREATIVE_CALENDAR_DATABASE")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the command runs")
}

#[test]
fn the_admin_command_creates_an_admin_with_an_argon2id_hash_and_then_only_promotes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calendar.db");
    let password = "the first admin's long password";

    let out = admin_command(&path, " Rita@Network.Example ", password);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("created admin account"), "{stdout}");
    assert!(!stdout.contains(password));

    let pool = creative_calendar::db::connect(&path, 2).unwrap();
    let mut conn = pool.get().unwrap();
    let rita = Account::find_by_email(&mut conn, "rita@network.example").unwrap();
    assert!(rita.is_admin);
    assert!(rita.is_trusted);
    assert_eq!(rita.display_name, "Rita Admin");
    assert_eq!(rita.organisation, "Network office");
    assert!(
        rita.password_hash.starts_with("$argon2id$"),
        "{}",
        rita.password_hash
    );
    assert!(!rita.password_hash.contains(password));
    assert!(verify_password(&rita.password_hash, password));
    drop(conn);

    // Run again for the same email: the account stays as it is, password included.
    let out = admin_command(&path, "rita@network.example", "another long password");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("already existed"));
    let mut conn = pool.get().unwrap();
    let again = Account::find_by_email(&mut conn, "rita@network.example").unwrap();
    assert_eq!(again.id, rita.id);
    assert_eq!(again.password_hash, rita.password_hash);
    let count: i64 = accounts::table.count().get_result(&mut conn).unwrap();
    assert_eq!(count, 1);
}

#[test]
fn the_admin_command_refuses_a_short_password_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calendar.db");
    let out = admin_command(&path, "rita@network.example", "short");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at least 12 characters"), "{stderr}");

    let pool = creative_calendar::db::connect(&path, 2).unwrap();
    let mut conn = pool.get().unwrap();
    let count: i64 = accounts::table.count().get_result(&mut conn).unwrap();
    assert_eq!(count, 0);
}

#[actix_web::test]
async fn the_command_line_s_admin_grants_are_logged_as_the_command_line_s() {
    let app = spawn_app().await;
    let made = {
        let mut conn = app.pool.get().unwrap();
        create_admin(
            &mut conn,
            "rita@admin.example",
            "Rita",
            "",
            "a long enough password",
            app.now,
        )
        .unwrap()
    };
    let AdminCreated::New(id) = made else {
        panic!("a new account: {made:?}");
    };
    let mut conn = app.pool.get().unwrap();
    let all: Vec<LogEntry> = moderation_log::table
        .select(LogEntry::as_select())
        .load(&mut conn)
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].actor_id, None);
    assert_eq!(all[0].actor_name, COMMAND_LINE);
    assert_eq!(all[0].action, ModerationAction::GrantAdmin);
    assert_eq!(all[0].account_id, Some(id));
    // Run again, it finds an admin already and changes nothing, so logs nothing.
    let again = create_admin(&mut conn, "rita@admin.example", "Rita", "", "x", app.now).unwrap();
    assert_eq!(again, AdminCreated::Promoted(id));
    assert_eq!(
        moderation_log::table
            .count()
            .get_result::<i64>(&mut conn)
            .unwrap(),
        1
    );
    // Bad options are named as the command line's.
    let wrong = create_admin(&mut conn, "not an email", "", "", "short", app.now).unwrap_err();
    let creative_calendar::workflows::WorkflowError::Invalid(errors) = wrong else {
        panic!("invalid: {wrong:?}");
    };
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        ["email"],
        "an email that is wrong is enough to stop"
    );
}

#[actix_web::test]
async fn making_an_existing_account_admin_keeps_its_password() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    assert_eq!(ana.get("/admin/users").await.status, 403);
    let before = stored_account(&app, "ana@braga.example");

    let made = {
        let mut conn = app.pool.get().unwrap();
        create_admin(
            &mut conn,
            "  ANA@braga.example",
            "Someone Else",
            "",
            "a different password",
            app.now,
        )
        .unwrap()
    };
    assert_eq!(made, AdminCreated::Promoted(before.id));
    let after = stored_account(&app, "ana@braga.example");
    assert!(after.is_admin);
    assert_eq!(after.password_hash, before.password_hash);
    assert_eq!(after.display_name, before.display_name);

    // Her open session is an admin's now, and she signs in as before.
    assert_eq!(ana.get("/admin/users").await.status, 200);
    let browser = app.browser();
    let res = browser
        .submit(
            "/login",
            "/login",
            &[
                ("email", "ana@braga.example"),
                ("password", "a different password"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    let res = browser
        .submit(
            "/login",
            "/login",
            &[("email", "ana@braga.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(browser.get("/admin/users").await.status, 200);
}

// Who may

#[actix_web::test]
async fn someone_who_is_not_an_admin_is_refused_every_admin_page_and_action() {
    let app = spawn_app().await;
    admin(&app, "rita@network.example").await;
    app.organiser("ana@braga.example").await;
    let id = stored_account(&app, "ana@braga.example").id;
    let organiser = app.organiser("bo@braga.example").await;
    let trusted = app.organiser("cy@braga.example").await;
    app.set_trusted("cy@braga.example", true);
    let city_moderator = app.moderator("mia@braga.example", Some("braga")).await;
    let network_moderator = app.moderator("nia@network.example", None).await;
    let before = roles_snapshot(&app);

    let actions: [(&str, &[(&str, &str)]); 6] = [
        ("grant-moderator", &[("city", "network"), ("reason", "x")]),
        ("revoke-moderator", &[("role", "1")]),
        ("trust", &[]),
        ("distrust", &[]),
        ("grant-admin", &[]),
        ("revoke-admin", &[]),
    ];
    for (who, browser) in [
        ("an organiser", &organiser),
        ("a trusted organiser", &trusted),
        ("a city moderator", &city_moderator),
        ("a network moderator", &network_moderator),
    ] {
        for path in [
            "/admin/users".to_owned(),
            "/admin/users?q=ana".to_owned(),
            format!("/admin/users/{id}"),
        ] {
            let res = browser.get(&path).await;
            assert_eq!(res.status, 403, "{who}: {path}");
            assert_eq!(res.text(".error-message"), "Only admins can see this page.");
        }
        assert!(
            browser
                .get("/account")
                .await
                .texts(r#".account-nav a[href="/admin/users"]"#)
                .is_empty(),
            "{who} is shown the link"
        );
        // Their own, valid token: the refusal is about who they are.
        for (action, fields) in actions {
            let res = browser
                .submit("/account", &format!("/admin/users/{id}/{action}"), fields)
                .await;
            assert_eq!(res.status, 403, "{who}: {action}: {}", res.body);
        }
        // Making themselves admin is no different.
        let own = stored_account(
            &app,
            match who {
                "an organiser" => "bo@braga.example",
                "a trusted organiser" => "cy@braga.example",
                "a city moderator" => "mia@braga.example",
                _ => "nia@network.example",
            },
        )
        .id;
        let res = browser
            .submit("/account", &format!("/admin/users/{own}/grant-admin"), &[])
            .await;
        assert_eq!(res.status, 403, "{who}");
    }

    // Nobody signed in: the pages send them to sign in; an action is refused.
    let visitor = app.browser();
    let res = visitor.get(&format!("/admin/users/{id}")).await;
    assert_eq!(res.status, 303);
    assert!(res.header("location").unwrap().starts_with("/login?next="));
    let res = visitor
        .post(&format!("/admin/users/{id}/grant-admin"), &[])
        .await;
    assert_eq!(res.status, 403);

    assert_eq!(roles_snapshot(&app), before);
    assert!(log_entries(&app).is_empty());
}

#[actix_web::test]
async fn a_city_moderator_sees_moderation_but_not_users_and_roles() {
    let app = spawn_app().await;
    let rita = admin(&app, "rita@network.example").await;
    let mia = app.moderator("mia@braga.example", Some("braga")).await;
    let ana_id = {
        app.organiser("ana@braga.example").await;
        stored_account(&app, "ana@braga.example").id
    };
    assert_saved(
        &change(&rita, ana_id, "trust", &[("reason", "known")]).await,
        ana_id,
    );

    assert_eq!(mia.get("/moderation").await.status, 200);
    let log = mia.get("/moderation/log").await;
    assert_eq!(log.status, 200);
    // Role changes are for admins' eyes; a city's moderator sees decisions on events.
    assert!(log_rows(&log).is_empty(), "{:?}", log_rows(&log));
    assert_eq!(mia.get("/admin/users").await.status, 403);
    let nav = mia.get("/account").await;
    assert!(
        !nav.texts(r#".account-nav a[href="/moderation"]"#)
            .is_empty()
    );
    assert!(
        nav.texts(r#".account-nav a[href="/admin/users"]"#)
            .is_empty()
    );
}

#[actix_web::test]
async fn an_organiser_is_refused_the_moderation_pages() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    for path in ["/moderation", "/moderation/log", "/moderation?city=braga"] {
        let res = ana.get(path).await;
        assert_eq!(res.status, 403, "{path}");
        assert_eq!(
            res.text(".error-message"),
            "Only the moderators of a city can see this page."
        );
    }
    let nav = ana.get("/account").await;
    assert!(
        nav.texts(r#".account-nav a[href="/moderation"]"#)
            .is_empty()
    );
}

// Role changes

#[actix_web::test]
async fn an_admin_grants_and_revokes_moderator_roles_and_each_change_is_logged() {
    let app = spawn_app().await;
    let rita = admin(&app, "rita@network.example").await;
    let ana = app.organiser("ana@braga.example").await;
    let id = stored_account(&app, "ana@braga.example").id;
    assert_eq!(ana.get("/moderation").await.status, 403);

    let page = rita.get(&format!("/admin/users/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(page.text("h1"), "Test Organiser");
    assert_eq!(
        page.text("section[aria-labelledby=mod-heading] p"),
        "No moderator role."
    );

    let res = change(
        &rita,
        id,
        "grant-moderator",
        &[
            ("city", "braga"),
            ("reason", "Runs the Braga festival office"),
        ],
    )
    .await;
    assert_saved(&res, id);
    let page = rita.get(&format!("/admin/users/{id}?done=1")).await;
    assert_eq!(
        page.text(".notice"),
        "Saved, and written to the moderation log."
    );
    assert_eq!(
        roles_on_page(&page)
            .into_iter()
            .map(|(city, _)| city)
            .collect::<Vec<_>>(),
        ["Braga"]
    );
    // She can moderate Braga at once, in the session she already has.
    assert_eq!(ana.get("/moderation").await.status, 200);

    let res = change(
        &rita,
        id,
        "grant-moderator",
        &[
            ("city", "network"),
            ("reason", "Covers for the network team"),
        ],
    )
    .await;
    assert_saved(&res, id);
    let page = rita.get(&format!("/admin/users/{id}")).await;
    let roles = roles_on_page(&page);
    let mut places: Vec<&str> = roles.iter().map(|(c, _)| c.as_str()).collect();
    places.sort_unstable();
    assert_eq!(places, ["Braga", "The whole network"]);
    let list = rita.get("/admin/users?q=ana%40braga").await;
    assert_eq!(
        list.text("table.users tbody tr td:nth-child(4)"),
        "Moderator: whole network; Moderator: Braga"
    );

    // Granting a role she already has changes nothing and logs nothing.
    let res = change(&rita, id, "grant-moderator", &[("city", "braga")]).await;
    assert_saved(&res, id);
    assert_eq!(log_entries(&app).len(), 2);

    let braga_role = roles
        .iter()
        .find(|(c, _)| c == "Braga")
        .map(|(_, r)| r.clone())
        .unwrap();
    let res = change(
        &rita,
        id,
        "revoke-moderator",
        &[("role", &braga_role), ("reason", "Left the office")],
    )
    .await;
    assert_saved(&res, id);
    let page = rita.get(&format!("/admin/users/{id}")).await;
    assert_eq!(
        roles_on_page(&page)
            .into_iter()
            .map(|(city, _)| city)
            .collect::<Vec<_>>(),
        ["The whole network"]
    );

    let rita_id = stored_account(&app, "rita@network.example").id;
    let entries = log_entries(&app);
    let stored: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e.actor_id,
                e.actor_name.as_str(),
                e.action.slug(),
                e.account_id,
                e.subject.as_str(),
                e.reason.as_str(),
            )
        })
        .collect();
    assert_eq!(
        stored,
        [
            (
                Some(rita_id),
                ADMIN_NAME,
                "grant_moderator",
                Some(id),
                "ana@braga.example (Braga)",
                "Runs the Braga festival office"
            ),
            (
                Some(rita_id),
                ADMIN_NAME,
                "grant_moderator",
                Some(id),
                "ana@braga.example",
                "Covers for the network team"
            ),
            (
                Some(rita_id),
                ADMIN_NAME,
                "revoke_moderator",
                Some(id),
                "ana@braga.example (Braga)",
                "Left the office"
            ),
        ]
    );
    assert_eq!(entries[0].city_id, Some(app.city("braga").id));
    assert_eq!(entries[1].city_id, None);

    // The admin reads it on the log page, the newest first.
    let log = rita.get("/moderation/log").await;
    assert_eq!(log.status, 200);
    let rows = log_rows(&log);
    let expected = [
        [
            "Rita Admin",
            "Removed as moderator",
            "ana@braga.example (Braga)",
            "Left the office",
        ],
        [
            "Rita Admin",
            "Made moderator",
            "ana@braga.example",
            "Covers for the network team",
        ],
        [
            "Rita Admin",
            "Made moderator",
            "ana@braga.example (Braga)",
            "Runs the Braga festival office",
        ],
    ];
    assert_eq!(rows.len(), 3, "{rows:?}");
    for (row, want) in rows.iter().zip(expected) {
        assert_eq!(row[0], "28 Nov 2026, 12:00 UTC");
        assert_eq!(row[1..], want);
    }
}

#[actix_web::test]
async fn an_admin_trusts_an_organiser_and_stops_trusting_them_with_a_log_entry_each_time() {
    let app = spawn_app().await;
    let rita = admin(&app, "rita@network.example").await;
    app.organiser("ana@braga.example").await;
    let id = stored_account(&app, "ana@braga.example").id;
    let trust_text = |page: &Response| page.text("section[aria-labelledby=trust-heading] p");

    let page = rita.get(&format!("/admin/users/{id}")).await;
    assert!(
        trust_text(&page).starts_with("Not trusted"),
        "{}",
        trust_text(&page)
    );
    assert_eq!(
        page.attr("section[aria-labelledby=trust-heading] form", "action"),
        format!("/admin/users/{id}/trust")
    );

    let res = change(&rita, id, "trust", &[("reason", "The city's own festival")]).await;
    assert_saved(&res, id);
    assert!(stored_account(&app, "ana@braga.example").is_trusted);
    let page = rita.get(&format!("/admin/users/{id}")).await;
    assert!(
        trust_text(&page).starts_with("Trusted:"),
        "{}",
        trust_text(&page)
    );
    assert_eq!(
        page.attr("section[aria-labelledby=trust-heading] form", "action"),
        format!("/admin/users/{id}/distrust")
    );
    // Trusting again is no change, and no log line.
    assert_saved(&change(&rita, id, "trust", &[]).await, id);
    assert_eq!(log_entries(&app).len(), 1);

    let res = change(&rita, id, "distrust", &[("reason", "Posted adverts")]).await;
    assert_saved(&res, id);
    assert!(!stored_account(&app, "ana@braga.example").is_trusted);
    let page = rita.get(&format!("/admin/users/{id}")).await;
    assert!(trust_text(&page).starts_with("Not trusted"));

    let rows = log_rows(&rita.get("/moderation/log").await);
    let rows: Vec<&[String]> = rows.iter().map(|r| &r[1..]).collect();
    assert_eq!(
        rows,
        [
            [
                "Rita Admin",
                "No longer trusted",
                "ana@braga.example",
                "Posted adverts"
            ],
            [
                "Rita Admin",
                "Trusted",
                "ana@braga.example",
                "The city's own festival"
            ],
        ]
    );
}

#[actix_web::test]
async fn an_admin_makes_another_account_admin_and_takes_the_role_back() {
    let app = spawn_app().await;
    let rita = admin(&app, "rita@network.example").await;
    let ana = app.organiser("ana@braga.example").await;
    let id = stored_account(&app, "ana@braga.example").id;
    let admin_text = |page: &Response| page.text("section[aria-labelledby=admin-heading] p");

    let page = rita.get(&format!("/admin/users/{id}")).await;
    assert_eq!(admin_text(&page), "Not an admin.");
    let res = change(&rita, id, "grant-admin", &[("reason", "Second admin")]).await;
    assert_saved(&res, id);
    assert!(stored_account(&app, "ana@braga.example").is_admin);
    let page = rita.get(&format!("/admin/users/{id}")).await;
    assert!(admin_text(&page).starts_with("An admin"));
    assert_eq!(ana.get("/admin/users").await.status, 200);
    assert_eq!(ana.get("/moderation").await.status, 200);

    let res = change(
        &rita,
        id,
        "revoke-admin",
        &[("reason", "Only for the launch")],
    )
    .await;
    assert_saved(&res, id);
    assert!(!stored_account(&app, "ana@braga.example").is_admin);
    assert_eq!(
        admin_text(&rita.get(&format!("/admin/users/{id}")).await),
        "Not an admin."
    );
    assert_eq!(ana.get("/admin/users").await.status, 403);

    let rows = log_rows(&rita.get("/moderation/log").await);
    let rows: Vec<&[String]> = rows.iter().map(|r| &r[1..]).collect();
    assert_eq!(
        rows,
        [
            [
                "Rita Admin",
                "Removed as admin",
                "ana@braga.example",
                "Only for the launch"
            ],
            [
                "Rita Admin",
                "Made admin",
                "ana@braga.example",
                "Second admin"
            ],
        ]
    );
}

#[actix_web::test]
async fn the_last_admin_cannot_remove_their_own_admin_role() {
    let app = spawn_app().await;
    let rita = admin(&app, "rita@network.example").await;
    let rita_id = stored_account(&app, "rita@network.example").id;

    let res = change(
        &rita,
        rita_id,
        "revoke-admin",
        &[("reason", "Stepping down")],
    )
    .await;
    assert_eq!(res.status, 409, "{}", res.body);
    assert!(res.text(".error-message").contains("last admin"));
    assert!(stored_account(&app, "rita@network.example").is_admin);
    assert_eq!(rita.get("/admin/users").await.status, 200);
    assert!(log_entries(&app).is_empty());

    // With a second admin, she can step down; then the other one is the last.
    app.organiser("ana@braga.example").await;
    let ana_id = stored_account(&app, "ana@braga.example").id;
    assert_saved(&change(&rita, ana_id, "grant-admin", &[]).await, ana_id);
    assert_saved(&change(&rita, rita_id, "revoke-admin", &[]).await, rita_id);
    assert!(!stored_account(&app, "rita@network.example").is_admin);
    assert_eq!(rita.get("/admin/users").await.status, 403);
    let ana = app.browser();
    ana.submit(
        "/login",
        "/login",
        &[("email", "ana@braga.example"), ("password", PASSWORD)],
    )
    .await;
    let res = change(&ana, ana_id, "revoke-admin", &[]).await;
    assert_eq!(res.status, 409);
    assert!(stored_account(&app, "ana@braga.example").is_admin);
}

#[actix_web::test]
async fn changes_to_unknown_accounts_roles_or_cities_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let rita = admin(&app, "rita@network.example").await;
    app.moderator("mia@braga.example", Some("braga")).await;
    app.organiser("ana@braga.example").await;
    let ana_id = stored_account(&app, "ana@braga.example").id;
    let mia_role: i32 = {
        let mut conn = app.pool.get().unwrap();
        moderator_roles::table
            .select(moderator_roles::id)
            .first(&mut conn)
            .unwrap()
    };
    let before = roles_snapshot(&app);

    let mia_role = mia_role.to_string();
    let cases = [
        ("/admin/users/99999/trust".to_owned(), vec![], 404),
        ("/admin/users/abc/trust".to_owned(), vec![], 404),
        (format!("/admin/users/{ana_id}/promote"), vec![], 404),
        (
            format!("/admin/users/{ana_id}/grant-moderator"),
            vec![("city", "atlantis")],
            400,
        ),
        (
            format!("/admin/users/{ana_id}/revoke-moderator"),
            vec![("role", "abc")],
            400,
        ),
        // Mia's role, sent to Ana's address: Ana has no such role, nothing happens.
        (
            format!("/admin/users/{ana_id}/revoke-moderator"),
            vec![("role", mia_role.as_str())],
            303,
        ),
    ];
    for (path, fields, status) in cases {
        let res = rita.submit("/admin/users", &path, &fields).await;
        assert_eq!(res.status, status, "{path}: {}", res.body);
    }
    assert_eq!(roles_snapshot(&app), before);
    assert!(log_entries(&app).is_empty());
}

#[actix_web::test]
async fn an_admin_action_without_the_admins_own_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let rita = admin(&app, "rita@network.example").await;
    let ana = app.organiser("ana@braga.example").await;
    let ana_token = ana.csrf_token("/account").await;
    let id = stored_account(&app, "ana@braga.example").id;
    let before = roles_snapshot(&app);

    for (what, token) in [
        ("no token", None),
        (
            "a wrong token",
            Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ),
        ("another visitor's token", Some(ana_token.as_str())),
    ] {
        for action in ["grant-admin", "trust", "grant-moderator"] {
            let mut fields = vec![("city", "network")];
            if let Some(token) = token {
                fields.push(("csrf_token", token));
            }
            let res = rita
                .post(&format!("/admin/users/{id}/{action}"), &fields)
                .await;
            assert_eq!(res.status, 403, "{action} with {what}");
            assert!(
                res.text(".error-message")
                    .contains("did not come from this site")
            );
        }
    }
    assert_eq!(roles_snapshot(&app), before);
    assert!(log_entries(&app).is_empty());
}

// Finding accounts

#[actix_web::test]
async fn the_user_search_finds_by_part_of_the_email_and_shows_the_search_escaped() {
    let app = spawn_app().await;
    let rita = admin(&app, "rita@network.example").await;
    for email in ["ana@braga.example", "bo@porto.example", "cy@braga.example"] {
        app.organiser(email).await;
    }
    let emails = |page: &Response| page.texts("table.users tbody tr td:first-child");

    let all = rita.get("/admin/users").await;
    assert_eq!(all.status, 200);
    assert_eq!(all.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(all.text(".result-count"), "4 accounts");
    assert_eq!(
        emails(&all),
        [
            "cy@braga.example",
            "bo@porto.example",
            "ana@braga.example",
            "rita@network.example"
        ]
    );

    let found = rita.get("/admin/users?q=braga.ex").await;
    assert_eq!(found.text(".result-count"), "2 accounts");
    assert_eq!(emails(&found), ["cy@braga.example", "ana@braga.example"]);
    assert_eq!(found.attr("#users-q", "value"), "braga.ex");
    let found = rita.get("/admin/users?q=%20BO%40Porto%20").await;
    assert_eq!(emails(&found), ["bo@porto.example"]);
    assert_eq!(found.text(".result-count"), "1 account");
    assert_eq!(
        found.attr("table.users tbody tr a", "href"),
        format!(
            "/admin/users/{}",
            stored_account(&app, "bo@porto.example").id
        )
    );

    // Wildcards are only characters to look for.
    for q in ["%25", "_", "%5C"] {
        let none = rita.get(&format!("/admin/users?q={q}")).await;
        assert_eq!(none.text(".result-count"), "0 accounts", "{q}");
    }

    let hostile = r#""><script>alert(1)</script>"#;
    let path = format!(
        "/admin/users?{}",
        serde_urlencoded::to_string([("q", hostile)]).unwrap()
    );
    let res = rita.get(&path).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.text(".result-count"), "0 accounts");
    assert_eq!(res.attr("#users-q", "value"), hostile);
    assert!(!res.body.contains("<script>alert"), "{}", res.body);
    let html = res.html();
    let scripts = Selector::parse("script").unwrap();
    assert!(
        html.select(&scripts)
            .all(|s| !s.text().collect::<String>().contains("alert")),
    );
}
