//! `creative-calendar admin create`: the first admin, made from the command line.

use anyhow::Context;
use chrono::{DateTime, Utc};
use diesel::SqliteConnection;

use crate::db::models::{Account, NewAccount};
use crate::domain::{DisplayName, Email, Organisation, Password};

/// What `create_admin` did.
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

/// Creates an admin with `password`, or makes the account with this email admin.
pub fn create_admin(
    conn: &mut SqliteConnection,
    email: &str,
    name: &str,
    organisation: &str,
    password: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<AdminCreated> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let name = DisplayName::parse(name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
    let organisation =
        Organisation::parse(organisation).map_err(|e| anyhow::anyhow!("--organisation: {e}"))?;
    match Account::find_by_email(conn, email.as_str()) {
        Ok(existing) => {
            Account::set_admin(conn, existing.id, true).context("making the account admin")?;
            return Ok(AdminCreated::Promoted(existing.id));
        }
        Err(diesel::result::Error::NotFound) => {}
        Err(e) => return Err(e).context("looking up the email"),
    }
    let password = Password::parse(password).map_err(|e| anyhow::anyhow!("password: {e}"))?;
    let hash = super::hash_password(&password)?;
    let account = NewAccount {
        email: email.as_str(),
        display_name: name.as_str(),
        organisation: organisation.as_str(),
        password_hash: &hash,
        is_admin: true,
        is_trusted: true,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    }
    .insert(conn)
    .context("creating the account")?;
    Ok(AdminCreated::New(account.id))
}
