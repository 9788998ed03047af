//! Inputs found by the `cargo fuzz` targets in `fuzz/` (see fuzz/README.md), kept as
//! plain tests: each calls the public function the target calls, with the input as
//! found (minimised).
//!
//! None of the campaign of 2026-12-03 made the service panic. What it found:
//! * query strings whose refusal names an empty parameter (kept here as 400s);
//! * three lines that `ical::writer` writes by RFC 5545 and the importer
//!   (`import::ics::read`) reads otherwise, because of its tolerances for Outlook's
//!   unquoted TZIDs and for RFC 6868. The feeds never write such a line (their
//!   parameters are TZID zone names and VALUE types, their values dates and
//!   durations), so these tests are ignored until the writer quotes or escapes such
//!   parameter values; they state the round trip that should hold.

use creative_calendar::error::AppError;
use creative_calendar::ical::writer::ContentWriter;
use creative_calendar::import::ics;
use creative_calendar::urlencoded::decode_query;
use creative_calendar::web::params::EventsParams;

/// The status the service answers an error with.
fn status(e: &AppError) -> u16 {
    actix_web::ResponseError::status_code(e).as_u16()
}

/// `query_params`: a piece with an empty name, or a name of control characters only,
/// and a value that is not text: a 400 (whose parameter comes out empty, as
/// `domain::short` drops control characters), never a panic.
#[test]
fn a_nameless_parameter_that_is_not_text_is_a_400() {
    for query in [
        "=%FF",
        "=mu\0\0\0\0\0\0r=musiq=sic&count\u{4}\0\0\0\0\0\0\0r=musiq=s%C3",
        "fke&\0=m)\0",
    ] {
        let err = decode_query::<EventsParams>(query).unwrap_err();
        assert_eq!(status(&err), 400, "{query:?}: {err:?}");
        assert!(
            matches!(&err, AppError::BadRequest { param, .. } if param.is_empty()),
            "{query:?}: {err:?}"
        );
    }
}

/// One line written with [`ContentWriter::line`] inside a VEVENT, read back by the
/// importer: the property's parameters (values joined) and raw value.
fn written_and_read(
    name: &str,
    params: &[(&str, &str)],
    value: &str,
) -> (String, Vec<(String, String)>, String) {
    let mut w = ContentWriter::default();
    w.begin("VCALENDAR");
    w.begin("VEVENT");
    w.line(name, params, value);
    w.end("VEVENT");
    w.end("VCALENDAR");
    let out = w.finish();
    let doc = ics::read(out.as_bytes(), None).expect("a calendar");
    assert!(doc.warnings.is_empty(), "{out:?}: {:?}", doc.warnings);
    let event = doc
        .calendar
        .children_named("VEVENT")
        .next()
        .expect("a VEVENT");
    let p = event.property(name).expect("the property");
    let params = p
        .params
        .iter()
        .map(|(k, v)| (k.clone(), v.join(",")))
        .collect();
    (out, params, p.value.clone())
}

/// `ical_writer`: `X-A;CN=(:a)b:c` is CN="(" and the value "a)b:c" (a `(` is a
/// SAFE-CHAR, and a parameter ends at the first colon outside quotes); the importer
/// reads on to the `)` for Outlook's `(UTC+01:00) Amsterdam` and gives CN="(:a)b",
/// value "c". Fix: the writer quotes a parameter value that holds `(`.
#[test]
#[ignore = "fuzz finding: writer/importer disagree on an unquoted parameter value starting with `(`"]
fn a_parameter_value_in_parentheses_reads_back() {
    let (out, params, value) = written_and_read("X-A", &[("CN", "(")], "a)b:c");
    assert_eq!(params, [("CN".to_owned(), "(".to_owned())], "{out:?}");
    assert_eq!(value, "a)b:c", "{out:?}");
}

/// `ical_writer`: `X-A;VALUE=URI://example.org:8080/` is VALUE="URI" and the value
/// "//example.org:8080/"; the importer takes `://` for the URI inside Outlook's
/// `TZID=tzone://Microsoft/Custom` and gives VALUE="URI://example.org", value "8080/".
/// (Found as `X-P=` followed by the value `//KJ:`.) Fix: the writer quotes the last
/// parameter value when the value starts with `//`.
#[test]
#[ignore = "fuzz finding: writer/importer disagree on a value starting with `//` after a parameter"]
fn a_value_that_starts_with_two_slashes_reads_back() {
    let (out, params, value) = written_and_read("X-A", &[("VALUE", "URI")], "//example.org:8080/");
    assert_eq!(params, [("VALUE".to_owned(), "URI".to_owned())], "{out:?}");
    assert_eq!(value, "//example.org:8080/", "{out:?}");
    let (out, params, value) = written_and_read("X-A", &[("X-P", "")], "//KJ:");
    assert_eq!(params, [("X-P".to_owned(), String::new())], "{out:?}");
    assert_eq!(value, "//KJ:", "{out:?}");
}

/// `ical_writer`: a caret in a parameter value is written as it is, and the importer
/// reads `^n` as a newline (RFC 6868). Fix: the writer encodes `^` as `^^` (RFC 6868
/// also gives `^'` for the double quote it now drops).
#[test]
#[ignore = "fuzz finding: the writer does not encode `^` (RFC 6868) and the importer decodes it"]
fn a_caret_in_a_parameter_value_reads_back() {
    let (out, params, _) = written_and_read("X-A", &[("CN", "a^nb")], "v");
    assert_eq!(params, [("CN".to_owned(), "a^nb".to_owned())], "{out:?}");
}
