-- One number that changes whenever anything a feed shows changes: any insert, update or
-- delete of an event or a city. Feeds key their cache on it, so that a calendar polling an
-- unchanged feed costs one primary-key read instead of a query over every event. It is
-- kept by triggers, so that every writer (the server, `cities import`, `demo`, a manual
-- fix in the sqlite3 shell) moves it, not only the code paths that remember to.
CREATE TABLE data_revision (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    revision BIGINT NOT NULL
);

INSERT INTO data_revision (id, revision) VALUES (1, 1);

CREATE TRIGGER events_revision_insert AFTER INSERT ON events BEGIN
    UPDATE data_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER events_revision_update AFTER UPDATE ON events BEGIN
    UPDATE data_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER events_revision_delete AFTER DELETE ON events BEGIN
    UPDATE data_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER cities_revision_insert AFTER INSERT ON cities BEGIN
    UPDATE data_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER cities_revision_update AFTER UPDATE ON cities BEGIN
    UPDATE data_revision SET revision = revision + 1 WHERE id = 1;
END;

CREATE TRIGGER cities_revision_delete AFTER DELETE ON cities BEGIN
    UPDATE data_revision SET revision = revision + 1 WHERE id = 1;
END;
