use std::fmt;

/// A URL slug: lower-case ASCII letters, digits and single hyphens, 1 to 80 characters,
/// neither starting nor ending with a hyphen (`krakow`, `sao-paulo`, `granada-es`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

/// Why a slug was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("a slug cannot be empty")]
    Empty,
    #[error("a slug is at most {max} characters", max = Slug::MAX_LEN)]
    TooLong,
    #[error("a slug uses only lower-case letters a-z, digits and single hyphens")]
    BadCharacters,
}

impl Slug {
    pub const MAX_LEN: usize = 80;

    /// Parses an existing slug, as found in a URL.
    pub fn parse(value: &str) -> Result<Slug, SlugError> {
        if value.is_empty() {
            return Err(SlugError::Empty);
        }
        if value.len() > Self::MAX_LEN {
            return Err(SlugError::TooLong);
        }
        let well_formed = value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !value.starts_with('-')
            && !value.ends_with('-')
            && !value.contains("--");
        if !well_formed {
            return Err(SlugError::BadCharacters);
        }
        Ok(Slug(value.to_owned()))
    }

    /// Makes a slug from a display name: transliterates to ASCII (Kraków → krakow,
    /// São Paulo → sao-paulo, Łódź → lodz) and joins words with hyphens.
    pub fn from_name(name: &str) -> Result<Slug, SlugError> {
        let ascii = deunicode::deunicode(name).to_ascii_lowercase();
        let mut slug = String::with_capacity(ascii.len());
        for c in ascii.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        while slug.ends_with('-') {
            slug.pop();
        }
        if slug.len() > Self::MAX_LEN {
            slug.truncate(Self::MAX_LEN);
            while slug.ends_with('-') {
                slug.pop();
            }
        }
        Slug::parse(&slug)
    }

    /// The same slug with a suffix, used to tell apart two cities of one name
    /// (`granada` + `es` → `granada-es`).
    pub fn with_suffix(&self, suffix: &str) -> Result<Slug, SlugError> {
        Slug::from_name(&format!("{}-{}", self.0, suffix))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Slug {
    type Error = SlugError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Slug::parse(&value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_accents_become_ascii_slugs() {
        let cases = [
            ("Kraków", "krakow"),
            ("São Paulo", "sao-paulo"),
            ("Bogotá", "bogota"),
            ("Montréal", "montreal"),
            ("Łódź", "lodz"),
            ("Bistrița", "bistrita"),
            ("Al-Ahsa", "al-ahsa"),
            ("Jeonju ", "jeonju"),
            ("Ulyanovsk (Oblast)", "ulyanovsk-oblast"),
            ("Hamamatsu   City", "hamamatsu-city"),
        ];
        for (name, slug) in cases {
            assert_eq!(Slug::from_name(name).unwrap().as_str(), slug, "{name}");
        }
    }

    #[test]
    fn a_suffix_tells_two_cities_of_one_name_apart() {
        let granada = Slug::from_name("Granada").unwrap();
        assert_eq!(granada.with_suffix("ES").unwrap().as_str(), "granada-es");
        assert_eq!(granada.with_suffix("ni").unwrap().as_str(), "granada-ni");
    }

    #[test]
    fn malformed_slugs_are_rejected() {
        assert_eq!(Slug::parse(""), Err(SlugError::Empty));
        for bad in [
            "Krakow",
            "kraków",
            "-krakow",
            "krakow-",
            "sao--paulo",
            "sao paulo",
            "a/b",
            "x;drop",
        ] {
            assert_eq!(Slug::parse(bad), Err(SlugError::BadCharacters), "{bad}");
        }
        assert_eq!(Slug::parse(&"a".repeat(81)), Err(SlugError::TooLong));
        assert!(Slug::parse(&"a".repeat(80)).is_ok());
    }

    #[test]
    fn a_name_with_nothing_to_keep_has_no_slug() {
        assert_eq!(Slug::from_name("  --  "), Err(SlugError::Empty));
        assert_eq!(Slug::from_name(""), Err(SlugError::Empty));
    }
}
