//! Signing up, signing in and out, and the account page. Each sits beside its template
//! in `templates/account/`: signing up in `signup`, signing in and out in `login`, the
//! account page (profile and password) here, with what they share.

pub mod login;
pub mod signup;

pub use login::*;
pub use signup::*;

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::session::{SESSION_COOKIE, SESSION_MAX_AGE, cookie};
use crate::auth::throttle::{self, BUSY_RETRY_AFTER, THROTTLE_WINDOW, Verdict};
use crate::auth::{Checked, Viewer, hash_password, verify_password};
use crate::domain::{DisplayName, FieldErrors, Organisation, Password};
use crate::error::AppError;
use crate::urlencoded::Query;
use crate::web::AppState;
use crate::workflows::{Actor, accounts};

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

/// The address failed sign-ins are counted against.
pub(super) fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> String {
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

/// The redirect after signing in or up, with the new session's cookie.
pub(super) fn signed_in(state: &AppState, token: String, next: &str) -> HttpResponse {
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
    let actor = Actor::from(&viewer);
    let now = state.clock.now();
    state
        .db(move |conn| {
            Ok(accounts::update_profile(
                conn,
                &actor,
                &name,
                &organisation,
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
    let (actor, session) = (Actor::from(&viewer), viewer.session_id);
    let now = state.clock.now();
    state
        .db(move |conn| {
            Ok(accounts::change_password(
                conn,
                &actor,
                &hash,
                Some(session),
                now,
            )?)
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
