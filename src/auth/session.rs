//! Who is asking: the session cookie, the signed-in account and its roles, and the CSRF
//! token that every state-changing form must carry.
//!
//! * The session cookie holds 32 random bytes; the database keeps only their SHA-256, so
//!   a copy of the database signs nobody in. A new session is made at every sign-in (the
//!   old one, if any, is dropped), so a token planted before sign-in is worthless after.
//! * A signed-in form's CSRF token is the session's own, random and stored beside it.
//! * Before sign-in (the sign-up and sign-in forms) there is no session. The token is
//!   then 32 random bytes and their HMAC-SHA256 under the site's secret key
//!   (`random.mac`), in a cookie of its own that the form must repeat. Both must match,
//!   and the MAC must verify: a cookie that matches its form is not enough, because
//!   whoever can plant a cookie (a sibling subdomain, a man in the middle of plain http)
//!   could otherwise pair any value they like with a forged form. Only a token one of
//!   the site's servers issued passes, on any server that shares the key. (A token the
//!   attacker was issued and then plants still passes: docs/accounts.md says what would
//!   stop that.)
//! * Both cookies are `HttpOnly` and `SameSite=Lax`, and `Secure` when the site's public
//!   address is https.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::auth::SecretKey;
use crate::db::models::{Account, Roles, Session};
use crate::error::AppError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "cc_session";
pub const CSRF_COOKIE: &str = "cc_csrf";

/// How long a session lives at most, however active: a stolen cookie stops working.
pub const SESSION_MAX_AGE: TimeDelta = TimeDelta::days(30);
/// A session is refreshed in the database at most this often, not on every request.
const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(5);

/// A signed-in account, its roles and its session.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub account: Account,
    pub roles: Roles,
    pub session_id: i32,
    pub csrf_token: String,
}

impl From<&Viewer> for crate::workflows::Actor {
    fn from(viewer: &Viewer) -> crate::workflows::Actor {
        crate::workflows::Actor {
            account: viewer.account.clone(),
            roles: viewer.roles.clone(),
        }
    }
}

/// The signed-in account, if there is one. Never fails: an unknown or expired cookie is
/// simply nobody.
#[derive(Debug, Clone)]
pub struct MaybeViewer(pub Option<Viewer>);

/// 32 random bytes, URL-safe base64.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The operating system's generator: these tokens are secrets.
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database stores of a session token.
pub fn token_hash(token: &str) -> String {
    crate::domain::hex(&Sha256::digest(token.as_bytes()))
}

/// Compares in time that does not depend on where the first difference is.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && !a.is_empty()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A cookie with the site's flags.
pub fn cookie(
    name: &'static str,
    value: String,
    secure: bool,
    max_age: TimeDelta,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(time::Duration::seconds(max_age.num_seconds()))
        .finish()
}

/// A cookie that tells the browser to forget `name`.
pub fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    let mut c = cookie(name, String::new(), secure, TimeDelta::zero());
    c.make_removal();
    c
}

impl MaybeViewer {
    async fn load(req: &HttpRequest) -> Result<MaybeViewer, AppError> {
        if let Some(cached) = req.extensions().get::<MaybeViewer>() {
            return Ok(cached.clone());
        }
        let viewer = match req.cookie(SESSION_COOKIE) {
            None => None,
            Some(c) => {
                let state = state(req)?;
                let hash = token_hash(c.value());
                let now = state.clock.now();
                let idle = state.session_idle;
                state
                    .db(move |conn| Ok(find_session(conn, &hash, now, idle)?))
                    .await?
            }
        };
        let found = MaybeViewer(viewer);
        req.extensions_mut().insert(found.clone());
        Ok(found)
    }
}

fn find_session(
    conn: &mut crate::db::DbConnection,
    hash: &str,
    now: DateTime<Utc>,
    idle: TimeDelta,
) -> diesel::QueryResult<Option<Viewer>> {
    let (session, account) = match Session::find_by_token_hash(conn, hash) {
        Ok(found) => found,
        Err(diesel::result::Error::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let last_seen = session.last_seen_at.and_utc();
    if now - last_seen > idle || now - session.created_at.and_utc() > SESSION_MAX_AGE {
        // Over either way; a database that cannot write keeps the row for later.
        if let Err(e) = Session::delete(conn, session.id)
            && crate::db::StorageFailure::of(&e).is_none()
        {
            return Err(e);
        }
        return Ok(None);
    }
    // Refreshed often enough that a session in use never looks idle, even when the
    // idle limit is shorter than TOUCH_EVERY (it can be set as low as a minute).
    if now - last_seen > TOUCH_EVERY.min(idle / 2) {
        // A database that cannot write still lets a signed-in organiser read; the touch
        // is tried again at their next request.
        if let Err(e) = Session::touch(conn, session.id, now) {
            match crate::db::StorageFailure::of(&e) {
                Some(failure) => tracing::warn!(%failure, "could not refresh a session"),
                None => return Err(e),
            }
        }
    }
    let roles = Roles::load(conn, &account)?;
    Ok(Some(Viewer {
        account,
        roles,
        session_id: session.id,
        csrf_token: session.csrf_token,
    }))
}

fn state(req: &HttpRequest) -> Result<&web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the application state is missing")))
}

/// The path and query of the request, to come back to after signing in.
fn here(req: &HttpRequest) -> String {
    match req.uri().path_and_query() {
        Some(pq) => pq.as_str().to_owned(),
        None => req.path().to_owned(),
    }
}

impl FromRequest for MaybeViewer {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { MaybeViewer::load(&req).await })
    }
}

/// A page or action for signed-in people: anyone else is sent to sign in.
impl FromRequest for Viewer {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            MaybeViewer::load(&req).await?.0.ok_or_else(|| {
                let next = if req.method() == actix_web::http::Method::GET {
                    here(&req)
                } else {
                    req.headers()
                        .get(header::REFERER)
                        .and_then(|r| r.to_str().ok())
                        .and_then(local_path)
                        .unwrap_or_else(|| "/my/events".to_owned())
                };
                AppError::LoginRequired { next }
            })
        })
    }
}

/// The path and query of a Referer, to return to after signing in; `None` when it is
/// not a URL. Whose site it names does not matter: only the path is kept, and sign-in
/// checks it again (`safe_next`).
fn local_path(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let path = parsed.path();
    let mut out = path.to_owned();
    if let Some(q) = parsed.query() {
        out.push('?');
        out.push_str(q);
    }
    Some(out)
}

/// The token a page's forms carry, and the cookie to set when a visitor who is not
/// signed in has none yet.
#[derive(Debug, Clone)]
pub struct CsrfToken {
    pub value: String,
    cookie: Option<Cookie<'static>>,
}

/// What the MAC of a pre-sign-in token is made for (see [`SecretKey::sign`]).
const PRE_SIGN_IN: &str = "csrf-pre-signin";

/// A new pre-sign-in token: `random.mac`, both base64url.
fn issue_pre_sign_in_token(key: &SecretKey) -> String {
    let random = random_token();
    let mac = URL_SAFE_NO_PAD.encode(key.sign(PRE_SIGN_IN, &random));
    format!("{random}.{mac}")
}

/// Whether `token` is one that a server with `key` issued.
fn is_issued_pre_sign_in_token(key: &SecretKey, token: &str) -> bool {
    let Some((random, mac)) = token.split_once('.') else {
        return false;
    };
    match URL_SAFE_NO_PAD.decode(mac) {
        Ok(mac) => key.verify(PRE_SIGN_IN, random, &mac),
        Err(_) => false,
    }
}

impl CsrfToken {
    pub fn for_page(req: &HttpRequest, viewer: Option<&Viewer>, state: &AppState) -> CsrfToken {
        if let Some(viewer) = viewer {
            return CsrfToken {
                value: viewer.csrf_token.clone(),
                cookie: None,
            };
        }
        // A cookie this site did not issue (planted, or made with another key) is
        // replaced, so that the visitor's form works.
        let issued = req
            .cookie(CSRF_COOKIE)
            .filter(|c| is_issued_pre_sign_in_token(&state.secret_key, c.value()));
        match issued {
            Some(c) => CsrfToken {
                value: c.value().to_owned(),
                cookie: None,
            },
            None => {
                let value = issue_pre_sign_in_token(&state.secret_key);
                CsrfToken {
                    cookie: Some(cookie(
                        CSRF_COOKIE,
                        value.clone(),
                        state.secure_cookies,
                        TimeDelta::days(1),
                    )),
                    value,
                }
            }
        }
    }

    /// A page with forms: never stored by a shared cache (it carries this visitor's
    /// token), and with the token's cookie when it is new.
    pub fn page(self, status: actix_web::http::StatusCode, html: String) -> HttpResponse {
        let mut response = HttpResponse::build(status);
        response
            .content_type(header::ContentType::html())
            .insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(c) = self.cookie {
            response.cookie(c);
        }
        response.body(html)
    }
}

/// A posted form whose `csrf_token` matched: the only way handlers read a form that
/// changes anything. A missing or wrong token is a 403 before the handler runs.
pub struct Checked<T> {
    pub viewer: Option<Viewer>,
    pub form: T,
}

impl<T> Checked<T> {
    /// The signed-in viewer; a form posted by nobody is sent to sign in.
    pub fn signed_in(self) -> Result<(Viewer, T), AppError> {
        match self.viewer {
            Some(v) => Ok((v, self.form)),
            None => Err(AppError::LoginRequired {
                next: "/my/events".to_owned(),
            }),
        }
    }
}

#[derive(Deserialize)]
struct Posted<T> {
    #[serde(default)]
    csrf_token: String,
    #[serde(flatten)]
    form: T,
}

/// A form with no fields but its token (sign out, approve).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NoFields {}

pub const CSRF_FAILED: &str = "This form has expired or did not come from this site, so nothing was changed. Go back, reload the page and try again.";

/// Whether a form post may have come from one of our pages, by its `Origin`. Every
/// current browser sends `Origin` with a form POST; a page on another site (a sibling
/// subdomain included) cannot forge it. This stops what the token alone cannot: a real
/// pre-sign-in token that an attacker fetched and planted in a victim's browser. Without
/// the header (older browsers, curl) or with `null` (privacy modes), the token decides
/// alone. Our origin is the public URL's, or the `Host` the request was sent to, so that
/// a server reached by another name (a test, a proxy that keeps `Host`) still works.
fn from_this_site(req: &HttpRequest, public_url: &str) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
    else {
        return true;
    };
    if origin == "null" {
        return true;
    }
    let Ok(origin) = url::Url::parse(origin) else {
        return false;
    };
    let ours = url::Url::parse(public_url).map(|u| u.origin());
    if ours.is_ok_and(|o| o == origin.origin()) {
        return true;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let origin_host = match (origin.host_str(), origin.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => return false,
    };
    host.is_some_and(|h| h.eq_ignore_ascii_case(&origin_host))
}

impl<T: DeserializeOwned + 'static> FromRequest for Checked<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = crate::urlencoded::read_form::<Posted<T>>(&req, payload);
        Box::pin(async move {
            if !from_this_site(&req, &state(&req)?.public_url) {
                return Err(AppError::forbidden(CSRF_FAILED));
            }
            let posted = body.await?;
            let viewer = check_csrf(&req, &posted.csrf_token).await?;
            Ok(Checked {
                viewer,
                form: posted.form,
            })
        })
    }
}

/// The viewer of a form post whose `csrf_token` is `token`, once the token (and the
/// `Origin`) show that it came from one of our pages; a 403 otherwise. [`Checked`] does
/// this for urlencoded forms; the upload form (multipart) calls it itself.
pub async fn check_csrf(req: &HttpRequest, token: &str) -> Result<Option<Viewer>, AppError> {
    if !from_this_site(req, &state(req)?.public_url) {
        return Err(AppError::forbidden(CSRF_FAILED));
    }
    let viewer = MaybeViewer::load(req).await?.0;
    let expected = match &viewer {
        Some(v) => Some(v.csrf_token.clone()),
        None => {
            let key = &state(req)?.secret_key;
            req.cookie(CSRF_COOKIE)
                .map(|c| c.value().to_owned())
                .filter(|token| is_issued_pre_sign_in_token(key, token))
        }
    };
    match expected {
        Some(expected) if same_token(&expected, token) => Ok(viewer),
        _ => Err(AppError::forbidden(CSRF_FAILED)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn only_pre_sign_in_tokens_issued_with_the_key_are_recognised() {
        let key = SecretKey::parse(&"k".repeat(32)).unwrap();
        let token = issue_pre_sign_in_token(&key);
        assert_eq!(token.len(), 43 + 1 + 43);
        assert!(is_issued_pre_sign_in_token(&key, &token));
        assert_ne!(token, issue_pre_sign_in_token(&key));

        let other = SecretKey::parse(&"o".repeat(32)).unwrap();
        assert!(!is_issued_pre_sign_in_token(&other, &token));
        let (random, _) = token.split_once('.').unwrap();
        for forged in [
            "x",
            "",
            ".",
            random,
            &format!("{random}."),
            &format!("{random}.{random}"),
            &format!("{random}x.{}", token.split_once('.').unwrap().1),
            &format!("{token}="),
        ] {
            assert!(!is_issued_pre_sign_in_token(&key, forged), "{forged:?}");
        }
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert!(!same_token("", ""));
    }
}
