-- Repetition. A series is one row of `events` (one UID, one page) whose date columns
-- describe its FIRST occurrence, as DTSTART and DTEND do in iCalendar; only `ends_at` is
-- the end of the whole series (its last occurrence), so that "not ended yet" and the
-- listings' indexes keep working unchanged.
--
-- `event_series` holds the rule, the truth; `event_occurrences` holds its expansion in
-- the city's zone (rewritten on every edit), with the overrides of single occurrences
-- (moved, retitled, cancelled) that survive an edit of the rule when their date still
-- belongs to it. A skipped date (EXDATE) is an occurrence with status 'skipped'.
CREATE TABLE event_series (
    event_id integer PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    -- RFC 5545 RRULE text as the site writes it, with UNTIL as a local DATE.
    rule TEXT NOT NULL
);

CREATE TABLE event_occurrences (
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    -- The local date the rule gives the occurrence: its RECURRENCE-ID.
    occurrence_date DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'cancelled', 'skipped')),
    -- Where it actually is, local and UTC (a moved occurrence differs from the rule).
    start_date DATE NOT NULL,
    start_time TIME,
    end_date DATE NOT NULL,
    end_time TIME,
    starts_at timestamp NOT NULL,
    ends_at timestamp NOT NULL,
    -- An override's own title; NULL: the series'.
    title TEXT,
    -- Moved, retitled or cancelled by the organiser: kept across edits, and written to
    -- feeds as a VEVENT with RECURRENCE-ID.
    overridden BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (event_id, occurrence_date),
    CHECK (ends_at > starts_at)
);

-- "Is there an occurrence in this range / on this day?", per event, from the index alone.
CREATE INDEX event_occurrences_dates ON event_occurrences (event_id, status, start_date, end_date);
CREATE INDEX event_occurrences_next ON event_occurrences (event_id, status, ends_at, starts_at);

-- An exhibition's week: at most one opening a weekday (0 = Monday), closing after it.
CREATE TABLE event_opening_hours (
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    opens TIME NOT NULL,
    closes TIME NOT NULL,
    PRIMARY KEY (event_id, weekday),
    CHECK (closes > opens)
);

CREATE TABLE event_closed_dates (
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    PRIMARY KEY (event_id, day)
);
