//! The server as a process: a graceful stop on SIGTERM and Ctrl-C, and `backup` while it
//! serves and writes. These run the real binary on a SQLite file (signals and files are
//! the point), on either backend's run of the suite.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use crate::fixture_server::{FixtureServer, Route};
use crate::helpers::binary;

const PASSWORD: &str = "a long test password";

/// A day a month ahead: the binary runs on the real clock.
fn a_date_ahead() -> String {
    (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string()
}

/// `creative-calendar serve` on `database`, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(database: &Path, extra: &[&str]) -> Server {
        let port = free_port();
        let child = binary()
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--database",
            ])
            .arg(database)
            .args(["--shutdown-timeout-secs", "20"])
            .args(extra)
            .env_remove("CREATIVE_CALENDAR_DATABASE")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the server starts");
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while http(port, "GET /healthz HTTP/1.1\r\n", b"").map(|r| r.0) != Some(200) {
            assert!(
                Instant::now() < deadline,
                "the server never answered /healthz"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit in time");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 exchange: the request line and headers as given, then `body`. `None`
/// when nothing listens.
fn http(port: u16, head: &str, body: &[u8]) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let request = format!(
        "{head}Host: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    read_response(&mut stream)
}

fn read_response(stream: &mut TcpStream) -> Option<(u16, String)> {
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

/// A database with an admin and a personal token of theirs, made by the command line.
fn database_with_token(dir: &Path) -> (PathBuf, String) {
    let database = dir.join("calendar.db");
    let made = binary()
        .args(["admin", "create", "--database"])
        .arg(&database)
        .args(["--email", "office@example.org", "--name", "Festival Office"])
        .env("CREATIVE_CALENDAR_ADMIN_PASSWORD", PASSWORD)
        .env_remove("CREATIVE_CALENDAR_DATABASE")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let token = binary()
        .args(["tokens", "create", "--database"])
        .arg(&database)
        .args(["--email", "office@example.org", "--name", "test"])
        .env_remove("CREATIVE_CALENDAR_DATABASE")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(token.status.success(), "{token:?}");
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    (database, token)
}

fn event_json(title: &str) -> String {
    serde_json::json!({
        "city": "braga",
        "kind": "festival",
        "title": title,
        "description": "Projections on the cathedral.",
        "venue": "Theatro Circo",
        "start_date": a_date_ahead(),
        "start_time": "19:00",
        "end_time": "23:00",
    })
    .to_string()
}

fn post_event(port: u16, token: &str, title: &str) -> Option<(u16, String)> {
    http(
        port,
        &format!(
            "POST /api/v1/events HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        ),
        event_json(title).as_bytes(),
    )
}

fn stored_titles(database: &Path) -> Vec<String> {
    use creative_calendar::db::schema::events;
    use diesel::prelude::*;
    let pool = creative_calendar::db::connect(database, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let creative_calendar::db::DbConnection::Sqlite(conn) = &mut *conn else {
        unreachable!("a SQLite file")
    };
    events::table
        .select(events::title)
        .order(events::id)
        .load(conn)
        .unwrap()
}

#[test]
fn sigterm_and_ctrl_c_finish_the_request_in_flight_refuse_new_ones_and_exit_0() {
    for signal in ["TERM", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let (database, token) = database_with_token(dir.path());
        let mut server = Server::start(&database, &[]);
        let title = format!("Sent across a SIG{signal}");

        // Half a request is on its way when the signal comes.
        let body = event_json(&title);
        let (first, rest) = body.as_bytes().split_at(body.len() / 2);
        let mut in_flight = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        in_flight
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            in_flight,
            "POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .unwrap();
        in_flight.write_all(first).unwrap();
        in_flight.flush().unwrap();
        std::thread::sleep(Duration::from_millis(300));

        server.signal(signal);
        // Stopped accepting: a new visitor is refused, not left waiting.
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", server.port)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "SIG{signal}: still accepting connections"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            server.child.try_wait().unwrap().is_none(),
            "SIG{signal}: exited with a request in flight"
        );

        in_flight.write_all(rest).unwrap();
        let (status, answer) = read_response(&mut in_flight).expect("an answer");
        assert_eq!(status, 201, "SIG{signal}: {answer}");
        let status = server.wait(Duration::from_secs(20));
        assert!(status.success(), "SIG{signal}: {status:?}");
        assert_eq!(stored_titles(&database), vec![title]);
    }
}

#[test]
fn a_stop_waits_for_the_sync_in_progress_and_starts_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let (database, _) = database_with_token(dir.path());
    let fixtures = FixtureServer::start();
    // Headers at once, the calendar two seconds later: the sync is mid-fetch when the
    // signal comes.
    fixtures.set("/slow.ics", Route::Slow(Duration::from_secs(2)));
    for path in ["/slow.ics", "/later.ics"] {
        let added = binary()
            .args(["sources", "add", "--database"])
            .arg(&database)
            .args(["--url", &fixtures.url(path), "--city", "braga"])
            .args(["--email", "office@example.org"])
            .env_remove("CREATIVE_CALENDAR_DATABASE")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(added.status.success(), "{added:?}");
    }
    let mut server = Server::start(&database, &["--import-allow-private-addresses"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while fixtures.hits("/slow.ics").0 == 0 {
        assert!(Instant::now() < deadline, "the schedule never fetched");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.signal("TERM");
    let stopped = Instant::now();
    let status = server.wait(Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
    assert!(
        stopped.elapsed() >= Duration::from_millis(1500),
        "exited before the fetch could have finished: {:?}",
        stopped.elapsed()
    );

    let listed = binary()
        .args(["sources", "list", "--database"])
        .arg(&database)
        .env_remove("CREATIVE_CALENDAR_DATABASE")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let lines = String::from_utf8(listed.stdout).unwrap();
    let slow = lines.lines().find(|l| l.contains("/slow.ics")).unwrap();
    let later = lines.lines().find(|l| l.contains("/later.ics")).unwrap();
    assert!(!slow.contains("never fetched"), "the sync was cut: {lines}");
    assert!(
        later.contains("never fetched"),
        "a sync began during the stop: {lines}"
    );
    assert_eq!(fixtures.hits("/later.ics").0, 0);
}

#[test]
fn a_backup_taken_under_writes_holds_every_write_answered_before_it_and_serves_when_restored() {
    let dir = tempfile::tempdir().unwrap();
    let (database, token) = database_with_token(dir.path());
    let server = Server::start(&database, &["--api-writes-per-hour", "100000"]);
    let port = server.port;

    // A writer that never pauses, before, during and after the backup.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let answered = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let writer = {
        let (stop, answered, token) = (stop.clone(), answered.clone(), token.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let title = format!("Written under the backup {n:05}");
                let (status, body) = post_event(port, &token, &title).expect("an answer");
                assert_eq!(status, 201, "{body}");
                answered.lock().unwrap().push(title);
                n += 1;
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while answered.lock().unwrap().len() < 20 {
        assert!(!writer.is_finished(), "the writer stopped");
        assert!(Instant::now() < deadline, "20 writes took over a minute");
        std::thread::sleep(Duration::from_millis(10));
    }

    let copy = dir.path().join("backup.db");
    let before: Vec<String> = answered.lock().unwrap().clone();
    let made = binary()
        .args(["backup", "--database"])
        .arg(&database)
        .arg(&copy)
        .env_remove("CREATIVE_CALENDAR_DATABASE")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let after: Vec<String> = answered.lock().unwrap().clone();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    let said = String::from_utf8_lossy(&made.stdout);
    assert!(made.status.success(), "{made:?}");
    assert!(said.contains("integrity check: ok"), "{said}");

    // Everything answered before the backup began, a run of whatever came during it, and
    // nothing that came after.
    let in_copy = stored_titles(&copy);
    assert!(
        in_copy.len() >= before.len(),
        "{} < {}",
        in_copy.len(),
        before.len()
    );
    assert_eq!(in_copy[..before.len()], before[..]);
    assert!(in_copy.len() <= after.len() + 1);
    assert_eq!(in_copy[..], answered.lock().unwrap()[..in_copy.len()]);
    assert!(
        said.contains(&format!("backed up {} events", in_copy.len())),
        "{said}"
    );

    // Restored: a server started on the copy serves what it holds.
    drop(server);
    let restored = Server::start(&copy, &[]);
    let (status, listing) = http(
        restored.port,
        "GET /api/v1/events?city=braga&limit=100 HTTP/1.1\r\n",
        b"",
    )
    .unwrap();
    assert_eq!(status, 200, "{listing}");
    let listing: serde_json::Value = serde_json::from_str(&listing).unwrap();
    assert_eq!(
        listing["meta"]["total"].as_u64(),
        Some(in_copy.len() as u64),
        "{listing}"
    );
    let (status, _) = post_event(restored.port, &token, "After the restore").unwrap();
    assert_eq!(status, 201, "the restored installation takes writes");
}

#[test]
fn backup_never_overwrites_a_file_and_sends_postgresql_to_pg_dump() {
    let dir = tempfile::tempdir().unwrap();
    let (database, _) = database_with_token(dir.path());
    let existing = dir.path().join("kept.db");
    std::fs::write(&existing, b"an earlier backup").unwrap();
    let refused = binary()
        .args(["backup", "--database"])
        .arg(&database)
        .arg(&existing)
        .env_remove("CREATIVE_CALENDAR_DATABASE")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("exists already"),
        "{refused:?}"
    );
    assert_eq!(std::fs::read(&existing).unwrap(), b"an earlier backup");
    // Nothing half-written left beside it.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(names.is_empty(), "{names:?}");

    if let Some(server) = crate::helpers::test_postgres() {
        let refused = binary()
            .args(["backup", "--database", &server])
            .arg(dir.path().join("pg.db"))
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(!refused.status.success());
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("pg_dump"),
            "{refused:?}"
        );
    }
}
