-- `/api/v1/events?updated_since=` is how clients sync: few events changed since their
-- last visit, and without this index finding them reads every upcoming event.
-- (Same index on PostgreSQL; nothing SQLite-specific in it.)
CREATE INDEX events_updated ON events (moderation, updated_at);
