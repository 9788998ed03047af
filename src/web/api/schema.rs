//! The schemas of the query parameters, as exact as the parsers behind them, so that a
//! client (or schemathesis) can tell from the document alone which values are taken:
//! every value a schema allows is accepted, every other one is a 400.
//!
//! The filters are those of the `/events` form, which sends an empty value for "any", so
//! each of them also allows the empty string. What a schema cannot say (a city slug that
//! exists, `to` not before `from`) is filled in at run time ([`super::openapi::document`])
//! or written in the parameter's description.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::{CountryCode, CreativeField, EventKind};

/// A pattern of the empty string or one of `alternatives`.
fn empty_or(alternatives: &str) -> String {
    format!("^(?:|{alternatives})$")
}

fn text(description: &str, pattern: String) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(Some(pattern))
        .into()
}

fn slugs_or_empty(description: &str, slugs: impl Iterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(slugs.chain([""])))
        .into()
}

macro_rules! param_schema {
    ($($name:ident => $schema:expr;)+) => {$(
        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }
        impl ToSchema for $name {}
    )+};
}

/// `field`: a creative field's slug, or empty for any.
pub struct FieldParam;
/// `kind`: a kind of event's slug, or empty for any.
pub struct KindParam;
/// `country`: an ISO 3166-1 code in either case, or empty for any.
pub struct CountryParam;
/// `from` and `to`: a date from 2000 to 2100, or empty for none.
pub struct DateParam;
/// `past`: `1`, `0` or empty.
pub struct PastParam;
/// `open`: `today`, a date from 2000 to 2100, or empty for none.
pub struct OpenParam;
/// A time of day, `HH:MM` on the 24-hour clock, or empty.
pub struct TimeParam;

param_schema! {
    FieldParam => slugs_or_empty(
        "A creative field's slug; empty for any.",
        CreativeField::ALL.iter().map(|f| f.slug()),
    );
    KindParam => slugs_or_empty(
        "A kind of event's slug; empty for any.",
        EventKind::ALL.iter().map(|k| k.slug()),
    );
    CountryParam => text(
        "A code ISO 3166-1 assigns, in either case; empty for any.",
        empty_or(&country_pattern()),
    );
    DateParam => text(
        "A date written YYYY-MM-DD, from 2000-01-01 to 2100-12-31; empty for none.",
        empty_or(DATE_PATTERN),
    );
    PastParam => text("`1`, `0`, or empty (which is `0`).", "^[01]?$".to_owned());
    OpenParam => text(
        "`today`, or a date written YYYY-MM-DD from 2000-01-01 to 2100-12-31; empty for none.",
        empty_or(&format!("today|{DATE_PATTERN}")),
    );
    TimeParam => text(
        "A time of day written HH:MM, from 00:00 to 23:59; empty for none.",
        empty_or("(?:[01][0-9]|2[0-3]):[0-5][0-9]"),
    );
}

/// Every real date from 2000 to 2100 (2100 is not a leap year), in ASCII digits only:
/// `\d` would let a generator write other scripts' digits.
const DATE_PATTERN: &str = concat!(
    "(?:20[0-9]{2}|2100)-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])",
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)",
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))",
    "|20(?:[02468][048]|[13579][26])-02-29",
);

/// The assigned codes, each letter in either case: `[Pp](?:[Ee]|[Ff]|…)`, by first letter.
fn country_pattern() -> String {
    let either = |c: char| format!("[{}{}]", c, c.to_ascii_lowercase());
    let mut groups: Vec<(char, Vec<char>)> = Vec::new();
    for code in CountryCode::assigned() {
        let mut letters = code.chars();
        let (Some(first), Some(second)) = (letters.next(), letters.next()) else {
            continue;
        };
        match groups.last_mut() {
            Some((f, seconds)) if *f == first => seconds.push(second),
            _ => groups.push((first, vec![second])),
        }
    }
    groups
        .iter()
        .map(|(first, seconds)| {
            let seconds: String = seconds
                .iter()
                .map(|c| format!("{}{}", c, c.to_ascii_lowercase()))
                .collect();
            format!("{}[{seconds}]", either(*first))
        })
        .collect::<Vec<_>>()
        .join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_match(pattern: &str, value: &str) -> bool {
        regex_lite::Regex::new(pattern)
            .map(|re| re.is_match(value))
            .unwrap_or(false)
    }

    #[test]
    fn the_date_pattern_takes_exactly_the_dates_the_filters_take() {
        let pattern = empty_or(DATE_PATTERN);
        let mut day = chrono::NaiveDate::from_ymd_opt(1999, 12, 1).unwrap();
        while day < chrono::NaiveDate::from_ymd_opt(2101, 2, 1).unwrap() {
            let text = day.to_string();
            let taken = crate::web::params::parse_date("from", &Some(text.clone())).is_ok();
            assert_eq!(full_match(&pattern, &text), taken, "{text}");
            day = day.succ_opt().unwrap();
        }
        for wrong in [
            "2100-02-29",
            "2023-02-29",
            "2020-13-01",
            "2020-1-01",
            "２０２０-01-01",
        ] {
            assert!(!full_match(&pattern, wrong), "{wrong}");
        }
        assert!(full_match(&pattern, "2000-02-29"));
        assert!(full_match(&pattern, ""));
    }

    #[test]
    fn the_country_pattern_takes_exactly_the_assigned_codes() {
        let pattern = empty_or(&country_pattern());
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                for code in [
                    format!("{}{}", a as char, b as char),
                    format!("{}{}", (a as char).to_ascii_lowercase(), b as char),
                    format!("{}{}", a as char, (b as char).to_ascii_lowercase()),
                ] {
                    let taken = CountryCode::parse_assigned(&code).is_ok();
                    assert_eq!(full_match(&pattern, &code), taken, "{code}");
                }
            }
        }
    }
}
