//! Signing in (with its throttle, in `auth::throttle`) and out.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{client_address, safe_next, see_other, signed_in};
use crate::auth::session::{SESSION_COOKIE, removal};
use crate::auth::throttle::{BUSY_RETRY_AFTER, THROTTLE_WINDOW};
use crate::auth::{Checked, CsrfToken, MaybeViewer, NoFields};
use crate::error::AppError;
use crate::urlencoded::Query;
use crate::web::AppState;
use crate::workflows::accounts::{self, SignIn};

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
    let client = client_address(&req, state.trust_forwarded_for);
    let outcome = accounts::sign_in(
        &state,
        &form.email,
        form.password.clone(),
        &client,
        previous_session,
    )
    .await?;
    let (status, message, retry_after) = match outcome {
        SignIn::SignedIn(session) => return Ok(signed_in(&state, session.token, &form.next)),
        SignIn::Wrong => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "The email address or the password is wrong. Check both and try again.".to_owned(),
            None,
        ),
        SignIn::Throttled => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed attempts to sign in to this account or from your network. For your security, please wait {} minutes and try again.",
                THROTTLE_WINDOW.num_minutes()
            ),
            Some(THROTTLE_WINDOW.num_seconds()),
        ),
        SignIn::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Many sign-ins to this account or from your network are being checked at this moment. Please try again in {BUSY_RETRY_AFTER} seconds."
            ),
            Some(BUSY_RETRY_AFTER),
        ),
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
        state
            .db(move |conn| Ok(accounts::sign_out(conn, id)?))
            .await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, "/login?signed_out=1"))
        .cookie(removal(SESSION_COOKIE, state.secure_cookies))
        .finish())
}
