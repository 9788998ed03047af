use super::slug_enum;

slug_enum! {
    /// The eight creative fields of the UNESCO Creative Cities Network
    /// (Architecture joined in 2025).
    CreativeField, "field", {
        CraftsAndFolkArt => ("crafts-and-folk-art", "Crafts and Folk Art"),
        Design => ("design", "Design"),
        Film => ("film", "Film"),
        Gastronomy => ("gastronomy", "Gastronomy"),
        Literature => ("literature", "Literature"),
        MediaArts => ("media-arts", "Media Arts"),
        Music => ("music", "Music"),
        Architecture => ("architecture", "Architecture"),
    }
}

impl CreativeField {
    /// Parses the name used by UNESCO and by `creative_cities.csv` ("Media Arts").
    pub fn from_label(label: &str) -> Option<Self> {
        let label = label.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.label().eq_ignore_ascii_case(label))
    }

    /// "City of Music", "City of Crafts and Folk Art".
    pub fn city_title(self) -> String {
        format!("City of {}", self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_round_trips_through_its_slug() {
        assert_eq!(CreativeField::ALL.len(), 8);
        for f in CreativeField::ALL {
            assert_eq!(CreativeField::parse(f.slug()), Ok(*f));
            assert_eq!(CreativeField::from_label(f.label()), Some(*f));
        }
    }

    #[test]
    fn labels_from_the_csv_are_understood() {
        assert_eq!(
            CreativeField::from_label("Crafts and Folk Art"),
            Some(CreativeField::CraftsAndFolkArt)
        );
        assert_eq!(
            CreativeField::from_label(" media arts "),
            Some(CreativeField::MediaArts)
        );
        assert_eq!(CreativeField::from_label("Dance"), None);
    }

    #[test]
    fn an_unknown_field_slug_is_rejected_with_its_value() {
        let err = CreativeField::parse("nope").unwrap_err();
        assert_eq!(err.to_string(), "unknown field \"nope\"");
        assert!(
            CreativeField::parse("Music").is_err(),
            "slugs are case-sensitive"
        );
        assert!(CreativeField::parse("").is_err());
    }
}
