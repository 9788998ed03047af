use super::recurrence::{Hours, Series};
use super::{CreativeField, EventKind, EventSchedule, EventStatus, EventTitle};

/// A complete, valid event as an organiser (or the demo generator) describes it,
/// before it has a city row, an id or a UID.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDraft {
    pub kind: EventKind,
    /// `None` means "the city's own field".
    pub field: Option<CreativeField>,
    pub title: EventTitle,
    pub description: String,
    pub venue_name: String,
    pub venue_address: String,
    pub coordinates: Option<(f64, f64)>,
    pub schedule: EventSchedule,
    pub url: Option<String>,
    pub price: Option<String>,
    pub is_free: bool,
    pub organizer_name: Option<String>,
    pub status: EventStatus,
    /// The rule and skipped dates of a series; `None` for a single event.
    pub series: Option<Series>,
    /// An exhibition's opening hours and closed dates.
    pub hours: Option<Hours>,
}
