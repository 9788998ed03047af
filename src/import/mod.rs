//! Reading organisers' own calendars: fetching a feed safely ([`fetch`]), reading it
//! tolerantly ([`ics`], with [`zones`] and [`html`]), and mapping its VEVENTs to the
//! site's events ([`map`]). What a sync does with them is a workflow
//! ([`crate::workflows::sources`]); the schedule that runs it inside `serve` is
//! [`schedule`].

pub mod fetch;
pub mod html;
pub mod ics;
pub mod map;
pub mod schedule;
pub mod zones;

use chrono::TimeDelta;

/// Every six hours: what Google and Outlook themselves do for subscribed calendars, and
/// often enough that a change made in the morning is here by the afternoon.
pub const DEFAULT_INTERVAL_MINUTES: u64 = 6 * 60;

/// How a sync fetches and how often.
#[derive(Debug, Clone)]
pub struct ImportSettings {
    pub fetch: fetch::FetchSettings,
    /// Between two fetches of a source that worked.
    pub interval: TimeDelta,
    /// Names this server in the leases it takes.
    pub holder: String,
}

impl ImportSettings {
    /// The settings of a site at `public_url`: its name and address go into the
    /// User-Agent, so that a feed's operator can see who fetches and find whom to ask.
    pub fn new(public_url: &str, allow_private_addresses: bool) -> ImportSettings {
        let mut fetch = fetch::FetchSettings::new(format!(
            "creative-calendar/{} (+{public_url})",
            env!("CARGO_PKG_VERSION")
        ));
        fetch.allow_private_addresses = allow_private_addresses;
        ImportSettings {
            fetch,
            interval: TimeDelta::minutes(DEFAULT_INTERVAL_MINUTES as i64),
            holder: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
        }
    }
}
