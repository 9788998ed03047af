-- Organisers, moderators and admins. The email is stored trimmed and lower-cased, so
-- that uniqueness is case-insensitive without a collation the other backend lacks.
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    organisation TEXT NOT NULL DEFAULT '',
    -- An Argon2id PHC string: algorithm, parameters, salt and hash.
    password_hash TEXT NOT NULL,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    -- Trusted organisers publish without review.
    is_trusted BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- A moderator role: for one city, or for the whole network when city_id is NULL.
CREATE TABLE moderator_roles (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    city_id INTEGER REFERENCES cities (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);

-- NULL is distinct from NULL in a UNIQUE index; the network role is keyed as city 0.
CREATE UNIQUE INDEX moderator_roles_unique ON moderator_roles (account_id, IFNULL(city_id, 0));
CREATE INDEX moderator_roles_city ON moderator_roles (city_id);

-- Signed-in sessions. The cookie holds a random token; only its SHA-256 is stored, so a
-- copy of the database does not let anyone sign in. The CSRF token of the session's
-- forms lives beside it.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);

CREATE INDEX sessions_account ON sessions (account_id);

-- Failed sign-ins, for throttling by account and by client address.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    email TEXT NOT NULL,
    client TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);

CREATE INDEX login_failures_email ON login_failures (email, failed_at);
CREATE INDEX login_failures_client ON login_failures (client, failed_at);

-- Sign-ups by client address, kept for an hour, to throttle the making of accounts in bulk.
CREATE TABLE sign_ups (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    client TEXT NOT NULL,
    signed_up_at TIMESTAMP NOT NULL
);

CREATE INDEX sign_ups_client ON sign_ups (client, signed_up_at);

-- Who did what in moderation and administration, when and why. Names and titles are
-- copied in, so that the log still reads right after an account or event is gone.
CREATE TABLE moderation_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    actor_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('approve', 'reject', 'unpublish', 'accept_change',
                                           'revert_change', 'grant_moderator', 'revoke_moderator',
                                           'trust', 'distrust', 'grant_admin', 'revoke_admin')),
    event_id INTEGER REFERENCES events (id) ON DELETE SET NULL,
    account_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    city_id INTEGER REFERENCES cities (id) ON DELETE SET NULL,
    subject TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX moderation_log_created ON moderation_log (created_at, id);

-- Who submitted each event, and what moderation and the organiser said about it.
-- No REFERENCES clause: SQLite cannot drop a column that has one (the down migration),
-- and a column added with it cannot be changed later; the trigger below does what
-- ON DELETE SET NULL would, and the application only writes ids of real accounts.
ALTER TABLE events ADD COLUMN organiser_id INTEGER;
-- Why a moderator rejected or unpublished the event; shown to its organiser.
ALTER TABLE events ADD COLUMN moderation_note TEXT;
-- The organiser's note on a cancellation or postponement, shown on the event page.
ALTER TABLE events ADD COLUMN status_note TEXT;
-- Set at the first approval and never cleared: an event that calendars may have seen
-- is cancelled, not deleted.
ALTER TABLE events ADD COLUMN first_published_at TIMESTAMP;

-- What a moderator last approved of each published event (its form, as JSON), so that a
-- later change by an organiser who is not trusted can be shown as a difference and put
-- back. `changed_at` is set by such a change: the event stays public and waits in the
-- moderators' "recently changed" list until one of them looks at it. A table of its own
-- keeps `events` within 32 columns.
CREATE TABLE event_reviews (
    event_id INTEGER PRIMARY KEY NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    approved_form TEXT NOT NULL,
    approved_at TIMESTAMP NOT NULL,
    changed_at TIMESTAMP
);

CREATE INDEX event_reviews_changed ON event_reviews (changed_at);

CREATE TRIGGER accounts_delete_events AFTER DELETE ON accounts BEGIN
    UPDATE events SET organiser_id = NULL WHERE organiser_id = old.id;
END;

CREATE INDEX events_organiser ON events (organiser_id, created_at);
UPDATE events SET first_published_at = updated_at WHERE moderation = 'published';
