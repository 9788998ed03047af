//! Signing up: the form, and the account it makes, limited per client address.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::TimeDelta;
use serde::Deserialize;

use super::{NextParam, client_address, safe_next, see_other, signed_in};
use crate::auth::session::{random_token, token_hash};
use crate::auth::{Checked, CsrfToken, MaybeViewer, hash_password};
use crate::db::models::{NewAccount, Session, SignUp, is_unique_violation};
use crate::domain::{DisplayName, Email, FieldErrors, Organisation, Password};
use crate::error::AppError;
use crate::urlencoded::Query;
use crate::web::AppState;

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
