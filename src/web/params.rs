//! Query strings, parsed at the edge into validated filters. A value that cannot be
//! understood is a 400 that names the parameter; it is never silently dropped.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{CountryCode, CreativeField, EventKind, Slug, UnknownValue};
use crate::error::AppError;
use crate::web::api::schema::{
    CountryParam, DateParam, FieldParam, KindParam, OpenParam, PastParam,
};

/// The deepest page a listing serves; beyond it, narrow the filters.
pub const MAX_PAGE: u32 = 10_000;
/// The longest search text.
pub const MAX_QUERY_CHARS: usize = 200;

/// The `/events` query string as typed (also that of `/events.ics` and
/// `/api/v1/events`, whose OpenAPI document describes it from here). Empty values (an
/// "any" choice in the filter form) mean "not given".
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsParams {
    /// Only the events of this city (its slug, as in `/api/v1/cities`).
    #[param(example = "krakow")]
    pub city: Option<String>,
    /// Only the events of cities in this country: an ISO 3166 alpha-2 code, either case.
    #[param(example = "PT", value_type = Option<CountryParam>)]
    pub country: Option<String>,
    /// Only events of this creative field.
    #[param(value_type = Option<FieldParam>)]
    pub field: Option<String>,
    /// Only events of this kind.
    #[param(value_type = Option<KindParam>)]
    pub kind: Option<String>,
    /// Only events still running on or after this local date (YYYY-MM-DD, 2000 to 2100).
    #[param(value_type = Option<DateParam>)]
    pub from: Option<String>,
    /// Only events that start on or before this local date (YYYY-MM-DD, 2000 to 2100);
    /// not before `from` (a 400 otherwise).
    #[param(value_type = Option<DateParam>)]
    pub to: Option<String>,
    /// Words in the title, venue or description; each word matches the start of a word.
    /// At most 200 characters as sent, and no NUL.
    #[param(max_length = 200, pattern = "^[^\\u0000]*$")]
    pub q: Option<String>,
    /// `1`: events that have ended, latest first. Without it, and without `from` and
    /// `to`: events that have not ended.
    #[param(value_type = Option<PastParam>)]
    pub past: Option<String>,
    /// `today` (in the city's zone with `city`, else in UTC) or a local date
    /// (YYYY-MM-DD): only events open that day: a series with an occurrence on it, an
    /// exhibition whose opening hours include its weekday, or an event running then.
    #[param(example = "today", value_type = Option<OpenParam>)]
    pub open: Option<String>,
    /// The page of the HTML listing; the API pages with `cursor` instead.
    #[param(ignore)]
    pub page: Option<String>,
}

/// Only the page, for the city and field pages.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageParams {
    pub page: Option<String>,
}

pub use crate::filters::{EventFilter, OpenDay};

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A value that has one spelling (a number, a date): taken as it is, not trimmed, so
/// that `page=+5` (a space and 5) is refused; empty means not given.
fn given_exactly(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// Parses `page`: a whole number from 1 to [`MAX_PAGE`]; absent means 1.
pub fn parse_page(value: &Option<String>) -> Result<u32, AppError> {
    match given_exactly(value) {
        None => Ok(1),
        // Digits only: `+5` and `05` would be other spellings of the same page.
        Some(v) => Some(v)
            .filter(|v| v.bytes().all(|b| b.is_ascii_digit()) && !v.starts_with('0'))
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|p| (1..=MAX_PAGE).contains(p))
            .ok_or_else(|| {
                AppError::bad_request(
                    "page",
                    format!("“{}” is not a page number from 1 to {MAX_PAGE}", short(v)),
                )
            }),
    }
}

pub(crate) fn parse_date(
    name: &str,
    value: &Option<String>,
) -> Result<Option<NaiveDate>, AppError> {
    let Some(v) = given_exactly(value) else {
        return Ok(None);
    };
    let date = crate::domain::parse_iso_date(v)
        .filter(|d| (2000..=2100).contains(&chrono::Datelike::year(d)));
    match date {
        Some(d) => Ok(Some(d)),
        None => Err(AppError::bad_request(
            name,
            format!(
                "“{}” is not a date written YYYY-MM-DD between 2000 and 2100",
                short(v)
            ),
        )),
    }
}

/// Parses one of a closed set of slugs; a bad value is a 400 that lists the choices.
pub fn parse_choice<T>(
    value: &Option<String>,
    name: &str,
    what: &str,
    parse: fn(&str) -> Result<T, UnknownValue>,
    choices: fn() -> String,
) -> Result<Option<T>, AppError> {
    given(value)
        .map(|v| {
            parse(v).map_err(|_| {
                AppError::bad_request(
                    name,
                    format!("“{}” is not {what}; use one of {}", short(v), choices()),
                )
            })
        })
        .transpose()
}

/// Parses `country`, an ISO 3166 code in either case.
pub fn parse_country(value: &Option<String>) -> Result<Option<CountryCode>, AppError> {
    given(value)
        .map(|v| {
            CountryCode::parse_assigned(v)
                .map_err(|e| AppError::bad_request("country", e.to_string()))
        })
        .transpose()
}

/// A row id as an address or a form writes it: digits only, with no sign and no leading
/// zero, so that each row has one address (`/events/0042` and `/events/+42` are not it).
pub fn canonical_id(value: &str) -> Option<i32> {
    let canonical =
        !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) && !value.starts_with('0');
    canonical.then(|| value.parse().ok()).flatten()
}

pub(crate) use crate::domain::short;

/// Parses `q`, a search text: at most [`MAX_QUERY_CHARS`] characters as sent (spaces
/// and control characters count, so that the limit is the one the document states),
/// then cleaned to one line; empty is none.
pub fn parse_search_text(value: &Option<String>) -> Result<Option<String>, AppError> {
    let Some(q) = value.as_deref() else {
        return Ok(None);
    };
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::bad_request(
            "q",
            format!("the search text is at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    Ok(Some(crate::domain::clean_line(q.trim())).filter(|q| !q.is_empty()))
}

impl TryFrom<&EventsParams> for EventFilter {
    type Error = AppError;

    fn try_from(p: &EventsParams) -> Result<EventFilter, AppError> {
        let city = given(&p.city)
            .map(|v| {
                Slug::parse(v).map_err(|_| {
                    AppError::bad_request("city", format!("no city has the slug “{}”", short(v)))
                })
            })
            .transpose()?;
        let country = parse_country(&p.country)?;
        let field = parse_choice(
            &p.field,
            "field",
            "a creative field",
            CreativeField::parse,
            CreativeField::slugs,
        )?;
        let kind = parse_choice(
            &p.kind,
            "kind",
            "a kind of event",
            EventKind::parse,
            EventKind::slugs,
        )?;
        let from = parse_date("from", &p.from)?;
        let to = parse_date("to", &p.to)?;
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            return Err(AppError::bad_request(
                "to",
                "the end date is before the start date (from)",
            ));
        }
        let q = parse_search_text(&p.q)?;
        let past = match given_exactly(&p.past) {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => {
                return Err(AppError::bad_request(
                    "past",
                    format!("“{}” is not 1 or 0", short(other)),
                ));
            }
        };
        let open = match given_exactly(&p.open) {
            None => None,
            Some("today") => Some(OpenDay::Today),
            Some(_) => parse_date("open", &p.open)?.map(OpenDay::Date),
        };
        Ok(EventFilter {
            city,
            country,
            field,
            kind,
            from,
            to,
            q,
            past,
            open,
            page: parse_page(&p.page)?,
        })
    }
}

impl EventFilter {
    /// The canonical query string of these filters with another page ("" when empty).
    pub fn query_string(&self, page: u32) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(c) = &self.city {
            pairs.push(("city", c.to_string()));
        }
        if let Some(c) = &self.country {
            pairs.push(("country", c.to_string()));
        }
        if let Some(f) = self.field {
            pairs.push(("field", f.slug().to_owned()));
        }
        if let Some(k) = self.kind {
            pairs.push(("kind", k.slug().to_owned()));
        }
        if let Some(d) = self.from {
            pairs.push(("from", d.to_string()));
        }
        if let Some(d) = self.to {
            pairs.push(("to", d.to_string()));
        }
        if let Some(q) = &self.q {
            pairs.push(("q", q.clone()));
        }
        if self.past {
            pairs.push(("past", "1".to_owned()));
        }
        match self.open {
            Some(OpenDay::Today) => pairs.push(("open", "today".to_owned())),
            Some(OpenDay::Date(d)) => pairs.push(("open", d.to_string())),
            None => {}
        }
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    }

    /// The `/events` address of these filters at `page`.
    pub fn url(&self, page: u32) -> String {
        let qs = self.query_string(page);
        if qs.is_empty() {
            "/events".to_owned()
        } else {
            format!("/events?{qs}")
        }
    }

    /// Whether any filter narrows the listing.
    pub fn is_filtered(&self) -> bool {
        self.city.is_some()
            || self.country.is_some()
            || self.field.is_some()
            || self.kind.is_some()
            || self.from.is_some()
            || self.to.is_some()
            || self.q.is_some()
            || self.past
            || self.open.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> EventsParams {
        let qs = serde_urlencoded::to_string(pairs).unwrap();
        serde_urlencoded::from_str(&qs).unwrap()
    }

    fn param_of(err: AppError) -> String {
        match err {
            AppError::BadRequest { param, .. } => param,
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    #[test]
    fn empty_values_mean_not_given() {
        let f =
            EventFilter::try_from(&params(&[("city", ""), ("field", " "), ("page", "")])).unwrap();
        assert_eq!(
            f,
            EventFilter {
                page: 1,
                ..Default::default()
            }
        );
    }

    #[test]
    fn each_bad_parameter_is_named() {
        let cases = [
            ("from", "2026-13-45"),
            ("to", "tomorrow"),
            ("page", "-1"),
            ("page", "0"),
            ("page", "99999999999"),
            ("field", "nope"),
            ("kind", "party"),
            ("country", "PRT"),
            ("city", "Kraków"),
            ("past", "maybe"),
            ("from", "1999-12-31"),
        ];
        for (name, value) in cases {
            let err = EventFilter::try_from(&params(&[(name, value)])).unwrap_err();
            assert_eq!(param_of(err), name, "{name}={value}");
        }
    }

    #[test]
    fn a_range_that_ends_before_it_starts_is_refused() {
        let err = EventFilter::try_from(&params(&[("from", "2026-12-10"), ("to", "2026-12-01")]))
            .unwrap_err();
        assert_eq!(param_of(err), "to");
    }

    #[test]
    fn a_huge_search_is_refused_and_a_normal_one_kept() {
        let long = "x".repeat(201);
        assert_eq!(
            param_of(EventFilter::try_from(&params(&[("q", &long)])).unwrap_err()),
            "q"
        );
        let f = EventFilter::try_from(&params(&[("q", "  jazz\nnight ")])).unwrap();
        assert_eq!(f.q.as_deref(), Some("jazz night"));
    }

    #[test]
    fn the_query_string_round_trips_with_another_page() {
        let f = EventFilter::try_from(&params(&[
            ("city", "krakow"),
            ("country", "pl"),
            ("field", "literature"),
            ("kind", "talk"),
            ("from", "2026-12-01"),
            ("to", "2026-12-31"),
            ("q", "poems & prose"),
            ("past", "1"),
        ]))
        .unwrap();
        let qs = f.query_string(3);
        assert!(qs.contains("q=poems+%26+prose"), "{qs}");
        assert!(qs.ends_with("page=3"));
        let again: EventsParams = serde_urlencoded::from_str(&qs).unwrap();
        let g = EventFilter::try_from(&again).unwrap();
        assert_eq!(g, EventFilter { page: 3, ..f });
    }
}
