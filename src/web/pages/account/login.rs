//! Signing in (with its throttle, in `auth::throttle`) and out.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{client_address, safe_next, see_other, signed_in};
use crate::auth::session::{SESSION_COOKIE, SESSION_MAX_AGE, random_token, removal, token_hash};
use crate::auth::throttle::{self, BUSY_RETRY_AFTER, THROTTLE_WINDOW, Verdict};
use crate::auth::{Checked, CsrfToken, MaybeViewer, NoFields, verify_nothing, verify_password};
use crate::db::models::{Account, LoginFailure, Session};
use crate::domain::Password;
use crate::error::AppError;
use crate::urlencoded::Query;
use crate::web::AppState;

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
