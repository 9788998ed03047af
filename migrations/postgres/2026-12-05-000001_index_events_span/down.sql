DROP INDEX event_occurrences_by_date;
DROP INDEX events_span_dates;
