//! The request bodies of the API's writes: JSON only, at most [`MAX_BODY_BYTES`], and
//! every refusal a JSON error that says what to fix (the media type, the size, where the
//! JSON breaks, which fields are unknown or of the wrong type).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{ApiError, AppError};
use crate::web::params::short;

/// The largest body a write takes: an event's longest description is 10,000 characters,
/// so this leaves room for every field in any script and no more.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A body that names its fields, so that unknown ones can all be named at once (serde's
/// `deny_unknown_fields` stops at the first).
pub trait JsonFields {
    const FIELDS: &'static [&'static str];
}

/// A JSON object body read into `T`. Every field of `T` must be optional (`#[serde(default)]`):
/// a field that fails is then found by reading it alone.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + JsonFields + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let media_type = media_type(req);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let body = web::Payload::from_request(req, payload).into_inner();
        Box::pin(async move {
            if media_type.as_deref() != Some("application/json") {
                return Err(AppError::UnsupportedMediaType(
                    "Send the body as JSON, with “Content-Type: application/json”.".to_owned(),
                )
                .into());
            }
            // Refused before reading anything when the client says how much it sends.
            if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
                return Err(AppError::PayloadTooLarge.into());
            }
            let body = body.map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
            // The outer error is the limit; the inner one, the connection's.
            let read = actix_web::rt::time::timeout(
                crate::web::BODY_DEADLINE,
                body.to_bytes_limited(MAX_BODY_BYTES),
            );
            let Ok(read) = read.await else {
                return Err(AppError::RequestTimeout.into());
            };
            let bytes = match read {
                Ok(Ok(bytes)) => bytes,
                Err(_) => return Err(AppError::PayloadTooLarge.into()),
                Ok(Err(_)) => {
                    return Err(AppError::MalformedBody(
                        "The body could not be read to its end.".to_owned(),
                    )
                    .into());
                }
            };
            parse::<T>(&bytes).map(Json).map_err(ApiError)
        })
    }
}

/// A body that may be left out: no body at all (no `Content-Type`, no length or a zero
/// one) is `T::default()`; any other is read as [`Json`] is, with the same refusals.
#[derive(Debug)]
pub struct MaybeJson<T>(pub T);

impl<T: DeserializeOwned + JsonFields + Default + 'static> FromRequest for MaybeJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let headers = req.headers();
        let empty = !headers.contains_key(header::CONTENT_TYPE)
            && !headers.contains_key(header::TRANSFER_ENCODING)
            && headers
                .get(header::CONTENT_LENGTH)
                .is_none_or(|v| v.as_bytes() == b"0");
        if empty {
            return Box::pin(async { Ok(MaybeJson(T::default())) });
        }
        let json = Json::<T>::from_request(req, payload);
        Box::pin(async move { json.await.map(|Json(t)| MaybeJson(t)) })
    }
}

/// The media type of the request, lower case, without parameters (`; charset=utf-8`).
fn media_type(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim();
    Some(essence.to_ascii_lowercase())
}

/// `value` with every NUL in its strings (keys too) replaced by U+FFFD.
fn without_nul(value: Value) -> Value {
    let clean = |s: String| {
        if s.contains('\0') {
            s.replace('\0', "\u{FFFD}")
        } else {
            s
        }
    };
    match value {
        Value::String(s) => Value::String(clean(s)),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nul).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (clean(k), without_nul(v)))
                .collect(),
        ),
        other => other,
    }
}

/// `bytes` as `T`: a 400 when it is not JSON, a 422 naming every unknown field and
/// every field of the wrong type.
pub fn parse<T: DeserializeOwned + JsonFields>(bytes: &[u8]) -> Result<T, AppError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        // serde_json's message ends with "at line L column C": where the JSON breaks.
        AppError::MalformedBody(format!("The body is not valid JSON: {e}."))
    })?;
    // A NUL is never meant in a calendar, and PostgreSQL's text cannot hold one: it
    // becomes U+FFFD, which the domain's text parsers refuse with an error by field.
    let value = without_nul(value);
    // `null` is no fields at all: what a client that serialises "no note" sends.
    let map = match value {
        Value::Null => Map::new(),
        Value::Object(map) => map,
        _ => {
            return Err(AppError::Unprocessable(vec![(
                None,
                "The body must be a JSON object, such as {\"title\": \"…\"}.".to_owned(),
            )]));
        }
    };
    let mut errors: Vec<(Option<String>, String)> = map
        .keys()
        .filter(|k| !T::FIELDS.contains(&k.as_str()))
        .map(|k| {
            (
                Some(short(k)),
                format!(
                    "“{}” is not a field of this request; its fields are {}.",
                    short(k),
                    T::FIELDS.join(", ")
                ),
            )
        })
        .collect();
    if errors.is_empty() {
        match serde_json::from_value::<T>(Value::Object(map.clone())) {
            Ok(parsed) => return Ok(parsed),
            Err(whole) => {
                // Each field alone, to name the ones at fault.
                for (key, value) in map {
                    let alone = Map::from_iter([(key.clone(), value)]);
                    if let Err(e) = serde_json::from_value::<T>(Value::Object(alone)) {
                        errors.push((Some(key.clone()), format!("“{key}”: {e}.")));
                    }
                }
                if errors.is_empty() {
                    errors.push((None, format!("The body is not what was expected: {whole}.")));
                }
            }
        }
    }
    Err(AppError::Unprocessable(errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize, PartialEq)]
    #[serde(default)]
    struct Sample {
        title: Option<String>,
        all_day: Option<bool>,
    }

    impl JsonFields for Sample {
        const FIELDS: &'static [&'static str] = &["title", "all_day"];
    }

    fn fields(e: AppError) -> Vec<Option<String>> {
        match e {
            AppError::Unprocessable(errors) => errors.into_iter().map(|(f, _)| f).collect(),
            other => panic!("not a 422: {other:?}"),
        }
    }

    #[test]
    fn a_body_of_known_fields_is_read() {
        let s: Sample = parse(br#"{"title": "Night", "all_day": true}"#).unwrap();
        assert_eq!(s.title.as_deref(), Some("Night"));
        assert_eq!(s.all_day, Some(true));
    }

    #[test]
    fn broken_json_says_where() {
        let e = parse::<Sample>(b"{\n  \"title\": \"Night\",\n}").unwrap_err();
        match e {
            AppError::MalformedBody(m) => assert!(m.contains("line 3 column 1"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_unknown_field_is_named() {
        let e = parse::<Sample>(br#"{"title": "x", "colour": 1, "size": 2}"#).unwrap_err();
        assert_eq!(
            fields(e),
            vec![Some("colour".to_owned()), Some("size".to_owned())]
        );
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named() {
        let e = parse::<Sample>(br#"{"title": "x", "all_day": "yes"}"#).unwrap_err();
        assert_eq!(fields(e), vec![Some("all_day".to_owned())]);
        let e = parse::<Sample>(b"[1]").unwrap_err();
        assert_eq!(fields(e), vec![None]);
    }
}
