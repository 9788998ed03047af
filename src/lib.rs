//! creative-calendar: a public event calendar for the UNESCO Creative Cities Network.

pub mod auth;
pub mod cities_import;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod feed_cache;
pub mod filters;
pub mod ical;
pub mod import;
pub mod observe;
pub mod revision;
pub mod startup;
pub mod state;
pub mod urlencoded;
pub mod web;
pub mod workflows;
