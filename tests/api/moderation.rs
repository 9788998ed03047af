//! Moderators: the queue, decisions, changes to published events, and the log.

use crate::helpers::*;
use creative_calendar::clock::Clock;
use creative_calendar::domain::{EventStatus, ModerationState};

async fn decide(moderator: &Browser<'_>, id: i32, decision: &str, reason: &str) -> Response {
    moderator
        .submit(
            "/moderation",
            &format!("/moderation/events/{id}/{decision}"),
            &[("reason", reason), ("back", "/moderation")],
        )
        .await
}

#[actix_web::test]
async fn a_rejected_event_shows_its_reason_to_the_organiser_and_goes_back_to_review_when_edited() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let id = ana.create_event(&[("title", "Buy cheap watches")]).await;
    let mia = app.moderator("mia@braga.example", Some("braga")).await;

    // A reason is required.
    let refused = decide(&mia, id, "reject", "  ").await;
    assert_eq!(refused.status, 422);
    assert!(refused.text("#reason-error").contains("reason"));
    assert_eq!(app.stored_event(id).moderation, ModerationState::Pending);

    let rejected = decide(&mia, id, "reject", "This is an advert, not an event.").await;
    assert_eq!(rejected.status, 303);
    assert_eq!(
        rejected.header("location").unwrap(),
        "/moderation?done=reject"
    );
    let mine = ana.get("/my/events").await;
    assert!(mine.text(".my-events tbody tr").contains("Rejected"));
    assert!(
        mine.text(".moderation-note")
            .contains("This is an advert, not an event.")
    );
    let page = ana.get(&format!("/events/{id}")).await;
    assert!(page.text(".banner-rejected").contains("an advert"));
    assert_eq!(app.get(&format!("/events/{id}")).await.status, 404);

    // Edited, it waits for review again, without the old reason.
    let edit = format!("/events/{id}/edit");
    let response = ana
        .submit(
            &edit,
            &edit,
            &[
                ("city", "braga"),
                ("kind", "market"),
                ("title", "Braga Watchmakers' Market"),
                ("venue", "Praça da República"),
                ("start_date", "2026-12-19"),
                ("all_day", "on"),
            ],
        )
        .await;
    assert_eq!(response.status, 303, "{}", response.body);
    let event = app.stored_event(id);
    assert_eq!(event.moderation, ModerationState::Pending);
    assert_eq!(event.moderation_note, None);
    assert!(mia.get("/moderation").await.body.contains("Watchmakers"));

    // The log says who decided what and why.
    let log = mia.get("/moderation/log").await;
    let rows = log.texts(".moderation-log tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].contains("Test Organiser"),
        "the moderator's name: {rows:?}"
    );
    assert!(rows[0].contains("Rejected"));
    assert!(rows[0].contains("Buy cheap watches"));
    assert!(rows[0].contains("This is an advert, not an event."));
}

#[actix_web::test]
async fn a_moderator_acts_only_on_the_cities_they_moderate() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let id = ana.create_event(&[("title", "Noite de Fado")]).await;
    let kai = app.moderator("kai@krakow.example", Some("krakow")).await;
    assert!(!kai.get("/moderation").await.body.contains("Noite de Fado"));
    // A pending event of another city is not there for him at all.
    let response = decide(&kai, id, "approve", "").await;
    assert_eq!(response.status, 404);
    assert_eq!(app.stored_event(id).moderation, ModerationState::Pending);
    // Kai can see the queue of his own city only.
    assert_eq!(kai.get("/moderation?city=braga").await.status, 400);

    let net = app.moderator("net@unesco.example", None).await;
    assert!(
        net.get("/moderation?city=braga")
            .await
            .body
            .contains("Noite de Fado")
    );
    assert_eq!(decide(&net, id, "approve", "").await.status, 303);
    assert_eq!(app.stored_event(id).moderation, ModerationState::Published);
    // Approving twice is a conflict, not a second log line.
    assert_eq!(decide(&net, id, "approve", "").await.status, 409);

    // An organiser is no moderator.
    assert_eq!(ana.get("/moderation").await.status, 403);
    assert_eq!(ana.get("/moderation/log").await.status, 403);
    let token = ana.csrf_token("/events/new").await;
    let response = ana
        .post(
            &format!("/moderation/events/{id}/unpublish"),
            &[("csrf_token", &token), ("reason", "mine now")],
        )
        .await;
    assert_eq!(response.status, 403);
    assert_eq!(app.stored_event(id).moderation, ModerationState::Published);
}

#[actix_web::test]
async fn decisions_are_posts_with_a_csrf_token() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let id = ana.create_event(&[]).await;
    let mia = app.moderator("mia@braga.example", Some("braga")).await;
    let path = format!("/moderation/events/{id}/approve");
    assert_eq!(mia.get(&path).await.status, 405);
    assert_eq!(mia.post(&path, &[]).await.status, 403);
    assert_eq!(
        mia.post(&path, &[("csrf_token", "forged")]).await.status,
        403
    );
    assert_eq!(app.stored_event(id).moderation, ModerationState::Pending);
}

#[actix_web::test]
async fn a_trusted_organiser_publishes_at_once_and_their_changes_need_no_review() {
    let app = spawn_app().await;
    let tia = app.organiser("tia@braga.example").await;
    app.set_trusted("tia@braga.example", true);
    let id = tia.create_event(&[("title", "Trusted Gala")]).await;
    assert_eq!(app.stored_event(id).moderation, ModerationState::Published);
    assert_eq!(app.get(&format!("/events/{id}")).await.status, 200);
    let edit = format!("/events/{id}/edit");
    let mut form = tia.get(&edit).await;
    assert_eq!(form.status, 200);
    assert_eq!(form.attr("#f-title", "value"), "Trusted Gala");
    form = tia
        .submit(
            &edit,
            &edit,
            &[
                ("city", "braga"),
                ("kind", "festival"),
                ("title", "Trusted Gala, renamed"),
                ("venue", "Theatro Circo"),
                ("start_date", "2026-12-12"),
                ("start_time", "19:00"),
            ],
        )
        .await;
    assert_eq!(form.status, 303);
    let mia = app.moderator("mia@braga.example", Some("braga")).await;
    let queue = mia.get("/moderation").await;
    assert!(!queue.body.contains("Trusted Gala"), "{}", queue.body);
}

#[actix_web::test]
async fn an_untrusted_change_to_a_published_event_goes_live_and_waits_for_a_look() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let id = ana.create_event(&[("title", "Festa das Luzes")]).await;
    let mia = app.moderator("mia@braga.example", Some("braga")).await;
    assert_eq!(decide(&mia, id, "approve", "").await.status, 303);

    let edit = format!("/events/{id}/edit");
    let changed = ana
        .submit(
            &edit,
            &edit,
            &[
                ("city", "braga"),
                ("kind", "festival"),
                ("title", "CHEAP PILLS click here"),
                ("description", "Light and sound."),
                ("venue", "Theatro Circo"),
                ("address", "Avenida da Liberdade 697"),
                ("start_date", "2026-12-12"),
                ("start_time", "19:00"),
                ("end_time", "23:00"),
            ],
        )
        .await;
    assert_eq!(changed.status, 303);
    // Live at once (option b), and listed for the moderators with the difference.
    assert_eq!(
        app.get(&format!("/events/{id}")).await.text("h1"),
        "CHEAP PILLS click here"
    );
    let queue = mia.get("/moderation").await;
    let diff = queue.texts(".diff tbody tr");
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert!(diff[0].contains("Title"));
    assert!(diff[0].contains("Festa das Luzes"));
    assert!(diff[0].contains("CHEAP PILLS"));
    let sequence = app.stored_event(id).sequence;

    // Putting back the approved version: the old title returns, calendars are told.
    assert_eq!(decide(&mia, id, "revert", "").await.status, 303);
    let event = app.stored_event(id);
    assert_eq!(event.title, "Festa das Luzes");
    assert_eq!(event.sequence, sequence + 1);
    assert!(mia.get("/moderation").await.texts(".diff").is_empty());
    assert_eq!(decide(&mia, id, "revert", "").await.status, 409);

    // Another change, then unpublished with a reason: gone from the public and the feed.
    let again = ana
        .submit(
            &edit,
            &edit,
            &[
                ("city", "braga"),
                ("kind", "festival"),
                ("title", "CHEAP PILLS again"),
                ("venue", "Theatro Circo"),
                ("start_date", "2026-12-12"),
                ("start_time", "19:00"),
            ],
        )
        .await;
    assert_eq!(again.status, 303);
    assert_eq!(
        decide(&mia, id, "unpublish", "Spam; contact us to restore it.")
            .await
            .status,
        303
    );
    assert_eq!(app.get(&format!("/events/{id}")).await.status, 404);
    assert!(!app.get("/calendar.ics").await.body.contains("CHEAP PILLS"));
    assert_eq!(app.stored_event(id).moderation, ModerationState::Rejected);
    let log = mia
        .get("/moderation/log")
        .await
        .texts(".moderation-log tbody tr");
    assert!(
        log[0].contains("Unpublished") && log[0].contains("Spam"),
        "{log:?}"
    );
    assert!(log[1].contains("Reverted a change"), "{log:?}");
    assert!(log[2].contains("Approved"), "{log:?}");
}

#[actix_web::test]
async fn only_an_event_that_was_never_published_can_be_deleted() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let draft = ana.create_event(&[("title", "A mistake")]).await;
    // Nobody outside the site has seen it: it is deleted, not cancelled.
    assert_eq!(
        ana.get(&format!("/events/{draft}/cancel")).await.status,
        409
    );
    let page = ana.get(&format!("/events/{draft}")).await;
    assert_eq!(page.texts(".manage a[href$='/cancel']").len(), 0);
    assert_eq!(page.texts(".manage a[href$='/delete']").len(), 1);
    let path = format!("/events/{draft}/delete");
    let deleted = ana.submit(&path, &path, &[]).await;
    assert_eq!(deleted.status, 303);
    assert_eq!(deleted.header("location").unwrap(), "/my/events");
    assert_eq!(ana.get(&format!("/events/{draft}")).await.status, 404);

    let id = ana.create_event(&[]).await;
    let mia = app.moderator("mia@braga.example", Some("braga")).await;
    decide(&mia, id, "approve", "").await;
    let path = format!("/events/{id}/delete");
    assert_eq!(ana.get(&path).await.status, 409);
    let token = ana.csrf_token("/my/events").await;
    let refused = ana.post(&path, &[("csrf_token", &token)]).await;
    assert_eq!(refused.status, 409);
    assert!(refused.body.contains("cancel it instead"));
    assert_eq!(app.get(&format!("/events/{id}")).await.status, 200);
}

#[actix_web::test]
async fn a_postponed_event_with_new_dates_is_rescheduled_and_a_cancelled_one_can_be_put_back() {
    let app = spawn_app().await;
    let tia = app.organiser("tia@braga.example").await;
    app.set_trusted("tia@braga.example", true);
    let id = tia.create_event(&[]).await;
    let postpone = format!("/events/{id}/postpone");
    let response = tia
        .submit(&postpone, &postpone, &[("note", "New dates in spring.")])
        .await;
    assert_eq!(response.status, 303);
    let event = app.stored_event(id);
    assert_eq!(event.status, EventStatus::Postponed);
    assert_eq!(event.sequence, 1);
    let page = app.get(&format!("/events/{id}")).await;
    assert!(
        page.text(".banner-postponed")
            .contains("New dates in spring.")
    );
    let feed = app.get("/cities/braga/calendar.ics").await;
    assert!(feed.body.contains("STATUS:TENTATIVE"));
    assert!(
        feed.body
            .contains("From the organiser: New dates in spring.")
    );

    let edit = format!("/events/{id}/edit");
    let response = tia
        .submit(
            &edit,
            &edit,
            &[
                ("city", "braga"),
                ("kind", "festival"),
                ("title", "Braga Media Arts Night"),
                ("venue", "Theatro Circo"),
                ("start_date", "2027-04-10"),
                ("start_time", "19:00"),
            ],
        )
        .await;
    assert_eq!(response.status, 303);
    let event = app.stored_event(id);
    assert_eq!(event.status, EventStatus::Scheduled);
    assert_eq!(event.sequence, 2);
    assert_eq!(event.status_note, None);

    let cancel = format!("/events/{id}/cancel");
    tia.submit(&cancel, &cancel, &[("note", "")]).await;
    assert_eq!(app.stored_event(id).status, EventStatus::Cancelled);
    // Cancelling twice is refused rather than counted twice.
    assert_eq!(tia.get(&cancel).await.status, 409);
    let reinstate = format!("/events/{id}/reinstate");
    let response = tia.submit(&reinstate, &reinstate, &[]).await;
    assert_eq!(response.status, 303);
    let event = app.stored_event(id);
    assert_eq!(event.status, EventStatus::Scheduled);
    assert_eq!(event.sequence, 4);
}

#[actix_web::test]
async fn a_note_longer_than_a_thousand_characters_is_refused_and_kept() {
    let app = spawn_app().await;
    let tia = app.organiser("tia@braga.example").await;
    app.set_trusted("tia@braga.example", true);
    let id = tia.create_event(&[]).await;
    let cancel = format!("/events/{id}/cancel");
    let note = "n".repeat(1_001);
    let response = tia.submit(&cancel, &cancel, &[("note", &note)]).await;
    assert_eq!(response.status, 422);
    assert!(response.text("#note-error").contains("at most 1,000"));
    assert_eq!(response.text("#f-note"), note);
    assert_eq!(app.stored_event(id).status, EventStatus::Scheduled);
}

#[actix_web::test]
async fn my_events_lists_each_event_with_its_review_and_status() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let first = ana.create_event(&[("title", "First")]).await;
    ana.create_event(&[("title", "Second")]).await;
    let mia = app.moderator("mia@braga.example", Some("braga")).await;
    decide(&mia, first, "approve", "").await;
    let mine = ana.get("/my/events").await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.header("cache-control").as_deref(), Some("no-store"));
    let rows = mine.texts(".my-events tbody tr");
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .any(|r| r.contains("First") && r.contains("Published"))
    );
    assert!(
        rows.iter()
            .any(|r| r.contains("Second") && r.contains("Waiting for review"))
    );
    // Another organiser's list is their own.
    let bob = app.organiser("bob@braga.example").await;
    assert!(
        bob.get("/my/events")
            .await
            .texts(".my-events tbody tr")
            .is_empty()
    );
}

#[actix_web::test]
async fn an_unpublished_event_moves_the_feed_s_last_modified_so_no_client_keeps_it() {
    let app = spawn_app_with(test_now(), |config| {
        config.clock = Clock::manual(test_now())
    })
    .await;
    let ana = app.organiser("ana@braga.example").await;
    let id = ana.create_event(&[("title", "Soon withdrawn")]).await;
    let mia = app.moderator("mia@braga.example", Some("braga")).await;
    decide(&mia, id, "approve", "").await;
    {
        // Published a while ago, as far as the feed can tell.
        use creative_calendar::db::schema::events;
        use diesel::prelude::*;
        let mut conn = app.pool.get().unwrap();
        diesel::update(events::table)
            .set(events::updated_at.eq(local("2026-11-01 09:00")))
            .execute(&mut conn)
            .unwrap();
    }
    let path = "/cities/braga/calendar.ics";
    let before = app.get(path).await;
    let last_modified = before.header("last-modified").unwrap();
    assert_eq!(last_modified, "Sun, 01 Nov 2026 09:00:00 GMT");
    assert!(before.body.contains("Soon withdrawn"));

    decide(&mia, id, "unpublish", "Not an event.").await;
    let after = app
        .get_with(path, &[("If-Modified-Since", &last_modified)])
        .await;
    assert_eq!(after.status, 200, "the feed lost an event: not a 304");
    assert!(!after.body.contains("Soon withdrawn"));
    // Once the second of the withdrawal is well over, it is the feed's Last-Modified.
    app.clock.set(test_now() + chrono::Duration::minutes(1));
    let later = app.get(path).await;
    assert_eq!(
        later.header("last-modified").as_deref(),
        Some("Sat, 28 Nov 2026 12:00:00 GMT")
    );
}

#[actix_web::test]
async fn a_moderator_can_unpublish_a_published_event_from_its_page() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let id = ana.create_event(&[("title", "Approved by mistake")]).await;
    let mia = app.moderator("mia@braga.example", Some("braga")).await;
    decide(&mia, id, "approve", "").await;

    let page = mia.get(&format!("/events/{id}")).await;
    let link = page.attr(".manage a[href$='/unpublish']", "href");
    assert_eq!(link, format!("/moderation/events/{id}/unpublish"));
    let form = mia.get(&link).await;
    assert_eq!(form.status, 200);
    assert_eq!(
        form.attr("input[name=back]", "value"),
        format!("/events/{id}")
    );
    let done = mia
        .submit(
            &link,
            &link,
            &[
                ("reason", "A duplicate of another event."),
                ("back", &format!("/events/{id}")),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(
        done.header("location").unwrap(),
        format!("/events/{id}?done=unpublish")
    );
    assert_eq!(app.stored_event(id).moderation, ModerationState::Rejected);
    // Visitors and other cities' moderators see neither the link nor the form.
    assert!(app.get(&format!("/events/{id}")).await.status == 404);
    // For a moderator of another city the hidden event is not there at all.
    let kai = app.moderator("kai@krakow.example", Some("krakow")).await;
    assert_eq!(kai.get(&link).await.status, 404);
    assert_eq!(ana.get(&link).await.status, 403);
}
