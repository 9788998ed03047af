//! The site's secret key. It signs what a server hands out and must recognise when it
//! comes back (the CSRF token of the sign-in and sign-up forms), so every server of the
//! site must hold the same key, and keep it across restarts: either `--secret-key`, or
//! one generated at the first start and kept in the database (`server_secrets`).

use std::fmt;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The secret key. Its `Debug` shows no byte of it, so a logged [`crate::config::Config`]
/// gives nothing away.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Vec<u8>);

/// A key too short to be a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the secret key is {0} bytes long, and it must have at least {min}: make one with `openssl rand -base64 32`",
    min = SecretKey::MIN_BYTES
)]
pub struct SecretKeyError(usize);

impl SecretKey {
    /// As long as the HMAC-SHA256 output: a shorter key would be the weakest link.
    pub const MIN_BYTES: usize = 32;

    /// A key an operator gave (`--secret-key`): its bytes as written, at least
    /// [`Self::MIN_BYTES`] of them.
    pub fn parse(text: &str) -> Result<SecretKey, SecretKeyError> {
        SecretKey::from_bytes(text.as_bytes().to_vec())
    }

    /// A key as stored, held to the same length as one given.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<SecretKey, SecretKeyError> {
        if bytes.len() < Self::MIN_BYTES {
            return Err(SecretKeyError(bytes.len()));
        }
        Ok(SecretKey(bytes))
    }

    /// 32 bytes from the operating system's generator.
    pub fn generate() -> SecretKey {
        let mut bytes = vec![0u8; Self::MIN_BYTES];
        OsRng.fill_bytes(&mut bytes);
        SecretKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// HMAC-SHA256 of `purpose`, a colon and `message`. Every use names its own purpose
    /// (a constant with no colon in it), so that a MAC made for one thing can never pass
    /// for another.
    pub fn sign(&self, purpose: &str, message: &str) -> [u8; 32] {
        self.mac(purpose, message).finalize().into_bytes().into()
    }

    /// Whether `mac` is [`Self::sign`] of `purpose` and `message`, compared in constant
    /// time.
    pub fn verify(&self, purpose: &str, message: &str, mac: &[u8]) -> bool {
        self.mac(purpose, message).verify_slice(mac).is_ok()
    }

    fn mac(&self, purpose: &str, message: &str) -> HmacSha256 {
        // HMAC takes a key of any length (a long one is hashed first): this cannot fail.
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(b":");
        mac.update(message.as_bytes());
        mac
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_shorter_than_32_bytes_is_refused() {
        let error = SecretKey::parse("too short").unwrap_err();
        assert!(error.to_string().contains("at least 32"), "{error}");
        assert!(SecretKey::parse(&"k".repeat(31)).is_err());
        assert!(SecretKey::parse(&"k".repeat(32)).is_ok());
        assert_eq!(SecretKey::generate().as_bytes().len(), 32);
        assert_ne!(SecretKey::generate(), SecretKey::generate());
    }

    #[test]
    fn a_mac_verifies_only_with_its_key_purpose_and_message() {
        let key = SecretKey::parse(&"a".repeat(32)).unwrap();
        let other = SecretKey::parse(&"b".repeat(32)).unwrap();
        let mac = key.sign("csrf", "token");
        assert!(key.verify("csrf", "token", &mac));
        assert!(!other.verify("csrf", "token", &mac));
        assert!(!key.verify("session", "token", &mac));
        assert!(!key.verify("csrf", "tokeN", &mac));
        assert!(!key.verify("csrf", "token", &mac[..31]));
    }

    #[test]
    fn the_key_is_never_printed() {
        let key = SecretKey::parse("a secret that must not reach any log").unwrap();
        assert_eq!(format!("{key:?}"), "SecretKey(…)");
    }
}
