//! One integration-test binary: each test starts the real application on a fresh
//! temporary SQLite file and talks to it over HTTP.

mod helpers;
