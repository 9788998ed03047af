//! `/account/tokens`: an organiser's personal API tokens, made, listed and revoked.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::account::{no_store, see_other};
use crate::auth::token::{self, MintedToken};
use crate::auth::{Checked, NoFields, Viewer};
use crate::db::models::{ApiToken, NewTokenError};
use crate::domain::{FieldErrors, TokenName};
use crate::error::AppError;
use crate::urlencoded::Query;
use crate::web::AppState;
use crate::web::params::canonical_id;

#[derive(Template)]
#[template(path = "account/tokens.html")]
pub struct TokensPage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub tokens: Vec<ApiToken>,
    /// The token just made, shown this once.
    pub minted: Option<(String, String)>,
    /// What was typed in the name field.
    pub token_name: String,
    pub errors: FieldErrors,
    pub notice: Option<String>,
}

impl TokensPage {
    async fn load(state: &AppState, viewer: Viewer) -> Result<TokensPage, AppError> {
        let account_id = viewer.account.id;
        let tokens = state
            .db(move |conn| Ok(ApiToken::for_account(conn, account_id)?))
            .await?;
        Ok(TokensPage {
            section: "tokens",
            csrf: viewer.csrf_token.clone(),
            viewer,
            tokens,
            minted: None,
            token_name: String::new(),
            errors: FieldErrors::default(),
            notice: None,
        })
    }

    fn respond(self, status: StatusCode) -> Result<HttpResponse, AppError> {
        Ok(no_store(status, self.render()?))
    }

    fn last_used(&self, token: &ApiToken) -> String {
        token
            .last_used_at
            .as_ref()
            .map_or_else(|| "Never".to_owned(), super::utc_text)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RevokedParam {
    pub revoked: Option<String>,
}

pub async fn list_tokens(
    state: web::Data<AppState>,
    viewer: Viewer,
    params: Query<RevokedParam>,
) -> Result<HttpResponse, AppError> {
    let mut page = TokensPage::load(&state, viewer).await?;
    if params.revoked.is_some() {
        page.notice =
            Some("The token was revoked: requests that bring it are refused from now on.".into());
    }
    page.respond(StatusCode::OK)
}

/// Makes a token and shows it once, on this response: it is not kept, so there is no
/// address to come back to it (and a redirect would have to carry it in a URL).
pub async fn create_token(
    state: web::Data<AppState>,
    posted: Checked<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let (viewer, form) = posted.signed_in()?;
    let mut errors = FieldErrors::default();
    let Some(name) = errors.check("name", TokenName::parse(&form.name)) else {
        let mut page = TokensPage::load(&state, viewer).await?;
        page.token_name = form.name;
        page.errors = errors;
        return page.respond(StatusCode::UNPROCESSABLE_ENTITY);
    };
    let account_id = viewer.account.id;
    let now = state.clock.now();
    let minted = state
        .db(
            move |conn| match token::mint(conn, account_id, &name, now) {
                Ok(minted) => Ok(Ok(minted)),
                Err(NewTokenError::TooMany) => Ok(Err(NewTokenError::TooMany.to_string())),
                Err(NewTokenError::Database(e)) => Err(e.into()),
            },
        )
        .await?;
    let mut page = TokensPage::load(&state, viewer).await?;
    match minted {
        Ok(MintedToken { token, secret }) => {
            page.minted = Some((token.name, secret));
            page.respond(StatusCode::OK)
        }
        Err(why) => {
            page.token_name = form.name;
            page.errors.add("name", crate::domain::sentence(&why));
            page.respond(StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

pub async fn revoke_token(
    state: web::Data<AppState>,
    id: web::Path<String>,
    posted: Checked<NoFields>,
) -> Result<HttpResponse, AppError> {
    let (viewer, _) = posted.signed_in()?;
    let not_yours = || AppError::not_found("You have no token at this address.");
    let id = canonical_id(&id).ok_or_else(not_yours)?;
    let account_id = viewer.account.id;
    let now = state.clock.now();
    // Someone else's token and a revoked one are alike: nothing of yours to revoke.
    let revoked = state
        .db(move |conn| Ok(ApiToken::revoke(conn, account_id, id, now)?))
        .await?;
    if revoked {
        Ok(see_other("/account/tokens?revoked=1"))
    } else {
        Err(not_yours())
    }
}
