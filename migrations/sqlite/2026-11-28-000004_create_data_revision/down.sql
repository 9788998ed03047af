DROP TRIGGER cities_revision_delete;
DROP TRIGGER cities_revision_update;
DROP TRIGGER cities_revision_insert;
DROP TRIGGER events_revision_delete;
DROP TRIGGER events_revision_update;
DROP TRIGGER events_revision_insert;
DROP TABLE data_revision;
