//! Signing up, signing in and out, and the account page.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::TimeDelta;
use serde::Deserialize;

use crate::auth::session::{
    SESSION_COOKIE, SESSION_MAX_AGE, cookie, random_token, removal, token_hash,
};
use crate::auth::throttle::{self, BUSY_RETRY_AFTER, THROTTLE_WINDOW, Verdict};
use crate::auth::{
    Checked, CsrfToken, MaybeViewer, NoFields, Viewer, hash_password, verify_nothing,
    verify_password,
};
use crate::db::models::{Account, LoginFailure, NewAccount, Session, SignUp, is_unique_violation};
use crate::domain::{DisplayName, Email, FieldErrors, Organisation, Password};
use crate::error::AppError;
use crate::web::AppState;
use crate::web::urlencoded::Query;

/// Accounts one client address may make in [`SIGN_UP_WINDOW`]: a class signing up
/// together passes, a script making accounts in bulk does not.
pub const MAX_SIGN_UPS_PER_CLIENT: i64 = 10;
pub const SIGN_UP_WINDOW: TimeDelta = TimeDelta::hours(1);

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SignupForm {
    pub email: String,
    pub name: String,
    pub organisation: String,
    pub password: String,
    pub next: String,
}

#[derive(Template)]
#[template(path = "account/signup.html")]
pub struct SignupPage {
    pub section: &'static str,
    pub csrf: String,
    pub form: SignupForm,
    pub errors: FieldErrors,
    pub next: String,
    /// A refusal that is about no one field (too many sign-ups).
    pub refusal: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NextParam {
    pub next: Option<String>,
}

/// Where to go after signing in: a path on this site, never another site
/// (`//evil.example` and `/\evil.example` are other sites to a browser).
pub fn safe_next(next: &str) -> Option<String> {
    let next = next.trim();
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && next.len() <= 2_000;
    ok.then(|| next.to_owned())
}

pub async fn signup_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    params: Query<NextParam>,
) -> Result<HttpResponse, AppError> {
    if viewer.0.is_some() {
        return Ok(see_other("/my/events"));
    }
    let next = params
        .next
        .as_deref()
        .and_then(safe_next)
        .unwrap_or_default();
    let csrf = CsrfToken::for_page(&req, None, &state);
    let page = SignupPage {
        section: "account",
        csrf: csrf.value.clone(),
        form: SignupForm::default(),
        errors: FieldErrors::default(),
        next,
        refusal: None,
    };
    Ok(csrf.page(StatusCode::OK, page.render()?))
}

pub async fn signup(
    req: HttpRequest,
    state: web::Data<AppState>,
    posted: Checked<SignupForm>,
) -> Result<HttpResponse, AppError> {
    let form = posted.form;
    let mut errors = FieldErrors::default();
    let email = errors.check("email", Email::parse(&form.email));
    let name = errors.check("name", DisplayName::parse(&form.name));
    let organisation = errors.check("organisation", Organisation::parse(&form.organisation));
    let password = errors.check("password", Password::parse(&form.password));
    let next = safe_next(&form.next).unwrap_or_default();

    let retry = |errors: FieldErrors,
                 form: SignupForm,
                 refusal: Option<String>|
     -> Result<HttpResponse, AppError> {
        let csrf = CsrfToken::for_page(&req, None, &state);
        let status = if refusal.is_some() {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let page = SignupPage {
            section: "account",
            csrf: csrf.value.clone(),
            form: SignupForm {
                password: String::new(),
                ..form
            },
            errors,
            next: next.clone(),
            refusal,
        };
        Ok(csrf.page(status, page.render()?))
    };
    let (Some(email), Some(name), Some(organisation), Some(password)) =
        (email, name, organisation, password)
    else {
        return retry(errors, form, None);
    };

    let now = state.clock.now();
    let client = client_address(&req, state.trust_forwarded_for);
    let c = client.clone();
    let recent = state
        .db(move |conn| Ok(SignUp::count_since(conn, &c, now - SIGN_UP_WINDOW)?))
        .await?;
    if recent >= MAX_SIGN_UPS_PER_CLIENT {
        tracing::warn!(client = %client, "sign-up throttled");
        let refusal = "Too many accounts have been made from your network in the last hour. Please try again in an hour. Nothing was saved.".to_owned();
        return retry(errors, form, Some(refusal));
    }

    let hash = web::block(move || hash_password(&password)).await??;
    let token = random_token();
    let token_hashed = token_hash(&token);
    let inserted = state
        .db(move |conn| {
            let result = conn.immediate_transaction(|conn| {
                SignUp::record(conn, &client, now, now - SIGN_UP_WINDOW)?;
                let account = NewAccount {
                    email: email.as_str(),
                    display_name: name.as_str(),
                    organisation: organisation.as_str(),
                    password_hash: &hash,
                    is_admin: false,
                    is_trusted: false,
                    created_at: now.naive_utc(),
                    updated_at: now.naive_utc(),
                }
                .insert(conn)?;
                Session::create(conn, account.id, &token_hashed, &random_token(), now)?;
                Ok::<_, diesel::result::Error>(account)
            });
            match result {
                Ok(account) => Ok(Some(account)),
                Err(e) if is_unique_violation(&e) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    match inserted {
        Some(account) => {
            tracing::info!(account = account.id, "organiser signed up");
            Ok(signed_in(&state, token, next.as_str()))
        }
        None => {
            errors.add(
                "email",
                "An account with this email address already exists. Sign in instead.",
            );
            retry(errors, form, None)
        }
    }
}

/// The redirect after signing in or up, with the new session's cookie.
fn signed_in(state: &AppState, token: String, next: &str) -> HttpResponse {
    let target = safe_next(next).unwrap_or_else(|| "/my/events".to_owned());
    HttpResponse::SeeOther()
        .insert_header((LOCATION, target))
        .cookie(cookie(
            SESSION_COOKIE,
            token,
            state.secure_cookies,
            SESSION_MAX_AGE,
        ))
        .finish()
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location.to_owned()))
        .finish()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    pub email: String,
    pub password: String,
    pub next: String,
}

#[derive(Template)]
#[template(path = "account/login.html")]
pub struct LoginPage {
    pub section: &'static str,
    pub csrf: String,
    pub email: String,
    pub next: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LoginParams {
    pub next: Option<String>,
    pub signed_out: Option<String>,
}

pub async fn login_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    params: Query<LoginParams>,
) -> Result<HttpResponse, AppError> {
    let next = params
        .next
        .as_deref()
        .and_then(safe_next)
        .unwrap_or_default();
    if viewer.0.is_some() {
        return Ok(see_other(if next.is_empty() {
            "/my/events"
        } else {
            &next
        }));
    }
    let csrf = CsrfToken::for_page(&req, None, &state);
    let notice = if params.signed_out.is_some() {
        Some("You have signed out.".to_owned())
    } else if !next.is_empty() {
        Some("Please sign in to continue.".to_owned())
    } else {
        None
    };
    let page = LoginPage {
        section: "account",
        csrf: csrf.value.clone(),
        email: String::new(),
        next,
        error: None,
        notice,
    };
    Ok(csrf.page(StatusCode::OK, page.render()?))
}

/// The address failed sign-ins are counted against.
fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for
        && let Some(last) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    {
        return last.chars().take(64).collect();
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    posted: Checked<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = posted.form;
    let previous_session = posted.viewer.map(|v| v.session_id);
    // Counted by what was typed, valid address or not, so that the count cannot tell
    // which emails have accounts.
    let key: String = form.email.trim().to_lowercase().chars().take(254).collect();
    let client = client_address(&req, state.trust_forwarded_for);
    let now = state.clock.now();

    let k = key.clone();
    let account = state
        .db(move |conn| match Account::find_by_email(conn, &k) {
            Ok(a) => Ok(Some(a)),
            Err(diesel::result::Error::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        })
        .await?;
    let password = form.password.clone();
    let verdict = throttle::check_password(&state, &key, &client, move || match &account {
        Some(a) if password.chars().count() <= Password::MAX_CHARS => {
            verify_password(&a.password_hash, &password).then_some(a.id)
        }
        _ => {
            verify_nothing(&password);
            None
        }
    })
    .await?;

    let (status, message, retry_after) = match verdict {
        Verdict::Right(account_id) => {
            let token = random_token();
            let hashed = token_hash(&token);
            let idle = state.session_idle;
            state
                .db(move |conn| {
                    conn.immediate_transaction(|conn| {
                        // A new session at every sign-in; the browser's old one goes, and
                        // so do sessions and failures nobody will use again.
                        if let Some(old) = previous_session {
                            Session::delete(conn, old)?;
                        }
                        Session::create(conn, account_id, &hashed, &random_token(), now)?;
                        LoginFailure::purge(conn, now - THROTTLE_WINDOW * 4)?;
                        Session::purge(conn, now - idle, now - SESSION_MAX_AGE).map(|_| ())
                    })?;
                    Ok(())
                })
                .await?;
            tracing::info!("organiser signed in");
            return Ok(signed_in(&state, token, &form.next));
        }
        Verdict::Wrong => {
            tracing::info!(client = %client, "failed sign-in");
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "The email address or the password is wrong. Check both and try again.".to_owned(),
                None,
            )
        }
        Verdict::Throttled => {
            tracing::warn!(client = %client, "sign-in throttled");
            (
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many failed attempts to sign in to this account or from your network. For your security, please wait {} minutes and try again.",
                    THROTTLE_WINDOW.num_minutes()
                ),
                Some(THROTTLE_WINDOW.num_seconds()),
            )
        }
        Verdict::Busy => {
            tracing::warn!(client = %client, "sign-in waited too long for a check");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "Many sign-ins to this account or from your network are being checked at this moment. Please try again in {BUSY_RETRY_AFTER} seconds."
                ),
                Some(BUSY_RETRY_AFTER),
            )
        }
    };
    let csrf = CsrfToken::for_page(&req, None, &state);
    let page = LoginPage {
        section: "account",
        csrf: csrf.value.clone(),
        email: form.email.chars().take(254).collect(),
        next: safe_next(&form.next).unwrap_or_default(),
        error: Some(message),
        notice: None,
    };
    let mut response = csrf.page(status, page.render()?);
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(seconds),
        );
    }
    Ok(response)
}

pub async fn logout(
    state: web::Data<AppState>,
    posted: Checked<NoFields>,
) -> Result<HttpResponse, AppError> {
    if let Some(viewer) = posted.viewer {
        let id = viewer.session_id;
        state.db(move |conn| Ok(Session::delete(conn, id)?)).await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, "/login?signed_out=1"))
        .cookie(removal(SESSION_COOKIE, state.secure_cookies))
        .finish())
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProfileForm {
    pub name: String,
    pub organisation: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Template)]
#[template(path = "account/show.html")]
pub struct AccountPage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub profile: ProfileForm,
    pub profile_errors: FieldErrors,
    pub password_errors: FieldErrors,
    pub notice: Option<String>,
}

impl AccountPage {
    fn new(viewer: Viewer) -> AccountPage {
        AccountPage {
            section: "account",
            csrf: viewer.csrf_token.clone(),
            profile: ProfileForm {
                name: viewer.account.display_name.clone(),
                organisation: viewer.account.organisation.clone(),
            },
            viewer,
            profile_errors: FieldErrors::default(),
            password_errors: FieldErrors::default(),
            notice: None,
        }
    }

    fn roles_text(&self) -> String {
        let roles = &self.viewer.roles;
        let mut parts = vec![if roles.trusted {
            "Trusted organiser (your events are published at once)".to_owned()
        } else {
            "Organiser (a moderator reviews your events)".to_owned()
        }];
        for role in &roles.moderator {
            parts.push(match &role.city_name {
                Some(city) => format!("Moderator for {city}"),
                None => "Moderator for the whole network".to_owned(),
            });
        }
        if roles.admin {
            parts.push("Admin".to_owned());
        }
        parts.join("; ")
    }

    fn respond(self, status: StatusCode) -> Result<HttpResponse, AppError> {
        Ok(no_store(status, self.render()?))
    }
}

/// A page for one signed-in person: never kept by a shared cache.
pub fn no_store(status: StatusCode, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(actix_web::http::header::ContentType::html())
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(html)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SavedParam {
    pub saved: Option<String>,
}

pub async fn show_account(
    viewer: Viewer,
    params: Query<SavedParam>,
) -> Result<HttpResponse, AppError> {
    let mut page = AccountPage::new(viewer);
    page.notice = match params.saved.as_deref() {
        Some("profile") => Some("Your name and organisation are saved.".to_owned()),
        Some("password") => Some(
            "Your password is changed. Every other browser signed in to this account has been signed out."
                .to_owned(),
        ),
        _ => None,
    };
    page.respond(StatusCode::OK)
}

pub async fn update_profile(
    state: web::Data<AppState>,
    posted: Checked<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let (viewer, form) = posted.signed_in()?;
    let mut errors = FieldErrors::default();
    let name = errors.check("name", DisplayName::parse(&form.name));
    let organisation = errors.check("organisation", Organisation::parse(&form.organisation));
    let (Some(name), Some(organisation)) = (name, organisation) else {
        let mut page = AccountPage::new(viewer);
        page.profile = form;
        page.profile_errors = errors;
        return page.respond(StatusCode::UNPROCESSABLE_ENTITY);
    };
    let id = viewer.account.id;
    let now = state.clock.now();
    state
        .db(move |conn| {
            Ok(Account::update_profile(
                conn,
                id,
                name.as_str(),
                organisation.as_str(),
                now,
            )?)
        })
        .await?;
    Ok(see_other("/account?saved=profile"))
}

pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    posted: Checked<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let (viewer, form) = posted.signed_in()?;
    let mut errors = FieldErrors::default();
    // Guesses at the current password count against the same limits as sign-in, so a
    // stolen session cannot be used to find the password.
    let client = client_address(&req, state.trust_forwarded_for);
    let stored = viewer.account.password_hash.clone();
    let current = form.current_password.clone();
    let verdict = throttle::check_password(&state, &viewer.account.email, &client, move || {
        (current.chars().count() <= Password::MAX_CHARS && verify_password(&stored, &current))
            .then_some(())
    })
    .await?;
    let refusal = match verdict {
        Verdict::Right(()) => None,
        Verdict::Wrong => {
            errors.add("current_password", "This is not your current password.");
            None
        }
        Verdict::Throttled => Some((
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many wrong passwords for this account. For your security, please wait {} minutes and try again.",
                THROTTLE_WINDOW.num_minutes()
            ),
        )),
        Verdict::Busy => Some((
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Many passwords for this account are being checked at this moment. Please try again in {BUSY_RETRY_AFTER} seconds."
            ),
        )),
    };
    if let Some((status, message)) = refusal {
        errors.add("current_password", message);
        let mut page = AccountPage::new(viewer);
        page.password_errors = errors;
        return page.respond(status);
    }
    let new = errors.check("new_password", Password::parse(&form.new_password));
    let Some(new) = new.filter(|_| errors.is_empty()) else {
        let mut page = AccountPage::new(viewer);
        page.password_errors = errors;
        return page.respond(StatusCode::UNPROCESSABLE_ENTITY);
    };
    let hash = web::block(move || hash_password(&new)).await??;
    let (id, session) = (viewer.account.id, viewer.session_id);
    let now = state.clock.now();
    state
        .db(move |conn| {
            conn.immediate_transaction(|conn| {
                Account::update_password(conn, id, &hash, now)?;
                Session::delete_others(conn, id, Some(session))
            })?;
            Ok(())
        })
        .await?;
    Ok(see_other("/account?saved=password"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_followed_after_sign_in() {
        assert_eq!(safe_next("/events/new").as_deref(), Some("/events/new"));
        assert_eq!(
            safe_next("/events?city=braga&kind=festival").as_deref(),
            Some("/events?city=braga&kind=festival")
        );
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/a\r\nSet-Cookie: x=1",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }
}
