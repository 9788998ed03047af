//! One integration-test binary: each test starts the real application on a fresh
//! temporary SQLite file and talks to it over HTTP.

mod fixture_server;
mod helpers;

mod accounts;
mod admin;
mod api_reads;
mod api_writes;
mod browse_events;
mod calendar_links;
mod cities;
mod cities_import;
mod db_copy;
mod demo_data;
mod errors;
mod event_page;
mod feeds;
mod fuzz_regressions;
mod home_and_fields;
mod lifecycle;
mod malformed;
mod moderation;
mod observe;
mod organisers;
mod properties;
mod query_plans;
mod recurrence;
mod response_cache;
mod sources;
mod time_zones;
mod tokens;
mod two_servers;
mod workflows;
