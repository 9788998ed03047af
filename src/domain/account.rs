use std::fmt;

use super::text::{TextError, UNDECODABLE, clean_line, decoded};

/// An email address, trimmed and lower-cased: accounts are found by it, and
/// "Ana@Example.org" and "ana@example.org " are the same person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("enter your email address")]
    Empty,
    #[error("an email address is at most {max} characters")]
    TooLong { max: usize },
    #[error("this does not look like an email address (name@example.org)")]
    Malformed,
}

impl Email {
    /// RFC 5321's limit on a forward path.
    pub const MAX_CHARS: usize = 254;

    /// A deliberately loose check: one `@`, something before it, a domain with a dot
    /// after it, and no spaces or control characters. Only a message that arrives proves
    /// an address; a stricter pattern would only refuse real ones.
    pub fn parse(value: &str) -> Result<Email, EmailError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(EmailError::Empty);
        }
        if value.chars().count() > Self::MAX_CHARS {
            return Err(EmailError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        let (local, domain) = value.rsplit_once('@').ok_or(EmailError::Malformed)?;
        let bad_char =
            |c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | UNDECODABLE);
        if local.is_empty()
            || local.contains('@')
            || domain.len() < 3
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || value.chars().any(bad_char)
        {
            return Err(EmailError::Malformed);
        }
        Ok(Email(value.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name an organiser is shown by: one line of 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(value: &str) -> Result<DisplayName, TextError> {
        required_line(value, "your name", Self::MAX_CHARS).map(DisplayName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an organiser calls an API token ("Festival website", "Ticketing sync"), so
/// that they know which system to update when they revoke it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(value: &str) -> Result<TokenName, TextError> {
        required_line(value, "the token's name", Self::MAX_CHARS).map(TokenName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The organisation an organiser speaks for ("Festival office of Braga"); may be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation(String);

impl Organisation {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(value: &str) -> Result<Organisation, TextError> {
        optional_line(value, "the organisation", Self::MAX_CHARS).map(Organisation)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 12 to 1,024 characters. The upper bound keeps one sign-up from
/// costing the hasher megabytes; nothing else is required of it, because length is what
/// makes a password strong and composition rules only make it harder to remember.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password has at least {min} characters (this one has {len})")]
    TooShort { min: usize, len: usize },
    #[error("a password has at most {max} characters")]
    TooLong { max: usize },
    #[error("the password holds bytes that are not text (UTF-8); type it again")]
    NotText,
}

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 1024;

    /// Taken as typed: spaces inside and at the ends are part of a passphrase.
    pub fn parse(value: &str) -> Result<Password, PasswordError> {
        if value.contains(UNDECODABLE) {
            return Err(PasswordError::NotText);
        }
        let len = value.chars().count();
        if len < Self::MIN_CHARS {
            return Err(PasswordError::TooShort {
                min: Self::MIN_CHARS,
                len,
            });
        }
        if len > Self::MAX_CHARS {
            return Err(PasswordError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        Ok(Password(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Never printed, so that a password cannot reach a log by way of `{:?}`.
impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// One cleaned line that must not be empty.
pub(crate) fn required_line(
    value: &str,
    what: &'static str,
    max: usize,
) -> Result<String, TextError> {
    let cleaned = optional_line(value, what, max)?;
    if cleaned.is_empty() {
        return Err(TextError::Empty { what });
    }
    Ok(cleaned)
}

/// One cleaned line, possibly empty, of at most `max` characters.
pub(crate) fn optional_line(
    value: &str,
    what: &'static str,
    max: usize,
) -> Result<String, TextError> {
    decoded(value, what)?;
    let cleaned = clean_line(value);
    let len = cleaned.chars().count();
    if len > max {
        return Err(TextError::TooLong { what, max, len });
    }
    Ok(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ana.Silva@Braga.PT ").unwrap().as_str(),
            "ana.silva@braga.pt"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "ana",
            "@braga.pt",
            "ana@",
            "ana@pt",
            "ana@.pt",
            "ana @braga.pt",
            "ana@braga.pt\n",
            "<ana@braga.pt>",
            "ana@braga.",
        ] {
            assert!(Email::parse(bad).is_err() || bad.ends_with('\n'), "{bad:?}");
        }
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        assert_eq!(
            Email::parse(&format!("{}@example.org", "a".repeat(300))),
            Err(EmailError::TooLong { max: 254 })
        );
    }

    #[test]
    fn a_password_needs_twelve_characters_and_is_never_printed() {
        assert_eq!(
            Password::parse("short pass"),
            Err(PasswordError::TooShort { min: 12, len: 10 })
        );
        let p = Password::parse("correct horse battery").unwrap();
        assert_eq!(p.expose(), "correct horse battery");
        assert!(!format!("{p:?}").contains("horse"));
        assert!(Password::parse(&"x".repeat(1025)).is_err());
        // Twelve characters, not twelve bytes.
        assert!(Password::parse("ééééééééééé").is_err());
        assert!(Password::parse("éééééééééééé").is_ok());
    }

    #[test]
    fn names_are_one_clean_line() {
        assert_eq!(
            DisplayName::parse(" Ana\u{202E} Silva\n").unwrap().as_str(),
            "Ana Silva"
        );
        assert!(DisplayName::parse("  ").is_err());
        assert!(DisplayName::parse(&"a".repeat(101)).is_err());
        assert_eq!(Organisation::parse("").unwrap().as_str(), "");
    }
}
