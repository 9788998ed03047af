-- The member cities of the UNESCO Creative Cities Network.
CREATE TABLE cities (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    country_code TEXT NOT NULL CHECK (length(country_code) = 2),
    field TEXT NOT NULL CHECK (field IN ('crafts-and-folk-art', 'design', 'film', 'gastronomy',
                                         'literature', 'media-arts', 'music', 'architecture')),
    designation_year INTEGER NOT NULL,
    latitude DOUBLE NOT NULL,
    longitude DOUBLE NOT NULL,
    timezone TEXT NOT NULL,
    description TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX cities_field ON cities (field);
CREATE INDEX cities_country_code ON cities (country_code);
