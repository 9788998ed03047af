//! The moderators' rules: approving and rejecting submitted events, unpublishing
//! published ones, and keeping or reverting the changes that organisers who are not
//! trusted made to published events. Every decision is written to the moderation log.

use crate::db::DbConnection;
use chrono::{DateTime, Utc};

use super::events::find_visible;
use super::{Actor, WorkflowError};
use crate::db::models::{City, Event, EventReview, EventWithCity, LogEntry};
use crate::domain::{FieldErrors, FormCity, ModerationAction, ModerationState, limited_text};

/// The longest reason a moderator may give.
pub const MAX_REASON_CHARS: usize = 1_000;

/// Only moderators (of some city, or of the network) and admins get past this.
pub fn require_moderator(actor: &Actor) -> Result<(), WorkflowError> {
    if actor.roles.is_moderator() {
        Ok(())
    } else {
        Err(WorkflowError::Forbidden(
            "Only the moderators of a city can see this page.".to_owned(),
        ))
    }
}

/// A moderator's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
    Unpublish,
    /// Keep an organiser's change to a published event: it becomes the approved version.
    Accept,
    /// Put the approved version of a changed event back.
    Revert,
}

impl Decision {
    /// Whether the organiser must be told why: a rejection and an unpublishing.
    pub fn needs_reason(self) -> bool {
        matches!(self, Decision::Reject | Decision::Unpublish)
    }

    /// Why the decision does not apply to an event in this state, if it does not.
    pub fn refusal(self, moderation: ModerationState, changed: bool) -> Option<&'static str> {
        use ModerationState::*;
        match (self, moderation) {
            (Decision::Approve | Decision::Reject, Pending) => None,
            (Decision::Approve | Decision::Reject, Published) => {
                Some("This event is already published; unpublish it instead.")
            }
            (Decision::Approve, Rejected) => None,
            (Decision::Reject, Rejected) => Some("This event is already rejected."),
            (Decision::Unpublish, Published) => None,
            (Decision::Unpublish, _) => Some("This event is not published."),
            (Decision::Accept | Decision::Revert, Published) if changed => None,
            (Decision::Accept | Decision::Revert, _) => {
                Some("This event has no change waiting for review.")
            }
        }
    }
}

/// Event `id` and its approved version, once `actor` may take `decision` on it and it
/// applies. A moderator of another city learns nothing of a hidden event (`NotFound`,
/// not `Forbidden`).
pub fn decidable(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    decision: Decision,
) -> Result<(EventWithCity, Option<EventReview>), WorkflowError> {
    require_moderator(actor)?;
    let row = find_visible(conn, Some(actor), id)?;
    let review = Event::review(conn, id)?;
    if !actor.roles.can_moderate(row.event.city_id) {
        return Err(WorkflowError::Forbidden(format!(
            "You do not moderate events in {}.",
            row.city.name
        )));
    }
    let changed = review.as_ref().is_some_and(|r| r.changed_at.is_some());
    if let Some(why) = decision.refusal(row.event.moderation, changed) {
        return Err(WorkflowError::Conflict(why.to_owned()));
    }
    Ok((row, review))
}

/// Approves, rejects, unpublishes, keeps or reverts event `id`, as `decision` says, with `reason` for a rejection or an unpublishing (its
/// organiser sees it; ignored for the other decisions), and logs it.
pub fn decide(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    decision: Decision,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Event, WorkflowError> {
    conn.immediate_transaction(|conn| {
        let (row, review) = decidable(conn, actor, id, decision)?;
        let account = &actor.account;
        Ok(match decision {
            Decision::Approve => Event::approve(conn, id, account, now)?,
            Decision::Reject | Decision::Unpublish => {
                let reason = check_reason(reason)?;
                Event::reject(conn, id, account, &reason, now)?
            }
            Decision::Accept => Event::accept_change(conn, id, account, now)?,
            Decision::Revert => revert(conn, actor, &row, review.as_ref(), now)?,
        })
    })
}

/// A reason the organiser can act on: not empty, and not over the limit.
fn check_reason(reason: &str) -> Result<String, WorkflowError> {
    let mut errors = FieldErrors::default();
    let reason = errors
        .check(
            "reason",
            limited_text(reason, "the reason", MAX_REASON_CHARS),
        )
        .unwrap_or_default();
    if reason.is_empty() {
        errors.add(
            "reason",
            "Give the organiser a reason, so that they can put it right.",
        );
    }
    if errors.is_empty() {
        Ok(reason)
    } else {
        Err(WorkflowError::Invalid(errors))
    }
}

/// Puts back the approved version of a changed event, through the same checks as the
/// organiser's form, so that a revert cannot write what the form would refuse.
fn revert(
    conn: &mut DbConnection,
    actor: &Actor,
    row: &EventWithCity,
    review: Option<&EventReview>,
    now: DateTime<Utc>,
) -> Result<Event, WorkflowError> {
    let conflict = |why: &str| WorkflowError::Conflict(why.to_owned());
    let form = review
        .and_then(EventReview::form)
        .ok_or_else(|| conflict("There is no approved version to put back."))?;
    let city = match City::find_by_slug(conn, &form.city) {
        Ok(city) => city,
        Err(diesel::result::Error::NotFound) => {
            return Err(conflict("The approved version's city is gone."));
        }
        Err(e) => return Err(e.into()),
    };
    // The dates were valid when approved; judge the years from then, not from today.
    let approved_day = review
        .map(|r| r.approved_at.date())
        .unwrap_or_else(|| now.date_naive());
    let draft = form
        .parse(
            Some(FormCity {
                tz: city.timezone.tz(),
                field: city.field,
            }),
            approved_day,
            row.event.organizer_name.clone(),
            row.event.status,
        )
        .map_err(|_| conflict("The approved version can no longer be read."))?;
    let event = Event::update_from_draft(conn, row.event.id, &draft, &city, now)?;
    EventReview::settle(conn, row.event.id)?;
    LogEntry::event(
        &actor.account,
        ModerationAction::RevertChange,
        &row.event,
        "",
    )
    .insert(conn, now)?;
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ModerationState::*;

    #[test]
    fn each_decision_applies_only_to_the_states_it_is_for() {
        let applies = |d: Decision, m, changed| d.refusal(m, changed).is_none();
        assert!(applies(Decision::Approve, Pending, false));
        assert!(applies(Decision::Approve, Rejected, false));
        assert!(!applies(Decision::Approve, Published, false));
        assert!(applies(Decision::Reject, Pending, false));
        assert!(!applies(Decision::Reject, Rejected, false));
        assert!(!applies(Decision::Reject, Published, false));
        assert!(applies(Decision::Unpublish, Published, false));
        assert!(!applies(Decision::Unpublish, Pending, false));
        for d in [Decision::Accept, Decision::Revert] {
            assert!(applies(d, Published, true));
            assert!(!applies(d, Published, false));
            assert!(!applies(d, Pending, true));
        }
    }

    #[test]
    fn only_a_rejection_and_an_unpublishing_need_a_reason() {
        let needing: Vec<Decision> = [
            Decision::Approve,
            Decision::Reject,
            Decision::Unpublish,
            Decision::Accept,
            Decision::Revert,
        ]
        .into_iter()
        .filter(|d| d.needs_reason())
        .collect();
        assert_eq!(needing, [Decision::Reject, Decision::Unpublish]);
        assert!(check_reason("  ").is_err());
        assert!(check_reason(&"x".repeat(MAX_REASON_CHARS + 1)).is_err());
        assert_eq!(check_reason(" Spam. ").ok().as_deref(), Some("Spam."));
    }
}
