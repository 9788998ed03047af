use crate::db::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::cities;
use crate::domain::{CountryCode, CreativeField, Slug, TimeZoneName};

/// A member city of the network.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = cities, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct City {
    pub id: i32,
    #[diesel(deserialize_as = String)]
    pub slug: Slug,
    pub name: String,
    pub country: String,
    #[diesel(deserialize_as = String)]
    pub country_code: CountryCode,
    #[diesel(deserialize_as = String)]
    pub field: CreativeField,
    pub designation_year: i32,
    pub latitude: f64,
    pub longitude: f64,
    #[diesel(deserialize_as = String)]
    pub timezone: TimeZoneName,
    pub description: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A city to insert; the slug is chosen once, at insert, and never changes after, so
/// that links to it keep working.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = cities)]
pub struct NewCity {
    pub slug: String,
    pub name: String,
    pub country: String,
    pub country_code: String,
    pub field: String,
    pub designation_year: i32,
    pub latitude: f64,
    pub longitude: f64,
    pub timezone: String,
    pub description: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The filters of the `/cities` page.
#[derive(Debug, Clone, Default)]
pub struct CityFilter {
    pub field: Option<CreativeField>,
    pub country: Option<CountryCode>,
}

impl City {
    /// Every city's slug, in order.
    pub fn slugs(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
        cities::table
            .select(cities::slug)
            .order(cities::slug)
            .load(conn)
    }

    pub fn find_by_slug(conn: &mut DbConnection, slug: &str) -> QueryResult<City> {
        // No slug holds a NUL (and PostgreSQL refuses one in a parameter): an address
        // with `%00` in it is a city that does not exist.
        if slug.contains('\0') {
            return Err(diesel::result::Error::NotFound);
        }
        cities::table
            .filter(cities::slug.eq(slug))
            .select(City::as_select())
            .first(conn)
    }

    pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<City> {
        cities::table.find(id).select(City::as_select()).first(conn)
    }

    /// All cities matching the filter, by name.
    pub fn list(conn: &mut DbConnection, filter: &CityFilter) -> QueryResult<Vec<City>> {
        let mut query = cities::table.select(City::as_select()).into_boxed();
        if let Some(field) = filter.field {
            query = query.filter(cities::field.eq(field.slug()));
        }
        if let Some(country) = filter.country {
            query = query.filter(cities::country_code.eq(country.as_str().to_owned()));
        }
        query
            .order((cities::name.asc(), cities::country.asc()))
            .load(conn)
    }

    pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
        cities::table.count().get_result(conn)
    }

    /// Every country that has a member city, as (code, name), by name.
    pub fn countries(conn: &mut DbConnection) -> QueryResult<Vec<(String, String)>> {
        cities::table
            .select((cities::country_code, cities::country))
            .distinct()
            .order(cities::country.asc())
            .load(conn)
    }

    /// The name of the country with `code`, as the member cities' data spells it, from
    /// `countries` (what [`City::countries`] returns); for a real country that has no
    /// member city, its ISO 3166 name and `has_cities: false`. Pages, headings and feed
    /// names all name a country through this.
    pub fn country_named(countries: &[(String, String)], code: CountryCode) -> Country {
        match countries.iter().find(|(c, _)| c == code.as_str()) {
            Some((_, name)) => Country {
                name: name.clone(),
                has_cities: true,
            },
            None => Country {
                name: code.iso_name().unwrap_or(code.as_str()).to_owned(),
                has_cities: false,
            },
        }
    }

    /// All (slug, name, country code) triples, for the import to choose new slugs.
    pub fn identities(conn: &mut DbConnection) -> QueryResult<Vec<(i32, String, String, String)>> {
        cities::table
            .select((cities::id, cities::slug, cities::name, cities::country_code))
            .load(conn)
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.tz()
    }
}

/// A country a filter names: see [`City::country_named`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    pub name: String,
    /// Whether any member city is in it; without one, a listing says so.
    pub has_cities: bool,
}
