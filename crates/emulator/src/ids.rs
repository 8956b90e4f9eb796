//! Identifiers, keys and timestamps in the formats Huawei Cloud IAM uses.

use akguard_hwcloud::SecretKey;
use jiff::Timestamp;
use rand::Rng;

const UPPER_ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const MIXED_ALPHANUMERIC: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Length of an access key ID: real keys are 20 upper-case alphanumerics.
pub const ACCESS_KEY_ID_LEN: usize = 20;
/// Length of a secret access key: real keys are 40 mixed-case alphanumerics.
pub const SECRET_ACCESS_KEY_LEN: usize = 40;

fn random_string(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// Generates a new access key ID.
pub fn new_access_key_id() -> String {
    random_string(UPPER_ALPHANUMERIC, ACCESS_KEY_ID_LEN)
}

/// Generates a new secret access key.
pub fn new_secret_access_key() -> SecretKey {
    SecretKey::new(random_string(MIXED_ALPHANUMERIC, SECRET_ACCESS_KEY_LEN))
}

/// Generates an IAM object ID (user, domain, project): 32 lower-case hex digits.
pub fn new_object_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Formats a key timestamp as IAM does: UTC with six fractional digits,
/// `YYYY-MM-DDTHH:mm:ss.ssssssZ`.
pub fn format_key_time(time: Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string()
}

/// Formats a user timestamp as `GET /v3.0/OS-USER/users/{user_id}` shows it,
/// for example `2020-07-08 02:19:03.0`.
pub fn format_user_time(time: Timestamp) -> String {
    time.strftime("%Y-%m-%d %H:%M:%S.%1f").to_string()
}

/// Returns whether `value` looks like an access key ID that IAM could have issued.
pub fn is_access_key_id(value: &str) -> bool {
    value.len() == ACCESS_KEY_ID_LEN && value.bytes().all(|b| UPPER_ALPHANUMERIC.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_key_id_format() {
        let id = new_access_key_id();

        assert!(is_access_key_id(&id), "{id}");
    }

    #[test]
    fn secret_key_format() {
        let secret = new_secret_access_key();

        assert_eq!(secret.expose().len(), SECRET_ACCESS_KEY_LEN);
        assert!(secret.expose().bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn object_id_is_32_hex() {
        let id = new_object_id();

        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }

    #[test]
    fn key_time_has_six_fraction_digits() {
        let time: Timestamp = "2023-06-28T08:56:33.71Z".parse().unwrap();

        assert_eq!(format_key_time(time), "2023-06-28T08:56:33.710000Z");
    }

    #[test]
    fn user_time_has_one_fraction_digit() {
        let time: Timestamp = "2020-07-08T02:19:03Z".parse().unwrap();

        assert_eq!(format_user_time(time), "2020-07-08 02:19:03.0");
    }
}
