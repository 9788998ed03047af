//! Every state change of the calendar, as one plain function per change: submitting,
//! editing, cancelling and deleting events, moderating them, and granting roles.
//!
//! The HTML pages, the JSON API and the command line are doors into these rules. Each
//! function takes a connection, the acting account ([`Actor`]) and domain values; it
//! checks the permission, owns its transaction, raises `SEQUENCE` where a calendar sees
//! the change, writes the moderation log, and answers with a domain value or a
//! [`WorkflowError`] that each door turns into its own format. Nothing here knows of
//! HTTP, cookies or templates.

pub mod accounts;
pub mod events;
pub mod moderation;
pub mod roles;
pub mod sources;

use crate::db::DbConnection;

use crate::db::models::{Account, EventChangeError, Roles};
use crate::domain::FieldErrors;

/// The account a change is made by, with what it may do. Doors build it from whatever
/// proved who is asking (a session cookie, an API token, the command line).
#[derive(Debug, Clone)]
pub struct Actor {
    pub account: Account,
    pub roles: Roles,
}

impl Actor {
    /// The actor for account `id`, with its roles as they are now.
    pub fn load(conn: &mut DbConnection, id: i32) -> Result<Actor, WorkflowError> {
        let account = Account::find(conn, id)?;
        let roles = Roles::load(conn, &account)?;
        Ok(Actor { account, roles })
    }

    pub fn id(&self) -> i32 {
        self.account.id
    }
}

/// Why a workflow refused, in terms each door can render: a 404, a 403, a 409 or a 422.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// Nothing the actor may know of: a missing id, or a hidden event of someone else,
    /// which must be answered exactly as a missing one is.
    #[error("{0}")]
    NotFound(String),
    /// The actor can see the thing but may not change it.
    #[error("{0}")]
    Forbidden(String),
    /// The change contradicts the state of the thing (deleting a published event).
    #[error("{0}")]
    Conflict(String),
    /// The input is wrong; every error, by field.
    #[error("the input is not valid")]
    Invalid(FieldErrors),
    /// Too many of these from one client or for one account; try again later.
    #[error("{message}")]
    Throttled { message: String, retry_after: i64 },
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    /// Not the input's fault (hashing a password failed).
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl WorkflowError {
    /// One field's error.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> WorkflowError {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        WorkflowError::Invalid(errors)
    }
}

/// A change to an event that its own checks refuse. The workflows check schedules before
/// they change anything, so reaching this means the stored event and the input disagree:
/// a conflict, not the visitor's input.
impl From<EventChangeError> for WorkflowError {
    fn from(e: EventChangeError) -> WorkflowError {
        match e {
            EventChangeError::Schedule(e) => WorkflowError::Conflict(e.to_string()),
            EventChangeError::Database(e) => WorkflowError::Database(e),
        }
    }
}
