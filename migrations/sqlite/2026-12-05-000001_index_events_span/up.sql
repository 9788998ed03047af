-- A date-range listing asks for the events overlapping [from, to]: start_date <= to and
-- end_date >= from. No single index bounds both, so without this one the listing read
-- every event that starts before `to`. Events are grouped by how long they run (their
-- span class: at most 1, 7, 31 or 127 days, or longer); within a class of at most S days
-- an overlapping event starts between from - S and to, a range the index bounds at both
-- ends. The expression must stay exactly as `span_class_sql` in
-- src/db/models/event.rs writes it, or the planner cannot use the index (the query plan
-- tests would fail).
CREATE INDEX events_span_dates ON events (
    moderation,
    (CASE WHEN julianday(end_date) - julianday(start_date) <= 1 THEN 1
          WHEN julianday(end_date) - julianday(start_date) <= 7 THEN 7
          WHEN julianday(end_date) - julianday(start_date) <= 31 THEN 31
          WHEN julianday(end_date) - julianday(start_date) <= 127 THEN 127
          ELSE 0 END),
    start_date,
    end_date,
    -- The listing's order, so that its candidates are sorted from the index alone and
    -- only the page's rows are read.
    starts_at
);
-- The occurrences of series in a date range, for the same listing.
CREATE INDEX event_occurrences_by_date ON event_occurrences (start_date, end_date, status, event_id);
