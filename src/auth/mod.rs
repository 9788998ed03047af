//! Accounts: passwords, sessions, CSRF tokens, and who may do what.

pub mod password;
pub mod secret;
pub mod session;
pub mod throttle;
pub mod token;

pub use password::{hash_password, verify_nothing, verify_password};
pub use secret::SecretKey;
pub use session::{Checked, CsrfToken, MaybeViewer, NoFields, Viewer, check_csrf};
