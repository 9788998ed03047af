DROP TABLE cities;
