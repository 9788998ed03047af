use super::{CreativeField, slug_enum};

slug_enum! {
    /// What sort of event it is. Festival, exhibition and workshop cover most of the
    /// network; the others earn their place because whole fields live on them
    /// (Film screenings, Music performances, Literature talks and readings,
    /// Crafts and Gastronomy markets).
    EventKind, "kind", {
        Festival => ("festival", "Festival"),
        Exhibition => ("exhibition", "Exhibition"),
        Workshop => ("workshop", "Workshop"),
        Performance => ("performance", "Performance"),
        Screening => ("screening", "Screening"),
        Talk => ("talk", "Talk or reading"),
        Market => ("market", "Market or fair"),
    }
}

impl EventKind {
    /// The kinds that suit a field best, used by the demo generator and as hints.
    pub fn typical_for(field: CreativeField) -> &'static [EventKind] {
        use EventKind::*;
        match field {
            CreativeField::CraftsAndFolkArt => &[Market, Workshop, Exhibition, Festival],
            CreativeField::Design => &[Exhibition, Talk, Workshop, Festival],
            CreativeField::Film => &[Screening, Festival, Talk, Workshop],
            CreativeField::Gastronomy => &[Market, Workshop, Festival, Talk],
            CreativeField::Literature => &[Talk, Festival, Workshop, Exhibition],
            CreativeField::MediaArts => &[Exhibition, Performance, Workshop, Festival],
            CreativeField::Music => &[Performance, Festival, Workshop, Talk],
            CreativeField::Architecture => &[Exhibition, Talk, Workshop, Festival],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_unknown_kinds_are_rejected() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.slug()), Ok(*k));
        }
        assert!(EventKind::parse("party").is_err());
        assert!(EventKind::parse("FESTIVAL").is_err());
        assert!(EventKind::parse("festival ").is_err());
    }

    #[test]
    fn every_field_has_typical_kinds() {
        for f in CreativeField::ALL {
            assert!(!EventKind::typical_for(*f).is_empty());
        }
    }
}
