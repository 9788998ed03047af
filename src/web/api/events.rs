//! `/api/v1/events` and `/api/v1/events/{id}`.

use actix_web::{HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDateTime};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::json::{EventBody, EventJson, EventsBody, EventsMeta, OccurrenceJson};
use super::{ApiResult, BadParameter, Missing, Unchanged, json_response};
use crate::db::models::{Event, OccurrenceRow, Repetition, Seek};
use crate::error::{AppError, OrWhenMissing};
use crate::urlencoded::Query;
use crate::web::AppState;
use crate::web::api::schema::DateParam;
use crate::web::pages::events::{event_query, filter_city, no_event, parse_event_id};
use crate::web::params::parse_date;
use crate::web::params::{EventFilter, EventsParams, short};

/// The most events one page holds, and how many it holds unless told.
pub const MAX_LIMIT: u32 = 100;
pub const DEFAULT_LIMIT: u32 = 20;

/// The query string of `/api/v1/events`: the filters of `/events`, read by the same
/// code, and the paging.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListParams {
    #[serde(flatten)]
    pub filters: EventsParams,
    #[serde(flatten)]
    pub paging: PagingParams,
}

/// What `/api/v1/events` takes besides the filters of `/events`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PagingParams {
    /// Only events changed at or after this instant (RFC 3339, with an offset or `Z`):
    /// pass the latest `updated_at` you hold to fetch what changed since. Events that
    /// were unpublished or deleted meanwhile are not listed.
    #[param(format = DateTime, example = "2026-11-28T12:00:00Z")]
    pub updated_since: Option<String>,
    /// How many events a page holds.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<String>,
    /// The `meta.next_cursor` of the previous page, with the same filters.
    pub cursor: Option<String>,
}

/// Parses `limit`: digits only (one spelling per number, as for pages), 1 to 100.
/// Unlike the filters, which a form sends empty for "any", an empty `limit` is refused:
/// only a program sends it, and it should leave it out.
pub(super) fn parse_limit(value: Option<&str>) -> Result<u32, AppError> {
    let Some(v) = value else {
        return Ok(DEFAULT_LIMIT);
    };
    Some(v)
        .filter(|v| v.bytes().all(|b| b.is_ascii_digit()) && !v.starts_with('0'))
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| {
            AppError::bad_request(
                "limit",
                format!("“{}” is not a whole number from 1 to {MAX_LIMIT}", short(v)),
            )
        })
}

/// Parses `updated_since`, an RFC 3339 instant, into UTC; empty is refused, as for
/// `limit`.
fn parse_updated_since(value: Option<&str>) -> Result<Option<NaiveDateTime>, AppError> {
    let Some(v) = value else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(v)
        .map(|t| Some(t.naive_utc()))
        .map_err(|_| {
            AppError::bad_request(
                "updated_since",
                format!(
                    "“{}” is not an RFC 3339 instant such as 2026-11-28T12:00:00Z",
                    short(v)
                ),
            )
        })
}

/// Where a page starts: the sort key of the last event of the page before, and a hash
/// of what was asked, so that a cursor is only ever used with the filters it was made
/// for (with others it would start a different listing at an arbitrary point).
///
/// Written as base64url of `v1.{starts_at in µs}.{id}.{scope}`: opaque to clients, who
/// only pass it back, and free to change with the version prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Cursor {
    /// The listing's sort key of the last event: its start here, its creation in
    /// `/api/v1/my/events`.
    pub(super) starts_at: NaiveDateTime,
    pub(super) id: i32,
    pub(super) scope: String,
}

impl Cursor {
    /// The scope of a listing: its filters in their canonical spelling and `updated_since`.
    fn scope(filter: &EventFilter, updated_since: Option<NaiveDateTime>) -> String {
        let mut hash = Sha256::new();
        hash.update(filter.query_string(1));
        hash.update(b"\n");
        if let Some(since) = updated_since {
            hash.update(since.and_utc().timestamp_micros().to_string());
        }
        let digest = hash.finalize();
        crate::domain::hex(&digest[..9])
    }

    /// The scope of an owner's own listing: a cursor of one account's list is no use
    /// in another's.
    pub(super) fn owner_scope(account_id: i32) -> String {
        format!("my{account_id}")
    }

    /// `v2` carries nanoseconds: SQLite keeps creation times to the nanosecond, and a sync
    /// creates all its events in one instant, so a cursor cut to microseconds sorted
    /// before its own event and the rest of that instant were skipped.
    pub(super) fn encode(&self) -> String {
        let utc = self.starts_at.and_utc();
        let text = match utc.timestamp_nanos_opt() {
            Some(nanos) => format!("v2.{nanos}.{}.{}", self.id, self.scope),
            None => format!("v1.{}.{}.{}", utc.timestamp_micros(), self.id, self.scope),
        };
        URL_SAFE_NO_PAD.encode(text)
    }

    /// The cursor in `value`, if it is one this API made for `scope`.
    pub(super) fn decode(value: &str, scope: &str) -> Result<Cursor, AppError> {
        let bad = || {
            AppError::bad_request(
                "cursor",
                "it is not a cursor this API gave; pass meta.next_cursor as it came",
            )
        };
        let text = URL_SAFE_NO_PAD
            .decode(value)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(bad)?;
        let mut parts = text.split('.');
        let (Some(version @ ("v1" | "v2")), Some(instant), Some(id), Some(cursor_scope), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad());
        };
        let instant = instant.parse::<i64>().map_err(|_| bad())?;
        let starts_at = match version {
            "v1" => DateTime::from_timestamp_micros(instant).ok_or_else(bad)?,
            _ => DateTime::from_timestamp_nanos(instant),
        }
        .naive_utc();
        let id = id.parse::<i32>().map_err(|_| bad())?;
        if cursor_scope != scope {
            return Err(AppError::bad_request(
                "cursor",
                "it belongs to a listing with other filters; use it with the filters and \
                 updated_since it came with, or start again without a cursor",
            ));
        }
        Ok(Cursor {
            starts_at,
            id,
            scope: scope.to_owned(),
        })
    }
}

/// Published events, in the order of the `/events` listing.
///
/// The filters are those of `/events` and mean the same. Without `from`, `to` or
/// `past`: events that have not ended, by start (those running now come first). With
/// `past=1`: events that have ended, the latest first. Follow `meta.next_cursor` for
/// the next page: events added meanwhile never repeat or hide another.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "events",
    params(EventsParams, PagingParams),
    responses(
        (status = 200, description = "A page of events", body = EventsBody,
            headers(("ETag" = String, description = "Send it back in If-None-Match"))),
        Unchanged,
        BadParameter,
    )
)]
pub async fn list_events(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: Query<ListParams>,
) -> ApiResult {
    let ListParams { filters, paging } = params.into_inner();
    if filters.page.is_some() {
        return Err(AppError::bad_request(
            "page",
            "the API has no page numbers; pass the meta.next_cursor of a page as cursor",
        )
        .into());
    }
    let filter = EventFilter::try_from(&filters)?;
    let limit = parse_limit(paging.limit.as_deref())?;
    let updated_since = parse_updated_since(paging.updated_since.as_deref())?;
    let scope = Cursor::scope(&filter, updated_since);
    let after = match paging.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(value) => {
            let cursor = Cursor::decode(value, &scope)?;
            Some((cursor.starts_at, cursor.id))
        }
        None => None,
    };
    let now = state.clock.now();
    let page = state
        .db(move |conn| {
            let city = filter_city(conn, &filter)?;
            let seek = Seek {
                after,
                updated_since,
                limit,
            };
            Ok(event_query(&filter, city.as_ref(), limit, now).seek(conn, now, &seek)?)
        })
        .await?;
    let next_cursor = page
        .events
        .last()
        .filter(|_| page.more)
        .map(|last| Cursor {
            starts_at: last.event.starts_at,
            id: last.event.id,
            scope,
        })
        .map(|c| c.encode());
    let body = EventsBody {
        events: page
            .events
            .iter()
            .map(|row| EventJson::new(row, page.repetitions.get(&row.event.id), &state.public_url))
            .collect(),
        meta: EventsMeta {
            total: page.total,
            next_cursor,
        },
    };
    json_response(&req, &body)
}

/// One published event. Events waiting for review, rejected or unpublished are 404,
/// exactly like an id never used.
#[utoipa::path(
    get,
    path = "/api/v1/events/{id}",
    tag = "events",
    params(("id" = u32, Path, description = "The event's id, as in its `url`", minimum = 1)),
    responses(
        (status = 200, description = "The event", body = EventBody,
            headers(("ETag" = String, description = "Send it back in If-None-Match"))),
        Unchanged,
        Missing,
    )
)]
pub async fn show_event(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult {
    let id = parse_event_id(&id)?;
    let (row, repetition) = state
        .db(move |conn| {
            let row = Event::find_published(conn, id).or_when_missing(no_event)?;
            Ok((row, Repetition::load(conn, id)?))
        })
        .await?;
    json_response(
        &req,
        &EventBody {
            event: EventJson::new(&row, Some(&repetition), &state.public_url),
        },
    )
}

/// The query of `GET /api/v1/events/{id}/occurrences`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OccurrencesParams {
    /// Only occurrences running on or after this local date (YYYY-MM-DD).
    #[param(value_type = Option<DateParam>)]
    pub from: Option<String>,
    /// Only occurrences that start on or before this local date (YYYY-MM-DD).
    #[param(value_type = Option<DateParam>)]
    pub to: Option<String>,
}

/// The occurrences of a published event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OccurrencesBody {
    pub occurrences: Vec<OccurrenceJson>,
}

/// Every occurrence of a published series (a single event has one: itself), in
/// order, with its local and UTC times and its status; skipped dates are not listed.
#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/occurrences",
    tag = "events",
    params(("id" = u32, Path, description = "The event's id", minimum = 1), OccurrencesParams),
    responses(
        (status = 200, description = "The occurrences", body = OccurrencesBody),
        Unchanged,
        BadParameter,
        Missing,
    )
)]
pub async fn list_occurrences(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    params: Query<OccurrencesParams>,
) -> ApiResult {
    let id = parse_event_id(&id)?;
    let from = parse_date("from", &params.from)?;
    let to = parse_date("to", &params.to)?;
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(
            AppError::bad_request("to", "the end date is before the start date (from)").into(),
        );
    }
    let (row, repetition) = state
        .db(move |conn| {
            let row = Event::find_published(conn, id).or_when_missing(no_event)?;
            Ok((row, Repetition::load(conn, id)?))
        })
        .await?;
    let in_range = |o: &OccurrenceRow| {
        from.is_none_or(|f| o.end_date >= f) && to.is_none_or(|t| o.start_date <= t)
    };
    let occurrences = if repetition.is_series() {
        repetition
            .listed()
            .filter(|o| in_range(o))
            .map(|o| OccurrenceJson::new(&row, o))
            .collect()
    } else {
        let e = &row.event;
        let tz = e.timezone.tz();
        let schedule = e.schedule();
        let (starts_at, ends_at) = (e.starts_at_utc(), e.ends_at_utc());
        let own = OccurrenceRow {
            event_id: e.id,
            occurrence_date: e.start_date,
            status: if e.status == crate::domain::EventStatus::Cancelled {
                "cancelled"
            } else {
                "scheduled"
            }
            .to_owned(),
            start_date: e.start_date,
            start_time: e.start_time,
            end_date: schedule.last_date(),
            end_time: schedule
                .end_time()
                .or_else(|| (!e.all_day).then(|| ends_at.with_timezone(&tz).time())),
            starts_at: starts_at.naive_utc(),
            ends_at: ends_at.naive_utc(),
            title: None,
            overridden: false,
        };
        std::iter::once(own)
            .filter(|o| in_range(o))
            .map(|o| OccurrenceJson::new(&row, &o))
            .collect()
    };
    json_response(&req, &OccurrencesBody { occurrences })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_only_for_its_scope() {
        let cursor = Cursor {
            starts_at: "2026-12-12T19:00:00.250".parse().unwrap(),
            id: 42,
            scope: "abc".to_owned(),
        };
        let text = cursor.encode();
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(Cursor::decode(&text, "abc").unwrap(), cursor);
        for (value, scope) in [(text.as_str(), "other"), ("nonsense!", "abc"), ("", "abc")] {
            let err = Cursor::decode(value, scope).unwrap_err();
            assert!(matches!(err, AppError::BadRequest { ref param, .. } if param == "cursor"));
        }
    }

    #[test]
    fn scopes_differ_with_filters_and_updated_since() {
        let a = EventFilter::default();
        let b = EventFilter {
            past: true,
            ..Default::default()
        };
        let since = Some("2026-11-01T00:00:00".parse().unwrap());
        assert_ne!(Cursor::scope(&a, None), Cursor::scope(&b, None));
        assert_ne!(Cursor::scope(&a, None), Cursor::scope(&a, since));
        assert_eq!(Cursor::scope(&a, since), Cursor::scope(&a, since));
    }

    #[test]
    fn limits_have_one_spelling_and_bounds() {
        assert_eq!(parse_limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(parse_limit(Some("100")).unwrap(), 100);
        for bad in ["0", "101", "05", "+5", "-1", "ten", " 5"] {
            assert!(parse_limit(Some(bad)).is_err(), "{bad}");
        }
    }
}
