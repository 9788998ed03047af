use std::fmt;

use chrono_tz::Tz;

/// An ISO 3166-1 alpha-2 country code, upper case (`PL`, `BR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CountryCodeError {
    #[error("a country code is two letters, such as PT or KR")]
    Malformed,
    #[error("“{0}” is not an ISO 3166 country code, such as PT or KR")]
    Unknown(String),
}

/// ISO 3166-1 alpha-2 codes and their common English names, one `code<TAB>name` a line,
/// from Debian's iso-codes (see data/README.md).
const ISO_3166_1: &str = include_str!("../../data/iso_3166-1.tsv");

impl CountryCode {
    /// Two letters in either case, so `?country=pt` works as well as `?country=PT`.
    /// The cities data may use a user-assigned code (`XK` is Kosovo's); a filter takes
    /// only codes ISO 3166-1 assigns, through [`CountryCode::parse_assigned`].
    pub fn parse(value: &str) -> Result<CountryCode, CountryCodeError> {
        match value.trim().as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => Ok(CountryCode([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
            ])),
            _ => Err(CountryCodeError::Malformed),
        }
    }

    /// A code that ISO 3166-1 assigns to a country; two letters it does not (`ZZ`) are
    /// refused, so that a mistyped code is told apart from a real country that has no
    /// member city.
    pub fn parse_assigned(value: &str) -> Result<CountryCode, CountryCodeError> {
        let code = CountryCode::parse(value)?;
        match code.iso_name() {
            Some(_) => Ok(code),
            None => Err(CountryCodeError::Unknown(code.as_str().to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// Every code ISO 3166-1 assigns, in order: what [`CountryCode::parse_assigned`]
    /// accepts, for the API's document.
    pub fn assigned() -> impl Iterator<Item = &'static str> {
        ISO_3166_1
            .lines()
            .filter_map(|line| line.split('\t').next())
    }

    /// The country's common English name in ISO 3166-1 ("Bolivia", "South Korea" is
    /// "Korea, Republic of" there); pages prefer the name the cities data gives.
    pub fn iso_name(&self) -> Option<&'static str> {
        ISO_3166_1
            .lines()
            .find_map(|line| line.strip_prefix(self.as_str())?.strip_prefix('\t'))
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An IANA time-zone name that the tz database bundled in chrono-tz knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZoneName(Tz);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not an IANA time zone (such as Europe/Lisbon)")]
pub struct TimeZoneError(pub String);

impl TimeZoneName {
    pub fn parse(value: &str) -> Result<TimeZoneName, TimeZoneError> {
        value
            .trim()
            .parse::<Tz>()
            .map(TimeZoneName)
            .map_err(|_| TimeZoneError(value.chars().take(64).collect()))
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl TryFrom<String> for CountryCode {
    type Error = CountryCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        CountryCode::parse(&value)
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = TimeZoneError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        TimeZoneName::parse(&value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_two_letters_in_either_case() {
        assert_eq!(CountryCode::parse("pt").unwrap().as_str(), "PT");
        assert_eq!(CountryCode::parse("KR").unwrap().as_str(), "KR");
        for bad in ["", "P", "PRT", "P1", "é1", "'; --"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_codes_that_iso_3166_assigns_are_country_codes() {
        assert_eq!(
            CountryCode::parse_assigned("zz"),
            Err(CountryCodeError::Unknown("ZZ".into()))
        );
        assert!(CountryCode::parse("XK").is_ok(), "user-assigned, in data");
        assert_eq!(
            CountryCode::parse("is").unwrap().iso_name(),
            Some("Iceland")
        );
        // The first and last lines of the table.
        assert_eq!(
            CountryCode::parse("AD").unwrap().iso_name(),
            Some("Andorra")
        );
        assert!(CountryCode::parse_assigned("ZW").is_ok());
    }

    #[test]
    fn time_zones_are_checked_against_the_tz_database() {
        assert_eq!(
            TimeZoneName::parse("Asia/Kathmandu").unwrap().name(),
            "Asia/Kathmandu"
        );
        assert!(TimeZoneName::parse("Europe/Atlantis").is_err());
        assert!(TimeZoneName::parse("").is_err());
    }
}
