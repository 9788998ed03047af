//! Query strings and form bodies (`application/x-www-form-urlencoded`), decoded strictly
//! and answered in our own words.
//!
//! actix's `Query` and `Form` go through `serde_urlencoded`, which accepts a repeated
//! parameter only to fail with "duplicate field `city`", replaces bytes that are not
//! UTF-8 with U+FFFD without a word, and answers a body of another type with "Content
//! type error". Here:
//! * a parameter or field given twice is refused with a message that names it: two
//!   `city` values or two `title` fields mean the client is confused, and picking one
//!   would hide that;
//! * in a query string, a value that is not UTF-8 is a 400 that names the parameter;
//! * in a form, it is kept with U+FFFD in place of the bad bytes, so that the form can
//!   show it again, and the domain's text parsers refuse U+FFFD with an error next to
//!   that field (see `domain::text`); browsers never send such bytes from our pages;
//! * a body that is not a form is a 415 that says what to send.
//!
//! Errors come back in the format of the address they were sent to: JSON under `/api/`,
//! plain text for the `.ics` feeds, the HTML error page elsewhere.

use std::future::Future;
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::domain::short;
use crate::error::AppError;

/// A query string parsed with [`decode_query`]; use it instead of `web::Query`.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            decode_query(req.query_string())
                .map(Query)
                .map_err(|e| in_format_of(req, e)),
        )
    }
}

pub use crate::error::in_format_of;

/// Parses a query string into `T`.
pub fn decode_query<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    let pairs =
        decode_pairs(query.as_bytes(), Bytes::Refuse).map_err(|e| e.into_error("parameter"))?;
    into_struct(&pairs, "query string")
}

/// Reads a form body into `T`: 415 unless it is `application/x-www-form-urlencoded`, 413
/// past the payload limit (checked on `Content-Length` before anything is read).
pub fn read_form<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<T, AppError>> + use<T> {
    let is_form = req
        .content_type()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded");
    let body = web::Bytes::from_request(req, payload);
    async move {
        if !is_form {
            return Err(AppError::UnsupportedMediaType(
                "This address takes a form (application/x-www-form-urlencoded), as the \
                 site's own pages send it."
                    .to_owned(),
            ));
        }
        let bytes = actix_web::rt::time::timeout(crate::web::BODY_DEADLINE, body)
            .await
            .map_err(|_| AppError::RequestTimeout)?
            .map_err(|e| match e.as_error::<actix_web::error::PayloadError>() {
                Some(actix_web::error::PayloadError::Overflow) => AppError::PayloadTooLarge,
                _ => AppError::bad_request("form", "the form could not be read"),
            })?;
        decode_form(&bytes)
    }
}

/// Decodes a form body into `T`, as [`read_form`] does once the body is read: bytes that
/// are not UTF-8 become U+FFFD (a browser sends what the visitor typed; it is shown
/// back to them to correct), a repeated field is refused.
pub fn decode_form<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let pairs = decode_pairs(body, Bytes::Replace).map_err(|e| e.into_error("field"))?;
    into_struct(&pairs, "form")
}

/// What to do with percent-escapes that do not make UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bytes {
    Refuse,
    Replace,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    Repeated(String),
    NotText(String),
}

impl Refusal {
    /// `what` is "parameter" or "field".
    fn into_error(self, what: &str) -> AppError {
        match self {
            Refusal::Repeated(name) => AppError::bad_request(
                short(&name),
                format!("it is given more than once; give each {what} once"),
            ),
            Refusal::NotText(name) => AppError::bad_request(
                short(&name),
                "its value holds bytes that are not UTF-8 text",
            ),
        }
    }
}

/// Splits and decodes `name=value&…` (the WHATWG rules: `+` is a space, `%XX` a byte,
/// an empty piece is skipped, a piece without `=` has an empty value).
fn decode_pairs(input: &[u8], bad_bytes: Bytes) -> Result<Vec<(String, String)>, Refusal> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for piece in input.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match piece.iter().position(|b| *b == b'=') {
            Some(at) => (&piece[..at], &piece[at + 1..]),
            None => (piece, &piece[piece.len()..]),
        };
        // A name is ours or it is ignored, so a bad byte in one needs no message.
        let name = String::from_utf8_lossy(&percent_decode(name)).into_owned();
        let value = percent_decode(value);
        let value = match (String::from_utf8(value), bad_bytes) {
            (Ok(text), _) => text,
            (Err(e), Bytes::Replace) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            (Err(_), Bytes::Refuse) => return Err(Refusal::NotText(name)),
        };
        // A NUL is never meant in a calendar, and PostgreSQL's text cannot hold one:
        // it is treated as a byte that is not text.
        let value = match (value.contains('\0'), bad_bytes) {
            (false, _) => value,
            (true, Bytes::Replace) => value.replace('\0', "\u{FFFD}"),
            (true, Bytes::Refuse) => return Err(Refusal::NotText(name)),
        };
        let name = name.replace('\0', "\u{FFFD}");
        if let Some((_, joined)) = pairs.iter_mut().find(|(n, _)| *n == name) {
            // A group of checkboxes sends its name once per ticked box.
            if !crate::domain::REPEATABLE_FIELDS.contains(&name.as_str()) {
                return Err(Refusal::Repeated(name));
            }
            if !value.is_empty() {
                if !joined.is_empty() {
                    joined.push(',');
                }
                joined.push_str(&value);
            }
            continue;
        }
        pairs.push((name, value));
    }
    Ok(pairs)
}

fn percent_decode(input: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                input.get(i + 1).and_then(|b| hex(*b)),
                input.get(i + 2).and_then(|b| hex(*b)),
            ) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 2;
                }
                // A `%` that starts no escape is itself (as browsers read it).
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// The checked pairs into `T`, through `serde_urlencoded` (which can no longer meet a
/// repeated name or a bad byte). Our structs take every field as an optional string,
/// so this fails only for a shape no form of ours has.
pub(crate) fn into_struct<T: DeserializeOwned>(
    pairs: &[(String, String)],
    what: &str,
) -> Result<T, AppError> {
    let canonical = serde_urlencoded::to_string(pairs)
        .map_err(|_| AppError::bad_request(what, "it could not be read"))?;
    serde_urlencoded::from_str(&canonical)
        .map_err(|_| AppError::bad_request(what, "it does not have the fields this address takes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &str, bad: Bytes) -> Result<Vec<(String, String)>, Refusal> {
        decode_pairs(s.as_bytes(), bad)
    }

    #[test]
    fn pairs_decode_as_browsers_encode_them() {
        assert_eq!(
            pairs("q=jazz+night&city=krak%C3%B3w&&empty=&flag", Bytes::Refuse).unwrap(),
            vec![
                ("q".into(), "jazz night".into()),
                ("city".into(), "kraków".into()),
                ("empty".into(), String::new()),
                ("flag".into(), String::new()),
            ]
        );
        assert_eq!(
            pairs("a=100%&b=%2&c=%zz%41", Bytes::Refuse).unwrap(),
            vec![
                ("a".into(), "100%".into()),
                ("b".into(), "%2".into()),
                ("c".into(), "%zzA".into()),
            ]
        );
    }

    #[test]
    fn a_repeated_name_is_refused_by_name() {
        assert_eq!(
            pairs("city=a&page=2&city=b", Bytes::Refuse),
            Err(Refusal::Repeated("city".into()))
        );
        // Even when one of the two is empty: which one was meant is unknown.
        assert_eq!(
            pairs("title=&title=x", Bytes::Replace),
            Err(Refusal::Repeated("title".into()))
        );
    }

    #[test]
    fn ticked_checkboxes_of_one_group_are_joined() {
        assert_eq!(
            pairs(
                "repeat_weekdays=tu&title=x&repeat_weekdays=th",
                Bytes::Replace
            )
            .unwrap(),
            vec![
                ("repeat_weekdays".into(), "tu,th".into()),
                ("title".into(), "x".into())
            ]
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_refused_or_marked() {
        assert_eq!(
            pairs("title=B3%ff%fe", Bytes::Refuse),
            Err(Refusal::NotText("title".into()))
        );
        assert_eq!(
            pairs("title=B3%ff%fe", Bytes::Replace).unwrap(),
            vec![("title".into(), "B3\u{fffd}\u{fffd}".into())]
        );
    }

    #[test]
    fn the_error_names_the_parameter() {
        let err = decode_query::<crate::web::params::EventsParams>("city=a&city=b").unwrap_err();
        assert_eq!(
            err.public_message(),
            "The parameter “city” is wrong: it is given more than once; give each parameter once."
        );
    }
}
