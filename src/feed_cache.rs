//! Built feeds kept between polls, keyed by feed, data revision and day, with the
//! validators a `304` needs and, for large feeds, a gzipped copy; and the builds running,
//! at most one per feed.
//!
//! Under a stream of writes to one city, every write moves the data revision. Building
//! that city's feed once per write, with every reader waiting in line for the build of
//! its own revision, is what starved readers (issue 9, point 7). So:
//! - one build per feed runs at a time, and it reads the revision when it starts: writes
//!   made while it runs are all taken by the next one, not one build each;
//! - while it runs, requests get the version before it if that version's data is young
//!   ([`SERVE_PREVIOUS_FOR`]), with that version's own validators, so a `304` against it
//!   is as true as its body; with nothing young enough to serve, they wait for the build;
//! - when requests asked for newer data than a build read, its caller is told to build
//!   once more (in the background), so the next readers find that build running and the
//!   version just made, instead of one of them waiting for a build of its own.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use actix_web::http::header::EntityTag;
use actix_web::web::Bytes;
use chrono::NaiveDate;

/// A built feed and its validators.
#[derive(Debug, Clone)]
pub(crate) struct BuiltFeed {
    pub(crate) etag: EntityTag,
    /// The latest change to anything the feed shows, to the full precision of the stored
    /// times, never later than the moment its data was read. `Last-Modified` and
    /// `If-Modified-Since` are derived from it (see `last_modified` in `mod.rs`): an
    /// HTTP date has whole seconds, and rounding the change down to one is what let a
    /// second change in the same second pass for no change.
    pub(crate) changed: SystemTime,
    pub(crate) body: Bytes,
    /// The same bytes gzipped, and their own ETag (a strong ETag names one
    /// representation); none for feeds too small to gain from it.
    pub(crate) gzip: Option<Gzipped>,
    /// The single event's title, for its download's file name.
    pub(crate) filename: Option<String>,
    /// The data revision it was built from (set by the build; 0 until then).
    pub(crate) revision: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Gzipped {
    pub(crate) etag: EntityTag,
    pub(crate) body: Bytes,
}

/// Below this, a feed is sent as it is: a city feed of a few events gains nothing.
const GZIP_FROM_BYTES: usize = 4 * 1024;

impl BuiltFeed {
    pub(crate) fn new(body: String, changed: SystemTime, filename: Option<String>) -> BuiltFeed {
        let tag = content_tag(body.as_bytes());
        let gzip = gzip_if_large(body.as_bytes()).map(|zipped| Gzipped {
            etag: EntityTag::new_strong(gzip_tag(&tag)),
            body: Bytes::from(zipped),
        });
        BuiltFeed {
            etag: EntityTag::new_strong(tag),
            changed,
            body: Bytes::from(body),
            gzip,
            filename,
            revision: 0,
        }
    }

    /// Bytes kept in memory.
    fn size(&self) -> usize {
        self.body.len() + self.gzip.as_ref().map_or(0, |g| g.body.len())
    }

    /// Keeps only what a 304 needs.
    fn without_bodies(self) -> BuiltFeed {
        BuiltFeed {
            body: Bytes::new(),
            gzip: self.gzip.map(|g| Gzipped {
                etag: g.etag,
                body: Bytes::new(),
            }),
            ..self
        }
    }
}

/// `bytes` gzipped, unless they are too few to gain from it. The API compresses its
/// answers with this too.
pub(crate) fn gzip_if_large(bytes: &[u8]) -> Option<Vec<u8>> {
    (bytes.len() >= GZIP_FROM_BYTES)
        .then(|| gzip(bytes))
        .flatten()
}

/// The ETag of the gzipped form of bytes tagged `tag`: a strong ETag names one
/// representation, so the two forms have two.
pub(crate) fn gzip_tag(tag: &str) -> String {
    format!("{tag}-gzip")
}

/// Fast compression: a feed is rebuilt after every change, and calendar text still
/// shrinks about tenfold.
fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 8),
        flate2::Compression::fast(),
    );
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

/// While a feed is being built again, the version before it is served if the build that
/// made it started less than this long ago; an older one makes the request wait.
///
/// A subscriber cannot tell a version this old from having polled a few seconds earlier
/// (calendar apps poll every 15 minutes to a few hours, and shared caches may keep a feed
/// for `max-age`, 15 minutes). It is five times the longest build measured (the network
/// feed of 100,000 events, 1.9 s), so that a steady stream of writes never makes readers
/// wait for builds; yet a feed polled rarely is not answered from a version made long
/// before the change that is now being built.
pub(crate) const SERVE_PREVIOUS_FOR: Duration = Duration::from_secs(10);

/// Which data a request asks for: the data revision it read, on its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wanted {
    pub(crate) revision: i64,
    pub(crate) day: NaiveDate,
}

/// What a build made: the feed, and the revision and day its data was read at.
#[derive(Debug)]
pub(crate) struct Built {
    pub(crate) revision: i64,
    pub(crate) day: NaiveDate,
    pub(crate) feed: BuiltFeed,
}

/// What a request gets: a feed, and whether it should have the feed built once more
/// (other requests asked for newer data than the one it built or was given read).
#[derive(Debug)]
pub(crate) struct Got {
    pub(crate) feed: BuiltFeed,
    pub(crate) build_again: bool,
}

/// Built feeds, with the revision and day each was built for, and the builds running.
pub struct FeedCache {
    max_bytes: usize,
    inner: Mutex<Inner>,
    /// Signalled whenever a build ends, for the requests waiting for one.
    build_ended: Condvar,
}

struct Inner {
    entries: HashMap<String, CacheEntry>,
    /// The feeds being built, by key: at most one build each.
    running: HashMap<String, Running>,
    /// Orders uses of the entries, for evicting the least recently used.
    tick: u64,
}

struct CacheEntry {
    revision: i64,
    day: NaiveDate,
    feed: BuiltFeed,
    /// When the build that made it started: its data is at most this old.
    started: Instant,
    last_used: u64,
}

struct Running {
    /// The newest revision that a request read while this build ran.
    wanted: i64,
    /// Where the build leaves its feed for the requests that waited for it, also one too
    /// large to keep, which otherwise each of them would build again.
    result: Arc<OnceLock<BuiltFeed>>,
    /// Requests waiting for it (only the tests look).
    waiting: usize,
}

/// What the cache can do for a request at once.
enum Lookup {
    Found(BuiltFeed),
    /// A build runs and nothing kept will do: wait for this result.
    Wait(Arc<OnceLock<BuiltFeed>>),
    /// Nothing kept will do and nothing runs: build it.
    Build,
}

/// Feeds kept at most; past it, the least recently used goes.
const CACHE_ENTRIES: usize = 512;

impl FeedCache {
    pub fn new(max_bytes: usize) -> FeedCache {
        FeedCache {
            max_bytes,
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                running: HashMap::new(),
                tick: 0,
            }),
            build_ended: Condvar::new(),
        }
    }

    /// The maps are changed only by short steps under the lock that cannot leave them
    /// half-changed, and no build runs under it; a lock poisoned by a panic elsewhere
    /// still holds sound maps.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Without waiting: the feed kept for `wanted` (or for a later revision of the same
    /// day), or, while a build of `key` runs, the version before it if it is young.
    /// `usable` says whether a kept feed can answer the request: one kept without its
    /// body (larger than the whole budget) answers only a `304`.
    pub(crate) fn find(
        &self,
        key: &str,
        wanted: Wanted,
        now: Instant,
        usable: impl Fn(&BuiltFeed) -> bool,
    ) -> Option<BuiltFeed> {
        match self.lock().lookup(key, wanted, now, &usable) {
            Lookup::Found(feed) => Some(feed),
            Lookup::Wait(_) | Lookup::Build => None,
        }
    }

    /// The feed for `wanted`, as [`FeedCache::find`] gives it; otherwise the result of the
    /// build of `key` that runs, waited for; otherwise built here by `build`, which reads
    /// the revision when it starts and so takes every write made until then. Runs on the
    /// blocking pool: it may wait.
    pub(crate) fn get_or_build<E>(
        &self,
        key: &str,
        wanted: Wanted,
        now: Instant,
        usable: impl Fn(&BuiltFeed) -> bool,
        build: impl FnOnce() -> Result<Built, E>,
    ) -> Result<Got, E> {
        let mut inner = self.lock();
        loop {
            match inner.lookup(key, wanted, now, &usable) {
                Lookup::Found(feed) => {
                    return Ok(Got {
                        feed,
                        build_again: false,
                    });
                }
                Lookup::Build => return self.build_here(inner, key, wanted, now, build),
                Lookup::Wait(result) => {
                    inner.waiting(key, &result, 1);
                    inner = self
                        .build_ended
                        .wait(inner)
                        .unwrap_or_else(PoisonError::into_inner);
                    inner.waiting(key, &result, -1);
                    if let Some(feed) = result.get() {
                        return Ok(Got {
                            feed: feed.clone(),
                            build_again: false,
                        });
                    }
                    // Another feed's build ended, or this one failed: look again, and
                    // build here if nothing runs any more.
                }
            }
        }
    }

    fn build_here<E>(
        &self,
        mut inner: MutexGuard<'_, Inner>,
        key: &str,
        wanted: Wanted,
        now: Instant,
        build: impl FnOnce() -> Result<Built, E>,
    ) -> Result<Got, E> {
        let result = Arc::new(OnceLock::new());
        inner.running.insert(
            key.to_owned(),
            Running {
                wanted: wanted.revision,
                result: Arc::clone(&result),
                waiting: 0,
            },
        );
        drop(inner);
        let mut claim = Claim {
            cache: self,
            key,
            ended: false,
        };
        let built = build();
        let mut inner = self.lock();
        let asked_for = claim.end(&mut inner);
        let built = built?;
        // Every waiter holds the result; the first to wake takes it under the lock,
        // after this is set.
        let _ = result.set(built.feed.clone());
        self.keep(
            &mut inner,
            key.to_owned(),
            built.revision,
            built.day,
            built.feed.clone(),
            now,
        );
        Ok(Got {
            feed: built.feed,
            build_again: asked_for > built.revision,
        })
    }

    /// Keeps `feed` for `key`, made by a build that started at `started`.
    fn keep(
        &self,
        inner: &mut Inner,
        key: String,
        revision: i64,
        day: NaiveDate,
        feed: BuiltFeed,
        started: Instant,
    ) {
        // One feed larger than the whole budget is rebuilt on each full request; a 304
        // still needs nothing but its ETag, so that much is kept.
        let feed = if feed.size() > self.max_bytes {
            feed.without_bodies()
        } else {
            feed
        };
        inner.tick += 1;
        let last_used = inner.tick;
        inner.entries.insert(
            key,
            CacheEntry {
                revision,
                day,
                feed,
                started,
                last_used,
            },
        );
        loop {
            let bytes: usize = inner.entries.values().map(|e| e.feed.size()).sum();
            if bytes <= self.max_bytes && inner.entries.len() <= CACHE_ENTRIES {
                break;
            }
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            inner.entries.remove(&oldest);
        }
    }

    /// How many requests wait for the build of `key`.
    #[cfg(test)]
    fn waiting(&self, key: &str) -> usize {
        self.lock().running.get(key).map_or(0, |r| r.waiting)
    }
}

impl Inner {
    fn lookup(
        &mut self,
        key: &str,
        wanted: Wanted,
        now: Instant,
        usable: &impl Fn(&BuiltFeed) -> bool,
    ) -> Lookup {
        self.tick += 1;
        let tick = self.tick;
        let running = self.running.get_mut(key);
        if let Some(entry) = self.entries.get_mut(key) {
            // The revision only grows (the triggers add one), so a later one holds all
            // that the request read.
            let current = entry.revision >= wanted.revision && entry.day == wanted.day;
            let young = now.saturating_duration_since(entry.started) < SERVE_PREVIOUS_FOR;
            if (current || (running.is_some() && young)) && usable(&entry.feed) {
                entry.last_used = tick;
                if let Some(running) = running {
                    running.wanted = running.wanted.max(wanted.revision);
                }
                return Lookup::Found(entry.feed.clone());
            }
        }
        match running {
            Some(running) => {
                running.wanted = running.wanted.max(wanted.revision);
                Lookup::Wait(Arc::clone(&running.result))
            }
            None => Lookup::Build,
        }
    }

    /// Counts a request in or out of those waiting for the build that leaves `result`.
    fn waiting(&mut self, key: &str, result: &Arc<OnceLock<BuiltFeed>>, by: isize) {
        if let Some(running) = self.running.get_mut(key)
            && Arc::ptr_eq(&running.result, result)
        {
            running.waiting = running.waiting.saturating_add_signed(by);
        }
    }
}

/// A build of one feed, from its start to its end. It ends, and wakes the requests that
/// wait for it, however the build returns, by a panic too: else they would wait forever.
struct Claim<'a> {
    cache: &'a FeedCache,
    key: &'a str,
    ended: bool,
}

impl Claim<'_> {
    /// Ends the build; the newest revision requests asked for while it ran.
    fn end(&mut self, inner: &mut Inner) -> i64 {
        self.ended = true;
        // The waiters wake once the lock they need is released.
        self.cache.build_ended.notify_all();
        inner
            .running
            .remove(self.key)
            .map_or(i64::MIN, |running| running.wanted)
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if !self.ended {
            let mut inner = self.cache.lock();
            self.end(&mut inner);
        }
    }
}

/// A strong validator from the bytes themselves: length and 64-bit FNV-1a.
pub(crate) fn content_tag(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:x}-{hash:016x}", bytes.len())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::thread;

    use super::*;

    fn feed(tag: &str, bytes: usize) -> BuiltFeed {
        BuiltFeed {
            etag: EntityTag::new_strong(tag.to_owned()),
            changed: SystemTime::UNIX_EPOCH,
            body: Bytes::from(vec![b'x'; bytes]),
            gzip: None,
            filename: None,
            revision: 0,
        }
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    fn wanted(revision: i64) -> Wanted {
        Wanted {
            revision,
            day: day(),
        }
    }

    fn anything(_: &BuiltFeed) -> bool {
        true
    }

    fn with_body(feed: &BuiltFeed) -> bool {
        !feed.body.is_empty()
    }

    /// Builds `tag` for `revision` at once, as a request that finds nothing would.
    fn build(cache: &FeedCache, key: &str, revision: i64, at: Instant, tag: &str) -> Got {
        cache
            .get_or_build(key, wanted(revision), at, anything, || {
                Ok::<_, ()>(Built {
                    revision,
                    day: day(),
                    feed: feed(tag, 10),
                })
            })
            .unwrap()
    }

    fn tag(feed: &BuiltFeed) -> String {
        feed.etag.tag().to_owned()
    }

    #[test]
    fn a_kept_feed_serves_its_revision_and_day_only() {
        let cache = FeedCache::new(1_000);
        let t = Instant::now();
        build(&cache, "city:krakow", 7, t, "seven");
        assert!(cache.find("city:krakow", wanted(7), t, anything).is_some());
        assert!(
            cache.find("city:krakow", wanted(6), t, anything).is_some(),
            "a later revision holds what an earlier one did"
        );
        assert!(
            cache.find("city:krakow", wanted(8), t, anything).is_none(),
            "data changed"
        );
        let tomorrow = Wanted {
            revision: 7,
            day: day().succ_opt().unwrap(),
        };
        assert!(
            cache.find("city:krakow", tomorrow, t, anything).is_none(),
            "new day"
        );
        assert!(cache.find("city:lodz", wanted(7), t, anything).is_none());
    }

    #[test]
    fn the_least_recently_used_feed_goes_first_and_an_oversized_one_keeps_its_etag() {
        let cache = FeedCache::new(100);
        let t = Instant::now();
        let keep = |key: &str, f: BuiltFeed| {
            let mut inner = cache.lock();
            cache.keep(&mut inner, key.to_owned(), 1, day(), f, t);
        };
        keep("a", feed("a", 40));
        keep("b", feed("b", 40));
        assert!(cache.find("a", wanted(1), t, anything).is_some());
        // 120 bytes would exceed the budget: "b", used longest ago, goes.
        keep("c", feed("c", 40));
        assert!(cache.find("b", wanted(1), t, anything).is_none());
        assert!(cache.find("a", wanted(1), t, anything).is_some());
        assert!(cache.find("c", wanted(1), t, anything).is_some());
        // Larger than the whole budget: only its validators are kept.
        keep("big", feed("big", 500));
        let big = cache.find("big", wanted(1), t, anything).unwrap();
        assert!(big.body.is_empty());
        assert_eq!(tag(&big), "big");
        assert!(
            cache.find("big", wanted(1), t, with_body).is_none(),
            "no use to a request that needs the body"
        );
    }

    /// A build that runs until the test lets it end.
    struct HeldBuild {
        started: mpsc::Receiver<()>,
        finish: mpsc::Sender<()>,
        handle: thread::JoinHandle<Got>,
    }

    fn hold_build(cache: &Arc<FeedCache>, key: &str, at: Instant, built: Built) -> HeldBuild {
        let (started_tx, started) = mpsc::channel();
        let (finish, finish_rx) = mpsc::channel::<()>();
        let cache = Arc::clone(cache);
        let key = key.to_owned();
        let asked = wanted(built.revision);
        let handle = thread::spawn(move || {
            cache
                .get_or_build(&key, asked, at, anything, move || {
                    started_tx.send(()).unwrap();
                    finish_rx.recv().unwrap();
                    Ok::<_, ()>(built)
                })
                .unwrap()
        });
        started.recv().unwrap();
        HeldBuild {
            started,
            finish,
            handle,
        }
    }

    impl HeldBuild {
        fn end(self) -> Got {
            self.finish.send(()).unwrap();
            drop(self.started);
            self.handle.join().unwrap()
        }
    }

    #[test]
    fn the_previous_version_is_served_only_while_a_build_runs_and_only_when_young() {
        let cache = Arc::new(FeedCache::new(1_000));
        let t0 = Instant::now();
        build(&cache, "k", 1, t0, "one");
        // Data changed and nothing is being built: the request builds (no stale answer).
        assert!(cache.find("k", wanted(2), t0, anything).is_none());

        let running = hold_build(
            &cache,
            "k",
            t0 + Duration::from_secs(1),
            Built {
                revision: 2,
                day: day(),
                feed: feed("two", 10),
            },
        );
        let young = t0 + SERVE_PREVIOUS_FOR - Duration::from_millis(1);
        let old = t0 + SERVE_PREVIOUS_FOR;
        let previous = cache.find("k", wanted(2), young, anything).unwrap();
        assert_eq!(
            tag(&previous),
            "one",
            "the version before, with its own ETag"
        );
        assert!(
            cache.find("k", wanted(3), old, anything).is_none(),
            "too old: wait for the build"
        );
        assert!(
            cache.find("k", wanted(3), young, |_| false).is_none(),
            "not usable by this request"
        );
        // Requests asked for revision 3 while the build read 2: it is to run once more.
        let got = running.end();
        assert_eq!(tag(&got.feed), "two");
        assert!(got.build_again);
        assert_eq!(
            tag(&cache.find("k", wanted(2), old, anything).unwrap()),
            "two"
        );

        // A build whose data nobody asked to be newer is not followed by another.
        let got = build(&cache, "k", 3, old, "three");
        assert!(!got.build_again);
    }

    #[test]
    fn requests_that_miss_together_share_one_build_even_of_a_feed_too_large_to_keep() {
        let cache = Arc::new(FeedCache::new(100));
        let t = Instant::now();
        let running = hold_build(
            &cache,
            "big",
            t,
            Built {
                revision: 1,
                day: day(),
                feed: feed("big", 500),
            },
        );
        let builds = Arc::new(AtomicUsize::new(0));
        let waiters: Vec<_> = (0..8)
            .map(|_| {
                let cache = Arc::clone(&cache);
                let builds = Arc::clone(&builds);
                thread::spawn(move || {
                    cache
                        .get_or_build("big", wanted(1), t, with_body, || {
                            builds.fetch_add(1, Ordering::SeqCst);
                            Ok::<_, ()>(Built {
                                revision: 1,
                                day: day(),
                                feed: feed("again", 500),
                            })
                        })
                        .unwrap()
                })
            })
            .collect();
        while cache.waiting("big") < 8 {
            thread::yield_now();
        }
        running.end();
        for waiter in waiters {
            let got = waiter.join().unwrap();
            assert_eq!(tag(&got.feed), "big");
            assert_eq!(got.feed.body.len(), 500, "the body, though it is not kept");
        }
        assert_eq!(builds.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_build_that_fails_or_panics_leaves_nobody_waiting_for_it() {
        let cache = Arc::new(FeedCache::new(1_000));
        let t = Instant::now();
        let (started_tx, started) = mpsc::channel();
        let (finish, finish_rx) = mpsc::channel::<()>();
        let panicking = {
            let cache = Arc::clone(&cache);
            thread::spawn(move || {
                cache.get_or_build("k", wanted(1), t, anything, || -> Result<Built, ()> {
                    started_tx.send(()).unwrap();
                    finish_rx.recv().unwrap();
                    panic!("a build panicked");
                })
            })
        };
        started.recv().unwrap();
        let waiter = {
            let cache = Arc::clone(&cache);
            thread::spawn(move || {
                cache.get_or_build("k", wanted(1), t, anything, || Err::<Built, _>("failed"))
            })
        };
        while cache.waiting("k") < 1 {
            thread::yield_now();
        }
        finish.send(()).unwrap();
        assert!(panicking.join().is_err());
        // The waiter woke, found nothing running and built, here failing in its turn.
        assert_eq!(waiter.join().unwrap().unwrap_err(), "failed");
        assert!(cache.lock().running.is_empty());
        assert_eq!(tag(&build(&cache, "k", 1, t, "one").feed), "one");
    }

    #[test]
    fn under_a_stream_of_writes_one_build_runs_at_a_time_and_builds_are_coalesced() {
        // The data: a revision that writers move, as the triggers do.
        let revision = Arc::new(AtomicI64::new(1));
        let cache = Arc::new(FeedCache::new(1_000_000));
        let builds = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most_in_flight = Arc::new(AtomicUsize::new(0));
        let t = Instant::now();
        let build_now = {
            let (revision, builds, in_flight, most) = (
                Arc::clone(&revision),
                Arc::clone(&builds),
                Arc::clone(&in_flight),
                Arc::clone(&most_in_flight),
            );
            move || {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                builds.fetch_add(1, Ordering::SeqCst);
                // The revision is read when the build starts, the data after it.
                let read = revision.load(Ordering::SeqCst);
                thread::yield_now();
                in_flight.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, ()>(Built {
                    revision: read,
                    day: day(),
                    feed: feed(&read.to_string(), 10),
                })
            }
        };
        const WRITES: i64 = 300;
        const READERS: usize = 8;
        const READS: usize = 200;
        let writer = {
            let revision = Arc::clone(&revision);
            thread::spawn(move || {
                for _ in 0..WRITES {
                    revision.fetch_add(1, Ordering::SeqCst);
                    thread::yield_now();
                }
            })
        };
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                let (cache, revision, build_now) =
                    (Arc::clone(&cache), Arc::clone(&revision), build_now.clone());
                thread::spawn(move || {
                    for _ in 0..READS {
                        let asked = wanted(revision.load(Ordering::SeqCst));
                        let got = cache
                            .get_or_build("city:krakow", asked, t, anything, build_now.clone())
                            .unwrap();
                        let served: i64 = tag(&got.feed).parse().unwrap();
                        assert!((1..=1 + WRITES).contains(&served));
                        if got.build_again {
                            // What the server runs in the background.
                            let asked = wanted(revision.load(Ordering::SeqCst));
                            cache
                                .get_or_build("city:krakow", asked, t, anything, build_now.clone())
                                .unwrap();
                        }
                    }
                })
            })
            .collect();
        writer.join().unwrap();
        for reader in readers {
            reader.join().unwrap();
        }
        assert_eq!(most_in_flight.load(Ordering::SeqCst), 1);
        // Each build reads a revision later than the one kept before it: never more
        // builds than writes (and in practice far fewer), whatever the number of reads.
        let builds = builds.load(Ordering::SeqCst);
        assert!(builds as i64 <= WRITES + 1, "{builds} builds");
        // Once the writes stop, a reader gets the last revision.
        let last = wanted(revision.load(Ordering::SeqCst));
        let got = cache
            .get_or_build("city:krakow", last, t, anything, build_now)
            .unwrap();
        assert_eq!(tag(&got.feed), (1 + WRITES).to_string());
    }

    #[test]
    fn content_tags_differ_with_content() {
        assert_ne!(content_tag(b"a"), content_tag(b"b"));
        assert_eq!(content_tag(b""), "0-cbf29ce484222325");
    }
}
