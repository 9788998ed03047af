//! Resolving the TZIDs found in feeds to IANA time zones.
//!
//! Feeds name zones in many ways: IANA names (sometimes behind a vendor
//! prefix), Windows zone names from Exchange, Outlook display names, or only
//! a VTIMEZONE block with a hint. This maps all of these to a `chrono_tz::Tz`.

use std::str::FromStr;

use chrono_tz::Tz;

use super::ics::Component;

/// The IANA zone for `tzid`, using the feed's own VTIMEZONE blocks as a last resort.
///
/// Tries, in order: the common names of UTC (`UTC`, `GMT`, `Z`, `Etc/GMT`,
/// …), all given as `Tz::UTC`; the TZID as an IANA name (also after trimming
/// quotes, whitespace and vendor prefixes such as `/mozilla.org/20050126_1/`);
/// a Windows zone name; an Outlook display name such as
/// `(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna`; and finally
/// the `X-LIC-LOCATION` of the VTIMEZONE in `calendar` with the same TZID,
/// read the same way.
pub fn resolve(tzid: &str, calendar: &Component) -> Option<Tz> {
    let name = clean(tzid);
    if name.is_empty() {
        return None;
    }
    // UTC's aliases come first so that "GMT" or "Etc/UTC" all give the one `Tz::UTC`.
    utc_alias(name)
        .or_else(|| iana(name))
        .or_else(|| windows_zone(name))
        .or_else(|| display_name(name))
        .or_else(|| from_vtimezone(tzid, calendar))
}

/// The IANA zone CLDR maps a Windows zone name to (territory "001"), e.g.
/// `W. Europe Standard Time` → `Europe/Berlin`.
///
/// Case-insensitive; surrounding whitespace and quotes are ignored.
pub fn windows_zone(name: &str) -> Option<Tz> {
    lookup(WINDOWS_ZONES, &clean(name).to_lowercase())
}

fn clean(tzid: &str) -> &str {
    tzid.trim().trim_matches(['"', '\'']).trim()
}

fn lookup(table: &[(&str, &str)], key: &str) -> Option<Tz> {
    let index = table.binary_search_by(|(k, _)| (*k).cmp(key)).ok()?;
    let (_, zone) = table.get(index)?;
    Tz::from_str(zone).ok()
}

/// An IANA name, possibly behind a prefix: `/mozilla.org/20050126_1/Europe/Berlin`,
/// `/softwarestudio.org/Olson_20011030_5/America/New_York`, `/Europe/Paris`.
fn iana(name: &str) -> Option<Tz> {
    if let Ok(zone) = Tz::from_str(name) {
        return Some(zone);
    }
    // Vendors prefix the name with paths of their own; rather than list every
    // vendor, try each tail of the path, longest first.
    let mut rest = name.trim_start_matches('/');
    loop {
        if let Ok(zone) = Tz::from_str(rest) {
            return Some(zone);
        }
        let (_, tail) = rest.split_once('/')?;
        rest = tail;
    }
}

fn utc_alias(name: &str) -> Option<Tz> {
    const ALIASES: &[&str] = &[
        "utc",
        "gmt",
        "z",
        "etc/gmt",
        "etc/utc",
        "uct",
        "zulu",
        "universal",
        "coordinated universal time",
        "greenwich mean time",
    ];
    let lower = name.to_lowercase();
    ALIASES.contains(&lower.as_str()).then_some(Tz::UTC)
}

/// Outlook writes the display name into TZID, with an offset prefix that
/// varies (`(UTC+01:00)`, older `(GMT+01:00)`, or the summer offset), so only
/// the list of cities after it is compared.
fn display_name(name: &str) -> Option<Tz> {
    let mut rest = name.trim();
    if rest.starts_with('(')
        && let Some(close) = rest.find(')')
    {
        let prefix = rest.get(1..close).unwrap_or_default().to_lowercase();
        if prefix.starts_with("utc") || prefix.starts_with("gmt") {
            if (prefix == "utc" || prefix == "gmt")
                && rest.get(close + 1..).is_none_or(|r| r.trim().is_empty())
            {
                return Some(Tz::UTC);
            }
            rest = rest.get(close + 1..).unwrap_or_default();
        }
    }
    // Some producers escape the commas in the name as TEXT.
    let key: String = rest
        .trim()
        .replace("\\,", ",")
        .replace("&amp;", "&")
        .to_lowercase();
    lookup(DISPLAY_NAMES, &key)
}

fn from_vtimezone(tzid: &str, calendar: &Component) -> Option<Tz> {
    let wanted = clean(tzid);
    let vtimezone = calendar.children_named("VTIMEZONE").find(|tz| {
        tz.property("TZID")
            .is_some_and(|p| clean(&p.text()).eq_ignore_ascii_case(wanted))
    })?;
    vtimezone.properties("X-LIC-LOCATION").find_map(|p| {
        let hint = p.text();
        let hint = clean(&hint);
        utc_alias(hint)
            .or_else(|| iana(hint))
            .or_else(|| windows_zone(hint))
            .or_else(|| display_name(hint))
    })
}

// Generated from CLDR windowsZones.xml (territory "001"), commit c33a1f0a23e3b676b406345fe0b42c130defc51d (2025-04-10),
// via the icalendar package's windows_to_olson.py; cross-checked against tzlocal's win_tz.
// Sorted by lower-cased Windows name so lookups can binary-search.

static WINDOWS_ZONES: &[(&str, &str)] = &[
    ("afghanistan standard time", "Asia/Kabul"),
    ("alaskan standard time", "America/Anchorage"),
    ("aleutian standard time", "America/Adak"),
    ("altai standard time", "Asia/Barnaul"),
    ("arab standard time", "Asia/Riyadh"),
    ("arabian standard time", "Asia/Dubai"),
    ("arabic standard time", "Asia/Baghdad"),
    ("argentina standard time", "America/Buenos_Aires"),
    ("astrakhan standard time", "Europe/Astrakhan"),
    ("atlantic standard time", "America/Halifax"),
    ("aus central standard time", "Australia/Darwin"),
    ("aus central w. standard time", "Australia/Eucla"),
    ("aus eastern standard time", "Australia/Sydney"),
    ("azerbaijan standard time", "Asia/Baku"),
    ("azores standard time", "Atlantic/Azores"),
    ("bahia standard time", "America/Bahia"),
    ("bangladesh standard time", "Asia/Dhaka"),
    ("belarus standard time", "Europe/Minsk"),
    ("bougainville standard time", "Pacific/Bougainville"),
    ("canada central standard time", "America/Regina"),
    ("cape verde standard time", "Atlantic/Cape_Verde"),
    ("caucasus standard time", "Asia/Yerevan"),
    ("cen. australia standard time", "Australia/Adelaide"),
    ("central america standard time", "America/Guatemala"),
    ("central asia standard time", "Asia/Bishkek"),
    ("central brazilian standard time", "America/Cuiaba"),
    ("central europe standard time", "Europe/Budapest"),
    ("central european standard time", "Europe/Warsaw"),
    ("central pacific standard time", "Pacific/Guadalcanal"),
    ("central standard time", "America/Chicago"),
    ("central standard time (mexico)", "America/Mexico_City"),
    ("chatham islands standard time", "Pacific/Chatham"),
    ("china standard time", "Asia/Shanghai"),
    ("cuba standard time", "America/Havana"),
    ("dateline standard time", "Etc/GMT+12"),
    ("e. africa standard time", "Africa/Nairobi"),
    ("e. australia standard time", "Australia/Brisbane"),
    ("e. europe standard time", "Europe/Chisinau"),
    ("e. south america standard time", "America/Sao_Paulo"),
    ("easter island standard time", "Pacific/Easter"),
    ("eastern standard time", "America/New_York"),
    ("eastern standard time (mexico)", "America/Cancun"),
    ("egypt standard time", "Africa/Cairo"),
    ("ekaterinburg standard time", "Asia/Yekaterinburg"),
    ("fiji standard time", "Pacific/Fiji"),
    ("fle standard time", "Europe/Kiev"),
    ("georgian standard time", "Asia/Tbilisi"),
    ("gmt standard time", "Europe/London"),
    ("greenland standard time", "America/Godthab"),
    ("greenwich standard time", "Atlantic/Reykjavik"),
    ("gtb standard time", "Europe/Bucharest"),
    ("haiti standard time", "America/Port-au-Prince"),
    ("hawaiian standard time", "Pacific/Honolulu"),
    ("india standard time", "Asia/Calcutta"),
    ("iran standard time", "Asia/Tehran"),
    ("israel standard time", "Asia/Jerusalem"),
    ("jordan standard time", "Asia/Amman"),
    ("kaliningrad standard time", "Europe/Kaliningrad"),
    ("korea standard time", "Asia/Seoul"),
    ("libya standard time", "Africa/Tripoli"),
    ("line islands standard time", "Pacific/Kiritimati"),
    ("lord howe standard time", "Australia/Lord_Howe"),
    ("magadan standard time", "Asia/Magadan"),
    ("magallanes standard time", "America/Punta_Arenas"),
    ("marquesas standard time", "Pacific/Marquesas"),
    ("mauritius standard time", "Indian/Mauritius"),
    ("middle east standard time", "Asia/Beirut"),
    ("montevideo standard time", "America/Montevideo"),
    ("morocco standard time", "Africa/Casablanca"),
    ("mountain standard time", "America/Denver"),
    ("mountain standard time (mexico)", "America/Mazatlan"),
    ("myanmar standard time", "Asia/Rangoon"),
    ("n. central asia standard time", "Asia/Novosibirsk"),
    ("namibia standard time", "Africa/Windhoek"),
    ("nepal standard time", "Asia/Katmandu"),
    ("new zealand standard time", "Pacific/Auckland"),
    ("newfoundland standard time", "America/St_Johns"),
    ("norfolk standard time", "Pacific/Norfolk"),
    ("north asia east standard time", "Asia/Irkutsk"),
    ("north asia standard time", "Asia/Krasnoyarsk"),
    ("north korea standard time", "Asia/Pyongyang"),
    ("omsk standard time", "Asia/Omsk"),
    ("pacific sa standard time", "America/Santiago"),
    ("pacific standard time", "America/Los_Angeles"),
    ("pacific standard time (mexico)", "America/Tijuana"),
    ("pakistan standard time", "Asia/Karachi"),
    ("paraguay standard time", "America/Asuncion"),
    ("qyzylorda standard time", "Asia/Qyzylorda"),
    ("romance standard time", "Europe/Paris"),
    ("russia time zone 10", "Asia/Srednekolymsk"),
    ("russia time zone 11", "Asia/Kamchatka"),
    ("russia time zone 3", "Europe/Samara"),
    ("russian standard time", "Europe/Moscow"),
    ("sa eastern standard time", "America/Cayenne"),
    ("sa pacific standard time", "America/Bogota"),
    ("sa western standard time", "America/La_Paz"),
    ("saint pierre standard time", "America/Miquelon"),
    ("sakhalin standard time", "Asia/Sakhalin"),
    ("samoa standard time", "Pacific/Apia"),
    ("sao tome standard time", "Africa/Sao_Tome"),
    ("saratov standard time", "Europe/Saratov"),
    ("se asia standard time", "Asia/Bangkok"),
    ("singapore standard time", "Asia/Singapore"),
    ("south africa standard time", "Africa/Johannesburg"),
    ("south sudan standard time", "Africa/Juba"),
    ("sri lanka standard time", "Asia/Colombo"),
    ("sudan standard time", "Africa/Khartoum"),
    ("syria standard time", "Asia/Damascus"),
    ("taipei standard time", "Asia/Taipei"),
    ("tasmania standard time", "Australia/Hobart"),
    ("tocantins standard time", "America/Araguaina"),
    ("tokyo standard time", "Asia/Tokyo"),
    ("tomsk standard time", "Asia/Tomsk"),
    ("tonga standard time", "Pacific/Tongatapu"),
    ("transbaikal standard time", "Asia/Chita"),
    ("turkey standard time", "Europe/Istanbul"),
    ("turks and caicos standard time", "America/Grand_Turk"),
    ("ulaanbaatar standard time", "Asia/Ulaanbaatar"),
    ("us eastern standard time", "America/Indianapolis"),
    ("us mountain standard time", "America/Phoenix"),
    ("utc", "Etc/UTC"),
    ("utc+12", "Etc/GMT-12"),
    ("utc+13", "Etc/GMT-13"),
    ("utc-02", "Etc/GMT+2"),
    ("utc-08", "Etc/GMT+8"),
    ("utc-09", "Etc/GMT+9"),
    ("utc-11", "Etc/GMT+11"),
    ("venezuela standard time", "America/Caracas"),
    ("vladivostok standard time", "Asia/Vladivostok"),
    ("volgograd standard time", "Europe/Volgograd"),
    ("w. australia standard time", "Australia/Perth"),
    ("w. central africa standard time", "Africa/Lagos"),
    ("w. europe standard time", "Europe/Berlin"),
    ("w. mongolia standard time", "Asia/Hovd"),
    ("west asia standard time", "Asia/Tashkent"),
    ("west bank standard time", "Asia/Hebron"),
    ("west pacific standard time", "Pacific/Port_Moresby"),
    ("yakutsk standard time", "Asia/Yakutsk"),
    ("yukon standard time", "America/Whitehorse"),
];

// Windows time-zone display names (the part after the "(UTC+hh:mm) " prefix, lower-cased),
// as Outlook writes them into TZID, mapped through the table above. Two older
// spellings (before "Kyiv", and before Volgograd joined Moscow time) are kept too.
// Sorted for binary search.
static DISPLAY_NAMES: &[(&str, &str)] = &[
    ("abu dhabi, muscat", "Asia/Dubai"),
    ("adelaide", "Australia/Adelaide"),
    ("alaska", "America/Anchorage"),
    ("aleutian islands", "America/Adak"),
    ("amman", "Asia/Amman"),
    (
        "amsterdam, berlin, bern, rome, stockholm, vienna",
        "Europe/Berlin",
    ),
    ("anadyr, petropavlovsk-kamchatsky", "Asia/Kamchatka"),
    ("araguaina", "America/Araguaina"),
    ("arizona", "America/Phoenix"),
    ("ashgabat, tashkent", "Asia/Tashkent"),
    ("astana", "Asia/Bishkek"),
    ("astrakhan, ulyanovsk", "Europe/Astrakhan"),
    ("asuncion", "America/Asuncion"),
    ("athens, bucharest", "Europe/Bucharest"),
    ("atlantic time (canada)", "America/Halifax"),
    ("auckland, wellington", "Pacific/Auckland"),
    ("azores", "Atlantic/Azores"),
    ("baghdad", "Asia/Baghdad"),
    ("baja california", "America/Tijuana"),
    ("baku", "Asia/Baku"),
    ("bangkok, hanoi, jakarta", "Asia/Bangkok"),
    ("barnaul, gorno-altaysk", "Asia/Barnaul"),
    ("beijing, chongqing, hong kong, urumqi", "Asia/Shanghai"),
    ("beirut", "Asia/Beirut"),
    (
        "belgrade, bratislava, budapest, ljubljana, prague",
        "Europe/Budapest",
    ),
    ("bogota, lima, quito, rio branco", "America/Bogota"),
    ("bougainville island", "Pacific/Bougainville"),
    ("brasilia", "America/Sao_Paulo"),
    ("brisbane", "Australia/Brisbane"),
    ("brussels, copenhagen, madrid, paris", "Europe/Paris"),
    ("cabo verde is.", "Atlantic/Cape_Verde"),
    ("cairo", "Africa/Cairo"),
    ("canberra, melbourne, sydney", "Australia/Sydney"),
    ("caracas", "America/Caracas"),
    ("casablanca", "Africa/Casablanca"),
    ("cayenne, fortaleza", "America/Cayenne"),
    ("central america", "America/Guatemala"),
    ("central time (us & canada)", "America/Chicago"),
    ("chatham islands", "Pacific/Chatham"),
    ("chennai, kolkata, mumbai, new delhi", "Asia/Calcutta"),
    ("chetumal", "America/Cancun"),
    ("chihuahua, la paz, mazatlan", "America/Mazatlan"),
    ("chisinau", "Europe/Chisinau"),
    ("chita", "Asia/Chita"),
    ("chokurdakh", "Asia/Srednekolymsk"),
    ("city of buenos aires", "America/Buenos_Aires"),
    ("coordinated universal time", "Etc/UTC"),
    ("coordinated universal time+12", "Etc/GMT-12"),
    ("coordinated universal time+13", "Etc/GMT-13"),
    ("coordinated universal time-02", "Etc/GMT+2"),
    ("coordinated universal time-08", "Etc/GMT+8"),
    ("coordinated universal time-09", "Etc/GMT+9"),
    ("coordinated universal time-11", "Etc/GMT+11"),
    ("cuiaba", "America/Cuiaba"),
    ("damascus", "Asia/Damascus"),
    ("darwin", "Australia/Darwin"),
    ("dhaka", "Asia/Dhaka"),
    ("dublin, edinburgh, lisbon, london", "Europe/London"),
    ("easter island", "Pacific/Easter"),
    ("eastern time (us & canada)", "America/New_York"),
    ("ekaterinburg", "Asia/Yekaterinburg"),
    ("eucla", "Australia/Eucla"),
    ("fiji", "Pacific/Fiji"),
    ("gaza, hebron", "Asia/Hebron"),
    ("georgetown, la paz, manaus, san juan", "America/La_Paz"),
    ("greenland", "America/Godthab"),
    ("guadalajara, mexico city, monterrey", "America/Mexico_City"),
    ("guam, port moresby", "Pacific/Port_Moresby"),
    ("haiti", "America/Port-au-Prince"),
    ("harare, pretoria", "Africa/Johannesburg"),
    ("havana", "America/Havana"),
    ("hawaii", "Pacific/Honolulu"),
    (
        "helsinki, kiev, riga, sofia, tallinn, vilnius",
        "Europe/Kiev",
    ),
    (
        "helsinki, kyiv, riga, sofia, tallinn, vilnius",
        "Europe/Kiev",
    ),
    ("hobart", "Australia/Hobart"),
    ("hovd", "Asia/Hovd"),
    ("indiana (east)", "America/Indianapolis"),
    ("international date line west", "Etc/GMT+12"),
    ("irkutsk", "Asia/Irkutsk"),
    ("islamabad, karachi", "Asia/Karachi"),
    ("istanbul", "Europe/Istanbul"),
    ("izhevsk, samara", "Europe/Samara"),
    ("jerusalem", "Asia/Jerusalem"),
    ("kabul", "Asia/Kabul"),
    ("kaliningrad", "Europe/Kaliningrad"),
    ("kathmandu", "Asia/Katmandu"),
    ("khartoum", "Africa/Khartoum"),
    ("kiritimati island", "Pacific/Kiritimati"),
    ("krasnoyarsk", "Asia/Krasnoyarsk"),
    ("kuala lumpur, singapore", "Asia/Singapore"),
    ("kuwait, riyadh", "Asia/Riyadh"),
    ("lord howe island", "Australia/Lord_Howe"),
    ("magadan", "Asia/Magadan"),
    ("marquesas islands", "Pacific/Marquesas"),
    ("minsk", "Europe/Minsk"),
    ("monrovia, reykjavik", "Atlantic/Reykjavik"),
    ("montevideo", "America/Montevideo"),
    ("moscow, st. petersburg", "Europe/Moscow"),
    ("moscow, st. petersburg, volgograd", "Europe/Moscow"),
    ("mountain time (us & canada)", "America/Denver"),
    ("nairobi", "Africa/Nairobi"),
    ("newfoundland", "America/St_Johns"),
    ("norfolk island", "Pacific/Norfolk"),
    ("novosibirsk", "Asia/Novosibirsk"),
    ("nuku'alofa", "Pacific/Tongatapu"),
    ("omsk", "Asia/Omsk"),
    ("osaka, sapporo, tokyo", "Asia/Tokyo"),
    ("pacific time (us & canada)", "America/Los_Angeles"),
    ("perth", "Australia/Perth"),
    ("port louis", "Indian/Mauritius"),
    ("punta arenas", "America/Punta_Arenas"),
    ("pyongyang", "Asia/Pyongyang"),
    ("saint pierre and miquelon", "America/Miquelon"),
    ("sakhalin", "Asia/Sakhalin"),
    ("salvador", "America/Bahia"),
    ("samoa", "Pacific/Apia"),
    ("santiago", "America/Santiago"),
    ("sao tome", "Africa/Sao_Tome"),
    ("sarajevo, skopje, warsaw, zagreb", "Europe/Warsaw"),
    ("saratov", "Europe/Saratov"),
    ("saskatchewan", "America/Regina"),
    ("seoul", "Asia/Seoul"),
    ("solomon is., new caledonia", "Pacific/Guadalcanal"),
    ("sri jayawardenepura", "Asia/Colombo"),
    ("taipei", "Asia/Taipei"),
    ("tbilisi", "Asia/Tbilisi"),
    ("tehran", "Asia/Tehran"),
    ("tomsk", "Asia/Tomsk"),
    ("tripoli", "Africa/Tripoli"),
    ("turks and caicos", "America/Grand_Turk"),
    ("ulaanbaatar", "Asia/Ulaanbaatar"),
    ("vladivostok", "Asia/Vladivostok"),
    ("west central africa", "Africa/Lagos"),
    ("windhoek", "Africa/Windhoek"),
    ("yakutsk", "Asia/Yakutsk"),
    ("yangon (rangoon)", "Asia/Rangoon"),
    ("yerevan", "Asia/Yerevan"),
];

#[cfg(test)]
mod tests {
    use super::super::ics;
    use super::*;

    fn calendar(body: &str) -> Component {
        let text = format!("BEGIN:VCALENDAR\r\n{body}END:VCALENDAR\r\n");
        ics::read(text.as_bytes(), None).unwrap().calendar
    }

    fn tz(name: &str) -> Tz {
        Tz::from_str(name).unwrap()
    }

    #[test]
    fn tables_are_sorted_lowercase_and_parse() {
        for table in [WINDOWS_ZONES, DISPLAY_NAMES] {
            for pair in table.windows(2) {
                assert!(pair[0].0 < pair[1].0, "{:?} before {:?}", pair[0], pair[1]);
            }
            for (key, zone) in table {
                assert_eq!(*key, key.to_lowercase());
                assert!(Tz::from_str(zone).is_ok(), "{zone} does not parse");
                assert!(lookup(table, key).is_some());
            }
        }
        assert!(WINDOWS_ZONES.len() >= 135);
        assert!(DISPLAY_NAMES.len() >= 100);
    }

    #[test]
    fn windows_names() {
        let cases = [
            ("W. Europe Standard Time", "Europe/Berlin"),
            ("GMT Standard Time", "Europe/London"),
            ("Romance Standard Time", "Europe/Paris"),
            ("Central European Standard Time", "Europe/Warsaw"),
            ("Tokyo Standard Time", "Asia/Tokyo"),
            ("Eastern Standard Time", "America/New_York"),
            ("China Standard Time", "Asia/Shanghai"),
            ("AUS Eastern Standard Time", "Australia/Sydney"),
            ("E. South America Standard Time", "America/Sao_Paulo"),
            ("  w. europe standard time ", "Europe/Berlin"),
            ("\"Pacific Standard Time\"", "America/Los_Angeles"),
        ];
        for (name, zone) in cases {
            assert_eq!(windows_zone(name), Some(tz(zone)), "{name}");
            assert_eq!(resolve(name, &calendar("")), Some(tz(zone)), "{name}");
        }
        assert_eq!(windows_zone("Mars Standard Time"), None);
        assert_eq!(windows_zone(""), None);
    }

    #[test]
    fn iana_names_with_prefixes() {
        let cal = calendar("");
        let cases = [
            ("Europe/Berlin", "Europe/Berlin"),
            (" \"Europe/Berlin\" ", "Europe/Berlin"),
            ("/mozilla.org/20050126_1/Europe/Berlin", "Europe/Berlin"),
            (
                "/mozilla.org/20070129_1/America/Argentina/Buenos_Aires",
                "America/Argentina/Buenos_Aires",
            ),
            (
                "/softwarestudio.org/Olson_20011030_5/America/New_York",
                "America/New_York",
            ),
            ("/citadel.org/20190914_1/Europe/Paris", "Europe/Paris"),
            ("/Europe/Vienna", "Europe/Vienna"),
            (
                "America/Indiana/Indianapolis",
                "America/Indiana/Indianapolis",
            ),
        ];
        for (name, zone) in cases {
            assert_eq!(resolve(name, &cal), Some(tz(zone)), "{name}");
        }
        for name in ["UTC", "GMT", "Z", "z", "Etc/GMT", "utc", "Etc/UTC"] {
            assert_eq!(resolve(name, &cal), Some(Tz::UTC), "{name}");
        }
        for name in [
            "",
            "  ",
            "Mars/Olympus_Mons",
            "/",
            "//",
            "Custom",
            "(UTC+01:00)",
        ] {
            assert_eq!(resolve(name, &cal), None, "{name}");
        }
    }

    #[test]
    fn outlook_display_names() {
        let cal = calendar("");
        let cases = [
            (
                "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
                "Europe/Berlin",
            ),
            (
                "(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
                "Europe/Berlin",
            ),
            (
                "(UTC+02:00) Brussels, Copenhagen, Madrid, Paris",
                "Europe/Paris",
            ),
            ("(UTC) Dublin, Edinburgh, Lisbon, London", "Europe/London"),
            (
                "(UTC+00:00) Dublin, Edinburgh, Lisbon, London",
                "Europe/London",
            ),
            ("(UTC-05:00) Eastern Time (US & Canada)", "America/New_York"),
            (
                "(UTC-08:00) Pacific Time (US &amp; Canada)",
                "America/Los_Angeles",
            ),
            (
                "(UTC+10:00) Canberra\\, Melbourne\\, Sydney",
                "Australia/Sydney",
            ),
            ("(UTC) Coordinated Universal Time", "Etc/UTC"),
            ("(UTC)", "UTC"),
        ];
        for (name, zone) in cases {
            assert_eq!(resolve(name, &cal), Some(tz(zone)), "{name}");
        }
    }

    #[test]
    fn vtimezone_hints() {
        let cal = calendar(concat!(
            "BEGIN:VTIMEZONE\r\nTZID:Custom Zone 1\r\nX-LIC-LOCATION:Europe/Amsterdam\r\n",
            "BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n",
            "END:VTIMEZONE\r\n",
            "BEGIN:VTIMEZONE\r\nTZID:Other\r\nX-LIC-LOCATION:/mozilla.org/20050126_1/Asia/Tokyo\r\nEND:VTIMEZONE\r\n",
            "BEGIN:VTIMEZONE\r\nTZID:Nowhere\r\nX-LIC-LOCATION:Not/A_Zone\r\nEND:VTIMEZONE\r\n",
        ));
        assert_eq!(resolve("Custom Zone 1", &cal), Some(tz("Europe/Amsterdam")));
        assert_eq!(
            resolve("\"custom zone 1\"", &cal),
            Some(tz("Europe/Amsterdam"))
        );
        assert_eq!(resolve("Other", &cal), Some(tz("Asia/Tokyo")));
        assert_eq!(resolve("Nowhere", &cal), None);
        assert_eq!(resolve("Missing", &cal), None);
    }

    #[test]
    fn resolves_through_a_parsed_property() {
        let cal = calendar(
            "BEGIN:VEVENT\r\nDTSTART;TZID=(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna:20270314T190000\r\nEND:VEVENT\r\n",
        );
        let event = cal.children_named("VEVENT").next().unwrap();
        let ics::IcsTime::Zoned(_, tzid) = event.property("DTSTART").unwrap().time().unwrap()
        else {
            panic!("not zoned");
        };
        assert_eq!(resolve(&tzid, &cal), Some(tz("Europe/Berlin")));
    }
}
