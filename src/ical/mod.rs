//! iCalendar (RFC 5545, RFC 7986): events in, text out. Pure: no HTTP, no database.
//! What the bytes must look like, and why, is in `docs/feeds.md`.

pub mod feed;
pub mod timezone;
pub mod writer;

pub use feed::{CalendarInfo, Site, left_window_at, location, render, window_start};
