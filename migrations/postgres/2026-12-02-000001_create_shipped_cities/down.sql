DROP TABLE shipped_cities;
