use std::fmt;

/// Why a piece of text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{what} cannot be empty")]
    Empty { what: &'static str },
    #[error("{what} is at most {} characters (this one has {})", thousands(*.max as i64), thousands(*.len as i64))]
    TooLong {
        what: &'static str,
        max: usize,
        len: usize,
    },
    #[error("{what} holds bytes that are not text (UTF-8); type it again")]
    NotText { what: &'static str },
}

/// The character that stands for bytes that were not UTF-8: the form decoder
/// (`crate::urlencoded`) keeps a field's bad bytes as this, so that the form can show the
/// value again, and every text parser refuses it, so that it is never stored. No one
/// types it on purpose.
pub const UNDECODABLE: char = '\u{fffd}';

/// Refuses text that held bytes that were not UTF-8 (see [`UNDECODABLE`]).
pub fn decoded(value: &str, what: &'static str) -> Result<(), TextError> {
    if value.contains(UNDECODABLE) {
        Err(TextError::NotText { what })
    } else {
        Ok(())
    }
}

/// Removes control characters and the bidirectional overrides that can make a title
/// display as something else, and folds runs of white space into one space.
pub fn clean_line(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_whitespace() || c.is_control() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else if !is_bidi_control(c) {
            out.push(c);
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// Cleans text of several lines (a description): line breaks become `\n`, other control
/// characters and bidirectional overrides go, and spaces at the ends of the text go.
/// Paragraphs and indentation inside are kept, because organisers format with them.
pub fn clean_text(value: &str) -> String {
    let normalised = value.replace("\r\n", "\n");
    let mut out = String::with_capacity(normalised.len());
    for c in normalised.chars() {
        match c {
            '\n' | '\r' | '\u{2028}' | '\u{2029}' => out.push('\n'),
            '\t' => out.push(' '),
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out.trim().to_owned()
}

/// Echoes a bad value back safely: shortened, and without control characters, which
/// would be raw bytes in a page (NUL is not even allowed in HTML).
/// Bytes as lower-case hexadecimal: how hashes are stored and compared.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn short(value: &str) -> String {
    let mut s: String = value.chars().filter(|c| !c.is_control()).take(40).collect();
    if value.chars().count() > 40 {
        s.push('…');
    }
    s
}

/// 12345 → "12,345".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Text of several lines, cleaned ([`clean_text`]), of at most `max` characters.
pub fn limited_text(value: &str, what: &'static str, max: usize) -> Result<String, TextError> {
    decoded(value, what)?;
    let cleaned = clean_text(value);
    let len = cleaned.chars().count();
    if len > max {
        return Err(TextError::TooLong { what, max, len });
    }
    Ok(cleaned)
}

/// A message as a sentence: "the title cannot be empty" → "The title cannot be empty."
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.is_empty() && !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// An event's title: one line of 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTitle(String);

impl EventTitle {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(value: &str) -> Result<EventTitle, TextError> {
        decoded(value, "the title")?;
        let cleaned = clean_line(value);
        if cleaned.is_empty() {
            return Err(TextError::Empty { what: "the title" });
        }
        let len = cleaned.chars().count();
        if len > Self::MAX_CHARS {
            return Err(TextError::TooLong {
                what: "the title",
                max: Self::MAX_CHARS,
                len,
            });
        }
        Ok(EventTitle(cleaned))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EventTitle {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        EventTitle::parse(&value)
    }
}

impl From<EventTitle> for String {
    fn from(t: EventTitle) -> String {
        t.0
    }
}

impl AsRef<str> for EventTitle {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventTitle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_is_trimmed_and_kept() {
        let t = EventTitle::parse("  Festival of Light, Sound; and ✨  ").unwrap();
        assert_eq!(t.as_str(), "Festival of Light, Sound; and ✨");
    }

    #[test]
    fn an_empty_or_blank_title_is_rejected() {
        for blank in ["", "   ", "\n\t", "\u{202E}"] {
            assert_eq!(
                EventTitle::parse(blank),
                Err(TextError::Empty { what: "the title" })
            );
        }
    }

    #[test]
    fn a_title_longer_than_200_characters_is_rejected() {
        assert!(EventTitle::parse(&"é".repeat(200)).is_ok());
        let err = EventTitle::parse(&"é".repeat(201)).unwrap_err();
        assert_eq!(
            err,
            TextError::TooLong {
                what: "the title",
                max: 200,
                len: 201
            }
        );
        assert!(EventTitle::parse(&"x".repeat(50_000)).is_err());
    }

    #[test]
    fn several_lines_keep_their_breaks_but_lose_controls() {
        assert_eq!(
            clean_text("  First line\r\nsecond\u{0000}\u{202E} line\r\rthird\t.  "),
            "First line\nsecond line\n\nthird ."
        );
    }

    #[test]
    fn line_breaks_controls_and_direction_overrides_are_removed() {
        let t = EventTitle::parse("Jazz\r\nNight\u{0007}\u{202E}gnp.exe").unwrap();
        assert_eq!(t.as_str(), "Jazz Night gnp.exe");
    }
}
