//! `Debug` and `Display` of every public type that carries a secret key or security token
//! must not show it.

use std::time::Duration;

use akguard_hwcloud::{
    AccessKeyStatus, Client, ClientConfig, CreatedAccessKey, Credentials, Error, ManualClock,
    SecretKey,
};
use jiff::Timestamp;

// Fake values, long enough that a partial leak is still caught by the prefix checks.
const SK: &str = "RedactionFakeSecretKeyValue0000000000001";
const TOKEN: &str = "RedactionFakeSecurityTokenValue000000002";
const NEW_SK: &str = "RedactionFakeSecretKeyValue0000000000003";

fn assert_hidden(what: &str, printed: &str) {
    for secret in [SK, TOKEN, NEW_SK] {
        assert!(!printed.contains(&secret[..24]), "{what} shows a secret");
    }
}

fn credentials() -> Credentials {
    let mut credentials = Credentials::new("REDACTIONTESTAK00001", SecretKey::new(SK));
    credentials.security_token = Some(SecretKey::new(TOKEN));
    credentials
}

#[test]
fn secret_key_debug_redacted() {
    let secret = SecretKey::new(SK);

    assert_hidden("SecretKey", &format!("{secret:?} {secret:#?}"));
}

#[test]
fn credentials_debug_redacted() {
    let credentials = credentials();
    let printed = format!("{credentials:?} {credentials:#?}");

    assert_hidden("Credentials", &printed);
    assert!(printed.contains("REDACTIONTESTAK00001"));
}

#[test]
fn created_key_debug_redacted() {
    let created: CreatedAccessKey = serde_json::from_value(serde_json::json!({
        "access": "REDACTIONNEWAK000001",
        "secret": NEW_SK,
        "status": "active",
        "user_id": "u1",
        "description": "",
        "create_time": "2026-03-05T10:11:12.000000Z",
    }))
    .unwrap();

    assert_eq!(created.status, AccessKeyStatus::Active);
    assert_hidden("CreatedAccessKey", &format!("{created:?} {created:#?}"));
    assert_hidden("CreatedAccessKey credentials", &format!("{:?}", created.credentials()));
}

#[test]
fn client_and_builder_debug_redacted() {
    let mut config = ClientConfig::new("cn-north-4");
    config.endpoints.iam = Some("http://127.0.0.1:18080".into());
    config.retry.deadline = Duration::from_secs(5);
    let clock = ManualClock::new(Timestamp::UNIX_EPOCH);

    let builder = Client::builder(config.clone(), credentials(), clock.clone());
    assert_hidden("ClientBuilder", &format!("{builder:?} {builder:#?}"));

    let client = Client::new(config, credentials(), clock).unwrap();
    let printed = format!("{client:?} {client:#?}");
    assert_hidden("Client", &printed);
    assert!(printed.contains("REDACTIONTESTAK00001"));
}

#[test]
fn config_errors_name_field_without_secret() {
    let clock = ManualClock::new(Timestamp::UNIX_EPOCH);
    let bad_region = Client::new(ClientConfig::new("Beijing"), credentials(), clock.clone()).unwrap_err();
    let empty_secret = Client::new(
        ClientConfig::new("cn-north-4"),
        Credentials::new("AK", SecretKey::new("")),
        clock,
    )
    .unwrap_err();

    assert!(matches!(bad_region, Error::Config { field: "region", .. }), "{bad_region}");
    assert!(matches!(empty_secret, Error::Config { field: "secret_access_key", .. }));
    assert_hidden("Error", &format!("{bad_region} {bad_region:?}"));
}
