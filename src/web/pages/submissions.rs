//! Organisers' pages, now under `pages::events` beside the templates they render
//! (`form`, `mine`, `status`); re-exported here so that routes and code that name
//! `pages::submissions` keep working.

pub use super::events::form::*;
pub use super::events::mine::*;
pub use super::events::status::*;
