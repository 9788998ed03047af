//! The data revision as this server last read it, so that a request served from a cache
//! (a page, an API list, a feed, or their `304`) needs no database round trip.
//!
//! Every write moves the revision in the database (the `data_revision` triggers). This
//! server reads it again:
//! - at once after a write made through this server ([`RevisionWatch::note_write`] is
//!   called when a state-changing request or a sync ends, before its answer leaves), so
//!   that nobody reads a page older than their own write;
//! - otherwise when the last read is older than the check interval (100 ms by
//!   default), which bounds how long another server's write, or the CLI's, stays
//!   unseen here.
//!
//! A reading taken before a write was noted is never stored as current after it: each
//! read carries the count of writes noted when it started, and only the newest such read
//! is kept.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The revision this server knows, and when and after which local write it was read.
#[derive(Debug)]
pub struct RevisionWatch {
    interval: Duration,
    /// Writes noted so far.
    writes: AtomicU64,
    /// A read of the database running for an interval's expiry (not for a write): the
    /// other requests meanwhile take the value they have instead of queueing behind it.
    refreshing: AtomicBool,
    known: Mutex<Option<Known>>,
}

#[derive(Debug, Clone, Copy)]
struct Known {
    revision: i64,
    /// When the read began: the value is at least as new as the database then.
    read_at: Instant,
    /// The writes noted when the read began.
    after_writes: u64,
}

/// What a request should do to learn the revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// The value is current enough: use it.
    Known(i64),
    /// Read the database, then [`RevisionWatch::store`] what it said with this ticket.
    Read(Ticket),
}

/// Which writes a read of the database follows, and whether it is the single read that
/// renews an expired value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    started: Instant,
    after_writes: u64,
    renewing: bool,
}

impl RevisionWatch {
    pub fn new(interval: Duration) -> RevisionWatch {
        RevisionWatch {
            interval,
            writes: AtomicU64::new(0),
            refreshing: AtomicBool::new(false),
            known: Mutex::new(None),
        }
    }

    /// A write was made through this server (its transaction has committed).
    pub fn note_write(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
    }

    /// The revision if it is known well enough, or a ticket to read it.
    pub fn reading(&self) -> Reading {
        let started = Instant::now();
        let after_writes = self.writes.load(Ordering::SeqCst);
        let known = self.known.lock().ok().and_then(|k| *k);
        let ticket = |renewing| {
            Reading::Read(Ticket {
                started,
                after_writes,
                renewing,
            })
        };
        let Some(known) = known else {
            return ticket(false);
        };
        if known.after_writes != after_writes {
            // A write through this server since: only a new read is good enough.
            return ticket(false);
        }
        if started.saturating_duration_since(known.read_at) < self.interval {
            return Reading::Known(known.revision);
        }
        // Expired by time alone: one request renews it, the others keep the value (at
        // most one round trip older than the interval).
        if self
            .refreshing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            ticket(true)
        } else {
            Reading::Known(known.revision)
        }
    }

    /// What a read with `ticket` found (or `None` when it failed).
    pub fn store(&self, ticket: Ticket, revision: Option<i64>) {
        if ticket.renewing {
            self.refreshing.store(false, Ordering::Release);
        }
        let Some(revision) = revision else { return };
        let Ok(mut known) = self.known.lock() else {
            return;
        };
        let newer = known
            .is_none_or(|k| (ticket.after_writes, ticket.started) > (k.after_writes, k.read_at));
        if newer {
            *known = Some(Known {
                revision,
                read_at: ticket.started,
                after_writes: ticket.after_writes,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(watch: &RevisionWatch, revision: i64) -> i64 {
        match watch.reading() {
            Reading::Known(r) => r,
            Reading::Read(ticket) => {
                watch.store(ticket, Some(revision));
                revision
            }
        }
    }

    #[test]
    fn a_fresh_value_is_reused_and_a_local_write_forces_a_read() {
        let watch = RevisionWatch::new(Duration::from_secs(60));
        assert_eq!(read(&watch, 1), 1);
        assert_eq!(read(&watch, 2), 1, "within the interval, no read");
        watch.note_write();
        assert_eq!(read(&watch, 3), 3, "after a local write, a read");
    }

    #[test]
    fn a_read_begun_before_a_write_is_not_kept_after_it() {
        let watch = RevisionWatch::new(Duration::from_secs(60));
        let Reading::Read(before) = watch.reading() else {
            panic!("nothing known yet");
        };
        watch.note_write();
        let Reading::Read(after) = watch.reading() else {
            panic!("a write was noted");
        };
        watch.store(after, Some(8));
        // The slow read that began before the write answers last, with the old value.
        watch.store(before, Some(7));
        assert_eq!(watch.reading(), Reading::Known(8));
    }

    #[test]
    fn an_expired_value_is_renewed_by_one_request_while_others_keep_it() {
        let watch = RevisionWatch::new(Duration::ZERO);
        assert_eq!(read(&watch, 1), 1);
        let Reading::Read(renewal) = watch.reading() else {
            panic!("expired");
        };
        assert_eq!(watch.reading(), Reading::Known(1), "one renewal at a time");
        watch.store(renewal, Some(2));
        assert!(matches!(watch.reading(), Reading::Read(_)), "expired again");
    }

    #[test]
    fn a_failed_read_lets_the_next_request_try() {
        let watch = RevisionWatch::new(Duration::ZERO);
        assert_eq!(read(&watch, 1), 1);
        let Reading::Read(renewal) = watch.reading() else {
            panic!("expired");
        };
        watch.store(renewal, None);
        assert!(matches!(watch.reading(), Reading::Read(_)));
    }
}
