//! Signing up: the form, and the account it makes, limited per client address.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{NextParam, client_address, safe_next, see_other, signed_in};
use crate::auth::{Checked, CsrfToken, MaybeViewer, hash_password};
use crate::domain::FieldErrors;
use crate::error::AppError;
use crate::urlencoded::Query;
use crate::web::AppState;
use crate::workflows::WorkflowError;
use crate::workflows::accounts::{self, AccountDetails};

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

    let (details, password) = match AccountDetails::parse_new(
        &form.email,
        &form.name,
        &form.organisation,
        &form.password,
    ) {
        Ok(parsed) => parsed,
        Err(errors) => return retry(errors, form, None),
    };

    let now = state.clock.now();
    let client = client_address(&req, state.trust_forwarded_for);
    let c = client.clone();
    // Asked before hashing, so that a refused sign-up costs no Argon2id.
    let allowed = state
        .db(move |conn| Ok(accounts::may_sign_up(conn, &c, now)))
        .await?;
    let hash = match allowed {
        Ok(()) => web::block(move || hash_password(&password)).await??,
        Err(e) => return refused(e, form, retry),
    };
    let made = state
        .db(move |conn| Ok(accounts::sign_up(conn, &details, &hash, &client, now)))
        .await?;
    match made {
        Ok(session) => Ok(signed_in(&state, session.token, next.as_str())),
        Err(e) => refused(e, form, retry),
    }
}

/// The form again with why the sign-up was refused.
fn refused(
    e: WorkflowError,
    form: SignupForm,
    retry: impl FnOnce(FieldErrors, SignupForm, Option<String>) -> Result<HttpResponse, AppError>,
) -> Result<HttpResponse, AppError> {
    match e {
        WorkflowError::Invalid(errors) => retry(errors, form, None),
        WorkflowError::Throttled { message, .. } => {
            retry(FieldErrors::default(), form, Some(message))
        }
        other => Err(other.into()),
    }
}
