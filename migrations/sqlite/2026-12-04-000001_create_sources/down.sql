DROP TABLE imported_events;
DROP TABLE source_run_notes;
DROP TABLE source_runs;
DROP TABLE sources;
