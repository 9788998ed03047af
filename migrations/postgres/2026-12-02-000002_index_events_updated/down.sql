DROP INDEX events_updated;
