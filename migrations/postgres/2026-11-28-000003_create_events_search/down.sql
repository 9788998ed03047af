DROP TRIGGER events_search_update ON events;
DROP TRIGGER events_search_insert ON events;
DROP FUNCTION events_search_refresh();
DROP TABLE events_search;
DROP FUNCTION events_search_document(text, text, text);
DROP TEXT SEARCH CONFIGURATION cc_search;
-- Only if up.sql installed it (see the comment there).
DO $$
BEGIN
    IF obj_description((SELECT oid FROM pg_extension WHERE extname = 'unaccent'), 'pg_extension')
       LIKE '%(installed by creative-calendar migration 2026-11-28-000003_create_events_search)' THEN
        DROP EXTENSION unaccent;
    END IF;
END
$$;
