//! Rows, inserts and the queries that belong to them.

mod city;
mod event;

pub use city::{City, CityFilter, NewCity};
pub use event::{
    COUNT_CAP, Event, EventPage, EventQuery, EventWithCity, NewEvent, UpcomingCounts, Window,
};

/// Turns a text search into a LIKE pattern that matches it literally: `%` and `_`
/// typed by a visitor are not wildcards.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}
