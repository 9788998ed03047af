-- One number that changes whenever anything a feed shows changes: any insert, update or
-- delete of an event or a city. Feeds key their cache on it, so that a calendar polling an
-- unchanged feed costs one primary-key read instead of a query over every event. It is
-- kept by triggers, so that every writer (the server, `cities import`, `demo`, a manual
-- fix in psql) moves it, not only the code paths that remember to.
--
-- PostgreSQL translation: `id INTEGER PRIMARY KEY` without AUTOINCREMENT is a rowid alias
-- in SQLite; it is never generated here (the only row is inserted with id 1), so a plain
-- integer primary key, no identity.
CREATE TABLE data_revision (
    id integer PRIMARY KEY CHECK (id = 1),
    revision bigint NOT NULL
);

INSERT INTO data_revision (id, revision) VALUES (1, 1);

-- SQLite has only FOR EACH ROW triggers, so there every row written bumps the revision.
-- Here the bump is FOR EACH STATEMENT: feeds only compare the number for equality, so
-- one bump per statement keeps its meaning ("changed since you last looked"), while a
-- statement that writes ten thousand events (`demo`, `cities import`) updates the row
-- once instead of ten thousand times; under MVCC each of those updates would leave a dead
-- version of the row behind and take the row lock again.
--
-- A plain statement trigger would also fire for a statement that changed no row (an
-- UPDATE whose WHERE matched nothing), which SQLite's row triggers never do, and which
-- would needlessly invalidate every cached feed. The transition table (`changed_rows`,
-- the rows the statement inserted, updated or deleted) tells the two apart. PostgreSQL
-- allows a transition table only on a trigger for a single event, hence three triggers
-- per table, as in SQLite.
CREATE FUNCTION data_revision_bump() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    -- TRUNCATE has no transition table, so `changed_rows` must not even be named in an
    -- expression evaluated for it (PL/pgSQL plans a whole condition at once, OR included):
    -- hence two separate tests.
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE data_revision SET revision = revision + 1 WHERE id = 1;
    ELSIF EXISTS (SELECT FROM changed_rows) THEN
        UPDATE data_revision SET revision = revision + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_revision_insert AFTER INSERT ON events
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_revision_bump();

CREATE TRIGGER events_revision_update AFTER UPDATE ON events
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_revision_bump();

CREATE TRIGGER events_revision_delete AFTER DELETE ON events
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_revision_bump();

-- SQLite has no TRUNCATE; PostgreSQL's removes rows without firing DELETE triggers, so
-- it gets a trigger of its own, or a TRUNCATE in psql would leave feeds stale.
CREATE TRIGGER events_revision_truncate AFTER TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION data_revision_bump();

CREATE TRIGGER cities_revision_insert AFTER INSERT ON cities
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_revision_bump();

CREATE TRIGGER cities_revision_update AFTER UPDATE ON cities
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_revision_bump();

CREATE TRIGGER cities_revision_delete AFTER DELETE ON cities
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_revision_bump();

CREATE TRIGGER cities_revision_truncate AFTER TRUNCATE ON cities
    FOR EACH STATEMENT EXECUTE FUNCTION data_revision_bump();
