//! The event form, as `POST /events/new` reads it: the raw urlencoded body through
//! `urlencoded::decode_form` (what `read_form` calls for `auth::Checked<EventForm>`,
//! with the csrf token beside the flattened form), the city looked up by its slug,
//! `EventForm::parse` into an `EventDraft`, and what `workflows::events::create_in`
//! derives from the draft without the database (`EventDetails::from_draft`,
//! `Repetition::from_draft`).
//!
//! Asserts: no panic; a body is refused only with a 4xx; decoding is idempotent (the
//! form written back as a body reads as the same form); every field error names a
//! field of the form; a draft the form accepted resolves in its city's zone, and its
//! repeat rule reads back from its stored text.
#![no_main]

use actix_web::ResponseError;
use creative_calendar::db::models::{EventDetails, Repetition};
use creative_calendar::domain::recurrence::RepeatRule;
use creative_calendar::domain::{EventForm, EventStatus, FORM_ORDER, FormCity};
use creative_calendar::error::AppError;
use creative_calendar_fuzz::{CITIES, today};
use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};

/// The shape `auth::session::Posted<EventForm>` has (it is private there).
#[derive(Debug, Deserialize, Serialize, PartialEq)]
struct Posted {
    #[serde(default)]
    csrf_token: String,
    #[serde(flatten)]
    form: EventForm,
}

/// What `read_form` does once the body is in (it adds only the content-type check, the
/// size limit and the body deadline, which need a request and a runtime).
fn read(body: &[u8]) -> Result<Posted, AppError> {
    creative_calendar::urlencoded::decode_form::<Posted>(body)
}

fuzz_target!(|body: &[u8]| {
    let posted = match read(body) {
        Ok(p) => p,
        Err(e) => {
            let status = e.status_code();
            assert!(status.is_client_error(), "a body gave {status}: {e:?}");
            return;
        }
    };

    // What was read, written back as a browser would send it, reads the same.
    let again = serde_urlencoded::to_string(&posted).expect("a form serialises");
    let reread = read(again.as_bytes()).expect("a re-encoded form reads");
    assert_eq!(reread, posted, "re-encoded as {again:?}");

    let form = &posted.form;
    let city = CITIES.get(form.city.trim());
    let parsed = form.parse(
        city.map(|c| FormCity {
            tz: c.timezone.tz(),
            field: c.field,
        }),
        today(),
        Some("Fuzz Organiser".to_owned()),
        EventStatus::Scheduled,
    );
    let draft = match (city, parsed) {
        (Some(_), Ok(d)) => d,
        // `parse_form` adds "Choose one of the cities in the list." and refuses: the
        // form parses the other fields without a city (an all-day event needs no zone),
        // so that every error shows at once.
        (None, _) => return,
        (Some(_), Err(errors)) => {
            assert!(!errors.is_empty(), "refused without an error");
            for (field, message) in errors.iter() {
                assert!(
                    FORM_ORDER.contains(&field),
                    "error on unknown field {field}"
                );
                assert!(!message.trim().is_empty(), "empty message for {field}");
            }
            return;
        }
    };
    let city = city.expect("matched above");
    let tz = city.timezone.tz();
    // `create_in` turns an error here into a form error; the form itself has already
    // checked the same times, so there must be none.
    if let Err(e) = EventDetails::from_draft(&draft, city) {
        panic!("the form accepted a schedule that does not resolve: {e:?} {draft:?}");
    }
    let repetition = Repetition::from_draft(1, &draft, tz, &Repetition::default(), None);
    if let Some(series) = &draft.series {
        let first = draft.schedule.first_date();
        let stored = series.rule.to_stored(first);
        assert_eq!(
            RepeatRule::from_stored(&stored).as_ref(),
            Some(&series.rule),
            "stored as {stored:?}"
        );
        let _ = series.rule.to_feed(first, Some(tz));
        let _ = series.rule.describe(first);
        assert!(!repetition.occurrences.is_empty());
    }
});
