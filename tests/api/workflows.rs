//! The workflow layer's rules, called directly as a door would call them: the HTML
//! tests show that the pages go through them; these show the rules themselves.

use crate::helpers::*;
use creative_calendar::db::DbConnection;
use creative_calendar::db::models::{Account, Event, LogEntry, ModeratorRole, NewAccount};
use creative_calendar::domain::{EventForm, EventStatus, ModerationAction, ModerationState};
use creative_calendar::workflows::events::{self, StatusAction, StatusChanged};
use creative_calendar::workflows::moderation::{self, Decision};
use creative_calendar::workflows::roles::{self, ModeratorScope, RoleChange};
use creative_calendar::workflows::{Actor, WorkflowError};

/// An account made behind the app's back (no password anyone can use), as an actor.
fn actor(conn: &mut DbConnection, app: &TestApp, email: &str) -> Actor {
    let account = NewAccount {
        email,
        display_name: "Test Person",
        organisation: "Test Festival",
        password_hash: "not a hash",
        is_admin: false,
        is_trusted: false,
        created_at: app.now.naive_utc(),
        updated_at: app.now.naive_utc(),
    }
    .insert(conn)
    .unwrap();
    Actor::load(conn, account.id).unwrap()
}

fn reload(conn: &mut DbConnection, actor: &Actor) -> Actor {
    Actor::load(conn, actor.id()).unwrap()
}

fn form(title: &str) -> EventForm {
    EventForm {
        city: "braga".into(),
        kind: "festival".into(),
        title: title.into(),
        description: "Light and sound.".into(),
        venue: "Theatro Circo".into(),
        start_date: "2026-12-12".into(),
        start_time: "19:00".into(),
        end_time: "23:00".into(),
        ..EventForm::default()
    }
}

fn log(conn: &mut DbConnection) -> Vec<LogEntry> {
    LogEntry::list(conn, None, 100, 0).unwrap().0
}

fn published(conn: &mut DbConnection, app: &TestApp, owner: &Actor, title: &str) -> Event {
    let mut admin = actor(conn, app, &format!("admin-{}@example.org", owner.id()));
    Account::set_admin(conn, admin.id(), true).unwrap();
    admin = reload(conn, &admin);
    let event = events::submit(conn, owner, &form(title), app.now).unwrap();
    moderation::decide(conn, &admin, event.id, Decision::Approve, "", app.now).unwrap()
}

#[actix_web::test]
async fn an_untrusted_organiser_s_submission_is_pending_and_a_trusted_one_s_published() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let ana = actor(&mut conn, &app, "ana@braga.example");
    let pending = events::submit(&mut conn, &ana, &form("Night"), app.now).unwrap();
    assert_eq!(pending.moderation, ModerationState::Pending);
    assert_eq!(pending.organiser_id, Some(ana.id()));
    assert_eq!(pending.organizer_name.as_deref(), Some("Test Festival"));

    Account::set_trusted(&mut conn, ana.id(), true).unwrap();
    let ana = reload(&mut conn, &ana);
    let live = events::submit(&mut conn, &ana, &form("Night"), app.now).unwrap();
    assert_eq!(live.moderation, ModerationState::Published);
    assert!(live.first_published_at.is_some());
}

#[actix_web::test]
async fn a_submission_with_errors_is_invalid_with_every_error_and_writes_nothing() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let ana = actor(&mut conn, &app, "ana@braga.example");
    let mut bad = form("");
    bad.city = "atlantis".into();
    match events::submit(&mut conn, &ana, &bad, app.now) {
        Err(WorkflowError::Invalid(errors)) => {
            assert!(errors.get("title").is_some());
            assert!(errors.get("city").is_some());
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(Event::count(&mut conn).unwrap(), 0);
}

#[actix_web::test]
async fn an_untrusted_edit_of_a_published_event_stays_public_and_waits_for_a_look() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let ana = actor(&mut conn, &app, "ana@braga.example");
    let event = published(&mut conn, &app, &ana, "Night");
    assert_eq!(event.sequence, 0);

    let edited = events::edit(&mut conn, &ana, event.id, &form("Longer night"), app.now).unwrap();
    assert_eq!(edited.moderation, ModerationState::Published);
    assert_eq!(edited.sequence, 1);
    let review = Event::review(&mut conn, event.id)
        .unwrap()
        .expect("a review");
    assert!(review.changed_at.is_some());
    assert_eq!(review.form().expect("the approved form").title, "Night");

    // Saving the same form again changes nothing, not even SEQUENCE.
    let again = events::edit(&mut conn, &ana, event.id, &form("Longer night"), app.now).unwrap();
    assert_eq!(again.sequence, 1);
}

#[actix_web::test]
async fn another_organiser_s_hidden_event_is_not_found_and_a_visible_one_forbidden() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let ana = actor(&mut conn, &app, "ana@braga.example");
    let bo = actor(&mut conn, &app, "bo@braga.example");
    let hidden = events::submit(&mut conn, &ana, &form("Hidden"), app.now).unwrap();
    let public = published(&mut conn, &app, &ana, "Public");

    let edit = |conn: &mut DbConnection, id| events::edit(conn, &bo, id, &form("Mine"), app.now);
    assert!(matches!(
        edit(&mut conn, hidden.id),
        Err(WorkflowError::NotFound(_))
    ));
    assert!(matches!(
        edit(&mut conn, public.id),
        Err(WorkflowError::Forbidden(_))
    ));
    assert!(matches!(
        edit(&mut conn, 999_999),
        Err(WorkflowError::NotFound(_))
    ));
    let delete =
        events::change_status(&mut conn, &bo, hidden.id, StatusAction::Delete, "", app.now);
    assert!(matches!(delete, Err(WorkflowError::NotFound(_))));
    assert_eq!(Event::count(&mut conn).unwrap(), 2);
}

#[actix_web::test]
async fn cancelling_raises_sequence_once_and_an_already_cancelled_event_is_a_conflict() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let ana = actor(&mut conn, &app, "ana@braga.example");
    Account::set_trusted(&mut conn, ana.id(), true).unwrap();
    let ana = reload(&mut conn, &ana);
    let event = events::submit(&mut conn, &ana, &form("Night"), app.now).unwrap();

    let cancel = |conn: &mut DbConnection| {
        events::change_status(conn, &ana, event.id, StatusAction::Cancel, "Rain.", app.now)
    };
    let Ok(StatusChanged::Event(cancelled)) = cancel(&mut conn) else {
        panic!("not cancelled");
    };
    assert_eq!(cancelled.status, EventStatus::Cancelled);
    assert_eq!(cancelled.sequence, 1);
    assert_eq!(cancelled.status_note.as_deref(), Some("Rain."));

    assert!(matches!(cancel(&mut conn), Err(WorkflowError::Conflict(_))));
    let stored = Event::find_with_city(&mut conn, event.id).unwrap().event;
    assert_eq!(stored.sequence, 1);
    assert_eq!(stored.updated_at, cancelled.updated_at);

    // A published event is never deleted.
    let delete =
        events::change_status(&mut conn, &ana, event.id, StatusAction::Delete, "", app.now);
    assert!(matches!(delete, Err(WorkflowError::Conflict(_))));
}

#[actix_web::test]
async fn a_note_over_the_limit_is_invalid_and_changes_nothing() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let ana = actor(&mut conn, &app, "ana@braga.example");
    let event = published(&mut conn, &app, &ana, "Night");
    let note = "x".repeat(events::MAX_NOTE_CHARS + 1);
    let result = events::change_status(
        &mut conn,
        &ana,
        event.id,
        StatusAction::Postpone,
        &note,
        app.now,
    );
    assert!(matches!(result, Err(WorkflowError::Invalid(e)) if e.get("note").is_some()));
    let stored = Event::find_with_city(&mut conn, event.id).unwrap().event;
    assert_eq!(stored.status, EventStatus::Scheduled);
}

#[actix_web::test]
async fn an_approval_publishes_and_is_logged_and_a_rejection_needs_a_reason() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let ana = actor(&mut conn, &app, "ana@braga.example");
    let mia = actor(&mut conn, &app, "mia@braga.example");
    let braga = app.city("braga");
    ModeratorRole::grant(&mut conn, mia.id(), Some(braga.id), app.now).unwrap();
    let mia = reload(&mut conn, &mia);
    let first = events::submit(&mut conn, &ana, &form("First"), app.now).unwrap();
    let second = events::submit(&mut conn, &ana, &form("Second"), app.now).unwrap();

    // An organiser who moderates nothing is refused before anything else.
    let refused = moderation::decide(&mut conn, &ana, first.id, Decision::Approve, "", app.now);
    assert!(matches!(refused, Err(WorkflowError::Forbidden(_))));

    let approved =
        moderation::decide(&mut conn, &mia, first.id, Decision::Approve, "", app.now).unwrap();
    assert_eq!(approved.moderation, ModerationState::Published);
    assert_eq!(approved.sequence, 0);
    let entries = log(&mut conn);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, ModerationAction::Approve);
    assert_eq!(entries[0].event_id, Some(first.id));
    assert_eq!(entries[0].actor_id, Some(mia.id()));

    let again = moderation::decide(&mut conn, &mia, first.id, Decision::Approve, "", app.now);
    assert!(matches!(again, Err(WorkflowError::Conflict(_))));

    let no_reason = moderation::decide(&mut conn, &mia, second.id, Decision::Reject, " ", app.now);
    assert!(matches!(no_reason, Err(WorkflowError::Invalid(e)) if e.get("reason").is_some()));
    assert_eq!(log(&mut conn).len(), 1);
}

#[actix_web::test]
async fn a_reverted_change_puts_the_approved_version_back_and_logs_it() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let ana = actor(&mut conn, &app, "ana@braga.example");
    let event = published(&mut conn, &app, &ana, "Night");
    events::edit(&mut conn, &ana, event.id, &form("Advert"), app.now).unwrap();
    let approver = log(&mut conn)[0].actor_id.unwrap();
    let admin = Actor::load(&mut conn, approver).unwrap();

    let reverted =
        moderation::decide(&mut conn, &admin, event.id, Decision::Revert, "", app.now).unwrap();
    assert_eq!(reverted.title, "Night");
    assert_eq!(reverted.sequence, 2);
    assert_eq!(log(&mut conn)[0].action, ModerationAction::RevertChange);
    let nothing_waits =
        moderation::decide(&mut conn, &admin, event.id, Decision::Accept, "", app.now);
    assert!(matches!(nothing_waits, Err(WorkflowError::Conflict(_))));
}

#[actix_web::test]
async fn roles_change_only_by_an_admin_are_logged_once_and_the_last_admin_stays() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let rita = actor(&mut conn, &app, "rita@network.example");
    let ana = actor(&mut conn, &app, "ana@braga.example");
    let change = |conn: &mut DbConnection, who: &Actor, id, change: RoleChange| {
        roles::change_role(conn, who, id, &change, "because", app.now)
    };
    assert!(matches!(
        change(&mut conn, &ana, ana.id(), RoleChange::GrantAdmin),
        Err(WorkflowError::Forbidden(_))
    ));
    Account::set_admin(&mut conn, rita.id(), true).unwrap();
    let rita = reload(&mut conn, &rita);

    assert!(change(&mut conn, &rita, ana.id(), RoleChange::Trust).unwrap());
    assert!(!change(&mut conn, &rita, ana.id(), RoleChange::Trust).unwrap());
    let braga = ModeratorScope::City("braga".into());
    assert!(
        change(
            &mut conn,
            &rita,
            ana.id(),
            RoleChange::GrantModerator(braga)
        )
        .unwrap()
    );
    let atlantis = ModeratorScope::City("atlantis".into());
    assert!(matches!(
        change(&mut conn, &rita, ana.id(), RoleChange::GrantModerator(atlantis)),
        Err(WorkflowError::Invalid(e)) if e.get("city").is_some()
    ));
    assert!(matches!(
        change(&mut conn, &rita, 999_999, RoleChange::Trust),
        Err(WorkflowError::NotFound(_))
    ));
    let entries = log(&mut conn);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].action, ModerationAction::GrantModerator);
    assert_eq!(entries[1].action, ModerationAction::Trust);
    assert_eq!(entries[1].reason, "because");

    assert!(matches!(
        change(&mut conn, &rita, rita.id(), RoleChange::RevokeAdmin),
        Err(WorkflowError::Conflict(_))
    ));
    assert!(Account::find(&mut conn, rita.id()).unwrap().is_admin);
}

#[actix_web::test]
async fn new_dates_reschedule_a_postponed_event_and_drop_its_note() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let ana = actor(&mut conn, &app, "ana@braga.example");
    let event = published(&mut conn, &app, &ana, "Night");
    let postpone = StatusAction::Postpone;
    events::change_status(&mut conn, &ana, event.id, postpone, "Storm.", app.now).unwrap();

    // The same dates keep it postponed, with its note.
    let same = events::edit(&mut conn, &ana, event.id, &form("Night"), app.now).unwrap();
    assert_eq!(same.status, EventStatus::Postponed);
    assert_eq!(same.status_note.as_deref(), Some("Storm."));

    let mut later = form("Night");
    later.start_date = "2026-12-19".into();
    let moved = events::edit(&mut conn, &ana, event.id, &later, app.now).unwrap();
    assert_eq!(moved.status, EventStatus::Scheduled);
    assert_eq!(moved.status_note, None);
    assert_eq!(moved.sequence, same.sequence + 1);
}

#[actix_web::test]
async fn a_rejected_event_edited_goes_back_to_the_queue_or_out_for_a_trusted_organiser() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let ana = actor(&mut conn, &app, "ana@braga.example");
    let mia = actor(&mut conn, &app, "mia@braga.example");
    ModeratorRole::grant(&mut conn, mia.id(), None, app.now).unwrap();
    let mia = reload(&mut conn, &mia);
    let reject = |conn: &mut DbConnection, id| {
        moderation::decide(conn, &mia, id, Decision::Reject, "An advert.", app.now).unwrap()
    };

    let first = events::submit(&mut conn, &ana, &form("First"), app.now).unwrap();
    assert_eq!(
        reject(&mut conn, first.id).moderation,
        ModerationState::Rejected
    );
    // Even an unchanged form sends it back: saving is how the organiser asks again.
    let again = events::edit(&mut conn, &ana, first.id, &form("First"), app.now).unwrap();
    assert_eq!(again.moderation, ModerationState::Pending);
    assert_eq!(again.moderation_note, None);

    let second = events::submit(&mut conn, &ana, &form("Second"), app.now).unwrap();
    reject(&mut conn, second.id);
    Account::set_trusted(&mut conn, ana.id(), true).unwrap();
    let ana = reload(&mut conn, &ana);
    let out = events::edit(&mut conn, &ana, second.id, &form("Second"), app.now).unwrap();
    assert_eq!(out.moderation, ModerationState::Published);
}
