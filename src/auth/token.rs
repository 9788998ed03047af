//! Personal API tokens: how they are made, and who a request's `Authorization: Bearer`
//! names.
//!
//! A token is `cc_` and 32 random bytes in base64url. Only its SHA-256 is stored (the
//! same as session cookies): 256 random bits need no slow hash. A token is read only
//! from the `Authorization` header, never from a cookie, so a browser never sends one
//! on its own and a token needs no CSRF token.

use std::future::Future;
use std::pin::Pin;

use crate::db::DbConnection;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::{DateTime, Utc};

use super::session::{random_token, token_hash};
use crate::db::models::{Account, ApiToken, NewTokenError, Roles};
use crate::domain::TokenName;
use crate::error::AppError;
use crate::state::AppState;

/// What every token starts with, so that secret scanners and people recognise one.
pub const TOKEN_PREFIX: &str = "cc_";

/// How many characters of a token the account page shows ("cc_Xa3f…").
const SHOWN_CHARS: usize = 8;

/// A token just made: the only moment its text exists outside the client.
#[derive(Debug)]
pub struct MintedToken {
    pub token: ApiToken,
    /// Shown once, never stored.
    pub secret: String,
}

/// Makes a token named `name` for `account_id`.
pub fn mint(
    conn: &mut DbConnection,
    account_id: i32,
    name: &TokenName,
    now: DateTime<Utc>,
) -> Result<MintedToken, NewTokenError> {
    let secret = format!("{TOKEN_PREFIX}{}", random_token());
    let prefix: String = secret.chars().take(SHOWN_CHARS).collect();
    let token = ApiToken::create(
        conn,
        account_id,
        name.as_str(),
        &token_hash(&secret),
        &prefix,
        now,
    )?;
    Ok(MintedToken { token, secret })
}

/// `creative-calendar tokens create`: a token for the account with `email`.
pub fn create_for_email(
    conn: &mut DbConnection,
    email: &str,
    name: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<MintedToken> {
    let name = TokenName::parse(name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
    let email = crate::domain::Email::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let account = match Account::find_by_email(conn, email.as_str()) {
        Ok(account) => account,
        Err(diesel::result::Error::NotFound) => {
            anyhow::bail!("--email: no account has the email {}", email.as_str())
        }
        Err(e) => return Err(e.into()),
    };
    Ok(mint(conn, account.id, &name, now)?)
}

/// The token in an `Authorization` header value: `Bearer <token>`, the scheme in any
/// case (RFC 9110 11.1), one space or more.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim_start();
    (scheme.eq_ignore_ascii_case("bearer")
        && token.starts_with(TOKEN_PREFIX)
        && !token.contains(' '))
    .then_some(token)
}

/// The account a request's token belongs to, with its roles. Missing, malformed,
/// unknown and revoked tokens are all a 401 with `WWW-Authenticate: Bearer`.
#[derive(Debug, Clone)]
pub struct TokenBearer {
    pub account: Account,
    pub roles: Roles,
    pub token_id: i32,
}

impl TokenBearer {
    async fn load(req: &HttpRequest) -> Result<TokenBearer, AppError> {
        let value = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                AppError::Unauthorized(
                    "Send a personal API token as “Authorization: Bearer cc_…”; make one at /account/tokens.".into(),
                )
            })?;
        let token = bearer(value).ok_or_else(|| {
            AppError::Unauthorized(
                "The Authorization header must be “Bearer ” followed by a token that starts with cc_.".into(),
            )
        })?;
        let hash = token_hash(token);
        let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("the application state is missing"))
        })?;
        let now = state.clock.now();
        state
            .db(move |conn| match ApiToken::authenticate(conn, &hash, now) {
                Ok((token, account)) => Ok(TokenBearer {
                    roles: Roles::load(conn, &account)?,
                    account,
                    token_id: token.id,
                }),
                Err(diesel::result::Error::NotFound) => Err(AppError::Unauthorized(
                    "This token is not valid: it was revoked, or it never existed.".into(),
                )),
                Err(e) => Err(e.into()),
            })
            .await
    }
}

impl From<&TokenBearer> for crate::workflows::Actor {
    fn from(bearer: &TokenBearer) -> crate::workflows::Actor {
        crate::workflows::Actor {
            account: bearer.account.clone(),
            roles: bearer.roles.clone(),
        }
    }
}

/// A refusal is in the format of the address: JSON under `/api/`, where tokens are used.
impl FromRequest for TokenBearer {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            TokenBearer::load(&req)
                .await
                .map_err(|e| crate::error::in_format_of(&req, e))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bearer_token_of_ours_is_read_from_the_header() {
        assert_eq!(bearer("Bearer cc_abc"), Some("cc_abc"));
        assert_eq!(bearer("bearer   cc_abc"), Some("cc_abc"));
        assert_eq!(bearer("Basic cc_abc"), None);
        assert_eq!(bearer("Bearer abc"), None);
        assert_eq!(bearer("Bearer cc_a b"), None);
        assert_eq!(bearer("cc_abc"), None);
        assert_eq!(bearer(""), None);
    }
}
