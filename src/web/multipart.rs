//! The one `multipart/form-data` form of the site: the upload of an `.ics` file. A
//! small reader of its own, for one form of text fields and one file, with the same
//! CSRF check as every other form ([`crate::auth::check_csrf`]).

use actix_web::HttpRequest;
use serde::de::DeserializeOwned;

use crate::auth::{Viewer, check_csrf};
use crate::error::AppError;

/// A checked upload: who sent it, its text fields, and its file (name and bytes).
pub struct Upload<T> {
    pub viewer: Option<Viewer>,
    pub form: T,
    pub file: Option<(String, Vec<u8>)>,
}

/// Reads an upload whose text fields are `T` and whose file field is `file`.
pub async fn read_checked<T: DeserializeOwned>(
    req: &HttpRequest,
    body: &[u8],
) -> Result<Upload<T>, AppError> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(boundary) = boundary(content_type) else {
        return Err(AppError::UnsupportedMediaType(
            "This address takes a file upload (multipart/form-data), as the site's own page sends it."
                .to_owned(),
        ));
    };
    let parts = parts(body, &boundary)
        .ok_or_else(|| AppError::bad_request("form", "the upload could not be read"))?;
    let mut fields = Vec::new();
    let mut file = None;
    let mut token = String::new();
    for part in parts {
        match (part.name.as_str(), part.file_name) {
            ("file", Some(name)) => file = Some((name, part.body.to_vec())),
            ("file", None) => {}
            (name, _) => {
                let value = String::from_utf8_lossy(part.body).into_owned();
                if name == "csrf_token" {
                    token = value;
                } else if fields.iter().any(|(n, _): &(String, String)| n == name) {
                    return Err(AppError::bad_request(
                        "form",
                        format!("the field “{}” was sent twice", crate::domain::short(name)),
                    ));
                } else {
                    fields.push((name.to_owned(), value));
                }
            }
        }
    }
    let viewer = check_csrf(req, &token).await?;
    let form = crate::urlencoded::into_struct(&fields, "form")?;
    Ok(Upload { viewer, form, file })
}

fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    if !params
        .next()?
        .trim()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("boundary"))
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty() && b.len() <= 200)
    })
}

struct Part<'a> {
    name: String,
    file_name: Option<String>,
    body: &'a [u8],
}

/// The parts between `--boundary` lines; `None` when the body is not in that shape.
fn parts<'a>(body: &'a [u8], boundary: &str) -> Option<Vec<Part<'a>>> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut rest = body;
    let start = find(rest, delimiter)?;
    rest = &rest[start + delimiter.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let header_end = find(rest, b"\r\n\r\n")?;
        let headers = std::str::from_utf8(&rest[..header_end]).ok()?;
        let content = &rest[header_end + 4..];
        let end = find(content, &[b"\r\n", delimiter].concat())?;
        let (name, file_name) = disposition(headers)?;
        parts.push(Part {
            name,
            file_name,
            body: &content[..end],
        });
        if parts.len() > 50 {
            return None;
        }
        rest = &content[end + 2 + delimiter.len()..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `name` and `filename` of a part's Content-Disposition.
fn disposition(headers: &str) -> Option<(String, Option<String>)> {
    let line = headers.lines().find(|l| {
        l.split(':')
            .next()
            .is_some_and(|h| h.trim().eq_ignore_ascii_case("content-disposition"))
    })?;
    let (_, value) = line.split_once(':')?;
    let mut name = None;
    let mut file_name = None;
    for param in value.split(';').skip(1) {
        let Some((k, v)) = param.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_owned();
        match k.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(v),
            "filename" => file_name = Some(v),
            _ => {}
        }
    }
    Some((name?, file_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_read_with_their_names_and_files() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"city\"\r\n\r\nkrakow\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.ics\"\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n\r\n--XyZ--\r\n";
        let parts = parts(body, "XyZ").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "city");
        assert_eq!(parts[0].body, b"krakow");
        assert_eq!(parts[1].file_name.as_deref(), Some("a.ics"));
        assert_eq!(parts[1].body, b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
        assert_eq!(
            boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(),
            Some("XyZ")
        );
        assert!(boundary("text/plain").is_none());
        assert!(super::parts(b"garbage", "XyZ").is_none());
        assert!(super::parts(b"--XyZ\r\nno headers end", "XyZ").is_none());
    }
}
