//! A tolerant reader for iCalendar (RFC 5545) feeds.
//!
//! Organisers' feeds come from every kind of generator, many of them broken
//! in small ways. The reader therefore never gives up on a feed because of one
//! bad line: it repairs what it can, skips what it cannot, and says what it did
//! in [`Document::warnings`] so that the organiser can be told.

use std::borrow::Cow;
use std::fmt;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};

/// One content line (`NAME;PARAM=value:value`) after unfolding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// The property name, upper-cased.
    pub name: String,
    /// Parameters in the order written: upper-cased name and its values, quotes removed.
    pub params: Vec<(String, Vec<String>)>,
    /// The raw value, not unescaped.
    pub value: String,
    /// The 1-based physical line where the property started.
    pub line: usize,
}

impl Property {
    /// The first value of the parameter `name` (case-insensitive), if present.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, values)| values.first())
            .map(String::as_str)
    }

    /// All values of the parameter `name` joined with commas.
    ///
    /// Producers often forget to quote a TZID that contains commas, such as the
    /// Outlook display name `(UTC+01:00) Amsterdam, Berlin, …`; the comma then
    /// splits it into several values, and this puts it back together.
    pub fn param_joined(&self, name: &str) -> Option<String> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, values)| values.join(","))
    }

    /// The value read as TEXT: `\n` and `\N` become a newline, `\,` `\;` `\\` their character.
    ///
    /// An unknown escape such as `\:` keeps the character after the backslash,
    /// because generators escape characters RFC 5545 does not ask them to.
    pub fn text(&self) -> String {
        unescape_text(&self.value)
    }

    /// The value read as a comma-separated list of TEXT (e.g. CATEGORIES).
    ///
    /// Splits on commas that are not escaped; each item is unescaped and
    /// trimmed, and empty items are dropped.
    pub fn text_list(&self) -> Vec<String> {
        split_unescaped_commas(&self.value)
            .into_iter()
            .map(|item| unescape_text(item).trim().to_string())
            .filter(|item| !item.is_empty())
            .collect()
    }

    /// The raw value split on commas (e.g. EXDATE, RDATE), trimmed, empty items dropped.
    pub fn value_list(&self) -> Vec<&str> {
        self.value
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .collect()
    }

    /// The value read as a date or date-time, using the TZID and VALUE parameters.
    pub fn time(&self) -> Result<IcsTime, String> {
        let tzid = self.param_joined("TZID");
        parse_time(&self.value, tzid.as_deref(), self.param("VALUE"))
    }
}

/// A `BEGIN:NAME` … `END:NAME` block with its properties and nested blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// The component name, upper-cased (`VCALENDAR`, `VEVENT`, …).
    pub name: String,
    /// Properties in the order written.
    pub properties: Vec<Property>,
    /// Nested components in the order written.
    pub children: Vec<Component>,
    /// The 1-based physical line of the BEGIN.
    pub line: usize,
}

impl Component {
    fn new(name: String, line: usize) -> Self {
        Component {
            name,
            properties: Vec::new(),
            children: Vec::new(),
            line,
        }
    }

    /// The first property called `name` (case-insensitive).
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// All properties called `name` (case-insensitive), in order.
    pub fn properties<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Property> {
        self.properties
            .iter()
            .filter(move |p| p.name.eq_ignore_ascii_case(name))
    }

    /// All direct children called `name` (case-insensitive), in order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Component> {
        self.children
            .iter()
            .filter(move |c| c.name.eq_ignore_ascii_case(name))
    }
}

/// A feed as read by [`read`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The VCALENDAR. Components of any further VCALENDARs in the same file are appended to it.
    pub calendar: Component,
    /// What was repaired or skipped, as sentences for the organiser.
    pub warnings: Vec<String>,
    /// False when the file ended before END:VCALENDAR, i.e. the download was probably cut short.
    pub complete: bool,
}

/// Why a file could not be read as a calendar at all.
#[derive(Debug, PartialEq)]
pub enum ReadError {
    /// There is no BEGIN:VCALENDAR; the sentence quotes the start of the file.
    NotCalendar(String),
    /// The file is empty or holds only whitespace.
    Empty,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotCalendar(message) => f.write_str(message),
            ReadError::Empty => f.write_str("The file is empty."),
        }
    }
}

impl std::error::Error for ReadError {}

/// A DTSTART/DTEND/EXDATE-style value.
#[derive(Debug, Clone, PartialEq)]
pub enum IcsTime {
    /// An all-day date.
    Date(NaiveDate),
    /// A local time with no zone: the same wall-clock time everywhere.
    Floating(NaiveDateTime),
    /// A time in UTC (written with a trailing `Z`).
    Utc(NaiveDateTime),
    /// A wall-clock time in the zone named by TZID, as written in the feed.
    Zoned(NaiveDateTime, String),
}

/// Enough warnings to diagnose a feed; a feed broken on every line would
/// otherwise produce thousands of identical sentences.
const MAX_WARNINGS: usize = 100;

/// Real calendars nest three or four levels deep; the limit keeps the
/// searches of the open components cheap on hostile input.
const MAX_DEPTH: usize = 32;

/// Components that cannot nest in themselves, so a second BEGIN of one means
/// the END of the previous one was forgotten.
const NON_NESTING: &[&str] = &[
    "VEVENT",
    "VTODO",
    "VJOURNAL",
    "VFREEBUSY",
    "VTIMEZONE",
    "VALARM",
    "STANDARD",
    "DAYLIGHT",
];

/// Reads an iCalendar file.
///
/// `charset` is the charset parameter of the HTTP Content-Type, if any. Only
/// a file without any BEGIN:VCALENDAR, or an empty one, is an error; every
/// other problem is repaired or skipped and reported in [`Document::warnings`].
pub fn read(bytes: &[u8], charset: Option<&str>) -> Result<Document, ReadError> {
    let data = strip_bom(bytes);
    if data.iter().all(u8::is_ascii_whitespace) {
        return Err(ReadError::Empty);
    }
    let mut parser = Parser::new(charset.is_some_and(is_latin1_charset));
    // Unfolding works on bytes, before decoding, because a fold may fall in the
    // middle of a multi-byte UTF-8 character.
    let mut logical: Vec<u8> = Vec::new();
    let mut logical_start: Option<usize> = None;
    for (line_no, physical) in PhysicalLines::new(&data) {
        match physical.split_first() {
            // Blank lines are skipped without ending the logical line: files
            // with doubled line breaks (CR CR LF) otherwise lose every fold.
            None => {}
            Some((b' ' | b'\t', rest)) if logical_start.is_some() => {
                logical.extend_from_slice(rest);
            }
            Some((first, rest)) => {
                if let Some(start) = logical_start {
                    parser.line(&logical, start);
                }
                logical.clear();
                // A folded line with nothing before it: keep its text rather than lose it.
                if matches!(first, b' ' | b'\t') {
                    logical.extend_from_slice(rest);
                } else {
                    logical.extend_from_slice(physical);
                }
                logical_start = Some(line_no);
            }
        }
    }
    if let Some(start) = logical_start {
        parser.line(&logical, start);
    }
    parser.finish()
}

fn strip_bom(bytes: &[u8]) -> Cow<'_, [u8]> {
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => Cow::Borrowed(rest),
        [0xFF, 0xFE, rest @ ..] => Cow::Owned(decode_utf16(rest, u16::from_le_bytes).into_bytes()),
        [0xFE, 0xFF, rest @ ..] => Cow::Owned(decode_utf16(rest, u16::from_be_bytes).into_bytes()),
        _ => Cow::Borrowed(bytes),
    }
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    // An odd trailing byte cannot be part of any character; it is dropped.
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

fn is_latin1_charset(charset: &str) -> bool {
    let normal: String = charset
        .trim()
        .trim_matches(['"', '\''])
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    matches!(
        normal.as_str(),
        "iso88591" | "latin1" | "l1" | "windows1252" | "cp1252" | "xcp1252" | "cp819"
    )
}

/// Windows-1252 for 0x80–0x9F; the five unassigned bytes map to the C1
/// controls of the same value, as browsers do.
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}',
    '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
];

fn decode_cp1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// Physical lines with their 1-based numbers; CRLF, lone LF and lone CR all end a line.
struct PhysicalLines<'a> {
    data: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> PhysicalLines<'a> {
    fn new(data: &'a [u8]) -> Self {
        PhysicalLines {
            data,
            pos: 0,
            line: 0,
        }
    }
}

impl<'a> Iterator for PhysicalLines<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.data.get(self.pos..).filter(|r| !r.is_empty())?;
        self.line += 1;
        match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(end) => {
                let crlf = rest.get(end) == Some(&b'\r') && rest.get(end + 1) == Some(&b'\n');
                self.pos += end + if crlf { 2 } else { 1 };
                Some((self.line, rest.get(..end).unwrap_or(rest)))
            }
            None => {
                self.pos = self.data.len();
                Some((self.line, rest))
            }
        }
    }
}

struct Parser {
    latin1: bool,
    stack: Vec<Component>,
    calendar: Option<Component>,
    /// Nesting depth inside a component met outside the calendar, whose lines are skipped.
    orphan_depth: usize,
    last_was_property: bool,
    first_line: Option<String>,
    warnings: Vec<String>,
    unlisted_warnings: usize,
    non_utf8_lines: usize,
}

type ParsedLine<'a> = (&'a str, Vec<(String, Vec<String>)>, &'a str);

impl Parser {
    fn new(latin1: bool) -> Self {
        Parser {
            latin1,
            stack: Vec::new(),
            calendar: None,
            orphan_depth: 0,
            last_was_property: false,
            first_line: None,
            warnings: Vec::new(),
            unlisted_warnings: 0,
            non_utf8_lines: 0,
        }
    }

    fn warn(&mut self, line: usize, message: impl fmt::Display) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(format!("Line {line}: {message}"));
        } else {
            self.unlisted_warnings += 1;
        }
    }

    fn decode<'a>(&mut self, bytes: &'a [u8], line: usize) -> Cow<'a, str> {
        match std::str::from_utf8(bytes) {
            Ok(text) if !self.latin1 || text.is_ascii() => Cow::Borrowed(text),
            // Latin-1 text almost never happens to be valid UTF-8, while servers
            // that announce ISO-8859-1 by default for UTF-8 files are common.
            Ok(text) => {
                self.warn(
                    line,
                    "the server said ISO-8859-1, but this line is UTF-8; read as UTF-8.",
                );
                Cow::Borrowed(text)
            }
            Err(_) if self.latin1 => Cow::Owned(decode_cp1252(bytes)),
            Err(_) => {
                self.non_utf8_lines += 1;
                if self.non_utf8_lines == 1 {
                    self.warn(line, "not UTF-8; read as Windows-1252.");
                }
                Cow::Owned(decode_cp1252(bytes))
            }
        }
    }

    fn line(&mut self, bytes: &[u8], line: usize) {
        let text = self.decode(bytes, line);
        if text.trim().is_empty() {
            return;
        }
        if self.first_line.is_none() {
            self.first_line = Some(snippet(text.trim(), 40));
        }
        match parse_content_line(&text) {
            Some((name, params, value)) => self.content_line(name, params, value, line),
            None => self.other_line(&text, line),
        }
    }

    fn content_line(
        &mut self,
        name: &str,
        params: Vec<(String, Vec<String>)>,
        value: &str,
        line: usize,
    ) {
        let is_begin = name.eq_ignore_ascii_case("BEGIN");
        let is_end = name.eq_ignore_ascii_case("END");
        if is_begin || is_end {
            self.last_was_property = false;
            let component = value.trim().to_ascii_uppercase();
            if component.is_empty() {
                self.warn(line, format!("{name} without a component name; ignored."));
            } else if is_begin {
                self.begin(component, line);
            } else {
                self.end(&component, line);
            }
            return;
        }
        if self.orphan_depth > 0 {
            return;
        }
        let Some(top) = self.stack.last_mut() else {
            self.last_was_property = false;
            self.warn(
                line,
                format!(
                    "{} outside any component; ignored.",
                    name.to_ascii_uppercase()
                ),
            );
            return;
        };
        top.properties.push(Property {
            name: name.to_ascii_uppercase(),
            params,
            value: value.to_string(),
            line,
        });
        self.last_was_property = true;
    }

    fn other_line(&mut self, text: &str, line: usize) {
        if self.orphan_depth > 0 {
            return;
        }
        if self.last_was_property
            && let Some(property) = self
                .stack
                .last_mut()
                .and_then(|top| top.properties.last_mut())
        {
            property.value.push_str(text);
            self.warn(
                line,
                "a continuation line without its leading space; joined to the line before.",
            );
            return;
        }
        self.warn(line, "not an iCalendar line; ignored.");
    }

    fn begin(&mut self, name: String, line: usize) {
        if self.orphan_depth > 0 {
            self.orphan_depth += 1;
            return;
        }
        if self.stack.is_empty() {
            if name == "VCALENDAR" {
                if self.calendar.is_some() {
                    self.warn(
                        line,
                        "a second VCALENDAR; its contents were added to the first.",
                    );
                }
                self.stack.push(Component::new(name, line));
            } else {
                self.warn(line, format!("a {name} outside the calendar; left out."));
                self.orphan_depth = 1;
            }
            return;
        }
        if name == "VCALENDAR" {
            self.warn(line, "BEGIN:VCALENDAR inside the calendar; ignored.");
            return;
        }
        if self.stack.len() >= MAX_DEPTH {
            self.warn(line, format!("a {name} nested too deeply; left out."));
            self.orphan_depth = 1;
            return;
        }
        if NON_NESTING.contains(&name.as_str())
            && let Some(open) = self.stack.iter().rposition(|c| c.name == name)
        {
            let began = self.stack.get(open).map_or(0, |c| c.line);
            self.warn(
                line,
                format!("a new {name} began before the one from line {began} ended; ended that one here."),
            );
            self.close_through(open, line);
        }
        self.stack.push(Component::new(name, line));
    }

    fn end(&mut self, name: &str, line: usize) {
        if self.orphan_depth > 0 {
            self.orphan_depth -= 1;
            return;
        }
        match self.stack.iter().rposition(|c| c.name == name) {
            Some(open) => self.close_through(open, line),
            None => self.warn(
                line,
                format!("END:{name} without a matching BEGIN; ignored."),
            ),
        }
    }

    /// Closes the open components from the innermost down to and including `index`.
    fn close_through(&mut self, index: usize, line: usize) {
        while self.stack.len() > index {
            let Some(component) = self.stack.pop() else {
                break;
            };
            if self.stack.len() > index {
                self.warn(
                    line,
                    format!(
                        "the {} from line {} was not ended; ended it here.",
                        component.name, component.line
                    ),
                );
            }
            self.attach(component);
        }
    }

    fn attach(&mut self, component: Component) {
        if let Some(parent) = self.stack.last_mut() {
            parent.children.push(component);
        } else if let Some(calendar) = self.calendar.as_mut() {
            calendar.children.extend(component.children);
        } else {
            self.calendar = Some(component);
        }
    }

    fn finish(mut self) -> Result<Document, ReadError> {
        let complete = self.stack.is_empty();
        if let Some(unfinished) = self.stack.get(1) {
            let (name, line) = (unfinished.name.clone(), unfinished.line);
            self.warn(
                line,
                format!("a {name} was not finished (the file ends inside it); left out."),
            );
            self.stack.truncate(1);
        }
        if let Some(calendar) = self.stack.pop() {
            self.attach(calendar);
        }
        if self.non_utf8_lines > 1 {
            let more = self.non_utf8_lines - 1;
            self.warnings.push(format!(
                "{more} more line{} not UTF-8 either; read as Windows-1252 too.",
                if more == 1 { " was" } else { "s were" }
            ));
        }
        if self.unlisted_warnings > 0 {
            self.warnings.push(format!(
                "{} more problems are not listed.",
                self.unlisted_warnings
            ));
        }
        match self.calendar {
            Some(calendar) => Ok(Document {
                calendar,
                warnings: self.warnings,
                complete,
            }),
            None => match self.first_line {
                Some(first) => Err(ReadError::NotCalendar(format!(
                    "This is not an iCalendar file: it starts with \"{first}\"."
                ))),
                None => Err(ReadError::Empty),
            },
        }
    }
}

/// The first `max` characters of `text`, control characters replaced, with an ellipsis if cut.
fn snippet(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// Splits `NAME *(";" param) ":" value`; `None` when the line does not have that shape.
///
/// Every index used for slicing points at an ASCII byte or the end, so it is
/// always a char boundary.
fn parse_content_line(line: &str) -> Option<ParsedLine<'_>> {
    let bytes = line.as_bytes();
    let name_end = bytes
        .iter()
        .position(|&b| !is_name_byte(b))
        .unwrap_or(bytes.len());
    if name_end == 0 {
        return None;
    }
    let name = line.get(..name_end)?;
    let mut params = Vec::new();
    let mut i = name_end;
    loop {
        match bytes.get(i) {
            Some(b':') => return Some((name, params, line.get(i + 1..)?)),
            Some(b';') => {
                let name_start = i + 1;
                let name_len = bytes
                    .get(name_start..)?
                    .iter()
                    .position(|&b| !is_name_byte(b))?;
                if name_len == 0 || bytes.get(name_start + name_len) != Some(&b'=') {
                    return None;
                }
                let param_name = line.get(name_start..name_start + name_len)?;
                i = name_start + name_len + 1;
                let mut values = Vec::new();
                loop {
                    let (value, next) = param_value(line, i)?;
                    values.push(decode_caret(value));
                    i = next;
                    if bytes.get(i) == Some(&b',') {
                        i += 1;
                    } else {
                        break;
                    }
                }
                params.push((param_name.to_ascii_uppercase(), values));
            }
            _ => return None,
        }
    }
}

/// One parameter value starting at `start`; returns it and the index just after it.
fn param_value(line: &str, start: usize) -> Option<(&str, usize)> {
    let bytes = line.as_bytes();
    if bytes.get(start) == Some(&b'"') {
        let inner = start + 1;
        if let Some(len) = bytes.get(inner..)?.iter().position(|&b| b == b'"') {
            return Some((line.get(inner..inner + len)?, inner + len + 1));
        }
        // An unclosed quote: read on as if it were not there rather than let
        // it swallow the rest of the line.
        return unquoted_value(line, inner);
    }
    unquoted_value(line, start)
}

fn unquoted_value(line: &str, start: usize) -> Option<(&str, usize)> {
    let rest = line.as_bytes().get(start..)?;
    // Outlook-style TZIDs like `(UTC+01:00) Amsterdam` are sometimes left
    // unquoted; a colon inside the leading parentheses is part of the value,
    // not the start of the property value.
    let skip = match rest.first() {
        Some(b'(') => rest
            .iter()
            .position(|&b| b == b')')
            .filter(|&close| rest.get(close + 1..).is_some_and(|r| r.contains(&b':')))
            .unwrap_or(0),
        _ => 0,
    };
    // Outlook also writes `TZID=tzone://Microsoft/Custom:2027…` unquoted: a colon
    // followed by `//` is a URI's, when another colon (the value's) follows.
    let tail = rest.get(skip..)?;
    let mut len = tail.len();
    for (pos, &b) in tail.iter().enumerate() {
        match b {
            b':' if tail.get(pos + 1..pos + 3) == Some(b"//".as_slice())
                && tail.get(pos + 3..).is_some_and(|r| r.contains(&b':')) => {}
            b',' | b';' | b':' => {
                len = pos;
                break;
            }
            _ => {}
        }
    }
    let len = skip + len;
    Some((line.get(start..start + len)?, start + len))
}

/// RFC 6868 escapes in parameter values: `^n` newline, `^'` double quote, `^^` caret.
fn decode_caret(value: &str) -> String {
    if !value.contains('^') {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '^' {
            match chars.peek() {
                Some('n' | 'N') => {
                    out.push('\n');
                    chars.next();
                }
                Some('\'') => {
                    out.push('"');
                    chars.next();
                }
                Some('^') => {
                    out.push('^');
                    chars.next();
                }
                _ => out.push('^'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn unescape_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            // A trailing lone backslash is kept: there is nothing it could escape.
            None => out.push('\\'),
        }
    }
    out
}

fn split_unescaped_commas(raw: &str) -> Vec<&str> {
    let bytes = raw.as_bytes();
    let mut items = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            // Skipping one byte is enough: every escapable character is ASCII,
            // and the commas we cut at are ASCII too, so cuts stay on char boundaries.
            b'\\' => i += 2,
            b',' => {
                items.push(raw.get(start..i).unwrap_or_default());
                start = i + 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    items.push(raw.get(start..).unwrap_or_default());
    items
}

fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    bytes.iter().try_fold(0u32, |n, &b| {
        n.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

/// Parses a DATE (`20270314`) or DATE-TIME (`20270314T190000`, `…Z`) value.
///
/// A `Z` (or `z`) makes it UTC whatever the TZID; otherwise a non-empty TZID
/// makes it [`IcsTime::Zoned`], and no TZID [`IcsTime::Floating`]. With
/// `value_type` DATE a date-time is cut to its date. A leap second (`60`) is
/// read as `59`.
pub fn parse_time(
    value: &str,
    tzid: Option<&str>,
    value_type: Option<&str>,
) -> Result<IcsTime, String> {
    let error = || {
        format!(
            "\"{}\" is not an iCalendar date or date-time",
            snippet(value, 40)
        )
    };
    let bytes = value.trim().as_bytes();
    let date = bytes
        .get(..8)
        .and_then(|d| {
            let year = i32::try_from(digits(d.get(..4)?)?).ok()?;
            NaiveDate::from_ymd_opt(year, digits(d.get(4..6)?)?, digits(d.get(6..8)?)?)
        })
        .ok_or_else(error)?;
    if bytes.len() == 8 {
        return Ok(IcsTime::Date(date));
    }
    if !matches!(bytes.get(8), Some(b'T' | b't')) {
        return Err(error());
    }
    let utc = match bytes.get(15..) {
        Some([]) => false,
        Some([b'Z' | b'z']) => true,
        _ => return Err(error()),
    };
    let part = |range: std::ops::Range<usize>| bytes.get(range).and_then(digits);
    let (hour, minute, second) = (part(9..11), part(11..13), part(13..15));
    let time = hour
        .zip(minute)
        .zip(second)
        .and_then(|((h, m), s)| NaiveTime::from_hms_opt(h, m, s.min(59)))
        .ok_or_else(error)?;
    if value_type.is_some_and(|t| t.trim().eq_ignore_ascii_case("DATE")) {
        return Ok(IcsTime::Date(date));
    }
    let at = date.and_time(time);
    Ok(match tzid {
        _ if utc => IcsTime::Utc(at),
        Some(zone) if !zone.trim().is_empty() => IcsTime::Zoned(at, zone.to_string()),
        _ => IcsTime::Floating(at),
    })
}

/// Parses an RFC 5545 DURATION: `[+-]P[nW]` or `[+-]P[nD][T[nH][nM][nS]]`.
///
/// Weeks mixed with days, lowercase letters and components out of order are
/// accepted, as some generators write them.
pub fn parse_duration(value: &str) -> Result<TimeDelta, String> {
    let error = || format!("\"{}\" is not an iCalendar duration", snippet(value, 40));
    let bytes = value.trim().as_bytes();
    let (negative, rest) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, bytes),
    };
    let Some((b'P' | b'p', mut rest)) = rest.split_first() else {
        return Err(error());
    };
    let mut seconds: i64 = 0;
    let mut in_time = false;
    let mut any = false;
    let mut any_time = false;
    while let Some((&first, after)) = rest.split_first() {
        if matches!(first, b'T' | b't') {
            if in_time {
                return Err(error());
            }
            in_time = true;
            rest = after;
            continue;
        }
        let len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        // Fifteen digits cannot overflow an i64 before the multiplication below checks it.
        if len == 0 || len > 15 {
            return Err(error());
        }
        let number = rest
            .get(..len)
            .map(|d| d.iter().fold(0i64, |n, &b| n * 10 + i64::from(b - b'0')))
            .ok_or_else(error)?;
        let unit = rest.get(len).map(u8::to_ascii_uppercase);
        let scale = match (in_time, unit) {
            (false, Some(b'W')) => 7 * 86_400,
            (false, Some(b'D')) => 86_400,
            (true, Some(b'H')) => 3_600,
            (true, Some(b'M')) => 60,
            (true, Some(b'S')) => 1,
            _ => return Err(error()),
        };
        seconds = number
            .checked_mul(scale)
            .and_then(|s| seconds.checked_add(s))
            .ok_or_else(error)?;
        any = true;
        any_time |= in_time;
        rest = rest.get(len + 1..).unwrap_or_default();
    }
    if !any || (in_time && !any_time) {
        return Err(error());
    }
    TimeDelta::try_seconds(if negative { -seconds } else { seconds }).ok_or_else(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, s)
            .unwrap()
    }

    fn wrap(body: &str) -> String {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{body}END:VCALENDAR\r\n")
    }

    fn first_event(doc: &Document) -> &Component {
        doc.calendar.children_named("VEVENT").next().unwrap()
    }

    #[test]
    fn reads_a_simple_calendar() {
        let text = wrap("BEGIN:VEVENT\r\nUID:1\r\nSUMMARY:Concert\r\nEND:VEVENT\r\n");
        let doc = read(text.as_bytes(), None).unwrap();
        assert!(doc.complete);
        assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
        assert_eq!(doc.calendar.name, "VCALENDAR");
        assert_eq!(doc.calendar.property("version").unwrap().value, "2.0");
        let event = first_event(&doc);
        assert_eq!(event.line, 3);
        let summary = event.property("SUMMARY").unwrap();
        assert_eq!(summary.value, "Concert");
        assert_eq!(summary.line, 5);
    }

    #[test]
    fn unfolds_across_a_multibyte_character() {
        // "é" is C3 A9; the fold falls between its two bytes.
        let mut bytes =
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Caf\xC3\r\n \xA9 au lait\r\n".to_vec();
        bytes.extend_from_slice(b"\tnoir\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
        let doc = read(&bytes, None).unwrap();
        assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
        let event = first_event(&doc);
        assert_eq!(event.property("SUMMARY").unwrap().value, "Café au laitnoir");
        assert_eq!(event.property("SUMMARY").unwrap().line, 3);
    }

    #[test]
    fn accepts_lone_lf_and_lone_cr() {
        for sep in ["\n", "\r"] {
            let text = [
                "BEGIN:VCALENDAR",
                "BEGIN:VEVENT",
                "SUMMARY:A",
                " B",
                "END:VEVENT",
                "END:VCALENDAR",
            ]
            .join(sep);
            let doc = read(text.as_bytes(), None).unwrap();
            assert!(doc.complete);
            let summary = first_event(&doc).property("SUMMARY").unwrap();
            assert_eq!(summary.value, "AB");
            assert_eq!(summary.line, 3);
            assert_eq!(first_event(&doc).line, 2);
        }
    }

    #[test]
    fn doubled_line_breaks_keep_folds() {
        let text = "BEGIN:VCALENDAR\r\r\nBEGIN:VEVENT\r\r\nSUMMARY:A\r\r\n B\r\r\nEND:VEVENT\r\r\nEND:VCALENDAR\r\r\n";
        let doc = read(text.as_bytes(), None).unwrap();
        assert_eq!(first_event(&doc).property("SUMMARY").unwrap().value, "AB");
        assert!(doc.warnings.is_empty());
    }

    #[test]
    fn strips_utf8_bom() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(wrap("").as_bytes());
        let doc = read(&bytes, None).unwrap();
        assert!(doc.complete);
        assert!(doc.warnings.is_empty());
    }

    #[test]
    fn decodes_utf16_with_bom() {
        let text = wrap("BEGIN:VEVENT\r\nSUMMARY:Zürich\r\nEND:VEVENT\r\n");
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            le.extend_from_slice(&unit.to_le_bytes());
            be.extend_from_slice(&unit.to_be_bytes());
        }
        for bytes in [le, be] {
            let doc = read(&bytes, None).unwrap();
            assert_eq!(
                first_event(&doc).property("SUMMARY").unwrap().value,
                "Zürich"
            );
        }
    }

    #[test]
    fn latin1_bytes_without_charset_are_read_with_a_warning() {
        let bytes = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Caf\xE9 \x80 \x93\r\nLOCATION:M\xFCnchen\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let doc = read(bytes, None).unwrap();
        let event = first_event(&doc);
        assert_eq!(event.property("SUMMARY").unwrap().value, "Café € “");
        assert_eq!(event.property("LOCATION").unwrap().value, "München");
        assert_eq!(
            doc.warnings,
            vec![
                "Line 3: not UTF-8; read as Windows-1252.".to_string(),
                "1 more line was not UTF-8 either; read as Windows-1252 too.".to_string()
            ]
        );
    }

    #[test]
    fn latin1_charset_is_honoured_silently() {
        let bytes = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Caf\xE9\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        for charset in ["ISO-8859-1", "latin1", "Windows-1252", "\"iso_8859-1\""] {
            let doc = read(bytes, Some(charset)).unwrap();
            assert_eq!(first_event(&doc).property("SUMMARY").unwrap().value, "Café");
            assert!(doc.warnings.is_empty(), "{charset}: {:?}", doc.warnings);
        }
        let doc = read(bytes, Some("utf-8")).unwrap();
        assert_eq!(doc.warnings.len(), 1);
    }

    #[test]
    fn utf8_despite_a_latin1_charset_stays_utf8() {
        let text = wrap("BEGIN:VEVENT\r\nSUMMARY:Café\r\nEND:VEVENT\r\n");
        let doc = read(text.as_bytes(), Some("iso-8859-1")).unwrap();
        assert_eq!(first_event(&doc).property("SUMMARY").unwrap().value, "Café");
        assert_eq!(doc.warnings.len(), 1);
    }

    #[test]
    fn joins_a_continuation_without_leading_space() {
        let text = wrap(
            "BEGIN:VEVENT\r\nDESCRIPTION:Bring your own\r\n drinks and some food to share with every\r\nbody.\r\nEND:VEVENT\r\n",
        );
        let doc = read(text.as_bytes(), None).unwrap();
        assert_eq!(
            first_event(&doc).property("DESCRIPTION").unwrap().value,
            "Bring your owndrinks and some food to share with everybody."
        );
        assert_eq!(
            doc.warnings,
            vec![
                "Line 6: a continuation line without its leading space; joined to the line before."
            ]
        );
    }

    #[test]
    fn ignores_empty_lines_and_garbage_outside_properties() {
        let text = "\r\n\r\nBEGIN:VCALENDAR\r\n\r\nno colon here\r\nEND:VCALENDAR\r\n\r\n";
        let doc = read(text.as_bytes(), None).unwrap();
        assert!(doc.complete);
        assert_eq!(
            doc.warnings,
            vec!["Line 5: not an iCalendar line; ignored."]
        );
    }

    #[test]
    fn truncated_file_drops_the_unfinished_event() {
        let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:2\r\nBEGIN:VALARM\r\nTRIGGER:-PT15M\r\nSUMM";
        let doc = read(text.as_bytes(), None).unwrap();
        assert!(!doc.complete);
        assert_eq!(doc.calendar.children.len(), 1);
        assert_eq!(first_event(&doc).property("UID").unwrap().value, "1");
        assert_eq!(
            doc.warnings.last().unwrap(),
            "Line 5: a VEVENT was not finished (the file ends inside it); left out."
        );
    }

    #[test]
    fn missing_end_vcalendar_keeps_finished_events() {
        let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\nEND:VEVENT\r\n";
        let doc = read(text.as_bytes(), None).unwrap();
        assert!(!doc.complete);
        assert_eq!(doc.calendar.children.len(), 1);
        assert!(doc.warnings.is_empty());
    }

    #[test]
    fn html_page_is_not_a_calendar() {
        let page = b"<!DOCTYPE html>\n<html><head><title>Login required</title></head><body></body></html>\n";
        let err = read(page, None).unwrap_err();
        assert_eq!(
            err,
            ReadError::NotCalendar(
                "This is not an iCalendar file: it starts with \"<!DOCTYPE html>\".".to_string()
            )
        );
        assert_eq!(
            err.to_string(),
            "This is not an iCalendar file: it starts with \"<!DOCTYPE html>\"."
        );
        let long = "x".repeat(100);
        match read(long.as_bytes(), None) {
            Err(ReadError::NotCalendar(message)) => {
                assert!(
                    message.contains(&format!("\"{}…\"", "x".repeat(40))),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn empty_input() {
        assert_eq!(read(b"", None).unwrap_err(), ReadError::Empty);
        assert_eq!(read(b" \r\n\t\n", None).unwrap_err(), ReadError::Empty);
        assert_eq!(
            read(&[0xEF, 0xBB, 0xBF], None).unwrap_err(),
            ReadError::Empty
        );
        assert_eq!(ReadError::Empty.to_string(), "The file is empty.");
    }

    #[test]
    fn properties_before_the_calendar_are_ignored() {
        let text = format!("PRODID:stray\r\n{}", wrap(""));
        let doc = read(text.as_bytes(), None).unwrap();
        assert_eq!(
            doc.warnings,
            vec!["Line 1: PRODID outside any component; ignored."]
        );
        assert!(doc.calendar.property("PRODID").is_none());
    }

    #[test]
    fn quoted_params_with_colons_and_lists() {
        let text = wrap(concat!(
            "BEGIN:VEVENT\r\n",
            "DTSTART;tzid=Europe/Berlin:20270314T190000\r\n",
            "X-WR-ALT;X-PARAM=a,b;LABEL=\"caret ^'q^' ^n\":v:w\r\n",
            "END:VEVENT\r\n"
        ));
        let doc = read(text.as_bytes(), None).unwrap();
        let event = first_event(&doc);
        let doc2_text = wrap(
            "BEGIN:VEVENT\r\nATTENDEE;CN=\"Doe; John: boss\";MEMBER=\"mailto:a@x.org\",\"mailto:b@x.org\":mailto:j@x.org\r\nEND:VEVENT\r\n",
        );
        let doc2 = read(doc2_text.as_bytes(), None).unwrap();
        let attendee = first_event(&doc2).property("attendee").unwrap();
        assert_eq!(attendee.param("cn"), Some("Doe; John: boss"));
        assert_eq!(
            attendee.params.get(1),
            Some(&(
                "MEMBER".to_string(),
                vec!["mailto:a@x.org".to_string(), "mailto:b@x.org".to_string()]
            ))
        );
        assert_eq!(attendee.value, "mailto:j@x.org");
        let start = event.property("DTSTART").unwrap();
        assert_eq!(start.params[0].0, "TZID");
        assert_eq!(start.param("TZID"), Some("Europe/Berlin"));
        let alt = event.property("X-WR-ALT").unwrap();
        assert_eq!(alt.params[0].1, vec!["a", "b"]);
        assert_eq!(alt.param("label"), Some("caret \"q\" \n"));
        assert_eq!(alt.value, "v:w");
    }

    #[test]
    fn unclosed_quote_does_not_swallow_the_line() {
        let text = wrap("BEGIN:VEVENT\r\nATTENDEE;CN=\"John Doe:mailto:j@x.org\r\nEND:VEVENT\r\n");
        let doc = read(text.as_bytes(), None).unwrap();
        let attendee = first_event(&doc).property("ATTENDEE").unwrap();
        assert_eq!(attendee.param("CN"), Some("John Doe"));
        assert_eq!(attendee.value, "mailto:j@x.org");
    }

    #[test]
    fn unmatched_end_is_recovered() {
        let text = wrap(concat!(
            "BEGIN:VEVENT\r\nUID:1\r\nBEGIN:VALARM\r\nTRIGGER:-PT5M\r\nEND:VEVENT\r\n",
            "END:VTODO\r\n",
            "BEGIN:VEVENT\r\nUID:2\r\n",
            "BEGIN:VEVENT\r\nUID:3\r\nEND:VEVENT\r\n",
        ));
        let doc = read(text.as_bytes(), None).unwrap();
        assert!(doc.complete);
        let uids: Vec<_> = doc
            .calendar
            .children_named("vevent")
            .map(|e| e.property("UID").unwrap().value.as_str())
            .collect();
        assert_eq!(uids, ["1", "2", "3"]);
        let first = first_event(&doc);
        assert_eq!(first.children_named("VALARM").count(), 1);
        assert_eq!(
            doc.warnings,
            vec![
                "Line 7: the VALARM from line 5 was not ended; ended it here.",
                "Line 8: END:VTODO without a matching BEGIN; ignored.",
                "Line 11: a new VEVENT began before the one from line 9 ended; ended that one here.",
            ]
        );
    }

    #[test]
    fn second_calendar_is_merged() {
        let text = format!(
            "{}{}",
            wrap("BEGIN:VEVENT\r\nUID:1\r\nEND:VEVENT\r\n"),
            wrap("BEGIN:VEVENT\r\nUID:2\r\nEND:VEVENT\r\n")
        );
        let doc = read(text.as_bytes(), None).unwrap();
        assert_eq!(doc.calendar.children_named("VEVENT").count(), 2);
        assert_eq!(doc.warnings.len(), 1);
        assert!(doc.complete);
    }

    #[test]
    fn component_outside_calendar_is_left_out() {
        let text = format!(
            "BEGIN:VEVENT\r\nUID:0\r\nEND:VEVENT\r\n{}",
            wrap("BEGIN:VEVENT\r\nUID:1\r\nEND:VEVENT\r\n")
        );
        let doc = read(text.as_bytes(), None).unwrap();
        assert_eq!(doc.calendar.children.len(), 1);
        assert_eq!(
            doc.warnings,
            vec!["Line 1: a VEVENT outside the calendar; left out."]
        );
    }

    #[test]
    fn text_unescaping() {
        let p = Property {
            name: "DESCRIPTION".into(),
            params: vec![],
            value: r"Line one\nLine two\NThree\, four\; five\\six \:seven \x end\".into(),
            line: 1,
        };
        assert_eq!(
            p.text(),
            "Line one\nLine two\nThree, four; five\\six :seven x end\\"
        );
    }

    #[test]
    fn categories_lists() {
        let text = wrap(
            "BEGIN:VEVENT\r\nCATEGORIES:Music, Jazz\\, Blues ,,Outdoor\\;Free,  \r\nCATEGORIES:Kids\r\nEXDATE:20270101T100000Z,20270108T100000Z\r\nEND:VEVENT\r\n",
        );
        let doc = read(text.as_bytes(), None).unwrap();
        let event = first_event(&doc);
        let all: Vec<String> = event
            .properties("CATEGORIES")
            .flat_map(Property::text_list)
            .collect();
        assert_eq!(all, ["Music", "Jazz, Blues", "Outdoor;Free", "Kids"]);
        assert_eq!(
            event.property("EXDATE").unwrap().value_list(),
            ["20270101T100000Z", "20270108T100000Z"]
        );
    }

    #[test]
    fn times_of_all_kinds() {
        let d = NaiveDate::from_ymd_opt(2027, 3, 14).unwrap();
        assert_eq!(parse_time("20270314", None, None), Ok(IcsTime::Date(d)));
        assert_eq!(
            parse_time("20270314", Some("Europe/Berlin"), Some("DATE")),
            Ok(IcsTime::Date(d))
        );
        assert_eq!(
            parse_time("20270314T190000", None, Some("date")),
            Ok(IcsTime::Date(d))
        );
        assert_eq!(
            parse_time("20270314T190005Z", Some("Europe/Berlin"), None),
            Ok(IcsTime::Utc(dt(2027, 3, 14, 19, 0, 5)))
        );
        assert_eq!(
            parse_time("20270314t190000z", None, None),
            Ok(IcsTime::Utc(dt(2027, 3, 14, 19, 0, 0)))
        );
        assert_eq!(
            parse_time("20270314T190030", Some("Europe/Berlin"), Some("DATE-TIME")),
            Ok(IcsTime::Zoned(
                dt(2027, 3, 14, 19, 0, 30),
                "Europe/Berlin".into()
            ))
        );
        assert_eq!(
            parse_time(" 20270314T190000 ", None, None),
            Ok(IcsTime::Floating(dt(2027, 3, 14, 19, 0, 0)))
        );
        assert_eq!(
            parse_time("20270314T235960", None, None),
            Ok(IcsTime::Floating(dt(2027, 3, 14, 23, 59, 59)))
        );
        assert_eq!(
            parse_time("2027-03-14", None, None),
            Err("\"2027-03-14\" is not an iCalendar date or date-time".to_string())
        );
        for bad in [
            "",
            "2027031",
            "20271314",
            "20270230",
            "20270314T25",
            "20270314T250000",
            "20270314T190000ZZ",
            "20270314T1900",
            "20270314X190000",
            "２０２７０３１４",
            "20270314T19000é",
        ] {
            assert!(parse_time(bad, None, None).is_err(), "{bad}");
        }
        let text = wrap(
            "BEGIN:VEVENT\r\nDTSTART;TZID=(UTC+01:00) Amsterdam, Berlin:20270314T190000\r\nDTEND;VALUE=DATE:20270315\r\nEND:VEVENT\r\n",
        );
        let doc = read(text.as_bytes(), None).unwrap();
        let event = first_event(&doc);
        assert_eq!(
            event.property("DTSTART").unwrap().time(),
            Ok(IcsTime::Zoned(
                dt(2027, 3, 14, 19, 0, 0),
                "(UTC+01:00) Amsterdam, Berlin".into()
            ))
        );
        assert_eq!(
            event.property("DTEND").unwrap().time(),
            Ok(IcsTime::Date(NaiveDate::from_ymd_opt(2027, 3, 15).unwrap()))
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("P1D"), Ok(TimeDelta::days(1)));
        assert_eq!(
            parse_duration("PT1H30M"),
            Ok(TimeDelta::hours(1) + TimeDelta::minutes(30))
        );
        assert_eq!(parse_duration("P2W"), Ok(TimeDelta::weeks(2)));
        assert_eq!(parse_duration("-PT15M"), Ok(TimeDelta::minutes(-15)));
        assert_eq!(
            parse_duration("+P1DT2H3M4S"),
            Ok(TimeDelta::seconds(93_784))
        );
        assert_eq!(parse_duration("pt0s"), Ok(TimeDelta::zero()));
        assert_eq!(
            parse_duration("1 hour"),
            Err("\"1 hour\" is not an iCalendar duration".to_string())
        );
        for bad in [
            "",
            "P",
            "PT",
            "-",
            "P1H",
            "PT1D",
            "P1DT",
            "PTT1H",
            "P1",
            "PT1.5H",
            "P99999999999999999999D",
            "P999999999999999W",
            "Pé",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        let samples: [&[u8]; 10] = [
            b"BEGIN:VCALENDAR",
            b"BEGIN:VCALENDAR\r\n \r\n\t",
            b" \xFF\r\nBEGIN:VCALENDAR\r\nEND:",
            b"BEGIN:\r\nEND:\r\n;:\r\n:\r\n",
            b"\xFF\xFE\x00",
            b"\xFE\xFF\xD8\x00",
            b"BEGIN:VCALENDAR\r\nX;A=\"\r\nX;=\r\nX;A\r\nX;A=b,\r\nEND:VCALENDAR",
            b"BEGIN:VCALENDAR\r\nEND:VEVENT\r\nEND:VCALENDAR\r\nEND:VCALENDAR\r\nX:1",
            b"\r\r\r\n\n\n",
            b"begin:vcalendar\nbegin:vevent\nend:vevent\nend:vcalendar",
        ];
        for sample in samples {
            let _ = read(sample, None);
            let _ = read(sample, Some("latin1"));
        }
        let doc = read(samples[9], None).unwrap();
        assert_eq!(doc.calendar.children.len(), 1);
        assert!(doc.complete);
    }

    #[test]
    fn deep_nesting_is_cut() {
        let body = "BEGIN:X-A\r\n".repeat(100) + "UID:deep\r\n" + &"END:X-A\r\n".repeat(100);
        let doc = read(wrap(&body).as_bytes(), None).unwrap();
        assert!(doc.complete);
        let mut depth = 0;
        let mut component = &doc.calendar;
        while let Some(child) = component.children.first() {
            depth += 1;
            component = child;
        }
        assert_eq!(depth, MAX_DEPTH - 1);
        assert_eq!(
            doc.warnings,
            vec!["Line 34: a X-A nested too deeply; left out."]
        );
    }

    #[test]
    fn warnings_are_capped() {
        let body = "BEGIN:VEVENT\r\n".to_string() + &"END:VTODO\r\n".repeat(500) + "END:VEVENT\r\n";
        let doc = read(wrap(&body).as_bytes(), None).unwrap();
        assert_eq!(doc.warnings.len(), MAX_WARNINGS + 1);
        assert_eq!(
            doc.warnings.last().unwrap(),
            "400 more problems are not listed."
        );
    }

    #[test]
    fn parses_five_thousand_events() {
        let mut text = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n");
        for i in 0..5_000 {
            text.push_str(&format!(
                "BEGIN:VEVENT\r\nUID:event-{i}@example.org\r\nDTSTAMP:20270101T000000Z\r\n\
                 DTSTART;TZID=Europe/Berlin:20270314T190000\r\nDURATION:PT2H\r\n\
                 SUMMARY:Event number {i} with a rather long title that needs to be fol\r\n ded\r\n\
                 DESCRIPTION:{}\r\nCATEGORIES:Music,Jazz\r\nEND:VEVENT\r\n",
                "Lorem ipsum dolor sit amet\\, consectetur. ".repeat(20)
            ));
        }
        text.push_str("END:VCALENDAR\r\n");
        let doc = read(text.as_bytes(), None).unwrap();
        assert!(doc.complete);
        assert!(doc.warnings.is_empty());
        assert_eq!(doc.calendar.children.len(), 5_000);
        let last = doc.calendar.children.last().unwrap();
        assert!(last.property("SUMMARY").unwrap().value.ends_with("folded"));
    }
}
