//! Secret material that cannot be printed.
//!
//! A secret access key or security token lives in a [`SecretKey`]. It has no `Display` and
//! no `Serialize`, and its `Debug` output is a fixed placeholder, so no log line, error
//! message, status field or metric can carry one by accident. The only way to read the
//! value is [`SecretKey::expose`], which every caller uses at the one place the bytes are
//! needed (signing, or writing a Kubernetes Secret).

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A secret access key (SK) or temporary security token.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Returns the secret value. Call it only where the bytes leave the process on purpose:
    /// an HMAC key, a Kubernetes Secret's data, a test fixture.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        // Overwrite the heap buffer so a freed key does not linger in memory dumps.
        // SAFETY: writing zero bytes keeps the buffer valid UTF-8.
        unsafe {
            for byte in self.0.as_bytes_mut() {
                std::ptr::write_volatile(byte, 0);
            }
        }
    }
}

impl<'de> Deserialize<'de> for SecretKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(SecretKey)
    }
}

/// An access key ID with its secret access key, and a security token for temporary keys.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: SecretKey,
    pub security_token: Option<SecretKey>,
}

impl Credentials {
    pub fn new(access_key_id: impl Into<String>, secret_access_key: SecretKey) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key,
            security_token: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secret_value() {
        let secret = SecretKey::new("MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc");
        let credentials = Credentials::new("QTWAOYTTINDUT2QVKYUC", secret.clone());

        let printed = format!("{secret:?} {credentials:?} {credentials:#?}");

        assert!(!printed.contains("MFyfvK41"), "secret leaked into Debug: {printed}");
        assert!(printed.contains("QTWAOYTTINDUT2QVKYUC"));
    }

    #[test]
    fn deserialize_reads_plain_string() {
        let secret: SecretKey = serde_json::from_str("\"abc\"").unwrap();

        assert_eq!(secret.expose(), "abc");
    }
}
