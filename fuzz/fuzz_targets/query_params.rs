//! Query strings: `urlencoded::decode_query` into the listing's `EventsParams` (the
//! query of `/events`, `/events.ics` and `/api/v1/events`), then `EventFilter::try_from`
//! as the handlers call it; also the API's `ListParams`, the cities' `CitiesParams` →
//! `CitySearch`, and `PageParams` → `parse_page`.
//!
//! The input is the query string as actix hands it over (the part after `?`, raw,
//! percent-escapes and all). Asserts: no panic; every refusal is a 400 that names a
//! parameter; a filter's canonical query string (`EventFilter::query_string`, what the
//! pager and the feed links use) reads back as the same filter, and is a fixed point.
#![no_main]

use actix_web::ResponseError;
use actix_web::http::StatusCode;
use creative_calendar::error::AppError;
use creative_calendar::urlencoded::decode_query;
use creative_calendar::web::api::events::ListParams;
use creative_calendar::web::pages::cities::{CitiesParams, CitySearch};
use creative_calendar::web::params::{EventFilter, EventsParams, PageParams, parse_page};
use libfuzzer_sys::fuzz_target;

/// The parameters the listing, cities and paging queries have.
const PARAMS: &[&str] = &[
    "city",
    "country",
    "field",
    "kind",
    "from",
    "to",
    "q",
    "past",
    "open",
    "page",
    "updated_since",
    "limit",
    "cursor",
];

/// A refusal: a 400 that names what is wrong. `decoding`: the refusal of the query
/// string itself (a repeated name, a value that is not text), which names the
/// parameter as it was sent, shortened by `domain::short` (control characters
/// dropped): a name that is empty or only control characters (`=%FF`, `%00=%00`)
/// comes out empty. The filters' own refusals always name one of `PARAMS`.
fn refused(e: &AppError, what: &str, decoding: bool) {
    assert_eq!(e.status_code(), StatusCode::BAD_REQUEST, "{what}: {e:?}");
    match e {
        AppError::BadRequest { param, message } => {
            assert!(
                decoding || PARAMS.contains(&param.as_str()),
                "{what}: not one of the parameters: {e:?}"
            );
            assert!(!message.trim().is_empty(), "{what}: no message: {e:?}");
            assert!(!e.to_string().is_empty());
        }
        other => panic!("{what}: not a BadRequest: {other:?}"),
    }
}

/// The filter must be the one its own canonical query string gives, at any page.
fn canonical(filter: &EventFilter) {
    for page in [1, filter.page] {
        let qs = filter.query_string(page);
        let params: EventsParams =
            decode_query(&qs).unwrap_or_else(|e| panic!("own query string {qs:?} refused: {e:?}"));
        let back = EventFilter::try_from(&params)
            .unwrap_or_else(|e| panic!("own query string {qs:?} refused: {e:?}"));
        let want = EventFilter {
            page,
            ..filter.clone()
        };
        assert_eq!(back, want, "query string {qs:?}");
        assert_eq!(back.query_string(page), qs, "not a fixed point");
        let url = filter.url(page);
        assert!(url.starts_with("/events"), "{url}");
        assert_eq!(filter.is_filtered(), !filter.query_string(1).is_empty());
    }
}

fuzz_target!(|query: &str| {
    match decode_query::<EventsParams>(query) {
        Ok(params) => match EventFilter::try_from(&params) {
            Ok(filter) => canonical(&filter),
            Err(e) => {
                refused(&e, "EventFilter", false);
            }
        },
        Err(e) => refused(&e, "EventsParams", true),
    }

    match decode_query::<ListParams>(query) {
        Ok(list) => {
            if let Ok(filter) = EventFilter::try_from(&list.filters) {
                canonical(&filter);
            }
        }
        Err(e) => refused(&e, "ListParams", true),
    }

    match decode_query::<CitiesParams>(query) {
        Ok(params) => match CitySearch::try_from(&params) {
            Ok(search) => assert!(search.q.chars().count() <= 200),
            Err(e) => refused(&e, "CitySearch", false),
        },
        Err(e) => refused(&e, "CitiesParams", true),
    }

    match decode_query::<PageParams>(query) {
        Ok(params) => match parse_page(&params.page) {
            Ok(page) => assert!((1..=creative_calendar::web::params::MAX_PAGE).contains(&page)),
            Err(e) => refused(&e, "page", false),
        },
        Err(e) => refused(&e, "PageParams", true),
    }
});
