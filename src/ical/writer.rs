//! Content lines, written to the letter of RFC 5545 section 3.1.
//!
//! Every line ends in CRLF and is folded so that no physical line is longer than 75
//! octets, never inside a UTF-8 character. TEXT values are escaped (backslash, semicolon,
//! comma, newline) and stripped of every other control character, so no input can start
//! a line of its own. Parameter values are quoted when they must be and can never hold a
//! double quote.
//!
//! The `icalendar` crate builds our events (see [`super::feed`]), but its writer is not
//! used: it inserts `DTSTAMP` set to the current time and a random `UID` into every
//! component that lacks them (VTIMEZONE included, which makes feeds unstable and
//! invalid), leaves calendar `NAME` and carriage returns unescaped, and folds with a
//! character count. [`ContentWriter::component`] writes the crate's components instead.

use icalendar::{Component, Property, ValueType};

/// The longest physical line, in octets, without its CRLF.
const LINE_OCTETS: usize = 75;

/// An iCalendar object being written.
#[derive(Debug, Default)]
pub struct ContentWriter {
    out: String,
}

impl ContentWriter {
    pub fn with_capacity(bytes: usize) -> ContentWriter {
        ContentWriter {
            out: String::with_capacity(bytes),
        }
    }

    pub fn begin(&mut self, component: &str) {
        self.raw("BEGIN", component);
    }

    pub fn end(&mut self, component: &str) {
        self.raw("END", component);
    }

    /// A property whose value is TEXT: escaped here.
    pub fn text(&mut self, name: &str, value: &str) {
        self.raw(name, &escape_text(value));
    }

    /// A property whose value is written as given: dates, numbers, URIs, enumerations and
    /// already escaped text lists. Control characters are still removed.
    pub fn raw(&mut self, name: &str, value: &str) {
        self.line(name, &[], value);
    }

    /// A property with parameters; the value is written as given.
    pub fn line(&mut self, name: &str, params: &[(&str, &str)], value: &str) {
        let mut line = String::with_capacity(name.len() + value.len() + 16);
        line.push_str(name);
        for (key, param) in params {
            line.push(';');
            line.push_str(key);
            line.push('=');
            push_param_value(&mut line, param);
        }
        line.push(':');
        push_without_controls(&mut line, value);
        fold_into(&mut self.out, &line);
    }

    /// Writes a component built with the `icalendar` crate: its properties in the order
    /// `order` gives (the rest after them, alphabetically), TEXT values escaped by their
    /// declared type. Nothing is added that the component does not hold.
    pub fn component(&mut self, component: &impl Component, order: &[&str]) {
        let kind = component.component_kind();
        self.begin(&kind);
        let properties = component.properties();
        let first = order.iter().filter_map(|key| properties.get(*key));
        let rest = properties
            .iter()
            .filter(|(key, _)| !order.contains(&key.as_str()))
            .map(|(_, p)| p);
        for property in first.chain(rest) {
            self.property(property);
        }
        for property in component.multi_properties().values().flatten() {
            self.property(property);
        }
        self.end(&kind);
    }

    fn property(&mut self, property: &Property) {
        let params: Vec<(&str, &str)> = property
            .params()
            .values()
            .map(|p| (p.key(), p.value()))
            .collect();
        let key = property.key();
        // The crate escapes the items of text lists when the list is built.
        let is_text_list = key == "CATEGORIES" || key == "RESOURCES";
        if property.value_type() == Some(ValueType::Text) && !is_text_list {
            self.line(key, &params, &escape_text(property.value()));
        } else {
            self.line(key, &params, property.value());
        }
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Escapes a TEXT value (RFC 5545 3.3.11). Line breaks of any style become `\n`; other
/// control characters (including tab, which some clients mishandle) are dropped or
/// turned into a space.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' | '\u{2028}' | '\u{2029}' => out.push_str("\\n"),
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value: quoted when it holds `:`, `;` or `,` (RFC 5545 3.2); a double quote
/// cannot be represented at all and is dropped, as are control characters.
fn push_param_value(line: &mut String, value: &str) {
    let clean: String = value
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    if clean.contains([':', ';', ',']) {
        line.push('"');
        line.push_str(&clean);
        line.push('"');
    } else {
        line.push_str(&clean);
    }
}

fn push_without_controls(line: &mut String, value: &str) {
    if value.chars().any(char::is_control) {
        line.extend(value.chars().filter(|c| !c.is_control()));
    } else {
        line.push_str(value);
    }
}

/// Appends `line` with CRLF, folded at 75 octets. Continuation lines begin with one
/// space, which counts towards their 75. A fold never splits a UTF-8 sequence; it does
/// split grapheme clusters (an emoji with a skin tone), which unfolding restores.
fn fold_into(out: &mut String, line: &str) {
    let mut rest = line;
    let mut limit = LINE_OCTETS;
    while rest.len() > limit {
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        limit = LINE_OCTETS - 1;
    }
    out.push_str(rest);
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(name: &str, value: &str) -> String {
        let mut w = ContentWriter::default();
        w.text(name, value);
        w.finish()
    }

    fn unfold(s: &str) -> String {
        s.replace("\r\n ", "")
    }

    #[test]
    fn text_escapes_the_four_specials() {
        assert_eq!(
            escape_text("a\\b;c,d\ne"),
            "a\\\\b\\;c\\,d\\ne",
            "backslash first, so escapes are not doubled"
        );
    }

    #[test]
    fn every_line_break_style_becomes_one_escaped_newline() {
        assert_eq!(escape_text("a\r\nb\rc\nd\u{2028}e"), "a\\nb\\nc\\nd\\ne");
    }

    #[test]
    fn control_characters_cannot_reach_the_output() {
        let value = "x\u{0}\u{7}\u{1b}[31m\u{7f}\ty\u{85}";
        let out = written("SUMMARY", value);
        assert_eq!(out, "SUMMARY:x[31m y\r\n");
    }

    #[test]
    fn an_injected_line_stays_inside_its_value() {
        let out = written(
            "SUMMARY",
            "Talk\r\nEND:VEVENT\r\nBEGIN:VEVENT\nSUMMARY:spam",
        );
        assert_eq!(out.matches("\r\n").count(), 1);
        assert!(out.starts_with("SUMMARY:Talk\\nEND:VEVENT\\nBEGIN:VEVENT\\nSUMMARY:spam"));
    }

    #[test]
    fn long_lines_fold_at_75_octets_with_crlf_and_a_space() {
        let value = "a".repeat(200);
        let out = written("DESCRIPTION", &value);
        let lines: Vec<&str> = out.trim_end_matches("\r\n").split("\r\n").collect();
        assert_eq!(lines[0].len(), 75);
        for line in &lines[1..] {
            assert!(line.starts_with(' '));
            assert!(line.len() <= 75);
        }
        assert_eq!(unfold(&out), format!("DESCRIPTION:{value}\r\n"));
    }

    #[test]
    fn folding_never_splits_a_utf8_character() {
        for prefix in 0..4 {
            let value = format!("{}{}", "x".repeat(prefix), "漢字🎻é".repeat(60));
            let out = written("SUMMARY", &value);
            for line in out.split("\r\n") {
                assert!(line.len() <= 75, "{} octets", line.len());
                // Each physical line is valid UTF-8 on its own.
                assert!(std::str::from_utf8(line.as_bytes()).is_ok());
            }
            assert_eq!(unfold(&out), format!("SUMMARY:{value}\r\n"));
        }
    }

    #[test]
    fn a_line_of_exactly_75_octets_is_not_folded() {
        let out = written("SUMMARY", &"b".repeat(75 - "SUMMARY:".len()));
        assert!(!out.contains("\r\n "));
        let out = written("SUMMARY", &"b".repeat(76 - "SUMMARY:".len()));
        assert!(out.contains("\r\n "));
    }

    #[test]
    fn parameter_values_are_quoted_or_cleaned() {
        let mut w = ContentWriter::default();
        w.line("X-A", &[("TZID", "Europe/Paris")], "1");
        w.line("X-B", &[("CN", "Doe, \"Jane\"\r\n")], "2");
        assert_eq!(
            w.finish(),
            "X-A;TZID=Europe/Paris:1\r\nX-B;CN=\"Doe, Jane\":2\r\n"
        );
    }
}
