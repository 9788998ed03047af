//! Built feeds kept between polls, keyed by feed, data revision and day, with the
//! validators a `304` needs and, for large feeds, a gzipped copy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use actix_web::http::header::EntityTag;
use actix_web::web::Bytes;
use chrono::NaiveDate;

/// A built feed and its validators.
#[derive(Debug, Clone)]
pub(super) struct BuiltFeed {
    pub(super) etag: EntityTag,
    /// The latest change to anything the feed shows, to the full precision of the stored
    /// times, never later than the moment its data was read. `Last-Modified` and
    /// `If-Modified-Since` are derived from it (see `last_modified` in `mod.rs`): an
    /// HTTP date has whole seconds, and rounding the change down to one is what let a
    /// second change in the same second pass for no change.
    pub(super) changed: SystemTime,
    pub(super) body: Bytes,
    /// The same bytes gzipped, and their own ETag (a strong ETag names one
    /// representation); none for feeds too small to gain from it.
    pub(super) gzip: Option<Gzipped>,
    /// The single event's title, for its download's file name.
    pub(super) filename: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct Gzipped {
    pub(super) etag: EntityTag,
    pub(super) body: Bytes,
}

/// Below this, a feed is sent as it is: a city feed of a few events gains nothing.
const GZIP_FROM_BYTES: usize = 4 * 1024;

impl BuiltFeed {
    pub(super) fn new(body: String, changed: SystemTime, filename: Option<String>) -> BuiltFeed {
        let tag = content_tag(body.as_bytes());
        let gzip = (body.len() >= GZIP_FROM_BYTES)
            .then(|| gzip(body.as_bytes()))
            .flatten()
            .map(|zipped| Gzipped {
                etag: EntityTag::new_strong(format!("{tag}-gzip")),
                body: Bytes::from(zipped),
            });
        BuiltFeed {
            etag: EntityTag::new_strong(tag),
            changed,
            body: Bytes::from(body),
            gzip,
            filename,
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

/// Built feeds, with the revision and day each was built for.
pub struct FeedCache {
    max_bytes: usize,
    entries: Mutex<HashMap<String, CacheEntry>>,
    building: Mutex<BuildLocks>,
}

/// One lock per feed being built.
type BuildLocks = HashMap<String, Arc<Mutex<()>>>;

struct CacheEntry {
    revision: i64,
    day: NaiveDate,
    feed: BuiltFeed,
    last_used: u64,
}

/// Feeds kept at most; past it, the least recently used goes.
const CACHE_ENTRIES: usize = 512;

impl FeedCache {
    pub fn new(max_bytes: usize) -> FeedCache {
        FeedCache {
            max_bytes,
            entries: Mutex::new(HashMap::new()),
            building: Mutex::new(HashMap::new()),
        }
    }

    /// The lock that one build of feed `key` holds.
    pub(super) fn build_lock(&self, key: &str) -> Arc<Mutex<()>> {
        match self.building.lock() {
            Ok(mut locks) => Arc::clone(locks.entry(key.to_owned()).or_default()),
            // A poisoned map only loses the sharing of builds.
            Err(_) => Arc::default(),
        }
    }

    /// Forgets the lock of `key` once no other request waits on it, so that the map does
    /// not grow with every filter ever asked for.
    pub(super) fn release_build_lock(&self, key: &str, lock: &Arc<Mutex<()>>) {
        if let Ok(mut locks) = self.building.lock()
            && Arc::strong_count(lock) <= 2
        {
            locks.remove(key);
        }
    }

    pub(super) fn get(
        &self,
        key: &str,
        revision: i64,
        day: NaiveDate,
        tick: u64,
    ) -> Option<BuiltFeed> {
        let mut entries = self.entries.lock().ok()?;
        let entry = entries.get_mut(key)?;
        if entry.revision != revision || entry.day != day {
            return None;
        }
        entry.last_used = tick;
        Some(entry.feed.clone())
    }

    pub(super) fn put(
        &self,
        key: String,
        revision: i64,
        day: NaiveDate,
        feed: BuiltFeed,
        tick: u64,
    ) {
        // One feed larger than the whole budget is rebuilt on each full request; a 304
        // still needs nothing but its ETag, so that much is kept.
        let feed = if feed.size() > self.max_bytes {
            feed.without_bodies()
        } else {
            feed
        };
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        entries.insert(
            key,
            CacheEntry {
                revision,
                day,
                feed,
                last_used: tick,
            },
        );
        loop {
            let bytes: usize = entries.values().map(|e| e.feed.size()).sum();
            if bytes <= self.max_bytes && entries.len() <= CACHE_ENTRIES {
                break;
            }
            let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            entries.remove(&oldest);
        }
    }
}

/// A strong validator from the bytes themselves: length and 64-bit FNV-1a.
fn content_tag(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:x}-{hash:016x}", bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(bytes: usize) -> BuiltFeed {
        BuiltFeed {
            etag: EntityTag::new_strong(format!("tag-{bytes}")),
            changed: SystemTime::UNIX_EPOCH,
            body: Bytes::from(vec![b'x'; bytes]),
            gzip: None,
            filename: None,
        }
    }

    #[test]
    fn a_kept_feed_serves_only_its_revision_and_day() {
        let cache = FeedCache::new(1_000);
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        cache.put("city:krakow".into(), 7, day, feed(10), 1);
        assert!(cache.get("city:krakow", 7, day, 2).is_some());
        assert!(
            cache.get("city:krakow", 8, day, 3).is_none(),
            "data changed"
        );
        assert!(
            cache
                .get("city:krakow", 7, day.succ_opt().unwrap(), 4)
                .is_none(),
            "new day"
        );
        assert!(cache.get("city:lodz", 7, day, 5).is_none());
    }

    #[test]
    fn the_least_recently_used_feed_goes_first_and_an_oversized_one_keeps_its_etag() {
        let cache = FeedCache::new(100);
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        cache.put("a".into(), 1, day, feed(40), 1);
        cache.put("b".into(), 1, day, feed(40), 2);
        assert!(cache.get("a", 1, day, 3).is_some());
        // 120 bytes would exceed the budget: "b", used longest ago, goes.
        cache.put("c".into(), 1, day, feed(40), 4);
        assert!(cache.get("b", 1, day, 5).is_none());
        assert!(cache.get("a", 1, day, 6).is_some());
        assert!(cache.get("c", 1, day, 7).is_some());
        // Larger than the whole budget: only its validators are kept.
        cache.put("big".into(), 1, day, feed(500), 8);
        let big = cache.get("big", 1, day, 9).unwrap();
        assert!(big.body.is_empty());
        assert_eq!(big.etag, EntityTag::new_strong("tag-500".into()));
    }

    #[test]
    fn content_tags_differ_with_content() {
        assert_ne!(content_tag(b"a"), content_tag(b"b"));
        assert_eq!(content_tag(b""), "0-cbf29ce484222325");
    }
}
