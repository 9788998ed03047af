//! Pure domain types: no actix, no diesel. Input is parsed into these at the edge
//! (forms, CSV rows, query strings) and the rest of the code trusts them.

mod account;
mod city;
mod event;
mod event_form;
mod field;
mod kind;
pub mod recurrence;
mod schedule;
mod slug;
mod status;
mod text;
mod when;

/// Shorthands for dates in the domain's unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use chrono::{NaiveDate, NaiveDateTime};

    pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    pub fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        date(y, m, d).and_hms_opt(h, min, 0).unwrap()
    }
}

pub use account::{
    DisplayName, Email, EmailError, Organisation, Password, PasswordError, TokenName,
};
pub use city::{CountryCode, TimeZoneName};
pub use event::EventDraft;
pub use event_form::{
    ALL_DAY_TICKED, EventForm, FORM_ORDER, FieldErrors, FormCity, REPEATABLE_FIELDS,
};
pub use field::CreativeField;
pub use kind::EventKind;
pub use schedule::{
    DEFAULT_DURATION, EventSchedule, Instants, ScheduleError, local_instant, parse_hh_mm,
    parse_iso_date,
};
pub use slug::{Slug, SlugError};
pub use status::{EventStatus, ModerationAction, ModerationState};
pub use text::{
    EventTitle, TextError, UNDECODABLE, clean_line, clean_text, decoded, hex, limited_text,
    sentence, short, thousands,
};
pub use when::{TimeLabel, When, utc_offset_label, zone_label};

/// Declares a closed set of values stored and shown as a slug, with a human label.
/// Every enum in the domain that reaches a URL or a database column goes through this,
/// so the slug spelling lives in exactly one place.
macro_rules! slug_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($(#[$vmeta:meta])* $variant:ident => ($slug:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The URL and database spelling.
            pub fn slug(self) -> &'static str {
                match self { $($name::$variant => $slug),+ }
            }

            /// Every slug, comma-separated, for messages that list the choices.
            pub fn slugs() -> String {
                Self::ALL.iter().map(|v| v.slug()).collect::<Vec<_>>().join(", ")
            }

            /// The English label shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// Parses the slug spelling; anything else is an error naming the bad value.
            pub fn parse(value: &str) -> Result<Self, crate::domain::UnknownValue> {
                match value {
                    $($slug => Ok($name::$variant),)+
                    other => Err(crate::domain::UnknownValue { what: $what, value: other.chars().take(64).collect() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::domain::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> { Self::parse(s) }
        }

        impl TryFrom<String> for $name {
            type Error = crate::domain::UnknownValue;
            fn try_from(s: String) -> Result<Self, Self::Error> { Self::parse(&s) }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String { v.slug().to_owned() }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.slug())
            }
        }
    };
}
pub(crate) use slug_enum;

/// A value outside a closed set (an unknown field, kind or status).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} \"{value}\"")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}
