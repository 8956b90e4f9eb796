//! Secret scan: a full key rotation through the client against the emulator, with every
//! log record of every crate (the client, the emulator, reqwest, hyper) captured at TRACE
//! level, must not contain any secret access key. Error messages, `Debug` output and
//! metrics records of the run are scanned too.
//!
//! This file has one test because the subscriber it installs is process-wide.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use akguard_emulator::{
    EmulatorClock, EmulatorConfig, FaultKind, FaultRule, Operation, SeedRequest, SeedUser, start,
};
use akguard_hwcloud::retry::Sleeper;
use akguard_hwcloud::{
    AccessKeyStatus, AccessKeyUpdate, Client, ClientConfig, Credentials, EndpointOverrides,
    ManualClock, RecordingObserver, RetryPolicy,
};
use tracing_subscriber::fmt::MakeWriter;

/// Everything the subscriber writes, shared with the test.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Checks `haystack` for each secret, naming only the secret's position in `secrets`, so
/// a failure never prints a secret either.
fn assert_no_secret(what: &str, haystack: &str, secrets: &[String]) {
    for (index, secret) in secrets.iter().enumerate() {
        assert!(
            !haystack.contains(secret.as_str()),
            "secret #{index} appears in {what} ({} bytes scanned)",
            haystack.len()
        );
    }
}

#[tokio::test]
async fn rotation_logs_contain_no_secret() {
    let capture = Capture::default();
    // `try_init` also routes the `log` records of reqwest and others into this subscriber.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(capture.clone())
        .try_init()
        .expect("no other subscriber in this test binary");

    let clock = ManualClock::new("2026-03-01T12:00:00Z".parse().unwrap());
    let emulator = start(EmulatorConfig {
        clock: EmulatorClock::Manual(clock.clone()),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let account = emulator
        .seed(SeedRequest {
            domain_name: "acme".into(),
            users: vec![SeedUser::new("app").with_key()],
            ..SeedRequest::default()
        })
        .unwrap();
    let user_id = account.user("app").unwrap().id.clone();
    let old: Credentials = account.credentials("app", 0).unwrap();
    let mut secrets = vec![old.secret_access_key.expose().to_string()];

    let observer = RecordingObserver::new();
    let client_for = |credentials: Credentials| {
        let mut config = ClientConfig::new("cn-north-4");
        config.endpoints = EndpointOverrides {
            iam: Some(emulator.base_url().to_string()),
            cts: Some(emulator.base_url().to_string()),
            bss: None,
        };
        config.retry = RetryPolicy {
            attempt_timeout: Duration::from_secs(5),
            ..RetryPolicy::default()
        };
        let no_wait: Sleeper = Arc::new(|_| Box::pin(async {}));
        Client::builder(config, credentials, clock.clone())
            .sleeper(no_wait)
            .observer(observer.clone())
            .build()
            .unwrap()
    };
    let mut printed = String::new();

    // Rotation as the operator runs it: discover, create (after one ambiguous attempt),
    // use the new key, disable the old one, re-enable it, disable again, delete it.
    let old_client = client_for(old.clone());
    let identity = old_client.discover_identity().await.unwrap();
    printed.push_str(&format!("{identity:?}\n{old_client:?}\n{old:?}\n"));
    emulator
        .set_fault(FaultRule::status(500).for_operation(Operation::CreateCredential).on_nth(1))
        .unwrap();
    let ambiguous = old_client.create_access_key(&user_id, "akguard rotation=1").await.unwrap_err();
    printed.push_str(&format!("{ambiguous}\n{ambiguous:?}\n"));
    assert!(old_client.find_key_by_marker(&user_id, "akguard rotation=1").await.unwrap().is_empty());
    let created = old_client.create_access_key(&user_id, "akguard rotation=1").await.unwrap();
    secrets.push(created.secret_access_key.expose().to_string());
    printed.push_str(&format!("{created:?}\n{created:#?}\n{:?}\n", created.credentials()));
    tracing::info!(?created, "created key, as a careless caller might log it");

    let quota = old_client.create_access_key(&user_id, "third").await.unwrap_err();
    printed.push_str(&format!("{quota}\n{quota:?}\n"));

    let new_client = client_for(created.credentials());
    new_client.show_access_key(&created.access_key_id).await.unwrap();
    new_client
        .update_access_key(&old.access_key_id, &AccessKeyUpdate::status(AccessKeyStatus::Inactive))
        .await
        .unwrap();
    let rejected = old_client.list_access_keys(None).await.unwrap_err();
    printed.push_str(&format!("{rejected}\n{rejected:?}\n"));
    new_client
        .update_access_key(&old.access_key_id, &AccessKeyUpdate::status(AccessKeyStatus::Active))
        .await
        .unwrap();
    emulator
        .set_fault(FaultRule::new(FaultKind::Drop).for_operation(Operation::UpdateCredential).on_nth(1))
        .unwrap();
    new_client
        .update_access_key(&old.access_key_id, &AccessKeyUpdate::status(AccessKeyStatus::Inactive))
        .await
        .unwrap();
    new_client.delete_access_key(&old.access_key_id).await.unwrap();
    let keys = new_client.list_access_keys(Some(&user_id)).await.unwrap();
    assert_eq!(keys.len(), 1);
    printed.push_str(&format!("{keys:?}\n{:?}\n{:?}\n", observer.calls(), emulator.keys()));

    let logs = capture.text();
    assert!(logs.contains("TRACE"), "TRACE records were not captured");
    assert!(logs.contains(&created.access_key_id), "client logs do not name the new key");
    assert!(logs.contains("reqwest") || logs.contains("hyper"), "HTTP client records were not captured");
    assert_no_secret("log output", &logs, &secrets);
    assert_no_secret("Debug and Display output", &printed, &secrets);
}
