-- Organisers' own calendars, imported and kept in step. A source is a feed URL (or a
-- file uploaded once, `url` NULL) whose events become events of `owner_id` in `city_id`.
-- `etag`/`last_modified` are the validators of the last fetch, sent back so that an
-- unchanged feed costs a 304. `next_fetch_at` is when it is due; failures push it back
-- (doubling, at most a day). `lease_until`/`lease_holder` let one server at a time
-- fetch a source when several share the database.
CREATE TABLE sources (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    city_id INTEGER NOT NULL REFERENCES cities (id),
    url TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- NULL: the city's field.
    field TEXT,
    -- Lines "Category = kind" mapping the feed's CATEGORIES to kinds.
    category_map TEXT NOT NULL DEFAULT '',
    on_vanish TEXT NOT NULL CHECK (on_vanish IN ('cancel', 'remove')),
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    etag TEXT,
    last_modified TEXT,
    -- SHA-256 of the last body read, without its DTSTAMP lines (some servers renew
    -- them on every request): an identical body is not mapped again.
    body_hash TEXT,
    next_fetch_at TIMESTAMP NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    lease_until TIMESTAMP,
    lease_holder TEXT,
    created_by INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX sources_owner ON sources (owner_id);
CREATE INDEX sources_due ON sources (paused, next_fetch_at);

-- One fetch of a source and what it did. Only the last runs of a source are kept.
CREATE TABLE source_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    source_id INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    started_at TIMESTAMP NOT NULL,
    duration_ms INTEGER NOT NULL,
    http_status INTEGER,
    bytes BIGINT,
    -- 'imported', 'not_modified' (a 304), 'unchanged' (the same body), 'failed'.
    outcome TEXT NOT NULL,
    -- Why it failed, or what was read with care (a truncated feed).
    message TEXT,
    created INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    cancelled INTEGER NOT NULL DEFAULT 0,
    removed INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX source_runs_source ON source_runs (source_id, id);

-- The VEVENTs a run skipped, with the reason, and the warnings of what it read.
CREATE TABLE source_run_notes (
    run_id INTEGER NOT NULL REFERENCES source_runs (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    -- 'skipped' or 'warning'.
    level TEXT NOT NULL,
    uid TEXT,
    summary TEXT,
    reason TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);

-- Which event a VEVENT of a source became: the source's UID is the key, per source.
-- `content_hash` is the hash of what the VEVENT (with its overrides) maps to, so an
-- unchanged event is not written at all. `source_timezone` is the feed's zone when it
-- differs from the city's: the page shows the time in both.
CREATE TABLE imported_events (
    source_id INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    source_uid TEXT NOT NULL,
    event_id INTEGER NOT NULL UNIQUE REFERENCES events (id) ON DELETE CASCADE,
    content_hash TEXT NOT NULL,
    source_timezone TEXT,
    -- Gone from the feed (and cancelled or removed as the source says).
    vanished BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (source_id, source_uid)
);
