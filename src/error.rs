//! The one error type of the application. Handlers of pages return it and it renders
//! as an HTML page in the site's layout; JSON endpoints wrap it in [`ApiError`] and it
//! renders as `{"errors": [{"detail": …, "parameter": …}]}`. Either way the status is the
//! same.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

/// The `WWW-Authenticate` of every 401 (RFC 9110 11.6.1): the API takes bearer tokens.
const BEARER_CHALLENGE: (actix_web::http::header::HeaderName, &str) = (
    actix_web::http::header::WWW_AUTHENTICATE,
    "Bearer realm=\"creative-calendar\"",
);

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Something that does not exist: an unknown city, field, event or path.
    #[error("{0}")]
    NotFound(String),
    /// A method the address does not accept; carries the value of the `Allow` header.
    #[error("this address does not accept that method")]
    MethodNotAllowed(&'static str),
    /// A request parameter that cannot be understood. `param` names it.
    #[error("{message}")]
    BadRequest { param: String, message: String },
    /// Signed in, but not allowed to do this (another organiser's event, a moderator's
    /// page), or a form without a valid CSRF token.
    #[error("{0}")]
    Forbidden(String),
    /// An API request without a valid personal token (missing, malformed, revoked): 401
    /// with `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthorized(String),
    /// A page for signed-in people, asked for by someone who is not: they are sent to
    /// the sign-in page, which brings them back to `next` afterwards.
    #[error("sign in first")]
    LoginRequired { next: String },
    /// A request that contradicts the state of the thing it acts on (deleting an event
    /// that calendars have already seen).
    #[error("{0}")]
    Conflict(String),
    /// A request body over the limit.
    #[error("the request is too large")]
    PayloadTooLarge,
    /// A body that did not arrive within [`crate::web::BODY_DEADLINE`]: 408, and the
    /// connection is closed.
    #[error("the request took too long")]
    RequestTimeout,
    /// A body of a type the address does not take (JSON or multipart sent to a form);
    /// says what to send.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A JSON body that does not parse; says where (serde_json's line and column).
    #[error("{0}")]
    MalformedBody(String),
    /// Input that parses but is wrong: every error at once, each with the field it is
    /// about when there is one (the API's 422).
    #[error("the input is not valid")]
    Unprocessable(Vec<(Option<String>, String)>),
    /// Too many writes with one API token; carries the seconds until the next one is
    /// allowed (`Retry-After`).
    #[error("too many requests")]
    TooManyRequests { retry_after: u64 },
    /// The database could not be reached in time (restarting, or every connection busy):
    /// a 503 with `Retry-After`, which clients and proxies retry, not a 500.
    #[error("the database is unavailable")]
    Unavailable,
    /// The connection to the database broke during the request (a PostgreSQL restart
    /// or failover): a 503 too, but a write may have been committed before the break,
    /// so the message does not say that nothing was saved.
    #[error("the database connection was lost")]
    ConnectionLost,
    /// The database refuses to write because of its storage (a read-only file, a full
    /// disk, an I/O error): a 503 that names the cause, while reads go on being served.
    #[error("the database cannot write: {0}")]
    Storage(crate::db::StorageFailure),
    /// Anything else. Logged in full; the visitor sees only that it went wrong.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn not_found(what: impl Into<String>) -> AppError {
        AppError::NotFound(what.into())
    }

    pub fn forbidden(why: impl Into<String>) -> AppError {
        AppError::Forbidden(why.into())
    }

    pub fn bad_request(param: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::BadRequest {
            param: param.into(),
            message: message.into(),
        }
    }

    /// What the visitor is told. Messages quote what was sent (a slug, a parameter);
    /// control characters from it (NUL, ESC, BEL…) never reach a page or a terminal.
    pub(crate) fn public_message(&self) -> String {
        let message = self.message();
        if message.chars().any(char::is_control) {
            message.chars().filter(|c| !c.is_control()).collect()
        } else {
            message
        }
    }

    fn message(&self) -> String {
        match self {
            AppError::NotFound(what) => what.clone(),
            AppError::MethodNotAllowed(allow) => {
                format!("This address does not accept that method; it accepts {allow}.")
            }
            AppError::BadRequest { param, message } => {
                format!("The parameter “{param}” is wrong: {message}.")
            }
            AppError::Forbidden(why)
            | AppError::Unauthorized(why)
            | AppError::Conflict(why)
            | AppError::UnsupportedMediaType(why)
            | AppError::MalformedBody(why) => why.clone(),
            AppError::Unprocessable(errors) => errors
                .iter()
                .map(|(_, detail)| detail.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            AppError::TooManyRequests { retry_after } => {
                format!("Too many changes with this token; try again in {retry_after} seconds.")
            }
            AppError::LoginRequired { .. } => "Please sign in to continue.".to_owned(),
            AppError::PayloadTooLarge => {
                "That was more than this form accepts. Shorten the text and try again.".to_owned()
            }
            AppError::RequestTimeout => {
                "What you sent took too long to arrive, so nothing was saved. Please send it \
                 again."
                    .to_owned()
            }
            AppError::Unavailable => {
                "The calendar cannot reach its database just now. Nothing you sent was \
                 saved; please try again in a few seconds."
                    .to_owned()
            }
            AppError::ConnectionLost => {
                "The calendar lost its connection to its database while answering. If you \
                 were saving a change, look whether it was saved before you send it again; \
                 please try again in a few seconds."
                    .to_owned()
            }
            AppError::Storage(failure) => format!(
                "The calendar cannot save changes just now: {}. Nothing you sent was saved, \
                 and everything published can still be read. Please try again later.",
                failure.cause()
            ),
            AppError::Internal(_) => {
                "Something went wrong on our side. Please try again in a moment.".to_owned()
            }
        }
    }

    /// The headers a status needs in any format: `Allow` on a 405, `WWW-Authenticate` on
    /// a 401 (RFC 9110 15.5.2, 15.5.6).
    pub(crate) fn headers_into(&self, response: &mut actix_web::HttpResponseBuilder) {
        match self {
            AppError::MethodNotAllowed(allow) => {
                response.insert_header((actix_web::http::header::ALLOW, *allow));
            }
            AppError::Unauthorized(_) => {
                response.insert_header(BEARER_CHALLENGE);
            }
            // The rest of the body may still be on its way; the connection cannot be
            // reused.
            AppError::RequestTimeout => {
                response.insert_header((actix_web::http::header::CONNECTION, "close"));
            }
            AppError::TooManyRequests { retry_after } => {
                response.insert_header((actix_web::http::header::RETRY_AFTER, *retry_after));
            }
            AppError::Unavailable | AppError::ConnectionLost => {
                response.insert_header((actix_web::http::header::RETRY_AFTER, 5));
            }
            // Someone has to free the disk or fix the file first.
            AppError::Storage(_) => {
                response.insert_header((actix_web::http::header::RETRY_AFTER, 60));
            }
            _ => {}
        }
    }

    pub(crate) fn log(&self) {
        match self {
            AppError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            AppError::Unavailable => tracing::warn!("no database connection in time"),
            AppError::ConnectionLost => tracing::warn!("the database connection broke"),
            AppError::Storage(failure) => {
                tracing::error!(cause = failure.cause(), "the database refused a write")
            }
            _ => {}
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> AppError {
        match e {
            diesel::result::Error::NotFound => {
                AppError::not_found("There is nothing at this address.")
            }
            // The server went away under a request (a PostgreSQL restart): the pool
            // replaces the connection, and the next try is answered. Diesel says so
            // as a closed connection, or, when the break came inside a transaction, as
            // a transaction manager it can no longer trust (the connection is then
            // broken, and r2d2 drops it).
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ClosedConnection,
                _,
            )
            | diesel::result::Error::BrokenTransactionManager
            | diesel::result::Error::RollbackErrorOnCommit { .. } => AppError::ConnectionLost,
            other => match crate::db::StorageFailure::of(&other) {
                Some(failure) => AppError::Storage(failure),
                None => AppError::Internal(other.into()),
            },
        }
    }
}

/// A query whose "no such row" has a better answer than the generic 404 (an unknown
/// city named in a filter is a 400); any other database error stays internal.
pub trait OrWhenMissing<T> {
    fn or_when_missing(self, missing: impl FnOnce() -> AppError) -> Result<T, AppError>;
}

impl<T> OrWhenMissing<T> for diesel::QueryResult<T> {
    fn or_when_missing(self, missing: impl FnOnce() -> AppError) -> Result<T, AppError> {
        self.map_err(|e| match e {
            diesel::result::Error::NotFound => missing(),
            other => other.into(),
        })
    }
}

/// A change to an event that its own checks refuse. The forms check schedules before they
/// change anything, so reaching this means the stored event and the form disagree: a
/// conflict, not the visitor's input.
impl From<crate::db::models::EventChangeError> for AppError {
    fn from(e: crate::db::models::EventChangeError) -> AppError {
        match e {
            crate::db::models::EventChangeError::Schedule(e) => AppError::Conflict(e.to_string()),
            crate::db::models::EventChangeError::Database(e) => e.into(),
        }
    }
}

/// Each refusal of a workflow as the page it is. Wrong input is answered here with its
/// first field, as a bad parameter; doors with a form to show again handle `Invalid`
/// themselves, before this.
impl From<crate::workflows::WorkflowError> for AppError {
    fn from(e: crate::workflows::WorkflowError) -> AppError {
        use crate::workflows::WorkflowError;
        match e {
            WorkflowError::NotFound(what) => AppError::NotFound(what),
            WorkflowError::Forbidden(why) => AppError::Forbidden(why),
            WorkflowError::Conflict(why) => AppError::Conflict(why),
            WorkflowError::Invalid(errors) => match errors.iter().next() {
                Some((field, message)) => AppError::bad_request(field, message),
                None => AppError::bad_request("", "the input is not valid"),
            },
            WorkflowError::Throttled { retry_after, .. } => AppError::TooManyRequests {
                retry_after: u64::try_from(retry_after).unwrap_or(1),
            },
            WorkflowError::Database(e) => e.into(),
            WorkflowError::Internal(e) => AppError::Internal(e),
        }
    }
}

/// r2d2's only error: no connection within the pool's timeout, because the database
/// is away or every connection is in use. Either way it passes.
impl From<diesel::r2d2::PoolError> for AppError {
    fn from(_: diesel::r2d2::PoolError) -> AppError {
        AppError::Unavailable
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> AppError {
        AppError::Internal(anyhow::anyhow!("a blocking task failed: {e}"))
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> AppError {
        AppError::Internal(e.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub section: &'static str,
    pub status: u16,
    pub heading: &'static str,
    pub message: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::MalformedBody(_) => StatusCode::BAD_REQUEST,
            AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable | AppError::ConnectionLost | AppError::Storage(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let status = self.status_code();
        if let AppError::LoginRequired { next } = self {
            let location = format!(
                "/login?{}",
                serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default()
            );
            return HttpResponse::SeeOther()
                .insert_header((actix_web::http::header::LOCATION, location))
                .finish();
        }
        let page = ErrorPage {
            section: "",
            status: status.as_u16(),
            heading: match self {
                AppError::NotFound(_) => "Page not found",
                AppError::MethodNotAllowed(_) => "Method not allowed",
                AppError::BadRequest { .. } => "That request could not be understood",
                AppError::Forbidden(_) => "Not allowed",
                AppError::Unauthorized(_) => "A token is needed",
                AppError::LoginRequired { .. } => "Please sign in",
                AppError::Conflict(_) => "That cannot be done",
                AppError::PayloadTooLarge => "Too much text",
                AppError::RequestTimeout => "That took too long",
                AppError::UnsupportedMediaType(_) => "That is not a form",
                AppError::MalformedBody(_) => "That request could not be understood",
                AppError::Unprocessable(_) => "That input is not valid",
                AppError::TooManyRequests { .. } => "Too many requests",
                AppError::Unavailable | AppError::ConnectionLost => "Back in a moment",
                AppError::Storage(_) => "Changes cannot be saved just now",
                AppError::Internal(_) => "Something went wrong",
            },
            message: self.public_message(),
        };
        let mut response = HttpResponse::build(status);
        self.headers_into(&mut response);
        match page.render() {
            Ok(html) => response.content_type(ContentType::html()).body(html),
            Err(_) => response
                .content_type(ContentType::plaintext())
                .body(self.public_message()),
        }
    }
}

/// [`AppError`] as JSON, the shape of every error of `/api/`:
/// `{"errors": [{"detail": "The parameter “from” is wrong: …", "parameter": "from"}]}`.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(#[from] pub AppError);

/// The body of every API error. A list, so that a request refused for several reasons
/// can say them all at once (the writes' validation does).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorsBody {
    pub errors: Vec<ErrorItem>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorItem {
    /// What went wrong, in a sentence for people.
    pub detail: String,
    /// The query parameter at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// The body's field at fault, when one is (a write's validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            // "Sign in first" is a redirect on pages; the API has no sign-in page to send
            // anyone to.
            AppError::LoginRequired { .. } => StatusCode::UNAUTHORIZED,
            other => other.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        let parameter = match &self.0 {
            AppError::BadRequest { param, .. } => Some(param.clone()),
            _ => None,
        };
        let mut response = HttpResponse::build(self.status_code());
        self.0.headers_into(&mut response);
        // "Sign in first" is a 401 here too, and a 401 says how to authenticate.
        if matches!(self.0, AppError::LoginRequired { .. }) {
            response.insert_header(BEARER_CHALLENGE);
        }
        let errors = match &self.0 {
            // Every field's error at once, so that a client can show them all.
            AppError::Unprocessable(errors) => errors
                .iter()
                .map(|(field, detail)| ErrorItem {
                    // Details quote what was sent; control characters never reach a client.
                    detail: detail.chars().filter(|c| !c.is_control()).collect(),
                    parameter: None,
                    field: field
                        .as_ref()
                        .map(|f| f.chars().filter(|c| !c.is_control()).collect()),
                })
                .collect(),
            // The pages' wording speaks of a form; a client sent a body.
            AppError::PayloadTooLarge => vec![ErrorItem {
                detail: format!(
                    "The body is larger than the {} KB this API accepts.",
                    crate::web::api::body::MAX_BODY_BYTES / 1024
                ),
                parameter: None,
                field: None,
            }],
            other => vec![ErrorItem {
                detail: other.public_message(),
                parameter,
                field: None,
            }],
        };
        response.json(ErrorsBody { errors })
    }
}

/// [`AppError`] as one line of plain text, for the `.ics` feeds: a calendar app shows the
/// body, if anything, as it is.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct FeedError(#[from] pub AppError);

impl ResponseError for FeedError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        let mut response = HttpResponse::build(self.status_code());
        self.0.headers_into(&mut response);
        response
            .content_type("text/plain; charset=utf-8")
            .body(format!("{}\n", self.0.public_message()))
    }
}

/// An error in the format of the address the request was sent to: JSON under `/api/`,
/// one line of plain text for the `.ics` feeds, the HTML error page elsewhere. For
/// errors raised before a handler runs (extractors), which cannot know their door.
pub fn in_format_of(req: &actix_web::HttpRequest, error: AppError) -> actix_web::Error {
    if req.path().starts_with("/api/") {
        ApiError(error).into()
    } else if req.path().ends_with(".ics") {
        FeedError(error).into()
    } else {
        error.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(response: HttpResponse) -> String {
        let bytes = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[actix_web::test]
    async fn a_lost_database_is_a_503_to_retry_in_every_format() {
        let closed = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ClosedConnection,
            Box::new("server closed the connection unexpectedly".to_owned()),
        );
        // A break in the middle of a request may come after its commit: the answer
        // does not say that nothing was saved.
        for lost in [closed, diesel::result::Error::BrokenTransactionManager] {
            let error = AppError::from(lost);
            assert!(matches!(error, AppError::ConnectionLost));
            let page = error.error_response();
            assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(page.headers().get("retry-after").unwrap(), "5");
            let body = body_of(page).await;
            assert!(body.contains("Back in a moment"));
            assert!(body.contains("look whether it was saved"), "{body}");
        }
        // No connection at all: nothing was saved, and it says so.
        let api = ApiError(AppError::Unavailable).error_response();
        assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = body_of(api).await;
        assert!(body.contains("cannot reach its database"));
        assert!(body.contains("Nothing you sent was saved"));
    }

    #[actix_web::test]
    async fn a_database_that_cannot_write_is_a_503_that_names_the_cause() {
        for (message, cause) in [
            ("attempt to write a readonly database", "read-only"),
            ("database or disk is full", "disk is full"),
            ("disk I/O error", "disk reported an error"),
            (
                "could not extend file \"base/16384/2619\": No space left on device",
                "disk is full",
            ),
            (
                "cannot execute INSERT in a read-only transaction",
                "read-only",
            ),
        ] {
            let refused = diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::Unknown,
                Box::new(message.to_owned()),
            );
            let error = AppError::from(refused);
            assert!(matches!(error, AppError::Storage(_)), "{message}");
            let api = ApiError(error).error_response();
            assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(api.headers().get("retry-after").unwrap(), "60");
            assert!(body_of(api).await.contains(cause), "{message}");
        }
        // Other database errors stay internal: a 500, logged, never explained.
        let other = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::Unknown,
            Box::new("no such column: x".to_owned()),
        );
        assert!(matches!(AppError::from(other), AppError::Internal(_)));
    }

    #[actix_web::test]
    async fn an_api_error_is_json_that_names_the_parameter() {
        let error = ApiError(AppError::bad_request("from", "“2026-13-45” is not a date"));
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "application/json"
        );
        let json: serde_json::Value = serde_json::from_str(&body_of(response).await).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"errors": [{
                "parameter": "from",
                "detail": "The parameter “from” is wrong: “2026-13-45” is not a date.",
            }]})
        );
    }

    #[actix_web::test]
    async fn internal_details_never_reach_the_visitor() {
        let error = AppError::Internal(anyhow::anyhow!("disk /var/secret is full"));
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let html = body_of(response).await;
        assert!(html.contains("Something went wrong"));
        assert!(!html.contains("secret"));
        let json =
            body_of(ApiError(AppError::Internal(anyhow::anyhow!("secret"))).error_response()).await;
        assert!(!json.contains("secret"));
    }

    #[test]
    fn diesel_not_found_is_a_404() {
        let error = AppError::from(diesel::result::Error::NotFound);
        assert_eq!(error.status_code(), StatusCode::NOT_FOUND);
    }
}
