use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use creative_calendar::clock::Clock;
use creative_calendar::config::Config;
use creative_calendar::db::DbPool;
use creative_calendar::db::models::{City, Event, NewEvent};
use creative_calendar::domain::{
    CreativeField, EventDraft, EventKind, EventSchedule, EventStatus, EventTitle, ModerationState,
};
use creative_calendar::startup::Application;
use scraper::{Html, Selector};

/// The moment every test lives in, unless it says otherwise: Saturday 28 November 2026,
/// noon UTC.
pub fn test_now() -> DateTime<Utc> {
    "2026-11-28T12:00:00Z".parse().unwrap()
}

pub fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:PORT` of `/metrics`, when the test asked for it.
    pub metrics_address: Option<String>,
    pub pool: DbPool,
    pub client: awc::Client,
    pub now: DateTime<Utc>,
    /// The database, shared by the servers started on it.
    database: std::sync::Arc<TestDatabase>,
    /// The app's clock: a test that spawned it with `Clock::manual` moves it with `set`.
    pub clock: Clock,
}

pub struct Response {
    pub status: u16,
    pub headers: awc::http::header::HeaderMap,
    pub body: String,
}

impl Response {
    pub fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The trimmed text of every element matching `selector`.
    pub fn texts(&self, selector: &str) -> Vec<String> {
        select_texts(&self.html(), selector)
    }

    pub fn text(&self, selector: &str) -> String {
        self.texts(selector)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("nothing matches {selector:?} in:\n{}", self.body))
    }

    /// The value of `attribute` on the first element matching `selector`.
    pub fn attr(&self, selector: &str, attribute: &str) -> String {
        let html = self.html();
        let sel = Selector::parse(selector).unwrap();
        let element = html
            .select(&sel)
            .next()
            .unwrap_or_else(|| panic!("nothing matches {selector:?}"));
        element
            .value()
            .attr(attribute)
            .unwrap_or_else(|| panic!("{selector:?} has no {attribute}"))
            .to_owned()
    }

    /// The page's schema.org JSON-LD block, parsed.
    pub fn json_ld(&self) -> serde_json::Value {
        let text: String = {
            let html = self.html();
            let sel = Selector::parse(r#"script[type="application/ld+json"]"#).unwrap();
            html.select(&sel)
                .next()
                .expect("a JSON-LD block")
                .text()
                .collect()
        };
        serde_json::from_str(&text).expect("JSON-LD parses")
    }

    /// The event titles a listing shows, in order.
    pub fn event_titles(&self) -> Vec<String> {
        self.texts(".event-list .event-title")
    }
}

/// The VEVENTs of a feed body, parsed by the `icalendar` crate.
pub fn feed_events(body: &str) -> Vec<icalendar::Event> {
    let calendar: icalendar::Calendar = body.parse().expect("the feed parses");
    calendar
        .components
        .into_iter()
        .filter_map(|c| match c {
            icalendar::CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

pub fn select_texts(html: &Html, selector: &str) -> Vec<String> {
    let sel = Selector::parse(selector).unwrap();
    html.select(&sel)
        .map(|e| {
            e.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_at(test_now()).await
}

pub async fn spawn_app_at(now: DateTime<Utc>) -> TestApp {
    spawn_app_with(now, |_| {}).await
}

/// The app with some of its configuration changed by `configure`.
pub async fn spawn_app_with(now: DateTime<Utc>, configure: impl FnOnce(&mut Config)) -> TestApp {
    start_app(std::sync::Arc::new(TestDatabase::new()), now, configure).await
}

/// The app on `database` (one that a test filled beforehand, such as a copy).
pub async fn spawn_app_on_database(database: TestDatabase) -> TestApp {
    start_app(std::sync::Arc::new(database), test_now(), |_| {}).await
}

/// The app on a database that the test prepared beforehand, as `dir/test.db`.
pub async fn spawn_app_on(dir: tempfile::TempDir) -> TestApp {
    start_app(
        std::sync::Arc::new(TestDatabase::sqlite_in(dir)),
        test_now(),
        |_| {},
    )
    .await
}

impl TestApp {
    /// Another server on this app's database file, as after a restart, or as a second
    /// server behind the same proxy; `configure` changes its configuration.
    pub async fn another_server(&self, configure: impl FnOnce(&mut Config)) -> TestApp {
        start_app(std::sync::Arc::clone(&self.database), self.now, configure).await
    }
}

/// The database of one test: a SQLite file in a folder of its own, or, when
/// `CREATIVE_CALENDAR_TEST_POSTGRES` names a PostgreSQL server (as `.ci/run` sets it), a
/// database of its own on that server, dropped when the test is over.
pub struct TestDatabase {
    dir: tempfile::TempDir,
    /// The server's URL (any database on it) and the name of this test's database.
    postgres: Option<(String, String)>,
}

/// The PostgreSQL server the integration tests run on, when they do.
pub fn test_postgres() -> Option<String> {
    std::env::var("CREATIVE_CALENDAR_TEST_POSTGRES")
        .ok()
        .filter(|v| !v.is_empty())
}

/// `url` with another database name (the path after the host), its options kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[authority_end..]
        .find('/')
        .map_or(base.len(), |i| authority_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

impl TestDatabase {
    pub fn new() -> TestDatabase {
        let dir = tempfile::tempdir().unwrap();
        let postgres = test_postgres().map(|server| {
            use diesel::{Connection, RunQueryDsl};
            static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
            let name = format!(
                "cc_test_{}_{}_{nanos}",
                std::process::id(),
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            );
            let mut admin = diesel::PgConnection::establish(&server).expect("the test PostgreSQL");
            diesel::sql_query(format!("CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0 LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"))
                .execute(&mut admin)
                .expect("a test database");
            (server, name)
        });
        TestDatabase { dir, postgres }
    }

    /// A SQLite file a test prepared, as `dir/test.db`.
    pub fn sqlite_in(dir: tempfile::TempDir) -> TestDatabase {
        TestDatabase {
            dir,
            postgres: None,
        }
    }

    /// What `--database` is for this test.
    pub fn url(&self) -> creative_calendar::db::DatabaseUrl {
        match &self.postgres {
            Some((server, name)) => {
                creative_calendar::db::DatabaseUrl::Postgres(with_database(server, name))
            }
            None => self.dir.path().join("test.db").into(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.postgres {
            use diesel::{Connection, RunQueryDsl};
            // FORCE: the servers of the test may still hold connections.
            if let Ok(mut admin) = diesel::PgConnection::establish(server) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

async fn start_app(
    database: std::sync::Arc<TestDatabase>,
    now: DateTime<Utc>,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = Config::new(database.url(), "127.0.0.1:0");
    config.clock = Clock::Fixed(now);
    config.page_size = 5;
    config.counts_ttl = std::time::Duration::ZERO;
    // Tests write behind the server's back through `pool`, as another server or the CLI
    // would; with no interval every request reads the revision and sees them at once.
    // The cache's own tests (`response_cache.rs`) set one.
    config.revision_check = std::time::Duration::ZERO;
    config.workers = Some(1);
    config.pool_size = 4;
    config.public_url = "https://calendar.example.org".to_owned();
    configure(&mut config);
    let clock = config.clock.clone();
    let app = Application::build(config).await.expect("the app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let pool = app.pool();
    {
        // The cities were loaded at the real time of the run; date them well before the
        // test's clock, so that what a test asserts about Last-Modified is its own doing.
        use creative_calendar::db::schema::cities;
        use diesel::prelude::*;
        let long_ago = local("2026-01-01 00:00");
        let mut conn = pool.get().unwrap();
        diesel::update(cities::table)
            .set((
                cities::created_at.eq(long_ago),
                cities::updated_at.eq(long_ago),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address,
        metrics_address,
        pool,
        client: awc::Client::default(),
        now,
        database,
        clock,
    }
}

/// A response that came gzipped, with its body unzipped.
pub struct Gzipped {
    pub status: u16,
    pub headers: awc::http::header::HeaderMap,
    /// The length of the body as sent.
    pub zipped_len: usize,
    pub body: String,
}

impl Gzipped {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_owned()
    }
}

impl TestApp {
    /// A GET with `Accept-Encoding: {accept}`, whose body must come gzipped.
    pub async fn get_gzipped(&self, path: &str, accept: &str) -> Gzipped {
        use std::io::Read;
        let mut res = self
            .client
            .get(format!("{}{}", self.address, path))
            .insert_header(("Accept-Encoding", accept))
            .send()
            .await
            .expect("the request is answered");
        let zipped = res.body().limit(20_000_000).await.expect("a body");
        let mut body = String::new();
        flate2::read::GzDecoder::new(&zipped[..])
            .read_to_string(&mut body)
            .expect("gzipped UTF-8");
        Gzipped {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            zipped_len: zipped.len(),
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.get_with(path, &[]).await
    }

    /// A GET with extra request headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        self.request(awc::http::Method::GET, path, headers).await
    }

    pub async fn request(
        &self,
        method: awc::http::Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.address, path));
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        let mut res = req.send().await.expect("the request is answered");
        let body = res.body().limit(20_000_000).await.expect("a body");
        Response {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: String::from_utf8(body.to_vec()).expect("UTF-8"),
        }
    }

    pub fn city(&self, slug: &str) -> City {
        let mut conn = self.pool.get().unwrap();
        City::find_by_slug(&mut conn, slug).unwrap()
    }

    pub fn event(&self, city: &str) -> EventBuilder<'_> {
        EventBuilder {
            app: self,
            city: city.to_owned(),
            draft: EventDraft {
                kind: EventKind::Festival,
                field: None,
                title: EventTitle::parse("Test event").unwrap(),
                description: "A test event.".to_owned(),
                venue_name: "Town Hall".to_owned(),
                venue_address: "1 Main Street".to_owned(),
                coordinates: None,
                schedule: EventSchedule::all_day(date("2026-12-12"), date("2026-12-14")).unwrap(),
                url: None,
                price: None,
                is_free: true,
                organizer_name: None,
                status: EventStatus::Scheduled,
                series: None,
                hours: None,
            },
            moderation: ModerationState::Published,
        }
    }
}

/// Builds and inserts one event, the way the application itself does.
pub struct EventBuilder<'a> {
    app: &'a TestApp,
    city: String,
    draft: EventDraft,
    moderation: ModerationState,
}

impl EventBuilder<'_> {
    pub fn title(mut self, title: &str) -> Self {
        self.draft.title = EventTitle::parse(title).unwrap();
        self
    }
    pub fn description(mut self, text: &str) -> Self {
        self.draft.description = text.to_owned();
        self
    }
    pub fn venue(mut self, name: &str, address: &str) -> Self {
        self.draft.venue_name = name.to_owned();
        self.draft.venue_address = address.to_owned();
        self
    }
    pub fn kind(mut self, kind: EventKind) -> Self {
        self.draft.kind = kind;
        self
    }
    pub fn field(mut self, field: CreativeField) -> Self {
        self.draft.field = Some(field);
        self
    }
    pub fn all_day(mut self, first: &str, last: &str) -> Self {
        self.draft.schedule = EventSchedule::all_day(date(first), date(last)).unwrap();
        self
    }
    pub fn timed(mut self, start: &str, end: Option<&str>) -> Self {
        self.draft.schedule = EventSchedule::timed(local(start), end.map(local)).unwrap();
        self
    }
    pub fn status(mut self, status: EventStatus) -> Self {
        self.draft.status = status;
        self
    }
    pub fn moderation(mut self, moderation: ModerationState) -> Self {
        self.moderation = moderation;
        self
    }
    pub fn organizer(mut self, name: &str) -> Self {
        self.draft.organizer_name = Some(name.to_owned());
        self
    }
    pub fn coordinates(mut self, lat: f64, lon: f64) -> Self {
        self.draft.coordinates = Some((lat, lon));
        self
    }
    pub fn price(mut self, price: &str) -> Self {
        self.draft.price = Some(price.to_owned());
        self.draft.is_free = false;
        self
    }

    pub fn insert(self) -> Event {
        let city = self.app.city(&self.city);
        let mut conn = self.app.pool.get().unwrap();
        NewEvent::from_draft(&self.draft, &city, self.moderation, self.app.now)
            .expect("a valid schedule")
            .insert(&mut conn)
            .expect("inserted")
    }
}

/// A visitor with cookies, who fills in forms the way a browser does: each form is
/// fetched first and posted back with the CSRF token it carries. Redirects are not
/// followed, so tests see the 303s themselves.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    client: awc::Client,
    cookies: std::cell::RefCell<std::collections::BTreeMap<String, String>>,
}

/// The password every test account has.
pub const PASSWORD: &str = "a long test password";

impl TestApp {
    /// A new visitor with no cookies.
    pub fn browser(&self) -> Browser<'_> {
        Browser {
            app: self,
            client: awc::Client::builder().disable_redirects().finish(),
            cookies: Default::default(),
        }
    }

    /// A visitor who has just signed up with `email` (password [`PASSWORD`]).
    pub async fn organiser(&self, email: &str) -> Browser<'_> {
        let browser = self.browser();
        let response = browser
            .submit(
                "/signup",
                "/signup",
                &[
                    ("email", email),
                    ("name", "Test Organiser"),
                    ("organisation", "Test Festival"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(
            response.status, 303,
            "signing up {email}: {}",
            response.body
        );
        browser
    }

    /// A signed-in moderator for `city` (a slug, or `None` for the whole network).
    pub async fn moderator(&self, email: &str, city: Option<&str>) -> Browser<'_> {
        let browser = self.organiser(email).await;
        self.grant_moderator(email, city);
        browser
    }

    /// Gives the account with `email` a moderator role, behind the app's back.
    pub fn grant_moderator(&self, email: &str, city: Option<&str>) {
        use creative_calendar::db::models::{Account, ModeratorRole};
        let mut conn = self.pool.get().unwrap();
        let account = Account::find_by_email(&mut conn, email).unwrap();
        let city_id = city.map(|slug| City::find_by_slug(&mut conn, slug).unwrap().id);
        ModeratorRole::grant(&mut conn, account.id, city_id, self.now).unwrap();
    }

    /// Marks the account with `email` trusted (or not), behind the app's back.
    pub fn set_trusted(&self, email: &str, trusted: bool) {
        use creative_calendar::db::models::Account;
        let mut conn = self.pool.get().unwrap();
        let account = Account::find_by_email(&mut conn, email).unwrap();
        Account::set_trusted(&mut conn, account.id, trusted).unwrap();
    }

    /// What `--database` is for this app's database, for tests of the command line.
    pub fn database_path(&self) -> String {
        self.database.url().to_string()
    }

    /// The event with `id` as stored, whatever its moderation state.
    pub fn stored_event(&self, id: i32) -> Event {
        let mut conn = self.pool.get().unwrap();
        Event::find_with_city(&mut conn, id).unwrap().event
    }
}

impl Browser<'_> {
    fn cookie_header(&self) -> String {
        self.cookies
            .borrow()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&self, headers: &awc::http::header::HeaderMap) {
        for value in headers.get_all("set-cookie") {
            let Ok(text) = value.to_str() else { continue };
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                let expired = text.to_ascii_lowercase().contains("max-age=0");
                if value.is_empty() || expired {
                    self.cookies.borrow_mut().remove(name.trim());
                } else {
                    self.cookies
                        .borrow_mut()
                        .insert(name.trim().to_owned(), value.trim().to_owned());
                }
            }
        }
    }

    /// The value of one of the visitor's cookies.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.borrow().get(name).cloned()
    }

    /// Forgets a cookie, as a browser does when it expires.
    pub fn drop_cookie(&self, name: &str) {
        self.cookies.borrow_mut().remove(name);
    }

    /// Gives the visitor a cookie the site did not set, as a sibling subdomain or a man
    /// in the middle can.
    pub fn plant_cookie(&self, name: &str, value: &str) {
        self.cookies
            .borrow_mut()
            .insert(name.to_owned(), value.to_owned());
    }

    pub async fn get(&self, path: &str) -> Response {
        self.get_with(path, &[]).await
    }

    /// A GET with the visitor's cookies and extra request headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut req = self
            .client
            .get(format!("{}{}", self.app.address, path))
            .insert_header(("cookie", self.cookie_header()));
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        let res = req.send().await.expect("the request is answered");
        self.read(res).await
    }

    /// POSTs exactly `fields`, urlencoded, with the visitor's cookies: no token is added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.post_body(path, body).await
    }

    pub async fn post_body(&self, path: &str, body: impl Into<Vec<u8>>) -> Response {
        let res = self
            .client
            .post(format!("{}{}", self.app.address, path))
            .insert_header(("cookie", self.cookie_header()))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .send_body(body.into())
            .await
            .expect("the request is answered");
        self.read(res).await
    }

    /// POSTs a `multipart/form-data` body, with the visitor's cookies.
    pub async fn post_multipart(&self, path: &str, boundary: &str, body: Vec<u8>) -> Response {
        let res = self
            .client
            .post(format!("{}{}", self.app.address, path))
            .insert_header(("cookie", self.cookie_header()))
            .insert_header((
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            ))
            .send_body(body)
            .await
            .expect("the request is answered");
        self.read(res).await
    }

    /// Keeps the response's cookies and reads it whole.
    async fn read(
        &self,
        mut res: awc::ClientResponse<
            impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
            + Unpin,
        >,
    ) -> Response {
        self.keep_cookies(res.headers());
        let body = res.body().limit(20_000_000).await.expect("a body");
        Response {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: String::from_utf8(body.to_vec()).expect("UTF-8"),
        }
    }

    /// The CSRF token the page at `path` gives this visitor.
    pub async fn csrf_token(&self, path: &str) -> String {
        let page = self.get(path).await;
        assert_eq!(page.status, 200, "GET {path}: {}", page.body);
        page.attr(r#"input[name="csrf_token"]"#, "value")
    }

    /// Fetches the form at `page`, then posts `fields` and its token to `action`.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_token(page).await;
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    /// Submits the event form; returns the response (303 to the event, or 422).
    pub async fn submit_event(&self, fields: &[(&str, &str)]) -> Response {
        self.submit("/events/new", "/events/new", fields).await
    }

    /// Submits a valid event and returns its id.
    pub async fn create_event(&self, fields: &[(&str, &str)]) -> i32 {
        let mut all: Vec<(&str, &str)> = vec![
            ("city", "braga"),
            ("kind", "festival"),
            ("title", "Braga Media Arts Night"),
            ("description", "Light and sound."),
            ("venue", "Theatro Circo"),
            ("address", "Avenida da Liberdade 697"),
            ("start_date", "2026-12-12"),
            ("start_time", "19:00"),
            ("end_time", "23:00"),
        ];
        for (k, v) in fields {
            all.retain(|(name, _)| name != k);
            all.push((k, v));
        }
        let response = self.submit_event(&all).await;
        assert_eq!(response.status, 303, "{}", response.body);
        event_id_from(&response)
    }
}

/// The application's binary, as `cargo test` built it, for tests of the command line.
pub fn binary() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_creative-calendar"))
}

/// How many events are stored, in any state.
pub fn event_count(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    Event::count(&mut conn).unwrap()
}

/// The id in a `Location: /events/{id}` header.
pub fn event_id_from(response: &Response) -> i32 {
    let location = response.header("location").expect("a Location header");
    location
        .trim_start_matches("/events/")
        .parse()
        .unwrap_or_else(|_| panic!("not an event address: {location}"))
}
