-- Full-text search over what visitors search for: title, venue and description.
-- An external-content FTS5 index: it stores only the index, reads the text from
-- `events`, and triggers keep it in step with every insert, update and delete.
-- remove_diacritics makes "lumieres" find "Lumières" and "krakow" find "Kraków".
CREATE VIRTUAL TABLE events_search USING fts5(
    title,
    venue_name,
    description,
    content = 'events',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO events_search (events_search) VALUES ('rebuild');

CREATE TRIGGER events_search_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_search (rowid, title, venue_name, description)
    VALUES (new.id, new.title, new.venue_name, new.description);
END;

CREATE TRIGGER events_search_delete AFTER DELETE ON events BEGIN
    INSERT INTO events_search (events_search, rowid, title, venue_name, description)
    VALUES ('delete', old.id, old.title, old.venue_name, old.description);
END;

CREATE TRIGGER events_search_update AFTER UPDATE OF title, venue_name, description ON events BEGIN
    INSERT INTO events_search (events_search, rowid, title, venue_name, description)
    VALUES ('delete', old.id, old.title, old.venue_name, old.description);
    INSERT INTO events_search (rowid, title, venue_name, description)
    VALUES (new.id, new.title, new.venue_name, new.description);
END;
