//! `/my/sources`: an organiser's own calendars, imported and kept in step. Each page is
//! a door into [`crate::workflows::sources`].

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::account::{no_store, see_other};
use super::events::form::CityOption;
use crate::auth::{Checked, NoFields, Viewer};
use crate::db::models::{City, ImportedEvent, OnVanish, RunNote, Source, SourceRun};
use crate::domain::{CreativeField, EventKind, FieldErrors};
use crate::error::AppError;
use crate::urlencoded::Query;
use crate::web::AppState;
use crate::web::params::canonical_id;
use crate::workflows::sources::{self, DeleteReport, SourceForm, SyncOutcome, SyncSkip};
use crate::workflows::{Actor, WorkflowError};

/// The biggest upload: the same limit as a fetch.
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

/// The choices of the settings' select fields.
pub struct Choices {
    pub cities: Vec<CityOption>,
    pub kinds: &'static [EventKind],
    pub fields: &'static [CreativeField],
}

impl Choices {
    fn of(cities: &[City]) -> Choices {
        Choices {
            cities: CityOption::list(cities),
            kinds: EventKind::ALL,
            fields: CreativeField::ALL,
        }
    }

    async fn load(state: &AppState) -> Result<Choices, AppError> {
        let cities = state
            .db(|conn| Ok(City::list(conn, &Default::default())?))
            .await?;
        Ok(Choices::of(&cities))
    }
}

/// A source in the list, with its last run.
pub struct SourceRow {
    pub source: Source,
    pub city: String,
    pub last: Option<SourceRun>,
}

#[derive(Template)]
#[template(path = "sources/index.html")]
pub struct SourcesPage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub sources: Vec<SourceRow>,
    pub form: SourceForm,
    pub errors: FieldErrors,
    pub choices: Choices,
    pub notice: Option<String>,
}

impl SourcesPage {
    async fn load(state: &AppState, viewer: Viewer) -> Result<SourcesPage, AppError> {
        let actor = Actor::from(&viewer);
        let (sources, cities) = state
            .db(move |conn| {
                let list = sources::list(conn, &actor)?;
                let ids: Vec<i32> = list.iter().map(|s| s.id).collect();
                let mut latest = SourceRun::latest_of(conn, &ids)?;
                let cities = City::list(conn, &Default::default())?;
                let rows = list
                    .into_iter()
                    .map(|source| {
                        let city = cities
                            .iter()
                            .find(|c| c.id == source.city_id)
                            .map(|c| c.name.clone())
                            .unwrap_or_default();
                        SourceRow {
                            last: latest.remove(&source.id),
                            city,
                            source,
                        }
                    })
                    .collect();
                Ok((rows, cities))
            })
            .await?;
        Ok(SourcesPage {
            section: "sources",
            csrf: viewer.csrf_token.clone(),
            viewer,
            sources,
            form: SourceForm::default(),
            errors: FieldErrors::default(),
            choices: Choices::of(&cities),
            notice: None,
        })
    }

    fn respond(self, status: StatusCode) -> Result<HttpResponse, AppError> {
        Ok(no_store(status, self.render()?))
    }
}

/// A run's outcome in words.
pub fn outcome(run: &SourceRun) -> &'static str {
    match run.outcome.as_str() {
        "imported" => "Imported",
        "not_modified" => "Not modified",
        "unchanged" => "Unchanged",
        _ => "Failed",
    }
}

/// "HTTP 200, 1.2 s, 34 kB".
pub fn fetch_line(run: &SourceRun) -> String {
    let mut parts = Vec::new();
    if let Some(status) = run.http_status {
        parts.push(format!("HTTP {status}"));
    }
    parts.push(format!("{:.1} s", f64::from(run.duration_ms) / 1000.0));
    if let Some(bytes) = run.bytes {
        parts.push(if bytes >= 1_000_000 {
            format!("{:.1} MB", bytes as f64 / 1_000_000.0)
        } else if bytes >= 1_000 {
            format!("{} kB", bytes / 1_000)
        } else {
            format!("{bytes} bytes")
        });
    }
    parts.join(", ")
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NoticeParams {
    pub deleted: Option<String>,
    pub cancelled: Option<String>,
    pub removed: Option<String>,
}

pub async fn list_sources(
    state: web::Data<AppState>,
    viewer: Viewer,
    params: Query<NoticeParams>,
) -> Result<HttpResponse, AppError> {
    let mut page = SourcesPage::load(&state, viewer).await?;
    if params.deleted.is_some() {
        // Numbers only: a link cannot put words of its own on the page.
        let count = |v: &Option<String>| {
            v.as_deref()
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(0)
        };
        page.notice = Some(format!(
            "The source was deleted: {} of its events cancelled, {} removed.",
            count(&params.cancelled),
            count(&params.removed)
        ));
    }
    page.respond(StatusCode::OK)
}

/// Adds a feed and fetches it at once, so that the organiser sees straight away what
/// it gave (or why it gave nothing).
pub async fn add_source(
    state: web::Data<AppState>,
    posted: Checked<SourceForm>,
) -> Result<HttpResponse, AppError> {
    let (viewer, form) = posted.signed_in()?;
    let actor = Actor::from(&viewer);
    let now = state.clock.now();
    let settings = state.import.clone();
    let typed = form.clone();
    let added = state
        .db(move |conn| match sources::add(conn, &actor, &form, now) {
            Ok(source) => {
                // The fetch's own failures are recorded on the source's page.
                let _ = sources::sync(conn, &settings, source.id, now, true)?;
                Ok(Ok(source))
            }
            Err(WorkflowError::Invalid(errors)) => Ok(Err(errors)),
            Err(e) => Err(e.into()),
        })
        .await?;
    match added {
        Ok(source) => Ok(see_other(&format!("/my/sources/{}?added=1", source.id))),
        Err(errors) => {
            let mut page = SourcesPage::load(&state, viewer).await?;
            page.form = typed;
            page.errors = errors;
            page.respond(StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

#[derive(Template)]
#[template(path = "sources/upload.html")]
pub struct UploadPage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub form: SourceForm,
    pub errors: FieldErrors,
    pub choices: Choices,
}

impl UploadPage {
    async fn load(
        state: &AppState,
        viewer: Viewer,
        form: SourceForm,
        errors: FieldErrors,
    ) -> Result<UploadPage, AppError> {
        Ok(UploadPage {
            section: "sources",
            csrf: viewer.csrf_token.clone(),
            viewer,
            form,
            errors,
            choices: Choices::load(state).await?,
        })
    }
}

pub async fn upload_form(
    state: web::Data<AppState>,
    viewer: Viewer,
) -> Result<HttpResponse, AppError> {
    let page = UploadPage::load(
        &state,
        viewer,
        SourceForm::default(),
        FieldErrors::default(),
    )
    .await?;
    Ok(no_store(StatusCode::OK, page.render()?))
}

/// Imports an uploaded `.ics` file once (a `multipart/form-data` form).
pub async fn upload_source(
    state: web::Data<AppState>,
    req: HttpRequest,
    mut payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    use futures_util::StreamExt;
    // Read by hand, so that a file over the limit gets the site's own 413 page.
    let limit = MAX_UPLOAD_BYTES + 64 * 1024;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| AppError::bad_request("form", "the upload could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    let upload = crate::web::multipart::read_checked(&req, &body).await?;
    let viewer = upload.viewer.ok_or_else(|| AppError::LoginRequired {
        next: "/my/sources".to_owned(),
    })?;
    let form: SourceForm = upload.form;
    let typed = form.clone();
    let Some((file_name, bytes)) = upload.file.filter(|(_, b)| !b.is_empty()) else {
        let mut errors = FieldErrors::default();
        errors.add("file", "Choose the .ics file to import.");
        let page = UploadPage::load(&state, viewer, typed, errors).await?;
        return Ok(no_store(StatusCode::UNPROCESSABLE_ENTITY, page.render()?));
    };
    let actor = Actor::from(&viewer);
    let now = state.clock.now();
    let imported = state
        .db(
            move |conn| match sources::import_file(conn, &actor, &form, &file_name, &bytes, now) {
                Ok((source, _)) => Ok(Ok(source)),
                Err(WorkflowError::Invalid(errors)) => Ok(Err(errors)),
                Err(e) => Err(e.into()),
            },
        )
        .await?;
    match imported {
        Ok(source) => Ok(see_other(&format!("/my/sources/{}?added=1", source.id))),
        Err(errors) => {
            let page = UploadPage::load(&state, viewer, typed, errors).await?;
            Ok(no_store(StatusCode::UNPROCESSABLE_ENTITY, page.render()?))
        }
    }
}

#[derive(Template)]
#[template(path = "sources/show.html")]
pub struct SourcePage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub source: Source,
    pub city: City,
    pub runs: Vec<SourceRun>,
    /// The notes of the last run.
    pub notes: Vec<RunNote>,
    pub imported: i64,
    pub notice: Option<String>,
}

impl SourcePage {
    pub fn on_vanish_text(&self) -> &'static str {
        match self.source.on_vanish() {
            OnVanish::Cancel => "cancelled",
            OnVanish::Remove => "removed if never published, cancelled otherwise",
        }
    }

    /// The default kind, as people read it.
    pub fn kind_label(&self) -> &'static str {
        EventKind::parse(&self.source.kind)
            .unwrap_or(EventKind::Festival)
            .label()
    }

    pub fn skipped(&self) -> impl Iterator<Item = &RunNote> {
        self.notes.iter().filter(|n| n.level == "skipped")
    }

    pub fn warnings(&self) -> impl Iterator<Item = &RunNote> {
        self.notes.iter().filter(|n| n.level == "warning")
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SourceNotice {
    pub added: Option<String>,
    pub saved: Option<String>,
    pub synced: Option<String>,
    pub paused: Option<String>,
    pub resumed: Option<String>,
    pub busy: Option<String>,
}

fn source_id(id: &str) -> Result<i32, AppError> {
    canonical_id(id).ok_or_else(|| AppError::not_found(sources::NO_SOURCE))
}

pub async fn show_source(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    params: Query<SourceNotice>,
) -> Result<HttpResponse, AppError> {
    let id = source_id(&id)?;
    let actor = Actor::from(&viewer);
    let (source, city, runs, notes, imported) = state
        .db(move |conn| {
            let (source, city) = sources::own_source(conn, &actor, id)?;
            let runs = SourceRun::recent(conn, id, crate::db::models::RUNS_KEPT)?;
            let notes = match runs.first() {
                Some(run) => SourceRun::notes(conn, run.id)?,
                None => Vec::new(),
            };
            let imported = ImportedEvent::live_count(conn, id)?;
            Ok((source, city, runs, notes, imported))
        })
        .await?;
    let notice = if params.added.is_some() {
        Some("The source was added and fetched; below is what it gave.")
    } else if params.saved.is_some() {
        Some("The settings were saved, and the calendar read again under them.")
    } else if params.synced.is_some() {
        Some("The source was fetched again.")
    } else if params.paused.is_some() {
        Some("The source is paused: it is not fetched until you resume it.")
    } else if params.resumed.is_some() {
        Some("The source is resumed, and was fetched.")
    } else if params.busy.is_some() {
        Some("The source is being fetched right now; look again in a moment.")
    } else {
        None
    };
    let page = SourcePage {
        section: "sources",
        csrf: viewer.csrf_token.clone(),
        viewer,
        source,
        city,
        runs,
        notes,
        imported,
        notice: notice.map(str::to_owned),
    };
    Ok(no_store(StatusCode::OK, page.render()?))
}

/// Sync now, pause or resume.
pub async fn source_action(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    posted: Checked<NoFields>,
) -> Result<HttpResponse, AppError> {
    let (viewer, _) = posted.signed_in()?;
    let (id, action) = path.into_inner();
    let id = source_id(&id)?;
    let actor = Actor::from(&viewer);
    let now = state.clock.now();
    let settings = state.import.clone();
    let action = match action.as_str() {
        "sync" | "pause" | "resume" => action,
        _ => return Err(AppError::not_found("There is nothing at this address.")),
    };
    let location = state
        .db(move |conn| {
            let (source, _) = sources::own_source(conn, &actor, id)?;
            let notice = match action.as_str() {
                "pause" => {
                    sources::set_paused(conn, &actor, id, true, now)?;
                    "paused"
                }
                "resume" => {
                    sources::set_paused(conn, &actor, id, false, now)?;
                    sync_notice(sources::sync(conn, &settings, id, now, false), &source)?
                }
                _ => sync_notice(sources::sync(conn, &settings, id, now, true), &source)?,
            };
            Ok(format!("/my/sources/{id}?{notice}=1"))
        })
        .await?;
    Ok(see_other(&location))
}

fn sync_notice(
    outcome: Result<SyncOutcome, WorkflowError>,
    source: &Source,
) -> Result<&'static str, AppError> {
    match outcome {
        Ok(SyncOutcome::Skipped(SyncSkip::Busy)) => Ok("busy"),
        Ok(_) => Ok(if source.paused { "resumed" } else { "synced" }),
        Err(WorkflowError::Conflict(why)) => Err(AppError::Conflict(why)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "sources/delete.html")]
pub struct DeletePage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub source: Source,
    pub imported: i64,
}

pub async fn delete_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = source_id(&id)?;
    let actor = Actor::from(&viewer);
    let (source, imported) = state
        .db(move |conn| {
            let (source, _) = sources::own_source(conn, &actor, id)?;
            let imported = ImportedEvent::live_count(conn, id)?;
            Ok((source, imported))
        })
        .await?;
    let page = DeletePage {
        section: "sources",
        csrf: viewer.csrf_token.clone(),
        viewer,
        source,
        imported,
    };
    Ok(no_store(StatusCode::OK, page.render()?))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DeleteForm {
    /// `cancel` or `remove`.
    pub events: String,
}

pub async fn delete_source(
    state: web::Data<AppState>,
    id: web::Path<String>,
    posted: Checked<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    let (viewer, form) = posted.signed_in()?;
    let id = source_id(&id)?;
    let rule = match form.events.trim() {
        "" => None,
        v => Some(OnVanish::parse(v).ok_or_else(|| {
            AppError::bad_request("events", "choose cancel or remove for the source's events")
        })?),
    };
    let actor = Actor::from(&viewer);
    let now = state.clock.now();
    let DeleteReport { cancelled, removed } = state
        .db(move |conn| Ok(sources::delete(conn, &actor, id, rule, now)?))
        .await?;
    Ok(see_other(&format!(
        "/my/sources?deleted=1&cancelled={cancelled}&removed={removed}"
    )))
}

#[derive(Template)]
#[template(path = "sources/edit.html")]
pub struct EditPage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub source: Source,
    pub form: SourceForm,
    pub errors: FieldErrors,
    pub choices: Choices,
}

impl EditPage {
    async fn respond(
        state: &AppState,
        viewer: Viewer,
        source: Source,
        form: SourceForm,
        errors: FieldErrors,
    ) -> Result<HttpResponse, AppError> {
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let page = EditPage {
            section: "sources",
            csrf: viewer.csrf_token.clone(),
            viewer,
            source,
            form,
            errors,
            choices: Choices::load(state).await?,
        };
        Ok(no_store(status, page.render()?))
    }
}

pub async fn edit_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = source_id(&id)?;
    let actor = Actor::from(&viewer);
    let (source, city) = state
        .db(move |conn| Ok(sources::own_source(conn, &actor, id)?))
        .await?;
    let form = SourceForm::of(&source, &city);
    EditPage::respond(&state, viewer, source, form, FieldErrors::default()).await
}

pub async fn update_source(
    state: web::Data<AppState>,
    id: web::Path<String>,
    posted: Checked<SourceForm>,
) -> Result<HttpResponse, AppError> {
    let (viewer, form) = posted.signed_in()?;
    let id = source_id(&id)?;
    let actor = Actor::from(&viewer);
    let now = state.clock.now();
    let settings = state.import.clone();
    let typed = form.clone();
    let saved = state
        .db(
            move |conn| match sources::update(conn, &actor, id, &form, now) {
                Ok(source) => {
                    if source.url.is_some() && !source.paused {
                        // Its failures are on its page.
                        let _ = sources::sync(conn, &settings, id, now, false)?;
                    }
                    Ok(Ok(source))
                }
                Err(WorkflowError::Invalid(errors)) => {
                    Ok(Err((sources::own_source(conn, &actor, id)?.0, errors)))
                }
                Err(e) => Err(e.into()),
            },
        )
        .await?;
    match saved {
        Ok(source) => Ok(see_other(&format!("/my/sources/{}?saved=1", source.id))),
        Err((source, errors)) => EditPage::respond(&state, viewer, source, typed, errors).await,
    }
}
