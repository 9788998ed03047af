//! The schedule inside `serve`: every tick, the sources that are due are synced, one at
//! a time, on a thread of their own (a fetch may take its whole timeout, and must not
//! hold an HTTP worker). With several servers on one database each runs it; the
//! sources' leases make sure that one source is fetched by one server at a time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::ImportSettings;
use crate::clock::Clock;
use crate::db::DbPool;
use crate::revision::RevisionWatch;
use crate::workflows::sources::{self, SyncOutcome};

/// Stops the schedule when dropped (with the server that started it); [`Schedule::stop`]
/// also waits for the sync in progress.
#[derive(Debug)]
pub struct Schedule {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Schedule {
    /// Starts no other sync and waits, at most `limit`, for the one running to commit or
    /// roll back. Past the limit the process may exit under it: the sync is one
    /// transaction, so an exit loses it whole and the source stays due.
    pub fn stop(mut self, limit: Duration) -> bool {
        self.stop.store(true, Ordering::Relaxed);
        let Some(thread) = self.thread.take() else {
            return true;
        };
        let deadline = std::time::Instant::now() + limit;
        while !thread.is_finished() {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        thread.join().is_ok()
    }
}

impl Drop for Schedule {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Starts syncing due sources every `tick`.
///
/// After each sync the server's caches are told (`revisions`), as after a request that
/// writes.
pub fn start(
    pool: DbPool,
    settings: ImportSettings,
    clock: Clock,
    tick: Duration,
    revisions: Arc<RevisionWatch>,
) -> Schedule {
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let spawned = std::thread::Builder::new()
        .name("source-sync".to_owned())
        .spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                run_once(&pool, &settings, &clock, &revisions, &stopped);
                // Asleep in short steps, so that a stop is heard soon.
                let mut slept = Duration::ZERO;
                while slept < tick && !stopped.load(Ordering::Relaxed) {
                    let step = Duration::from_millis(200).min(tick - slept);
                    std::thread::sleep(step);
                    slept += step;
                }
            }
        });
    let thread = match spawned {
        Ok(thread) => Some(thread),
        Err(e) => {
            tracing::error!(error = %e, "could not start the source schedule");
            None
        }
    };
    Schedule { stop, thread }
}

fn run_once(
    pool: &DbPool,
    settings: &ImportSettings,
    clock: &Clock,
    revisions: &RevisionWatch,
    stopped: &AtomicBool,
) {
    let mut conn = match pool.get() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "source schedule: no database connection");
            return;
        }
    };
    let result = sources::sync_due(
        &mut conn,
        settings,
        || clock.now(),
        || !stopped.load(Ordering::Relaxed),
        |_, _, source, outcome| match outcome {
            Ok(SyncOutcome::Ran(run)) => {
                revisions.note_write();
                tracing::info!(source = source.id, outcome = %run.outcome, counts = %run.counts(), "scheduled sync")
            }
            Ok(SyncOutcome::Skipped(why)) => {
                tracing::debug!(source = source.id, ?why, "scheduled sync skipped")
            }
            Err(e) => tracing::warn!(source = source.id, error = %e, "scheduled sync failed"),
        },
    );
    if let Err(e) = result {
        tracing::warn!(error = %e, "source schedule");
    }
}
