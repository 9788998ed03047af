//! Where "now" comes from. Pages ask the clock, never the system directly, so that tests
//! can pin the moment and check "on now" and "upcoming" against known instants.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    System,
    Fixed(DateTime<Utc>),
    /// A moment that a test moves forward by hand ([`Clock::set`]), for what depends on
    /// time passing between two requests, such as a second being over.
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    /// A clock at `at` that [`Clock::set`] moves; every clone of it moves with it.
    pub fn manual(at: DateTime<Utc>) -> Clock {
        Clock::Manual(Arc::new(Mutex::new(at)))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(at) => *at,
            // A plain value cannot be left half-written: a poisoned lock still holds a time.
            Clock::Manual(at) => *at.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Moves a manual clock to `to`; the other clocks cannot be moved and ignore it.
    pub fn set(&self, to: DateTime<Utc>) {
        if let Clock::Manual(at) = self {
            *at.lock().unwrap_or_else(PoisonError::into_inner) = to;
        }
    }
}
