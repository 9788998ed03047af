//! The sign-in throttle: a password is checked only while the account and the client
//! address have fewer than their share of failures in the last 15 minutes. Sign-in and
//! the password-change form both go through [`check_password`], so the two doors keep
//! one count.
//!
//! Only failures count. A check under way holds a place (a row of `login_checks`,
//! reserved in the same write transaction that counts), because until its Argon2id
//! verification is over nobody knows whether it is one: without that, guesses sent all
//! at once would all pass the count before the first of them failed. When the places
//! are full but the failures alone are under the limit, the request waits for the
//! checks ahead of it to settle instead of being refused: right passwords give their
//! places back, wrong ones turn them into failures, and the waiting request is then
//! checked or refused by the failures alone. So concurrent wrong guesses get exactly as
//! many checks as guesses sent one by one, and a right password is never refused
//! because other right passwords arrived at the same moment. The places are in the
//! database, not in memory, so several servers on one database keep one count.

use std::time::{Duration, Instant};

use actix_web::web;
use chrono::TimeDelta;

use crate::clock::Clock;
use crate::db::DbPool;
use crate::db::models::{Admission, LoginCheck, ThrottleLimits};
use crate::error::AppError;
use crate::state::AppState;

/// Failed sign-ins allowed per account, and per client address (an office or a campus
/// shares one), within [`THROTTLE_WINDOW`].
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
pub const MAX_FAILURES_PER_CLIENT: i64 = 20;
pub const THROTTLE_WINDOW: TimeDelta = TimeDelta::minutes(15);

const LIMITS: ThrottleLimits = ThrottleLimits {
    per_email: MAX_FAILURES_PER_ACCOUNT,
    per_client: MAX_FAILURES_PER_CLIENT,
    window: THROTTLE_WINDOW,
    // A verification takes tens of milliseconds; one still open after this long belongs
    // to a server that stopped half-way.
    abandoned_after: TimeDelta::seconds(30),
};

/// How often a waiting request asks again: about the time of one verification.
const POLL_EVERY: Duration = Duration::from_millis(20);
/// How long a request waits for a place before it is told to come back.
const MAX_WAIT: Duration = Duration::from_secs(10);
/// What [`Verdict::Busy`] asks the client to wait, in seconds.
pub const BUSY_RETRY_AFTER: i64 = 5;

/// What came of a password under the throttle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict<T> {
    /// Checked and right: what the check gave.
    Right(T),
    /// Checked and wrong; counted as a failure.
    Wrong,
    /// Not checked: the account or the address has used up its failures.
    Throttled,
    /// Not checked: the checks ahead of it did not settle within [`MAX_WAIT`] (a
    /// server that stopped half-way, or one far behind). Nothing is counted.
    Busy,
}

/// Runs `verify` (the Argon2id check: `Some` when the password is right) under the
/// throttle for `email` (as typed, normalised) from `client`.
///
/// The reservation, the check and its settling run as one job on the blocking pool: a
/// client that hangs up cannot stop it half-way and leave its place taken.
pub async fn check_password<T, F>(
    state: &AppState,
    email: &str,
    client: &str,
    verify: F,
) -> Result<Verdict<T>, AppError>
where
    F: FnOnce() -> Option<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = state.pool.clone();
    let clock = state.clock.clone();
    let (email, client) = (email.to_owned(), client.to_owned());
    web::block(move || run(&pool, clock, &email, &client, verify)).await?
}

fn run<T>(
    pool: &DbPool,
    clock: Clock,
    email: &str,
    client: &str,
    verify: impl FnOnce() -> Option<T>,
) -> Result<Verdict<T>, AppError> {
    let give_up = Instant::now() + MAX_WAIT;
    let check = loop {
        // A connection only while asking: a waiting request must not hold one of the
        // pool's few connections that the checks ahead of it need to settle.
        let mut conn = pool.get()?;
        let admission = LoginCheck::admit(&mut conn, email, client, &LIMITS, clock.now())?;
        drop(conn);
        match admission {
            Admission::Granted(check) => break check,
            Admission::Refused => return Ok(Verdict::Throttled),
            Admission::Wait if Instant::now() < give_up => std::thread::sleep(POLL_EVERY),
            Admission::Wait => return Ok(Verdict::Busy),
        }
    };
    let outcome = verify();
    let mut conn = pool.get()?;
    match outcome {
        Some(value) => {
            check.passed(&mut conn, email)?;
            Ok(Verdict::Right(value))
        }
        None => {
            check.failed(&mut conn, email, client, clock.now())?;
            Ok(Verdict::Wrong)
        }
    }
}
