DROP TABLE event_closed_dates;
DROP TABLE event_opening_hours;
DROP TABLE event_occurrences;
DROP TABLE event_series;
