-- Events. The local schedule (dates, times and the zone) is the truth; starts_at and
-- ends_at are the UTC instants derived from it, kept so that browse queries can use indexes.
-- For an all-day event they are local midnight of the first day and of the day after the
-- last day, so "has it ended?" is answered in the city's zone, not the server's.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uid TEXT NOT NULL UNIQUE,
    city_id INTEGER NOT NULL REFERENCES cities (id) ON DELETE RESTRICT,
    kind TEXT NOT NULL CHECK (kind IN ('festival', 'exhibition', 'workshop', 'performance',
                                       'screening', 'talk', 'market')),
    field TEXT NOT NULL CHECK (field IN ('crafts-and-folk-art', 'design', 'film', 'gastronomy',
                                         'literature', 'media-arts', 'music', 'architecture')),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    venue_name TEXT NOT NULL,
    venue_address TEXT NOT NULL DEFAULT '',
    latitude DOUBLE,
    longitude DOUBLE,
    all_day BOOLEAN NOT NULL,
    start_date DATE NOT NULL,
    start_time TIME,
    end_date DATE NOT NULL,
    end_time TIME,
    timezone TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    url TEXT,
    price TEXT,
    is_free BOOLEAN NOT NULL DEFAULT FALSE,
    organizer_name TEXT,
    status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'postponed', 'cancelled')),
    moderation TEXT NOT NULL DEFAULT 'pending' CHECK (moderation IN ('pending', 'published', 'rejected')),
    sequence INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_at > starts_at),
    CHECK (end_date >= start_date),
    CHECK ((all_day AND start_time IS NULL AND end_time IS NULL) OR (NOT all_day AND start_time IS NOT NULL))
);

-- Browse queries always filter on moderation and on "ended yet?" and read in start order.
-- The first index covers the counts (upcoming events per city, field, kind) so that they
-- never read event rows; the others give index-ordered scans for each kind of listing,
-- and carry the other filter columns so that combined filters are answered from them too.
CREATE INDEX events_upcoming ON events (moderation, ends_at, starts_at, city_id, field, kind);
CREATE INDEX events_by_start ON events (moderation, starts_at, ends_at);
CREATE INDEX events_city ON events (city_id, moderation, starts_at, ends_at, field, kind);
CREATE INDEX events_field ON events (field, moderation, starts_at, ends_at, kind, city_id);
CREATE INDEX events_kind ON events (kind, moderation, starts_at, ends_at, field, city_id);
CREATE INDEX events_local_dates ON events (moderation, start_date, end_date, field, kind, city_id);
