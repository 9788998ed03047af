//! A small HTTP server on 127.0.0.1 for the import tests: it serves feeds (with ETag and
//! 304s as real servers do), redirects, slow answers and huge ones. Plain threads and
//! std::net, so that it answers while a test blocks in a sync.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Route {
    /// A body with its ETag; a request whose If-None-Match matches gets a 304.
    Feed {
        body: Vec<u8>,
        etag: String,
    },
    /// The same body, with no validators at all (as some servers do).
    Plain(Vec<u8>),
    Redirect(String),
    /// A status with a short body.
    Status(u16),
    /// Headers at once, then the body after this long.
    Slow(Duration),
    /// This many bytes of a calendar that never ends.
    Huge(usize),
}

#[derive(Clone)]
pub struct FixtureServer {
    pub base: String,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    /// Every request's path, and whether it brought If-None-Match.
    log: Arc<Mutex<Vec<(String, bool)>>>,
}

impl FixtureServer {
    pub fn start() -> FixtureServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = FixtureServer {
            base,
            routes: Default::default(),
            log: Default::default(),
        };
        let shared = server.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || shared.answer(stream));
            }
        });
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn set(&self, path: &str, route: Route) {
        self.routes.lock().unwrap().insert(path.to_owned(), route);
    }

    /// Serves `bytes` at `path` with an ETag of their hash.
    pub fn feed(&self, path: &str, bytes: impl Into<Vec<u8>>) {
        let body = bytes.into();
        let etag = format!("\"{:x}\"", md5ish(&body));
        self.set(path, Route::Feed { body, etag });
    }

    /// The requests made so far for `path`: how many, and how many were conditional.
    pub fn hits(&self, path: &str) -> (usize, usize) {
        let log = self.log.lock().unwrap();
        let mine: Vec<_> = log.iter().filter(|(p, _)| p == path).collect();
        (mine.len(), mine.iter().filter(|(_, c)| *c).count())
    }

    fn answer(&self, mut stream: TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_owned();
        let mut if_none_match = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("if-none-match")
            {
                if_none_match = Some(value.trim().to_owned());
            }
        }
        self.log
            .lock()
            .unwrap()
            .push((path.clone(), if_none_match.is_some()));
        let route = self.routes.lock().unwrap().get(&path).cloned();
        let head = |status: &str, extra: &str, length: usize| {
            format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/calendar; charset=utf-8\r\nContent-Length: {length}\r\nConnection: close\r\n{extra}\r\n"
            )
        };
        let _ = match route {
            None => stream.write_all(head("404 Not Found", "", 0).as_bytes()),
            Some(Route::Feed { body, etag }) => {
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    stream.write_all(
                        head("304 Not Modified", &format!("ETag: {etag}\r\n"), 0).as_bytes(),
                    )
                } else {
                    let _ = stream.write_all(
                        head("200 OK", &format!("ETag: {etag}\r\n"), body.len()).as_bytes(),
                    );
                    stream.write_all(&body)
                }
            }
            Some(Route::Plain(body)) => {
                let _ = stream.write_all(head("200 OK", "", body.len()).as_bytes());
                stream.write_all(&body)
            }
            Some(Route::Redirect(to)) => {
                stream.write_all(head("302 Found", &format!("Location: {to}\r\n"), 0).as_bytes())
            }
            Some(Route::Status(code)) => {
                stream.write_all(head(&format!("{code} Oops"), "", 0).as_bytes())
            }
            Some(Route::Slow(wait)) => {
                let body = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n";
                let _ = stream.write_all(head("200 OK", "", body.len()).as_bytes());
                std::thread::sleep(wait);
                stream.write_all(body)
            }
            Some(Route::Huge(size)) => {
                let _ = stream.write_all(head("200 OK", "", size).as_bytes());
                let chunk = b"BEGIN:VCALENDAR\r\nX-PADDING:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"
                    .repeat(1024);
                let mut sent = 0;
                while sent < size {
                    let n = chunk.len().min(size - sent);
                    if stream.write_all(&chunk[..n]).is_err() {
                        break;
                    }
                    sent += n;
                }
                Ok(())
            }
        };
        // Read what is left so that the client sees a clean close.
        let _ = stream.set_read_timeout(Some(Duration::from_millis(10)));
        let _ = reader.read(&mut [0; 16]);
    }
}

/// A cheap content hash for ETags (FNV-1a).
fn md5ish(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf29ce484222325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x100000001b3);
    }
    hash
}

/// A fixture of `tests/fixtures/ics/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/ics/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
