//! Fetching organisers' `.ics` feeds over HTTP(S).
//!
//! The URLs come from users, so this module treats every fetch as a possible
//! server-side request forgery (SSRF) attempt: addresses are checked *after*
//! DNS resolution (so a public-looking name pointing at `10.0.0.1` is caught),
//! every redirect hop is checked again, and size and time are bounded so one
//! hostile feed cannot tie up the importer.

use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use url::{Host, Url};

/// What we ask for: calendars first, jCal second, anything else last (some
/// servers send feeds as `text/plain` or `application/octet-stream`).
const ACCEPT: &str = "text/calendar, application/calendar+json;q=0.5, */*;q=0.1";

/// Longest source URL we accept; longer ones are almost certainly junk.
const MAX_URL_CHARS: usize = 2_000;

/// How the importer fetches feeds.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Off in production; on only for local development and tests.
    pub allow_private_addresses: bool,
    /// Budget for the whole fetch: DNS, connect, headers, body, every hop.
    pub timeout: Duration,
    /// Limit on the decompressed body.
    pub max_bytes: u64,
    /// How many redirects are followed; one more is an error.
    pub max_redirects: u32,
    pub user_agent: String,
}

impl FetchSettings {
    /// Defaults: private addresses refused, 30 s, 20 MB, 5 redirects.
    pub fn new(user_agent: String) -> Self {
        FetchSettings {
            allow_private_addresses: false,
            timeout: Duration::from_secs(30),
            max_bytes: 20_000_000,
            max_redirects: 5,
            user_agent,
        }
    }
}

/// Cache validators remembered between fetches for conditional GETs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A successful (2xx or 304) fetch.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    /// `None` on 304 Not Modified.
    pub body: Option<Vec<u8>>,
    /// The `charset` parameter of `Content-Type`, lowercased, if any.
    pub charset: Option<String>,
    /// The media type of `Content-Type` without parameters, lowercased.
    pub content_type: Option<String>,
    /// From this response; on 304 each one falls back to the previous value
    /// unless the server sent a new one.
    pub validators: Validators,
    /// The URL that finally answered, after redirects.
    pub final_url: Url,
    pub redirects: u32,
    pub duration: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the address cannot be fetched: {0}")]
    BadUrl(String),
    #[error(
        "{host} resolves to {address}, {} address; fetching private addresses is turned off",
        with_article(is_private(*.address).unwrap_or("private"))
    )]
    PrivateAddress { host: String, address: IpAddr },
    #[error("the server redirected more than {0} times; stopped following")]
    TooManyRedirects(u32),
    #[error("the feed did not arrive within {}; gave up", describe_duration(*.0))]
    Timeout(Duration),
    #[error("the feed is larger than {}; stopped reading", describe_size(*.0))]
    TooLarge(u64),
    #[error("the server answered {}", describe_status(*.0))]
    Http(u16),
    #[error("the server could not be reached: {0}")]
    Network(String),
}

impl FetchError {
    /// The HTTP status, when the failure was an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Http(status) => Some(*status),
            _ => None,
        }
    }
}

/// "a loopback", "an unspecified", "a unique local": the message reads as
/// one sentence ("unique" sounds like "you", hence the exception).
fn with_article(kind: &str) -> String {
    let vowel = !kind.starts_with("uni")
        && kind
            .chars()
            .next()
            .is_some_and(|c| "aeiou".contains(c.to_ascii_lowercase()));
    if vowel {
        format!("an {kind}")
    } else {
        format!("a {kind}")
    }
}

fn describe_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        let s = d.as_secs();
        if s == 1 {
            "1 second".to_string()
        } else {
            format!("{s} seconds")
        }
    } else {
        format!("{:.1} seconds", d.as_secs_f64())
    }
}

fn describe_size(bytes: u64) -> String {
    if bytes >= 1_000_000 && bytes.is_multiple_of(1_000_000) {
        format!("{} MB", bytes / 1_000_000)
    } else if bytes >= 1_000 && bytes.is_multiple_of(1_000) {
        format!("{} kB", bytes / 1_000)
    } else if bytes == 1 {
        "1 byte".to_string()
    } else {
        format!("{bytes} bytes")
    }
}

fn describe_status(status: u16) -> String {
    let reason = match status {
        300 => "Multiple Choices",
        305 => "Use Proxy",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        511 => "Network Authentication Required",
        _ => return format!("with status {status}"),
    };
    format!("{status} {reason}")
}

/// Checks and normalises a feed URL typed by an organiser.
///
/// `webcal://` and `webcals://` are what calendar apps hand out for
/// subscriptions; they are plain HTTP(S) underneath, and we always try
/// HTTPS because nearly every host serving them supports it.
pub fn parse_source_url(input: &str) -> Result<Url, String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err("the address is empty".to_string());
    }
    if trimmed.chars().count() > MAX_URL_CHARS {
        return Err("the address is longer than 2,000 characters".to_string());
    }
    let rewritten;
    let candidate = match strip_prefix_ignore_case(trimmed, "webcals://")
        .or_else(|| strip_prefix_ignore_case(trimmed, "webcal://"))
    {
        Some(rest) => {
            rewritten = format!("https://{rest}");
            rewritten.as_str()
        }
        None => trimmed,
    };
    let url = Url::parse(candidate).map_err(|e| match e {
        url::ParseError::RelativeUrlWithoutBase => {
            "the address must start with https://, http:// or webcal://".to_string()
        }
        url::ParseError::EmptyHost => "the address has no host name".to_string(),
        other => format!("the address is not a valid URL ({other})"),
    })?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "only http, https and webcal addresses are supported, not {other}"
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the address has no host name".to_string());
    }
    // Userinfo is allowed: some feed hosts use basic auth in the URL, and ureq
    // sends it as an Authorization header.
    Ok(url)
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// Why a server must not be made to connect to `ip`, or `None` if it is an
/// ordinary public address.
pub fn is_private(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => private_v6(v6),
    }
}

fn private_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_broadcast() {
        Some("broadcast")
    } else if a == 0 {
        // 0.0.0.0/8: "this network"; Linux connects 0.0.0.0 to localhost.
        Some("unspecified")
    } else if a == 127 {
        Some("loopback")
    } else if a == 10 || (a == 172 && (16..=31).contains(&b)) || (a == 192 && b == 168) {
        Some("private")
    } else if a == 100 && (64..=127).contains(&b) {
        Some("shared (CGNAT)")
    } else if a == 169 && b == 254 {
        // Includes 169.254.169.254, the cloud metadata endpoint.
        Some("link-local")
    } else if (224..=239).contains(&a) {
        Some("multicast")
    } else if (a == 192 && b == 0 && c == 2)
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
    {
        Some("documentation")
    } else if a == 198 && (18..=19).contains(&b) {
        Some("benchmarking")
    } else if a == 192 && b == 0 && c == 0 {
        // 192.0.0.0/24: IETF protocol assignments, not reachable hosts.
        Some("reserved")
    } else if a >= 240 {
        Some("reserved")
    } else {
        None
    }
}

fn private_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let seg = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // ::ffff:a.b.c.d reaches the IPv4 host a.b.c.d, so judge that address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return private_v4(v4);
    }
    // Deprecated IPv4-compatible ::a.b.c.d and NAT64 64:ff9b::a.b.c.d also
    // end up at an IPv4 host on some networks.
    let embedded = Ipv4Addr::new(
        (seg[6] >> 8) as u8,
        seg[6] as u8,
        (seg[7] >> 8) as u8,
        seg[7] as u8,
    );
    if seg[..6] == [0, 0, 0, 0, 0, 0] || seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return private_v4(embedded);
    }
    // 6to4 2002:a.b.c.d::/48 tunnels to a.b.c.d.
    if seg[0] == 0x2002 {
        let tunnel = Ipv4Addr::new(
            (seg[1] >> 8) as u8,
            seg[1] as u8,
            (seg[2] >> 8) as u8,
            seg[2] as u8,
        );
        if let Some(kind) = private_v4(tunnel) {
            return Some(kind);
        }
    }
    if seg[0] & 0xfe00 == 0xfc00 {
        Some("unique local")
    } else if seg[0] & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if seg[0] & 0xffc0 == 0xfec0 {
        Some("site-local")
    } else if seg[0] & 0xff00 == 0xff00 {
        Some("multicast")
    } else if seg[0] == 0x2001 && seg[1] == 0x0db8 {
        Some("documentation")
    } else if seg[0] == 0x0100 && seg[1..4] == [0, 0, 0] {
        // 100::/64: discard-only.
        Some("reserved")
    } else {
        None
    }
}

/// Looks up a `host:port` string; replaceable in tests to fake DNS.
type Lookup = dyn Fn(&str) -> io::Result<Vec<SocketAddr>> + Send + Sync;
/// Decides whether an address is off limits; replaceable in tests so that
/// 127.0.0.1 (the test server) can be allowed while 10.0.0.1 is not.
type Policy = fn(IpAddr) -> Option<&'static str>;

/// A refused address, remembered so the caller can report host and address
/// (ureq only passes our io::Error back as an opaque source).
type Refusal = Arc<Mutex<Option<(String, IpAddr)>>>;

/// The ureq resolver: resolves, then refuses the whole name if ANY address is
/// private. Checking all of them (not just the one connected to) matters
/// because ureq tries the addresses in turn, and a DNS answer mixing a
/// public and a private address would otherwise slip through.
#[derive(Clone)]
struct GuardedResolver {
    lookup: Arc<Lookup>,
    policy: Option<Policy>,
    refusal: Refusal,
    deadline: Instant,
}

impl ureq::Resolver for GuardedResolver {
    fn resolve(&self, netloc: &str) -> io::Result<Vec<SocketAddr>> {
        let addrs = lookup_before(&self.lookup, netloc, self.deadline)?;
        match check_addresses(netloc, &addrs, self.policy) {
            Ok(()) => Ok(addrs),
            Err((host, address)) => {
                tracing::warn!(%host, %address, "refusing to fetch a private address");
                if let Ok(mut slot) = self.refusal.lock() {
                    *slot = Some((host, address));
                }
                Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!("{netloc} resolves to the private address {address}"),
                ))
            }
        }
    }
}

/// ureq does not bound DNS lookups by its timeout, so run the lookup in a
/// helper thread and stop waiting at the deadline. A lookup that outlives
/// the deadline finishes in the background and is dropped.
fn lookup_before(
    lookup: &Arc<Lookup>,
    netloc: &str,
    deadline: Instant,
) -> io::Result<Vec<SocketAddr>> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    let (tx, rx) = mpsc::channel();
    let lookup = Arc::clone(lookup);
    let owned = netloc.to_string();
    std::thread::Builder::new()
        .name("feed-dns".to_string())
        .spawn(move || {
            let _ = tx.send(lookup(&owned));
        })?;
    match rx.recv_timeout(remaining) {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("looking up {netloc} took too long"),
        )),
    }
}

/// Returns the host (without port or brackets) and the first offending
/// address if any resolved address is refused by `policy`; `None` policy
/// means private addresses are allowed.
fn check_addresses(
    netloc: &str,
    addrs: &[SocketAddr],
    policy: Option<Policy>,
) -> Result<(), (String, IpAddr)> {
    let Some(policy) = policy else {
        return Ok(());
    };
    for addr in addrs {
        if policy(addr.ip()).is_some() {
            return Err((host_of_netloc(netloc), addr.ip()));
        }
    }
    Ok(())
}

fn host_of_netloc(netloc: &str) -> String {
    let host = match netloc.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => netloc,
    };
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}

fn std_lookup(netloc: &str) -> io::Result<Vec<SocketAddr>> {
    Ok(netloc.to_socket_addrs()?.collect())
}

/// Fetches a feed, following redirects ourselves so that each hop is
/// checked, and sending conditional headers from `previous`.
pub fn fetch(
    url: &Url,
    previous: &Validators,
    settings: &FetchSettings,
) -> Result<Fetched, FetchError> {
    fetch_with(url, previous, settings, Arc::new(std_lookup), is_private)
}

/// `fetch` with DNS and the address policy injectable, so tests can check
/// a redirect to a "public" name that resolves to a private address.
fn fetch_with(
    url: &Url,
    previous: &Validators,
    settings: &FetchSettings,
    lookup: Arc<Lookup>,
    policy: Policy,
) -> Result<Fetched, FetchError> {
    let start = Instant::now();
    // A timeout too large to add to an Instant means "practically never";
    // fall back to a year (and, absurdly, to "now", which times out at once
    // rather than panicking).
    let deadline = start
        .checked_add(settings.timeout)
        .or_else(|| start.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(start);
    let policy = (!settings.allow_private_addresses).then_some(policy);
    let refusal: Refusal = Arc::new(Mutex::new(None));
    let resolver = GuardedResolver {
        lookup,
        policy,
        refusal: Arc::clone(&refusal),
        deadline,
    };
    // Built once per fetch (it loads the system trust store) and shared by
    // the per-hop agents.
    let tls = Arc::new(
        native_tls::TlsConnector::new()
            .map_err(|e| FetchError::Network(format!("TLS could not be set up ({e})")))?,
    );

    let mut current = url.clone();
    let mut redirects = 0u32;
    loop {
        check_scheme(&current)?;
        check_literal_host(&current, policy)?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(FetchError::Timeout(settings.timeout));
        }
        // A fresh agent per hop: ureq's connect timeout ignores the overall
        // deadline when set, so each hop gets the remaining time for both.
        let agent = ureq::AgentBuilder::new()
            .resolver(resolver.clone())
            .tls_connector(Arc::clone(&tls))
            .redirects(0)
            .timeout_connect(remaining)
            .timeout(remaining)
            .user_agent(&settings.user_agent)
            .build();
        let mut request = agent
            .get(current.as_str())
            .set("Accept", ACCEPT)
            .set("Accept-Encoding", "gzip");
        if let Some(etag) = previous.etag.as_deref().filter(|v| header_safe(v)) {
            request = request.set("If-None-Match", etag);
        }
        if let Some(date) = previous.last_modified.as_deref().filter(|v| header_safe(v)) {
            request = request.set("If-Modified-Since", date);
        }
        tracing::debug!(url = %current, hop = redirects, "fetching feed");

        let response = match request.call() {
            Ok(response) => response,
            Err(ureq::Error::Status(status, _)) => return Err(FetchError::Http(status)),
            Err(ureq::Error::Transport(transport)) => {
                return Err(map_transport(
                    &transport,
                    &refusal,
                    deadline,
                    settings.timeout,
                ));
            }
        };
        let status = response.status();

        if matches!(status, 301 | 302 | 303 | 307 | 308) {
            let Some(location) = response.header("Location").map(str::trim) else {
                return Err(FetchError::BadUrl(format!(
                    "the server answered {status} but gave no Location to redirect to"
                )));
            };
            if redirects >= settings.max_redirects {
                return Err(FetchError::TooManyRedirects(settings.max_redirects));
            }
            let next = current.join(location).map_err(|e| {
                FetchError::BadUrl(format!(
                    "the server redirected to an invalid address {location:?} ({e})"
                ))
            })?;
            tracing::debug!(from = %current, to = %next, status, "following redirect");
            redirects += 1;
            current = next;
            continue;
        }
        if status != 304 && !(200..300).contains(&status) {
            // 1xx cannot reach us here; other 3xx (300, 305) are not
            // something a feed importer can act on.
            return Err(FetchError::Http(status));
        }

        let (content_type, charset) = parse_content_type(response.header("Content-Type"));
        let fresh = Validators {
            etag: response.header("ETag").map(str::to_string),
            last_modified: response.header("Last-Modified").map(str::to_string),
        };

        if status == 304 {
            let validators = Validators {
                etag: fresh.etag.or_else(|| previous.etag.clone()),
                last_modified: fresh
                    .last_modified
                    .or_else(|| previous.last_modified.clone()),
            };
            return Ok(Fetched {
                status,
                body: None,
                charset,
                content_type,
                validators,
                final_url: current,
                redirects,
                duration: start.elapsed(),
            });
        }

        // Refuse early when the server admits the body is too large. Only
        // without Content-Encoding: a compressed length says little about
        // the decompressed size we limit.
        if response.header("Content-Encoding").is_none()
            && let Some(length) = response
                .header("Content-Length")
                .and_then(|v| v.trim().parse::<u64>().ok())
            && length > settings.max_bytes
        {
            return Err(FetchError::TooLarge(settings.max_bytes));
        }

        let mut body = Vec::new();
        // into_reader is already decompressed (ureq's gzip feature) and bound
        // by the overall deadline; one extra byte tells "exactly max" from
        // "more than max".
        let read = response
            .into_reader()
            .take(settings.max_bytes.saturating_add(1))
            .read_to_end(&mut body);
        if let Err(e) = read {
            if is_timeout_io(&e) || Instant::now() >= deadline {
                return Err(FetchError::Timeout(settings.timeout));
            }
            return Err(FetchError::Network(format!(
                "reading the feed failed ({e})"
            )));
        }
        if body.len() as u64 > settings.max_bytes {
            return Err(FetchError::TooLarge(settings.max_bytes));
        }
        return Ok(Fetched {
            status,
            body: Some(body),
            charset,
            content_type,
            validators: fresh,
            final_url: current,
            redirects,
            duration: start.elapsed(),
        });
    }
}

/// Stored validators come from servers; one with a line break would be
/// refused by ureq, so such a value is simply not sent.
fn header_safe(value: &str) -> bool {
    !value.is_empty() && !value.chars().any(|c| c.is_control())
}

fn check_scheme(url: &Url) -> Result<(), FetchError> {
    match url.scheme() {
        "http" | "https" => Ok(()),
        other => Err(FetchError::BadUrl(format!(
            "{url} is a {other} address; only http and https are fetched"
        ))),
    }
}

/// ureq does pass literal IPs through the resolver ("10.0.0.1:80",
/// "[::1]:80"), but checking them here as well refuses them without even
/// starting a request, and keeps us safe if ureq ever shortcuts literals.
fn check_literal_host(url: &Url, policy: Option<Policy>) -> Result<(), FetchError> {
    let Some(policy) = policy else {
        return Ok(());
    };
    let address = match url.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(Host::Domain(_)) => return Ok(()),
        None => {
            return Err(FetchError::BadUrl(format!("{url} has no host name")));
        }
    };
    if policy(address).is_some() {
        tracing::warn!(%address, "refusing to fetch a private address");
        return Err(FetchError::PrivateAddress {
            host: address.to_string(),
            address,
        });
    }
    Ok(())
}

fn map_transport(
    transport: &ureq::Transport,
    refusal: &Refusal,
    deadline: Instant,
    timeout: Duration,
) -> FetchError {
    if let Ok(mut slot) = refusal.lock()
        && let Some((host, address)) = slot.take()
    {
        return FetchError::PrivateAddress { host, address };
    }
    let io_timeout = std::error::Error::source(transport)
        .and_then(|source| source.downcast_ref::<io::Error>())
        .is_some_and(is_timeout_io);
    if io_timeout || Instant::now() >= deadline {
        return FetchError::Timeout(timeout);
    }
    FetchError::Network(transport.to_string())
}

fn is_timeout_io(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// Splits `text/calendar; charset="UTF-8"` into `text/calendar` and `utf-8`.
fn parse_content_type(header: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(header) = header else {
        return (None, None);
    };
    let mut parts = header.split(';');
    let media = parts
        .next()
        .map(|m| m.trim().to_ascii_lowercase())
        .filter(|m| !m.is_empty());
    let charset = parts.find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim().trim_matches('"').trim().to_ascii_lowercase();
        (!value.is_empty()).then_some(value)
    });
    (media, charset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A one-thread HTTP server on 127.0.0.1: for each connection it reads the
    /// request head and hands it with the stream to `handler`, then closes.
    fn serve<F>(handler: F) -> (SocketAddr, Arc<AtomicUsize>)
    where
        F: Fn(&str, &mut TcpStream) + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                counter.fetch_add(1, Ordering::SeqCst);
                // A TLS ClientHello never ends in a blank line; stop waiting
                // for one so the TLS test gets garbage back promptly.
                let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
                let head = read_head(&mut stream);
                handler(&head, &mut stream);
                let _ = stream.flush();
            }
        });
        (addr, hits)
    }

    fn read_head(stream: &mut TcpStream) -> String {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => break,
            }
        }
        String::from_utf8_lossy(&head).into_owned()
    }

    fn path_of(head: &str) -> &str {
        head.split_whitespace().nth(1).unwrap_or("")
    }

    fn header_of<'a>(head: &'a str, name: &str) -> Option<&'a str> {
        head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) {
        let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
        for (name, value) in headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let _ = stream.write_all(out.as_bytes());
        let _ = stream.write_all(body);
    }

    fn local_settings() -> FetchSettings {
        let mut settings = FetchSettings::new("calendar-test/1.0".to_string());
        settings.allow_private_addresses = true;
        settings.timeout = Duration::from_secs(5);
        settings
    }

    fn url_for(addr: SocketAddr, path: &str) -> Url {
        Url::parse(&format!("http://{addr}{path}")).expect("url")
    }

    const ICS: &[u8] = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n";

    #[test]
    fn ok_with_body_etag_and_headers_sent() {
        let (addr, _) = serve(|head, stream| {
            let good = header_of(head, "User-Agent") == Some("calendar-test/1.0")
                && header_of(head, "Accept") == Some(ACCEPT)
                && header_of(head, "Accept-Encoding") == Some("gzip")
                && header_of(head, "If-None-Match").is_none();
            if good {
                respond(
                    stream,
                    "200 OK",
                    &[
                        ("Content-Type", "text/calendar; charset=\"UTF-8\""),
                        ("ETag", "\"v1\""),
                        ("Last-Modified", "Wed, 02 Dec 2026 10:00:00 GMT"),
                    ],
                    ICS,
                );
            } else {
                respond(stream, "400 Bad Request", &[], b"");
            }
        });
        let got = fetch(
            &url_for(addr, "/feed.ics"),
            &Validators::default(),
            &local_settings(),
        )
        .expect("fetch");
        assert_eq!(got.status, 200);
        assert_eq!(got.body.as_deref(), Some(ICS));
        assert_eq!(got.content_type.as_deref(), Some("text/calendar"));
        assert_eq!(got.charset.as_deref(), Some("utf-8"));
        assert_eq!(got.validators.etag.as_deref(), Some("\"v1\""));
        assert_eq!(
            got.validators.last_modified.as_deref(),
            Some("Wed, 02 Dec 2026 10:00:00 GMT")
        );
        assert_eq!(got.redirects, 0);
        assert_eq!(got.final_url, url_for(addr, "/feed.ics"));
    }

    #[test]
    fn not_modified_on_matching_etag_keeps_old_validators() {
        let (addr, _) = serve(|head, stream| {
            let matches = header_of(head, "If-None-Match") == Some("\"v1\"")
                && header_of(head, "If-Modified-Since") == Some("Wed, 02 Dec 2026 10:00:00 GMT");
            if matches {
                respond(stream, "304 Not Modified", &[], b"");
            } else {
                respond(stream, "200 OK", &[("ETag", "\"v2\"")], ICS);
            }
        });
        let previous = Validators {
            etag: Some("\"v1\"".to_string()),
            last_modified: Some("Wed, 02 Dec 2026 10:00:00 GMT".to_string()),
        };
        let got = fetch(&url_for(addr, "/"), &previous, &local_settings()).expect("fetch");
        assert_eq!(got.status, 304);
        assert!(got.body.is_none());
        assert_eq!(got.validators, previous);
    }

    #[test]
    fn gzip_body_is_decompressed() {
        use flate2::{Compression, write::GzEncoder};
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(ICS).expect("gzip");
        let gz = encoder.finish().expect("gzip");
        let (addr, _) = serve(move |_, stream| {
            respond(stream, "200 OK", &[("Content-Encoding", "gzip")], &gz);
        });
        let got = fetch(
            &url_for(addr, "/"),
            &Validators::default(),
            &local_settings(),
        )
        .expect("fetch");
        assert_eq!(got.body.as_deref(), Some(ICS));
    }

    #[test]
    fn gzip_bomb_is_too_large() {
        use flate2::{Compression, write::GzEncoder};
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(&vec![b'A'; 100_000]).expect("gzip");
        let gz = encoder.finish().expect("gzip");
        let (addr, _) = serve(move |_, stream| {
            respond(stream, "200 OK", &[("Content-Encoding", "gzip")], &gz);
        });
        let mut settings = local_settings();
        settings.max_bytes = 10_000;
        let err = fetch(&url_for(addr, "/"), &Validators::default(), &settings).unwrap_err();
        assert!(matches!(err, FetchError::TooLarge(10_000)), "{err:?}");
    }

    #[test]
    fn relative_redirect_is_followed() {
        let (addr, _) = serve(|head, stream| match path_of(head) {
            "/old/feed.ics" => respond(
                stream,
                "302 Found",
                &[("Location", "../new/feed.ics?x=1")],
                b"",
            ),
            "/new/feed.ics?x=1" => respond(stream, "200 OK", &[], ICS),
            _ => respond(stream, "404 Not Found", &[], b""),
        });
        let got = fetch(
            &url_for(addr, "/old/feed.ics"),
            &Validators::default(),
            &local_settings(),
        )
        .expect("fetch");
        assert_eq!(got.redirects, 1);
        assert_eq!(got.final_url, url_for(addr, "/new/feed.ics?x=1"));
        assert_eq!(got.body.as_deref(), Some(ICS));
    }

    /// /r/N redirects to /r/N+1 until N reaches `stop`, which answers 200.
    fn redirect_chain(stop: u32) -> SocketAddr {
        let (addr, _) = serve(move |head, stream| {
            let n: u32 = path_of(head).trim_start_matches("/r/").parse().unwrap_or(0);
            if n >= stop {
                respond(stream, "200 OK", &[], ICS);
            } else {
                let next = format!("/r/{}", n + 1);
                respond(stream, "301 Moved Permanently", &[("Location", &next)], b"");
            }
        });
        addr
    }

    #[test]
    fn five_redirects_are_followed() {
        let addr = redirect_chain(5);
        let got = fetch(
            &url_for(addr, "/r/0"),
            &Validators::default(),
            &local_settings(),
        )
        .expect("fetch");
        assert_eq!(got.redirects, 5);
        assert_eq!(got.final_url, url_for(addr, "/r/5"));
    }

    #[test]
    fn sixth_redirect_is_refused() {
        let addr = redirect_chain(6);
        let err = fetch(
            &url_for(addr, "/r/0"),
            &Validators::default(),
            &local_settings(),
        )
        .unwrap_err();
        assert!(matches!(err, FetchError::TooManyRedirects(5)), "{err:?}");
        assert_eq!(err.status(), None);
    }

    #[test]
    fn redirect_to_other_scheme_is_refused() {
        let (addr, _) = serve(|_, stream| {
            respond(
                stream,
                "302 Found",
                &[("Location", "ftp://example.com/feed.ics")],
                b"",
            );
        });
        let err = fetch(
            &url_for(addr, "/"),
            &Validators::default(),
            &local_settings(),
        )
        .unwrap_err();
        assert!(matches!(err, FetchError::BadUrl(_)), "{err:?}");
    }

    #[test]
    fn body_over_max_bytes_is_refused() {
        // No Content-Length, so the limit must come from reading, not the header.
        let (addr, _) = serve(|head, stream| {
            let body: &[u8] = if path_of(head) == "/big" {
                b"01234567890"
            } else {
                b"0123456789"
            };
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let _ = stream.write_all(body);
        });
        let mut settings = local_settings();
        settings.max_bytes = 10;
        let err = fetch(&url_for(addr, "/big"), &Validators::default(), &settings).unwrap_err();
        assert!(matches!(err, FetchError::TooLarge(10)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "the feed is larger than 10 bytes; stopped reading"
        );
        let got = fetch(&url_for(addr, "/exact"), &Validators::default(), &settings)
            .expect("exactly max_bytes is fine");
        assert_eq!(got.body.map(|b| b.len()), Some(10));
    }

    #[test]
    fn content_length_over_max_is_refused_early() {
        let (addr, _) = serve(|_, stream| respond(stream, "200 OK", &[], &[b'x'; 100]));
        let mut settings = local_settings();
        settings.max_bytes = 50;
        let err = fetch(&url_for(addr, "/"), &Validators::default(), &settings).unwrap_err();
        assert!(matches!(err, FetchError::TooLarge(50)), "{err:?}");
    }

    #[test]
    fn slow_body_times_out() {
        let (addr, _) = serve(|_, stream| {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nBEGIN:");
            let _ = stream.flush();
            std::thread::sleep(Duration::from_millis(2_500));
        });
        let mut settings = local_settings();
        settings.timeout = Duration::from_secs(1);
        let started = Instant::now();
        let err = fetch(&url_for(addr, "/"), &Validators::default(), &settings).unwrap_err();
        assert!(matches!(err, FetchError::Timeout(_)), "{err:?}");
        assert!(started.elapsed() < Duration::from_millis(2_000));
        assert_eq!(
            err.to_string(),
            "the feed did not arrive within 1 second; gave up"
        );
    }

    #[test]
    fn slow_headers_time_out() {
        let (addr, _) = serve(|_, stream| {
            std::thread::sleep(Duration::from_millis(2_500));
            respond(stream, "200 OK", &[], ICS);
        });
        let mut settings = local_settings();
        settings.timeout = Duration::from_secs(1);
        let started = Instant::now();
        let err = fetch(&url_for(addr, "/"), &Validators::default(), &settings).unwrap_err();
        assert!(matches!(err, FetchError::Timeout(_)), "{err:?}");
        assert!(started.elapsed() < Duration::from_millis(2_000));
    }

    #[test]
    fn https_uses_native_tls() {
        // A plain-HTTP server answering a TLS handshake: the handshake must
        // fail inside native-tls (proving the connector is wired in), not
        // with ureq's "no TLS backend is configured".
        let (addr, _) = serve(|_, stream| respond(stream, "200 OK", &[], ICS));
        let url = Url::parse(&format!("https://{addr}/")).expect("url");
        let err = fetch(&url, &Validators::default(), &local_settings()).unwrap_err();
        assert!(matches!(err, FetchError::Network(_)), "{err:?}");
        assert!(!err.to_string().contains("no TLS backend"), "{err}");
    }

    #[test]
    fn http_errors_carry_status() {
        let (addr, _) = serve(|_, stream| respond(stream, "404 Not Found", &[], b"nope"));
        let err = fetch(
            &url_for(addr, "/"),
            &Validators::default(),
            &local_settings(),
        )
        .unwrap_err();
        assert!(matches!(err, FetchError::Http(404)), "{err:?}");
        assert_eq!(err.status(), Some(404));
        assert_eq!(err.to_string(), "the server answered 404 Not Found");
    }

    #[test]
    fn loopback_is_refused_before_connecting() {
        let (addr, hits) = serve(|_, stream| respond(stream, "200 OK", &[], ICS));
        let settings = FetchSettings::new("t".to_string());
        let err = fetch(&url_for(addr, "/"), &Validators::default(), &settings).unwrap_err();
        match &err {
            FetchError::PrivateAddress { host, address } => {
                assert_eq!(host, "127.0.0.1");
                assert_eq!(*address, IpAddr::from([127, 0, 0, 1]));
            }
            other => panic!("expected PrivateAddress, got {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "127.0.0.1 resolves to 127.0.0.1, a loopback address; fetching private addresses is turned off"
        );
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(
            hits.load(Ordering::SeqCst),
            0,
            "the server must see no request"
        );
    }

    #[test]
    fn literal_private_hosts_are_refused() {
        let settings = FetchSettings::new("t".to_string());
        for (input, kind) in [
            ("http://10.0.0.1/", "private"),
            ("http://[::1]/", "loopback"),
            ("http://[::ffff:127.0.0.1]/", "loopback"),
            ("https://169.254.169.254/latest/meta-data/", "link-local"),
            ("http://0.0.0.0:8080/", "unspecified"),
        ] {
            let url = Url::parse(input).expect("url");
            let err = fetch(&url, &Validators::default(), &settings).unwrap_err();
            match err {
                FetchError::PrivateAddress { address, .. } => {
                    assert_eq!(is_private(address), Some(kind), "{input}");
                }
                other => panic!("{input}: expected PrivateAddress, got {other:?}"),
            }
        }
    }

    /// Allows only loopback (the test server) and refuses every other
    /// private address, standing in for production's `is_private`.
    fn allow_loopback(ip: IpAddr) -> Option<&'static str> {
        if ip.is_loopback() {
            None
        } else {
            is_private(ip)
        }
    }

    #[test]
    fn localhost_name_is_refused_after_resolution() {
        let (addr, hits) = serve(|_, stream| respond(stream, "200 OK", &[], ICS));
        let settings = FetchSettings::new("t".to_string());
        let url = Url::parse(&format!("http://localhost:{}/", addr.port())).expect("url");
        let err = fetch(&url, &Validators::default(), &settings).unwrap_err();
        match err {
            FetchError::PrivateAddress { host, address } => {
                assert_eq!(host, "localhost");
                assert_eq!(is_private(address), Some("loopback"));
            }
            other => panic!("expected PrivateAddress, got {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(hits.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn redirect_hop_to_private_name_is_refused() {
        // The first hop is "public" (loopback allowed by the test policy);
        // it redirects to a name that fake DNS resolves to a public and a
        // private address: one private address is enough to refuse.
        let (addr, hits) = serve(|_, stream| {
            respond(
                stream,
                "302 Found",
                &[("Location", "http://intranet.example:8080/x")],
                b"",
            );
        });
        let lookup: Arc<Lookup> = Arc::new(|netloc: &str| {
            if netloc == "intranet.example:8080" {
                Ok(vec![
                    SocketAddr::from(([93, 184, 215, 14], 8080)),
                    SocketAddr::from(([10, 1, 2, 3], 8080)),
                ])
            } else {
                std_lookup(netloc)
            }
        });
        let settings = FetchSettings::new("t".to_string());
        let err = fetch_with(
            &url_for(addr, "/"),
            &Validators::default(),
            &settings,
            lookup,
            allow_loopback,
        )
        .unwrap_err();
        match err {
            FetchError::PrivateAddress { host, address } => {
                assert_eq!(host, "intranet.example");
                assert_eq!(address, IpAddr::from([10, 1, 2, 3]));
            }
            other => panic!("expected PrivateAddress, got {other:?}"),
        }
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn redirect_hop_to_private_literal_is_refused() {
        let (addr, _) = serve(|_, stream| {
            respond(
                stream,
                "307 Temporary Redirect",
                &[("Location", "http://10.0.0.1/")],
                b"",
            );
        });
        let settings = FetchSettings::new("t".to_string());
        let err = fetch_with(
            &url_for(addr, "/"),
            &Validators::default(),
            &settings,
            Arc::new(std_lookup),
            allow_loopback,
        )
        .unwrap_err();
        assert!(
            matches!(err, FetchError::PrivateAddress { address, .. } if address == IpAddr::from([10, 0, 0, 1])),
            "{err:?}"
        );
    }

    #[test]
    fn resolver_refuses_any_private_address_and_stashes_it() {
        let refusal: Refusal = Arc::new(Mutex::new(None));
        let resolver = GuardedResolver {
            lookup: Arc::new(|_: &str| {
                Ok(vec![
                    SocketAddr::from(([93, 184, 215, 14], 443)),
                    "[fd00::1]:443".parse().expect("addr"),
                ])
            }),
            policy: Some(is_private),
            refusal: Arc::clone(&refusal),
            deadline: Instant::now() + Duration::from_secs(5),
        };
        let err = ureq::Resolver::resolve(&resolver, "feeds.example:443").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        let stashed = refusal.lock().expect("lock").clone();
        assert_eq!(
            stashed,
            Some(("feeds.example".to_string(), "fd00::1".parse().expect("ip")))
        );

        let allowing = GuardedResolver {
            policy: None,
            ..resolver
        };
        assert_eq!(
            ureq::Resolver::resolve(&allowing, "feeds.example:443")
                .expect("allowed")
                .len(),
            2
        );
    }

    #[test]
    fn resolver_gives_up_at_the_deadline() {
        let resolver = GuardedResolver {
            lookup: Arc::new(|_: &str| {
                std::thread::sleep(Duration::from_millis(1_000));
                Ok(vec![])
            }),
            policy: Some(is_private),
            refusal: Arc::new(Mutex::new(None)),
            deadline: Instant::now() + Duration::from_millis(100),
        };
        let started = Instant::now();
        let err = ureq::Resolver::resolve(&resolver, "slow.example:80").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() < Duration::from_millis(800));
    }

    #[test]
    fn host_of_netloc_strips_port_and_brackets() {
        assert_eq!(host_of_netloc("example.com:443"), "example.com");
        assert_eq!(host_of_netloc("[::1]:80"), "::1");
        assert_eq!(host_of_netloc("example.com"), "example.com");
    }

    #[test]
    fn is_private_classifies_addresses() {
        let cases: &[(&str, Option<&str>)] = &[
            ("127.0.0.1", Some("loopback")),
            ("127.255.0.9", Some("loopback")),
            ("10.0.0.1", Some("private")),
            ("172.16.0.1", Some("private")),
            ("172.31.255.255", Some("private")),
            ("172.32.0.1", None),
            ("192.168.1.1", Some("private")),
            ("100.64.0.1", Some("shared (CGNAT)")),
            ("100.127.255.255", Some("shared (CGNAT)")),
            ("100.128.0.1", None),
            ("169.254.169.254", Some("link-local")),
            ("0.0.0.0", Some("unspecified")),
            ("0.1.2.3", Some("unspecified")),
            ("224.0.0.1", Some("multicast")),
            ("255.255.255.255", Some("broadcast")),
            ("192.0.2.5", Some("documentation")),
            ("198.51.100.5", Some("documentation")),
            ("203.0.113.5", Some("documentation")),
            ("240.0.0.1", Some("reserved")),
            ("8.8.8.8", None),
            ("93.184.215.14", None),
            ("::", Some("unspecified")),
            ("::1", Some("loopback")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:10.0.0.1", Some("private")),
            ("::ffff:8.8.8.8", None),
            ("::127.0.0.1", Some("loopback")),
            ("64:ff9b::a00:1", Some("private")),
            ("2002:a00:1::1", Some("private")),
            ("fc00::1", Some("unique local")),
            ("fdff:ffff::1", Some("unique local")),
            ("fe80::1", Some("link-local")),
            ("febf::1", Some("link-local")),
            ("ff02::1", Some("multicast")),
            ("2001:db8::1", Some("documentation")),
            ("2606:4700::1111", None),
            ("2001:4860:4860::8888", None),
        ];
        for (ip, want) in cases {
            let parsed: IpAddr = ip.parse().expect("ip");
            assert_eq!(is_private(parsed), *want, "{ip}");
        }
    }

    #[test]
    fn parse_source_url_normalises_and_refuses() {
        assert_eq!(
            parse_source_url("  webcal://example.com/cal.ics ")
                .expect("webcal")
                .as_str(),
            "https://example.com/cal.ics"
        );
        assert_eq!(
            parse_source_url("WEBCALS://example.com/a.ics")
                .expect("webcals")
                .as_str(),
            "https://example.com/a.ics"
        );
        assert_eq!(
            parse_source_url("http://example.com/a.ics")
                .expect("http")
                .scheme(),
            "http"
        );
        assert!(parse_source_url("https://user:pw@example.com/a.ics").is_ok());

        let refusals = [
            ("", "the address is empty"),
            ("   ", "the address is empty"),
            (
                "ftp://example.com/a.ics",
                "only http, https and webcal addresses are supported, not ftp",
            ),
            ("https://", "the address has no host name"),
            ("https://:443/", "the address has no host name"),
            (
                "example.com/cal.ics",
                "the address must start with https://, http:// or webcal://",
            ),
        ];
        for (input, message) in refusals {
            assert_eq!(parse_source_url(input).unwrap_err(), message, "{input:?}");
        }
        let long = format!("https://example.com/{}", "a".repeat(2_000));
        assert_eq!(
            parse_source_url(&long).unwrap_err(),
            "the address is longer than 2,000 characters"
        );
        assert!(parse_source_url("mailto:someone@example.com").is_err());
        assert!(parse_source_url("http://exa mple.com/").is_err());
    }

    #[test]
    fn messages_read_as_sentences() {
        assert_eq!(
            FetchError::TooLarge(20_000_000).to_string(),
            "the feed is larger than 20 MB; stopped reading"
        );
        assert_eq!(
            FetchError::Timeout(Duration::from_secs(30)).to_string(),
            "the feed did not arrive within 30 seconds; gave up"
        );
        assert_eq!(
            FetchError::Http(503).to_string(),
            "the server answered 503 Service Unavailable"
        );
        assert_eq!(
            FetchError::Http(599).to_string(),
            "the server answered with status 599"
        );
        assert_eq!(
            FetchError::PrivateAddress {
                host: "feeds.example".to_string(),
                address: "fd00::1".parse().expect("ip"),
            }
            .to_string(),
            "feeds.example resolves to fd00::1, a unique local address; fetching private addresses is turned off"
        );
        assert_eq!(
            FetchError::PrivateAddress {
                host: "x.example".to_string(),
                address: IpAddr::from([0, 0, 0, 0]),
            }
            .to_string(),
            "x.example resolves to 0.0.0.0, an unspecified address; fetching private addresses is turned off"
        );
    }

    #[test]
    fn content_type_is_split() {
        assert_eq!(
            parse_content_type(Some("Text/Calendar; Charset=\"UTF-8\"; method=PUBLISH")),
            (Some("text/calendar".to_string()), Some("utf-8".to_string()))
        );
        assert_eq!(
            parse_content_type(Some("text/plain")),
            (Some("text/plain".to_string()), None)
        );
        assert_eq!(parse_content_type(None), (None, None));
    }
}
