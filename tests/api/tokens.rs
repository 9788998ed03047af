//! Personal API tokens: made at /account/tokens or with `tokens create`, shown once,
//! kept as a hash, listed with their last use, revoked one by one.

use creative_calendar::db::models::{Account, ApiToken};

use crate::helpers::*;

fn tokens_of(app: &TestApp, email: &str) -> Vec<ApiToken> {
    let mut conn = app.pool.get().unwrap();
    let account = Account::find_by_email(&mut conn, email).unwrap();
    ApiToken::for_account(&mut conn, account.id).unwrap()
}

fn sha256_hex(text: &str) -> String {
    creative_calendar::auth::session::token_hash(text)
}

#[actix_web::test]
async fn a_token_is_shown_once_and_kept_only_as_a_hash() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let page = ana.get("/account/tokens").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.text("h1"), "API tokens");
    assert!(page.body.contains("You have no tokens yet."));
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));

    let made = ana
        .submit(
            "/account/tokens",
            "/account/tokens",
            &[("name", "Festival website")],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert_eq!(made.header("cache-control").as_deref(), Some("no-store"));
    let secret = made.attr("#new-token", "value");
    assert!(secret.starts_with("cc_"), "{secret}");
    assert_eq!(secret.len(), 3 + 43);
    assert_eq!(made.texts("tbody tr").len(), 1);
    assert!(made.text("tbody tr").contains("Festival website"));
    assert!(made.text("tbody tr").contains("Never"));

    let stored = tokens_of(&app, "ana@braga.example");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].token_hash, sha256_hex(&secret));
    assert_eq!(stored[0].prefix, secret[..8]);
    // Nowhere else: the page shown again does not carry it.
    let again = ana.get("/account/tokens").await;
    assert!(!again.body.contains(&secret));
    assert!(again.body.contains(&stored[0].prefix));

    // Using it marks it used.
    {
        let mut conn = app.pool.get().unwrap();
        let (token, account) =
            ApiToken::authenticate(&mut conn, &sha256_hex(&secret), app.now).unwrap();
        assert_eq!(account.email, "ana@braga.example");
        assert_eq!(token.id, stored[0].id);
    }
    assert_eq!(
        tokens_of(&app, "ana@braga.example")[0].last_used_at,
        Some(app.now.naive_utc())
    );
    assert!(
        !ana.get("/account/tokens")
            .await
            .text("tbody tr")
            .contains("Never")
    );
}

#[actix_web::test]
async fn a_token_needs_a_name_and_an_account_holds_at_most_twenty() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let res = ana
        .submit("/account/tokens", "/account/tokens", &[("name", "  ")])
        .await;
    assert_eq!(res.status, 422);
    assert!(!res.text("#name-error").is_empty());
    let long = "n".repeat(101);
    let res = ana
        .submit("/account/tokens", "/account/tokens", &[("name", &long)])
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.attr("#f-name", "value"), long, "what was typed is kept");
    assert!(tokens_of(&app, "ana@braga.example").is_empty());

    for n in 0..20 {
        let name = format!("System {n}");
        let res = ana
            .submit("/account/tokens", "/account/tokens", &[("name", &name)])
            .await;
        assert_eq!(res.status, 200, "{n}");
    }
    let res = ana
        .submit(
            "/account/tokens",
            "/account/tokens",
            &[("name", "One more")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text("#name-error").contains("at most 20"));
    assert_eq!(tokens_of(&app, "ana@braga.example").len(), 20);
}

#[actix_web::test]
async fn a_token_is_revoked_by_its_owner_only_and_then_refused() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let made = ana
        .submit(
            "/account/tokens",
            "/account/tokens",
            &[("name", "Ticketing")],
        )
        .await;
    let secret = made.attr("#new-token", "value");
    let id = tokens_of(&app, "ana@braga.example")[0].id;
    let path = format!("/account/tokens/{id}/revoke");

    // Another organiser cannot revoke it, nor learn that it exists.
    let bob = app.organiser("bob@braga.example").await;
    let token = bob.csrf_token("/account/tokens").await;
    assert_eq!(bob.post(&path, &[("csrf_token", &token)]).await.status, 404);
    // Nor can a forged form, nor a GET.
    assert_eq!(
        ana.post(&path, &[("csrf_token", "forged")]).await.status,
        403
    );
    assert_eq!(ana.get(&path).await.status, 405);
    assert!(tokens_of(&app, "ana@braga.example")[0].revoked_at.is_none());

    let token = ana.csrf_token("/account/tokens").await;
    let res = ana.post(&path, &[("csrf_token", &token)]).await;
    assert_eq!(res.status, 303);
    assert_eq!(
        res.header("location").as_deref(),
        Some("/account/tokens?revoked=1")
    );
    let page = ana.get("/account/tokens?revoked=1").await;
    assert!(page.text(".notice").contains("revoked"));
    assert!(page.text("tbody tr").contains("Revoked"));
    assert_eq!(ana.post(&path, &[("csrf_token", &token)]).await.status, 404);

    let mut conn = app.pool.get().unwrap();
    assert!(ApiToken::authenticate(&mut conn, &sha256_hex(&secret), app.now).is_err());
}

#[test]
fn the_tokens_create_command_prints_the_token_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    {
        let pool = creative_calendar::db::connect(&db, 2).unwrap();
        let mut conn = pool.get().unwrap();
        creative_calendar::workflows::accounts::create_admin(
            &mut conn,
            "ana@braga.example",
            "Ana",
            "",
            "a long enough password",
            test_now(),
        )
        .unwrap();
    }
    let out = binary()
        .args([
            "tokens",
            "create",
            "--email",
            "Ana@Braga.example",
            "--name",
            "Site",
        ])
        .arg("--database")
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout:?}");
    assert!(lines[0].starts_with("cc_"));
    let pool = creative_calendar::db::connect(&db, 2).unwrap();
    let mut conn = pool.get().unwrap();
    let (token, _) = ApiToken::authenticate(&mut conn, &sha256_hex(lines[0]), test_now()).unwrap();
    assert_eq!(token.name, "Site");

    let out = binary()
        .args([
            "tokens",
            "create",
            "--email",
            "nobody@example.org",
            "--name",
            "Site",
        ])
        .arg("--database")
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no account has the email"));
}
