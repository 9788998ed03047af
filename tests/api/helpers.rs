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
    pub pool: DbPool,
    pub client: awc::Client,
    pub now: DateTime<Utc>,
    _dir: tempfile::TempDir,
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
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("test.db"), "127.0.0.1:0");
    config.clock = Clock::Fixed(now);
    config.page_size = 5;
    config.counts_ttl = std::time::Duration::ZERO;
    config.workers = Some(1);
    config.pool_size = 4;
    config.public_url = "https://calendar.example.org".to_owned();
    configure(&mut config);
    let app = Application::build(config).await.expect("the app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
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
        pool,
        client: awc::Client::default(),
        now,
        _dir: dir,
    }
}

impl TestApp {
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
