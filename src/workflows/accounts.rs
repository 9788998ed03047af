//! Accounts: signing up, signing in, the profile and the password, and the first admin.
//!
//! Argon2id takes tens of milliseconds of one core on purpose, so it never runs inside a
//! transaction or while a connection is held: the doors parse with [`AccountDetails`],
//! hash on the blocking pool, and hand the hash to these functions. Checking a password
//! is the throttle's ([`crate::auth::throttle`]); [`sign_in`] puts the two together.

use crate::db::DbConnection;
use chrono::{DateTime, TimeDelta, Utc};

use super::{Actor, WorkflowError};
use crate::auth::session::{SESSION_MAX_AGE, random_token, token_hash};
use crate::auth::throttle::{self, THROTTLE_WINDOW, Verdict};
use crate::auth::{verify_nothing, verify_password};
use crate::db::models::{
    Account, LogEntry, LoginFailure, NewAccount, Session, SignUp, is_unique_violation,
};
use crate::domain::{DisplayName, Email, FieldErrors, ModerationAction, Organisation, Password};
use crate::error::AppError;
use crate::state::AppState;

/// Accounts one client address may make in [`SIGN_UP_WINDOW`]: a class signing up
/// together passes, a script making accounts in bulk does not.
pub const MAX_SIGN_UPS_PER_CLIENT: i64 = 10;
pub const SIGN_UP_WINDOW: TimeDelta = TimeDelta::hours(1);

/// What is said when an email address already has an account.
pub const EMAIL_TAKEN: &str = "An account with this email address already exists. Sign in instead.";

/// Who a new account is, parsed: the same rules for the sign-up form and for
/// `admin create`.
#[derive(Debug, Clone)]
pub struct AccountDetails {
    pub email: Email,
    pub name: DisplayName,
    pub organisation: Organisation,
}

impl AccountDetails {
    /// Every field checked, every error kept (by the form's names).
    pub fn parse(email: &str, name: &str, organisation: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let email = errors.check("email", Email::parse(email));
        let name = errors.check("name", DisplayName::parse(name));
        let organisation = errors.check("organisation", Organisation::parse(organisation));
        match (email, name, organisation) {
            (Some(email), Some(name), Some(organisation)) if errors.is_empty() => {
                Ok(AccountDetails {
                    email,
                    name,
                    organisation,
                })
            }
            _ => Err(errors),
        }
    }

    /// [`AccountDetails::parse`] and the new account's password, with every error of
    /// the four fields at once.
    pub fn parse_new(
        email: &str,
        name: &str,
        organisation: &str,
        password: &str,
    ) -> Result<(Self, Password), FieldErrors> {
        let details = AccountDetails::parse(email, name, organisation);
        let mut errors = details.as_ref().err().cloned().unwrap_or_default();
        let password = errors.check("password", Password::parse(password));
        match (details, password) {
            (Ok(details), Some(password)) => Ok((details, password)),
            _ => Err(errors),
        }
    }

    fn insert(
        &self,
        conn: &mut DbConnection,
        password_hash: &str,
        admin: bool,
        now: DateTime<Utc>,
    ) -> Result<Account, WorkflowError> {
        NewAccount {
            email: self.email.as_str(),
            display_name: self.name.as_str(),
            organisation: self.organisation.as_str(),
            password_hash,
            is_admin: admin,
            is_trusted: admin,
            created_at: now.naive_utc(),
            updated_at: now.naive_utc(),
        }
        .insert(conn)
        .map_err(|e| {
            if is_unique_violation(&e) {
                WorkflowError::invalid("email", EMAIL_TAKEN)
            } else {
                e.into()
            }
        })
    }
}

/// A session just opened: the token for the browser's cookie (only its hash is kept).
#[derive(Debug)]
pub struct NewSession {
    pub account_id: i32,
    pub token: String,
}

/// Opens a session for `account_id`, in a transaction of the caller's.
fn open_session(
    conn: &mut DbConnection,
    account_id: i32,
    now: DateTime<Utc>,
) -> Result<NewSession, WorkflowError> {
    let token = random_token();
    Session::create(conn, account_id, &token_hash(&token), &random_token(), now)?;
    Ok(NewSession { account_id, token })
}

/// Refuses when `client` has made its share of accounts in the last hour. [`sign_up`]
/// asks again in its transaction; a door asks first so as not to hash a password for an
/// account that will be refused.
pub fn may_sign_up(
    conn: &mut DbConnection,
    client: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    if SignUp::count_since(conn, client, now - SIGN_UP_WINDOW)? >= MAX_SIGN_UPS_PER_CLIENT {
        tracing::warn!(client = %client, "sign-up throttled");
        return Err(WorkflowError::Throttled {
            message: "Too many accounts have been made from your network in the last hour. Please try again in an hour. Nothing was saved.".to_owned(),
            retry_after: SIGN_UP_WINDOW.num_seconds(),
        });
    }
    Ok(())
}

/// Makes an organiser's account (neither trusted nor admin) from `client`, with the
/// Argon2id `password_hash`, and signs it in.
pub fn sign_up(
    conn: &mut DbConnection,
    details: &AccountDetails,
    password_hash: &str,
    client: &str,
    now: DateTime<Utc>,
) -> Result<NewSession, WorkflowError> {
    let session = conn.immediate_transaction(|conn| {
        may_sign_up(conn, client, now)?;
        SignUp::record(conn, client, now, now - SIGN_UP_WINDOW)?;
        let account = details.insert(conn, password_hash, false, now)?;
        open_session(conn, account.id, now)
    })?;
    tracing::info!(account = session.account_id, "organiser signed up");
    Ok(session)
}

/// What came of a sign-in.
#[derive(Debug)]
pub enum SignIn {
    SignedIn(NewSession),
    /// The address or the password is wrong (which, is not said).
    Wrong,
    /// Too many failures for the account or from the address.
    Throttled,
    /// The checks ahead of this one did not settle in time.
    Busy,
}

/// Signs in with `email` and `password` (as typed) from `client`, under the throttle.
/// A right password opens a new session and closes `previous_session` (the browser's
/// old one); it also forgets sessions and failures nobody will use again.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: String,
    client: &str,
    previous_session: Option<i32>,
) -> Result<SignIn, AppError> {
    // Counted by what was typed, valid address or not, so that the count cannot tell
    // which emails have accounts.
    let key: String = email.trim().to_lowercase().chars().take(254).collect();
    let now = state.clock.now();
    let k = key.clone();
    let account = state
        .db(move |conn| match Account::find_by_email(conn, &k) {
            Ok(a) => Ok(Some(a)),
            Err(diesel::result::Error::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        })
        .await?;
    let verdict = throttle::check_password(state, &key, client, move || match &account {
        Some(a) if password.chars().count() <= Password::MAX_CHARS => {
            verify_password(&a.password_hash, &password).then_some(a.id)
        }
        _ => {
            // As long as a real check, so that the time does not tell either.
            verify_nothing(&password);
            None
        }
    })
    .await?;
    Ok(match verdict {
        Verdict::Right(account_id) => {
            let idle = state.session_idle;
            let session = state
                .db(move |conn| {
                    Ok(conn.immediate_transaction(|conn| {
                        if let Some(old) = previous_session {
                            Session::delete(conn, old)?;
                        }
                        let session = open_session(conn, account_id, now)?;
                        LoginFailure::purge(conn, now - THROTTLE_WINDOW * 4)?;
                        Session::purge(conn, now - idle, now - SESSION_MAX_AGE)?;
                        Ok::<_, WorkflowError>(session)
                    })?)
                })
                .await?;
            tracing::info!("organiser signed in");
            SignIn::SignedIn(session)
        }
        Verdict::Wrong => {
            tracing::info!(client = %client, "failed sign-in");
            SignIn::Wrong
        }
        Verdict::Throttled => {
            tracing::warn!(client = %client, "sign-in throttled");
            SignIn::Throttled
        }
        Verdict::Busy => {
            tracing::warn!(client = %client, "sign-in waited too long for a check");
            SignIn::Busy
        }
    })
}

/// Signs out: the session is gone at once, on every server.
pub fn sign_out(conn: &mut DbConnection, session_id: i32) -> Result<(), WorkflowError> {
    Session::delete(conn, session_id)?;
    Ok(())
}

/// Changes the actor's own name and organisation.
pub fn update_profile(
    conn: &mut DbConnection,
    actor: &Actor,
    name: &DisplayName,
    organisation: &Organisation,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    Account::update_profile(conn, actor.id(), name.as_str(), organisation.as_str(), now)?;
    Ok(())
}

/// Sets the actor's password to `password_hash` (the current one was checked under the
/// throttle by the door) and signs out every other session of the account, keeping
/// `keep_session` (the browser that changed it), so that a stolen session ends too.
pub fn change_password(
    conn: &mut DbConnection,
    actor: &Actor,
    password_hash: &str,
    keep_session: Option<i32>,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    conn.immediate_transaction(|conn| {
        Account::update_password(conn, actor.id(), password_hash, now)?;
        Session::delete_others(conn, actor.id(), keep_session)?;
        Ok(())
    })
}

/// What [`create_admin`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminCreated {
    New(i32),
    /// The email already had an account: it is now admin; its password is unchanged.
    Promoted(i32),
}

impl std::fmt::Display for AdminCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminCreated::New(id) => write!(f, "created admin account {id}"),
            AdminCreated::Promoted(id) => write!(
                f,
                "account {id} already existed and is now admin (its password is unchanged)"
            ),
        }
    }
}

/// The first admin, from the command line (`admin create`): a new trusted admin with
/// `password`, or the account with this email made admin. Logged as a grant of admin by
/// [`COMMAND_LINE`].
pub fn create_admin(
    conn: &mut DbConnection,
    email: &str,
    name: &str,
    organisation: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<AdminCreated, WorkflowError> {
    // An existing account keeps its name and password: only the email must be right.
    let email = Email::parse(email).map_err(|e| WorkflowError::invalid("email", e.to_string()))?;
    let existing = match Account::find_by_email(conn, email.as_str()) {
        Ok(a) => Some(a),
        Err(diesel::result::Error::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let hash = match existing {
        Some(_) => None,
        None => {
            let (details, password) =
                AccountDetails::parse_new(email.as_str(), name, organisation, password)
                    .map_err(WorkflowError::Invalid)?;
            let hash = crate::auth::hash_password(&password).map_err(WorkflowError::Internal)?;
            Some((details, hash))
        }
    };
    conn.immediate_transaction(|conn| {
        let (account, made) = match hash {
            None => {
                let account = Account::find_by_email(conn, email.as_str())?;
                if account.is_admin {
                    return Ok(AdminCreated::Promoted(account.id));
                }
                Account::set_admin(conn, account.id, true)?;
                (account.clone(), AdminCreated::Promoted(account.id))
            }
            Some((details, hash)) => {
                let account = details.insert(conn, &hash, true, now)?;
                (account.clone(), AdminCreated::New(account.id))
            }
        };
        LogEntry::by_command_line(ModerationAction::GrantAdmin, &account, "admin create")
            .insert(conn, now)?;
        Ok(made)
    })
}
