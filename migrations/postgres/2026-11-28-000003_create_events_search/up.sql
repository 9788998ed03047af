-- Full-text search over what visitors search for: title, venue and description.
--
-- PostgreSQL translation: SQLite's index is an external-content FTS5 table
-- (`unicode61 remove_diacritics 2`) kept by triggers. PostgreSQL has no FTS5; its
-- counterpart is a tsvector per event in a side table with a GIN index, kept by
-- triggers. A side table rather than a generated column on `events`: the tsvector has no
-- Diesel type, so it must stay out of schema.rs (diesel.pg.toml filters `^events_search`
-- exactly as diesel.toml does), and `events` keeps the same columns on both backends.
-- The application queries it as
--   events.id IN (SELECT event_id FROM events_search
--                 WHERE document @@ to_tsquery('cc_search', $1))
-- with `$1` like `'lumi':* & 'krakow':*` (the words of the search, each a prefix).

-- unaccent is the PostgreSQL counterpart of remove_diacritics ("lumieres" finds
-- "Lumières", "krakow" finds "Kraków"). An extension belongs to the whole database and
-- may have been installed by someone else before this migration: install it only when it
-- is missing, and mark it so that down.sql removes it only if this migration installed
-- it (so that down undoes up exactly, and never takes away somebody else's extension).
-- unaccent is a trusted extension: the database owner may install it, no superuser needed.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'unaccent') THEN
        CREATE EXTENSION unaccent;
        COMMENT ON EXTENSION unaccent IS
            'text search dictionary that removes accents (installed by creative-calendar migration 2026-11-28-000003_create_events_search)';
    END IF;
END
$$;

-- The configuration copies `simple`, not a language's: `simple` lower-cases and does not
-- stem, as unicode61 does (an event is searched in many languages, and stemming "Lumières"
-- as French while searching it as English would find less, not more). unaccent runs first
-- and passes on to `simple`. It is mapped for the token types that can hold non-ASCII
-- letters: word, hword, hword_part (as agreed), and also numword, numhword and
-- hword_numpart (letters mixed with digits, such as "Kraków2026"), since unicode61 removes
-- diacritics from every token, not only from purely alphabetic ones.
CREATE TEXT SEARCH CONFIGURATION cc_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION cc_search
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;
ALTER TEXT SEARCH CONFIGURATION cc_search
    ALTER MAPPING FOR numword, numhword, hword_numpart WITH unaccent, simple;

-- The searchable text of an event, as a tsvector: one function, so that the triggers and
-- any bulk rebuild (`demo` sets the insert trigger aside for a bulk load, then rebuilds:
--   INSERT INTO events_search (event_id, document)
--   SELECT id, events_search_document(title, venue_name, description) FROM events
--   ON CONFLICT (event_id) DO UPDATE SET document = EXCLUDED.document;)
-- compute exactly the same thing.
--
-- Why the punctuation is turned into spaces first: unicode61 splits on every character
-- that is not a letter or a digit, and the application splits the search text the same
-- way (fts_query). PostgreSQL's default parser instead keeps some runs of punctuation
-- together as single tokens: "info@festival.org" is one email token (so "festival" would
-- not find it), "https://example.com/path" gives url, host and path tokens (so "example"
-- would not find it), "3.5" and "v1.2.3" are one token (so "5" or "2" would not find
-- them), "2026-12-01" gives "2026", "-12" and "-01" (so "12" would not find it), and
-- "a<b>c" loses "b" as an XML tag. Mapping every ASCII punctuation character to a space
-- (exactly as many spaces as characters, or translate() would delete the surplus and glue
-- words together) leaves only plain words and numbers, split where unicode61 splits them.
-- Non-ASCII punctuation ("—", "«", "’") is already a separator for the parser in a
-- database whose LC_CTYPE is a UTF-8 locale.
-- What still differs from unicode61 (checked word by word against SQLite 3.40's FTS5):
-- * unaccent folds more than remove_diacritics 2, which only strips combining marks from
--   Latin letters: "Straße" is "strasse" here ("straße" there), "Łódź" "lodz" ("łodz"),
--   "Œuvre Ærø" "oeuvre aero", "Ø Þ ð" "o th d", "ı" "i", the ligature "ﬁ" "fin", and
--   Cyrillic "Ёлка" "елка" ("ёлка"). The search words go through the same configuration
--   (to_tsquery('cc_search', ...)), so this only ever finds more: "lodz" finds "Łódź" here
--   and not on SQLite; whatever SQLite finds, this finds too.
-- * Symbols that Unicode calls numbers but that are not digits ("½", "²") are tokens for
--   unicode61 and separators for PostgreSQL's parser: a search for "½" finds nothing here.
-- * The parser's idea of a letter, and lower-casing, come from the database's LC_CTYPE.
--   With a UTF-8 locale (C.UTF-8, en_US.UTF-8, ...) it is as above. In a database created
--   with LC_CTYPE = C, every non-ASCII character counts as a letter ("a—b" and "«c»" stay
--   single words) and non-Latin capitals are not lower-cased ("ΑΘΗΝΑ" is not "αθηνα"):
--   create the database with a UTF-8 locale.
CREATE FUNCTION events_search_document(title text, venue_name text, description text)
RETURNS tsvector
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT to_tsvector('cc_search',
        translate(coalesce(title, '') || ' ' || coalesce(venue_name, '') || ' ' || coalesce(description, ''),
                  '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~',
                  '                                '))
$$;

CREATE TABLE events_search (
    event_id integer PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    document tsvector NOT NULL
);

-- GIN is the index for `@@` on a tsvector, prefix queries (`'lumi':*`) included.
CREATE INDEX events_search_document ON events_search USING gin (document);

-- The FTS5 'rebuild' command: index the events that already exist.
INSERT INTO events_search (event_id, document)
SELECT id, events_search_document(title, venue_name, description) FROM events;

-- Keeps the row of an event in step with its text. An upsert, so that one function
-- serves the insert and the update triggers (and an event whose row was somehow missing
-- gets one at its next change).
CREATE FUNCTION events_search_refresh() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO events_search (event_id, document)
    VALUES (NEW.id, events_search_document(NEW.title, NEW.venue_name, NEW.description))
    ON CONFLICT (event_id) DO UPDATE SET document = EXCLUDED.document;
    RETURN NULL;
END
$$;

-- Same names and events as SQLite's triggers, so that code which sets the insert trigger
-- aside for a bulk load has the same thing to drop and put back.
CREATE TRIGGER events_search_insert AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_search_refresh();

-- `UPDATE OF` fires when the columns are assigned, changed or not (in both databases);
-- the WHEN clause skips the re-indexing when none of them really changed, which is the
-- common case of an update that writes every column of the form. The result is the same.
CREATE TRIGGER events_search_update AFTER UPDATE OF title, venue_name, description ON events
    FOR EACH ROW
    WHEN (OLD.title IS DISTINCT FROM NEW.title
          OR OLD.venue_name IS DISTINCT FROM NEW.venue_name
          OR OLD.description IS DISTINCT FROM NEW.description)
    EXECUTE FUNCTION events_search_refresh();

-- No delete trigger: SQLite's events_search_delete is the foreign key's ON DELETE CASCADE
-- here, which removes the row of a deleted event in the same statement.
