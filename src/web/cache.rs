//! Pages and API answers for visitors who are not signed in, kept in memory.
//!
//! Browsing is the same for every anonymous visitor, so each public address is
//! rendered once per data revision (see `crate::revision`) and minute, then served from
//! memory, gzipped for clients that take it, and answered `304` against its ETag with
//! no database query and no rendering. The key is the path and query; an entry is good
//! for the revision it was rendered at and the minute of the site's clock (upcoming
//! listings move as events end).
//!
//! Why it stays right:
//! - The revision is learnt *before* the handler reads any row, so the rows a page shows
//!   are at least as new as the revision it is kept under: a read racing a write may keep
//!   the new rows under the old revision (replaced at the next request), never the old
//!   rows under the new one.
//! - A state-changing request (any method but GET, HEAD and OPTIONS) tells the revision
//!   watch when it ends, before its answer leaves, so the writer's next page is new.
//! - Only requests without a session cookie and without an `Authorization` header are
//!   served or stored here, and only answers without `Set-Cookie`: a signed-in viewer's
//!   page (its menu, its own events) never comes from here, nor goes into it.
//! - With several servers, each has its own cache and learns another's writes within
//!   the revision check interval.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    self, CacheControl, CacheDirective, EntityTag, HeaderMap, HeaderName, HeaderValue, IfNoneMatch,
};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{HttpMessage, HttpResponse};

use crate::auth::session::SESSION_COOKIE;
use crate::state::AppState;
use crate::web::feeds::{accepts_gzip, content_tag, gzip_if_large, gzip_tag, none_match};

/// The addresses whose anonymous answers are kept: what visitors browse and what the
/// API's readers poll. Feeds have a cache of their own (`crate::feed_cache`); forms,
/// a viewer's own pages and the health check are never kept.
const CACHED_ROUTES: &[&str] = &[
    "/",
    "/cities",
    "/cities/{slug}",
    "/fields/{slug}",
    "/events",
    "/events/{id}",
    "/api",
    "/api/v1/events",
    "/api/v1/events/{id}",
    "/api/v1/events/{id}/occurrences",
    "/api/v1/cities",
    "/api/v1/cities/{slug}",
    "/api/v1/fields",
    "/api/v1/fields/{slug}",
    "/api/v1/openapi.json",
    // Feeds have their own store (`crate::feed_cache`), which builds one at a time
    // however many polls ask; this one answers the polls of a city's feed and an
    // event's, and their `304`s, before routing. The network's, a field's and the
    // filtered feeds can hold 10,000 events (10 MB): they are answered by the feed store
    // alone, which keeps them gzipped too.
    "/cities/{slug}/calendar.ics",
    "/events/{id}/calendar.ics",
];

/// The data revision an answer shows, when its handler knows it and it may be older
/// than the revision of the request (a feed served while its next build runs): such an
/// answer is sent but not kept.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DataRevision(pub(crate) i64);

/// What kind of answer a route gives: it decides the headers this cache sets, the
/// format of an error it answers itself, and the metrics' `cache` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// HTML: `no-cache`, and `Vary: Cookie` (a signed-in viewer's page differs).
    Page,
    /// JSON: its own `Cache-Control`, the same for everyone.
    Api,
    /// iCalendar: likewise.
    Feed,
}

impl Kind {
    fn of(route: &str) -> Kind {
        if route.ends_with(".ics") {
            Kind::Feed
        } else if route.starts_with("/api/") {
            Kind::Api
        } else {
            Kind::Page
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Page => "page",
            Kind::Api => "api",
            Kind::Feed => "feed_answer",
        }
    }
}

/// A body sent from shared bytes a slice at a time. A response body is copied into its
/// connection's write buffer as it is polled: one poll of a 10 MB feed put a copy of it
/// in every connection downloading it (32 connections, 400 MB). In slices, a
/// connection holds one slice at a time, and the slices themselves are views of the one
/// copy kept in memory.
pub(crate) struct SharedBody {
    rest: Bytes,
    len: u64,
}

/// A slice: twice what actix keeps buffered per connection before it stops polling.
const SLICE_BYTES: usize = 64 * 1024;

impl SharedBody {
    pub(crate) fn new(bytes: Bytes) -> SharedBody {
        SharedBody {
            len: bytes.len() as u64,
            rest: bytes,
        }
    }
}

impl MessageBody for SharedBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> actix_web::body::BodySize {
        actix_web::body::BodySize::Sized(self.len)
    }

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Bytes, Self::Error>>> {
        if self.rest.is_empty() {
            return std::task::Poll::Ready(None);
        }
        let n = self.rest.len().min(SLICE_BYTES);
        std::task::Poll::Ready(Some(Ok(self.rest.split_to(n))))
    }

    fn try_into_bytes(self) -> Result<Bytes, Self> {
        if self.rest.len() <= SLICE_BYTES {
            Ok(self.rest)
        } else {
            Err(self)
        }
    }
}

/// The route pattern of a public read, from the path alone: the same answer as actix's
/// `match_pattern()` (checked on every request in debug builds, so by the whole test
/// suite), without matching the path against every route's regex again, which was an
/// eighth of the time of a cached answer. `None` for anything else (which then costs
/// the regex walk once, for the log line).
pub(crate) fn public_route(path: &str) -> Option<&'static str> {
    if path.contains('%') {
        return None;
    }
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    let named = |s: &str| !s.is_empty();
    Some(match segments.as_slice() {
        [""] => "/",
        ["calendar.ics"] => "/calendar.ics",
        ["cities"] => "/cities",
        ["cities", s] if named(s) => "/cities/{slug}",
        ["cities", s, "calendar.ics"] if named(s) => "/cities/{slug}/calendar.ics",
        ["fields", s] if named(s) => "/fields/{slug}",
        ["fields", s, "calendar.ics"] if named(s) => "/fields/{slug}/calendar.ics",
        ["events"] => "/events",
        ["events.ics"] => "/events.ics",
        ["events", "new"] => return None,
        ["events", s] if named(s) => "/events/{id}",
        ["events", s, "calendar.ics"] if named(s) => "/events/{id}/calendar.ics",
        ["api"] => "/api",
        ["api", "v1", "events"] => "/api/v1/events",
        ["api", "v1", "events", s] if named(s) => "/api/v1/events/{id}",
        ["api", "v1", "events", s, "occurrences"] if named(s) => "/api/v1/events/{id}/occurrences",
        ["api", "v1", "cities"] => "/api/v1/cities",
        ["api", "v1", "cities", s] if named(s) => "/api/v1/cities/{slug}",
        ["api", "v1", "fields"] => "/api/v1/fields",
        ["api", "v1", "fields", s] if named(s) => "/api/v1/fields/{slug}",
        ["api", "v1", "openapi.json"] => "/api/v1/openapi.json",
        _ => return None,
    })
}

/// The route pattern of a request, when [`public_route`] knew it: for the log line and
/// the metrics' labels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoutePattern(pub(crate) &'static str);

/// A longer query is answered but not kept: no visitor's link is this long, and keys
/// stay small.
const MAX_KEY_BYTES: usize = 1024;

/// One kept answer.
#[derive(Debug)]
struct Cached {
    revision: i64,
    minute: i64,
    /// The handler's headers, but for those this cache sets itself.
    headers: Vec<(HeaderName, HeaderValue)>,
    etag: EntityTag,
    body: Bytes,
    /// The gzipped body and its own ETag; none for bodies too small to gain.
    gzip: Option<(EntityTag, Bytes)>,
    kind: Kind,
}

impl Cached {
    fn size(&self, key: &str) -> usize {
        key.len() + self.body.len() + self.gzip.as_ref().map_or(0, |(_, b)| b.len()) + 512
    }
}

/// The kept answers, at most `max_bytes` of them, and the renders running.
#[derive(Debug)]
pub struct ResponseCache {
    max_bytes: usize,
    inner: Mutex<Entries>,
    /// One render per key, revision and minute at a time: when a minute turns, the 32
    /// connections polling a page that takes a second at a million events would
    /// otherwise render it 32 times over, queueing for 8 database connections, and
    /// every one of them time out.
    rendering: Mutex<HashMap<String, Arc<tokio::sync::Notify>>>,
}

/// How long a request waits for another's render of the same page before it renders
/// the page itself.
const WAIT_FOR_RENDER: std::time::Duration = std::time::Duration::from_secs(30);

/// A render in progress; when it ends (however it ends), the requests waiting for it are
/// woken to look in the cache again.
struct Rendering<'a> {
    cache: &'a ResponseCache,
    flight: String,
    done: Arc<tokio::sync::Notify>,
}

impl Drop for Rendering<'_> {
    fn drop(&mut self) {
        if let Ok(mut rendering) = self.cache.rendering.lock() {
            rendering.remove(&self.flight);
        }
        self.done.notify_waiters();
    }
}

/// Whether this request renders the page or waits for another's render.
enum Turn<'a> {
    Render(Rendering<'a>),
    Wait(Arc<tokio::sync::Notify>),
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<String, Arc<Cached>>,
    bytes: usize,
}

impl ResponseCache {
    pub fn new(max_bytes: usize) -> ResponseCache {
        ResponseCache {
            max_bytes,
            inner: Mutex::new(Entries::default()),
            rendering: Mutex::new(HashMap::new()),
        }
    }

    /// The answer kept for `key`, or this request's turn: to render it, or to wait for
    /// the render that runs.
    fn turn(&self, flight: String) -> Turn<'_> {
        let Ok(mut rendering) = self.rendering.lock() else {
            return Turn::Render(Rendering {
                cache: self,
                flight,
                done: Arc::new(tokio::sync::Notify::new()),
            });
        };
        if let Some(done) = rendering.get(&flight) {
            return Turn::Wait(Arc::clone(done));
        }
        let done = Arc::new(tokio::sync::Notify::new());
        rendering.insert(flight.clone(), Arc::clone(&done));
        Turn::Render(Rendering {
            cache: self,
            flight,
            done,
        })
    }

    /// Whether the render of `flight` has ended (its waiters were woken already).
    fn turn_is_over(&self, flight: &str) -> bool {
        self.rendering
            .lock()
            .map_or(true, |rendering| !rendering.contains_key(flight))
    }

    fn find(&self, key: &str, revision: i64, minute: i64) -> Option<Arc<Cached>> {
        let entries = self.inner.lock().ok()?;
        entries
            .map
            .get(key)
            .filter(|c| c.revision == revision && c.minute == minute)
            .cloned()
    }

    /// The largest answer kept: a quarter of the room, so that a few huge ones do not
    /// push out every page.
    fn largest(&self) -> usize {
        self.max_bytes / 4
    }

    fn keep(&self, key: String, cached: Arc<Cached>) {
        let size = cached.size(&key);
        if size > self.largest() {
            return;
        }
        let Ok(mut entries) = self.inner.lock() else {
            return;
        };
        if let Some(old) = entries.map.get(&key) {
            // An answer rendered at an older revision or minute does not replace a newer.
            if (old.revision, old.minute) > (cached.revision, cached.minute) {
                return;
            }
        }
        if entries.bytes + size > self.max_bytes {
            // Full: start again. Entries of past revisions and minutes are dead anyway,
            // and the living ones are rendered again on their next visit.
            entries.map.clear();
            entries.bytes = 0;
        }
        if let Some(old) = entries.map.insert(key.clone(), cached) {
            entries.bytes = entries.bytes.saturating_sub(old.size(&key));
        }
        entries.bytes += size;
    }
}

/// Whether the request is a visitor's who is not signed in: no session cookie, no
/// token.
fn anonymous(req: &ServiceRequest) -> bool {
    req.cookie(SESSION_COOKIE).is_none() && !req.headers().contains_key(header::AUTHORIZATION)
}

/// The middleware: serves and keeps anonymous answers, and tells the revision watch
/// about every state-changing request once it is answered.
pub async fn serve_cached(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let method = req.method().clone();
    if !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let res = next.call(req).await;
        state.revisions.note_write();
        return Ok(res?.map_into_boxed_body());
    }
    let key = match req.query_string() {
        "" => req.path().to_owned(),
        query => format!("{}?{query}", req.path()),
    };
    let route = public_route(req.path());
    if let Some(route) = route {
        debug_assert_eq!(
            req.match_pattern().as_deref(),
            Some(route),
            "{}",
            req.path()
        );
        req.extensions_mut().insert(RoutePattern(route));
    }
    let cacheable = method != Method::OPTIONS
        && key.len() <= MAX_KEY_BYTES
        && anonymous(&req)
        && route.is_some_and(|p| CACHED_ROUTES.contains(&p));
    if !cacheable {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    // Learnt before the handler reads anything (see the module's notes). Without it
    // (the database is away) the answer is the error the handler would give after
    // waiting for a connection just as long again: a 503, in the route's own format.
    let kind = Kind::of(route.unwrap_or_default());
    let cache = kind.label();
    let revision = match state.revision().await {
        Ok(revision) => revision,
        Err(e) => {
            let res = match kind {
                Kind::Api => actix_web::ResponseError::error_response(&crate::error::ApiError(e)),
                Kind::Feed => actix_web::ResponseError::error_response(&crate::error::FeedError(e)),
                Kind::Page => actix_web::ResponseError::error_response(&e),
            };
            return Ok(req.into_response(res));
        }
    };
    let minute = state.clock.now().timestamp().div_euclid(60);
    let wants = Wants::of(&req);
    // A feed's `If-Modified-Since` alone is answered by the feed itself, to the full
    // precision of its last change (see `web::feeds`); `If-None-Match` wins when both
    // come (RFC 9110 13.2.2), and that one is answered here.
    if kind == Kind::Feed
        && wants.none_match.is_none()
        && req.headers().contains_key(header::IF_MODIFIED_SINCE)
    {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    if let Some(cached) = state.responses.find(&key, revision, minute) {
        metrics::counter!("cache_hits_total", "cache" => cache).increment(1);
        let res = answer(&cached, &wants);
        return Ok(req.into_response(res));
    }
    if method == Method::HEAD {
        metrics::counter!("cache_misses_total", "cache" => cache).increment(1);
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let flight = format!("{revision}:{minute}:{key}");
    let rendering = match state.responses.turn(flight.clone()) {
        Turn::Render(rendering) => rendering,
        Turn::Wait(done) => {
            // Registered before the render can end: `notify_waiters` wakes every
            // `Notified` made before it, polled or not.
            let woken = done.notified();
            if state.responses.turn_is_over(&flight) {
                drop(woken);
            } else {
                let _ = tokio::time::timeout(WAIT_FOR_RENDER, woken).await;
            }
            if let Some(cached) = state.responses.find(&key, revision, minute) {
                metrics::counter!("cache_hits_total", "cache" => cache).increment(1);
                return Ok(req.into_response(answer(&cached, &wants)));
            }
            // The render gave nothing to keep (an error, a cookie): render our own.
            metrics::counter!("cache_misses_total", "cache" => cache).increment(1);
            return Ok(next.call(req).await?.map_into_boxed_body());
        }
    };
    metrics::counter!("cache_misses_total", "cache" => cache).increment(1);
    // The handler renders the whole identity body; this cache compresses it and answers
    // the conditions itself.
    let headers = req.headers_mut();
    headers.remove(header::ACCEPT_ENCODING);
    headers.remove(header::IF_NONE_MATCH);
    headers.remove(header::IF_MODIFIED_SINCE);
    let res = next.call(req).await?;
    let older = res
        .response()
        .extensions()
        .get::<DataRevision>()
        .is_some_and(|shown| shown.0 < revision);
    if res.status() != StatusCode::OK || res.headers().contains_key(header::SET_COOKIE) || older {
        return Ok(res.map_into_boxed_body());
    }
    // Too large to keep: sent as the handler made it, never collected into a copy.
    if let actix_web::body::BodySize::Sized(n) = res.response().body().size()
        && n > state.responses.largest() as u64
    {
        return Ok(res.map_into_boxed_body());
    }
    let (request, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let body = actix_web::body::to_bytes(body).await.map_err(|e| {
        let e: Box<dyn std::error::Error> = e.into();
        actix_web::error::ErrorInternalServerError(e.to_string())
    })?;
    let cached = Arc::new(Cached::new(revision, minute, head.headers(), body, kind));
    state.responses.keep(key, Arc::clone(&cached));
    drop(rendering);
    Ok(ServiceResponse::new(request, answer(&cached, &wants)))
}

impl Cached {
    fn new(revision: i64, minute: i64, headers: &HeaderMap, body: Bytes, kind: Kind) -> Cached {
        let tag = content_tag(&body);
        let gzip = gzip_if_large(&body)
            .map(|zipped| (EntityTag::new_strong(gzip_tag(&tag)), Bytes::from(zipped)));
        let headers = headers
            .iter()
            .filter(|(name, _)| {
                ![
                    header::CONTENT_LENGTH,
                    header::CONTENT_ENCODING,
                    header::ETAG,
                    header::VARY,
                    header::DATE,
                ]
                .contains(name)
            })
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        Cached {
            revision,
            minute,
            headers,
            etag: EntityTag::new_strong(tag),
            body,
            gzip,
            kind,
        }
    }
}

/// What the client asked for: gzip or not, and the ETags it holds.
struct Wants {
    gzip: bool,
    /// `None`: no `If-None-Match`; `Some(None)`: one that does not parse, which matches
    /// nothing (RFC 9110 13.1.2).
    none_match: Option<Option<IfNoneMatch>>,
}

impl Wants {
    fn of(req: &ServiceRequest) -> Wants {
        Wants {
            gzip: accepts_gzip(req.request()),
            none_match: req
                .headers()
                .contains_key(header::IF_NONE_MATCH)
                .then(|| <IfNoneMatch as header::Header>::parse(req.request()).ok()),
        }
    }
}

/// The kept answer as the client wants it: gzipped or not, or a `304`.
fn answer(cached: &Cached, wants: &Wants) -> HttpResponse {
    let (etag, body, gzipped) = match (&cached.gzip, wants.gzip) {
        (Some((etag, body)), true) => (etag, body, true),
        _ => (&cached.etag, &cached.body, false),
    };
    let not_modified = wants
        .none_match
        .as_ref()
        .is_some_and(|c| none_match(c.as_ref(), etag));
    let mut res = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    for (name, value) in &cached.headers {
        res.append_header((name.clone(), value.clone()));
    }
    res.insert_header(header::ETag(etag.clone()));
    if cached.kind == Kind::Page {
        // A browser asks again each time (a 304 is cheap); a shared cache keeps the
        // anonymous page apart from a signed-in one.
        res.insert_header(CacheControl(vec![CacheDirective::NoCache]))
            .insert_header((header::VARY, "Accept-Encoding, Cookie"));
    } else {
        res.insert_header((header::VARY, "Accept-Encoding"));
    }
    if not_modified {
        return res.finish();
    }
    if gzipped {
        res.insert_header((header::CONTENT_ENCODING, "gzip"));
    }
    res.body(SharedBody::new(body.clone()))
}
