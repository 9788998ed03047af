//! The admins' rules: who moderates which city, who is a trusted organiser, and who is
//! admin. Every change is written to the moderation log with who made it and why.

use crate::db::DbConnection;
use chrono::{DateTime, Utc};

use super::{Actor, WorkflowError};
use crate::db::models::{Account, City, LogEntry, ModeratorRole};
use crate::domain::{ModerationAction, clean_line};

/// The longest reason an admin may give; longer ones are cut, not refused.
pub const MAX_REASON_CHARS: usize = 1_000;

/// What is said of an account that does not exist.
pub const NO_ACCOUNT: &str = "There is no account at this address.";

/// Only admins get past this.
pub fn require_admin(actor: &Actor) -> Result<(), WorkflowError> {
    if actor.roles.admin {
        Ok(())
    } else {
        Err(WorkflowError::Forbidden(
            "Only admins can see this page.".to_owned(),
        ))
    }
}

/// Where a new moderator role applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModeratorScope {
    Network,
    /// The city with this slug.
    City(String),
}

/// A change to an account's roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleChange {
    GrantModerator(ModeratorScope),
    /// Removes the account's moderator role with this id; `None` when the door was given
    /// no role id it could read.
    RevokeModerator(Option<i32>),
    Trust,
    Distrust,
    GrantAdmin,
    RevokeAdmin,
}

impl RoleChange {
    /// How the change is written in the moderation log.
    pub fn action(&self) -> ModerationAction {
        match self {
            RoleChange::GrantModerator(_) => ModerationAction::GrantModerator,
            RoleChange::RevokeModerator(_) => ModerationAction::RevokeModerator,
            RoleChange::Trust => ModerationAction::Trust,
            RoleChange::Distrust => ModerationAction::Distrust,
            RoleChange::GrantAdmin => ModerationAction::GrantAdmin,
            RoleChange::RevokeAdmin => ModerationAction::RevokeAdmin,
        }
    }
}

/// Makes `change` to account `account_id`, as admin `actor`, with `reason` for the log.
/// Returns whether anything changed: a role the account already has (or lacks) changes
/// nothing and is not logged. The last admin cannot stop being admin, or nobody could
/// grant roles any more.
pub fn change_role(
    conn: &mut DbConnection,
    actor: &Actor,
    account_id: i32,
    change: &RoleChange,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, WorkflowError> {
    require_admin(actor)?;
    let reason: String = clean_line(reason).chars().take(MAX_REASON_CHARS).collect();
    conn.immediate_transaction(|conn| {
        let account = match Account::find(conn, account_id) {
            Ok(a) => a,
            Err(diesel::result::Error::NotFound) => {
                return Err(WorkflowError::NotFound(NO_ACCOUNT.to_owned()));
            }
            Err(e) => return Err(e.into()),
        };
        let id = account.id;
        let mut city: Option<(i32, String)> = None;
        let changed = match change {
            RoleChange::GrantModerator(scope) => {
                let city_id = match scope {
                    ModeratorScope::Network => None,
                    ModeratorScope::City(slug) => {
                        let c = match City::find_by_slug(conn, slug) {
                            Ok(c) => c,
                            Err(diesel::result::Error::NotFound) => {
                                return Err(WorkflowError::invalid(
                                    "city",
                                    "choose a city from the list",
                                ));
                            }
                            Err(e) => return Err(e.into()),
                        };
                        city = Some((c.id, c.name.clone()));
                        Some(c.id)
                    }
                };
                ModeratorRole::grant(conn, id, city_id, now)?
            }
            RoleChange::RevokeModerator(role_id) => {
                let role_id = role_id
                    .ok_or_else(|| WorkflowError::invalid("role", "choose a role to remove"))?;
                match ModeratorRole::revoke(conn, id, role_id)? {
                    Some(role) => {
                        city = role.city_id.zip(role.city_name);
                        true
                    }
                    None => false,
                }
            }
            RoleChange::Trust | RoleChange::Distrust => {
                let trusted = *change == RoleChange::Trust;
                account.is_trusted != trusted && Account::set_trusted(conn, id, trusted)? > 0
            }
            RoleChange::GrantAdmin | RoleChange::RevokeAdmin => {
                let admin = *change == RoleChange::GrantAdmin;
                if !admin && account.is_admin && Account::count_admins(conn)? <= 1 {
                    return Err(WorkflowError::Conflict(
                        "This is the last admin; make someone else admin first.".into(),
                    ));
                }
                account.is_admin != admin && Account::set_admin(conn, id, admin)? > 0
            }
        };
        if changed {
            LogEntry::account(
                &actor.account,
                change.action(),
                &account,
                city.as_ref().map(|(id, name)| (*id, name.as_str())),
                &reason,
            )
            .insert(conn, now)?;
        }
        Ok(changed)
    })
}
