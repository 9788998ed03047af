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

/// Stops the schedule when dropped (with the server that started it).
#[derive(Debug)]
pub struct Schedule {
    stop: Arc<AtomicBool>,
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
                run_once(&pool, &settings, &clock, &revisions);
                // Asleep in short steps, so that a stop is heard soon.
                let mut slept = Duration::ZERO;
                while slept < tick && !stopped.load(Ordering::Relaxed) {
                    let step = Duration::from_millis(200).min(tick - slept);
                    std::thread::sleep(step);
                    slept += step;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start the source schedule");
    }
    Schedule { stop }
}

fn run_once(pool: &DbPool, settings: &ImportSettings, clock: &Clock, revisions: &RevisionWatch) {
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
