//! Emulator logs never contain a secret key.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use akguard_hwcloud::{Credentials, SecretKey};
use serde_json::json;

use crate::support::world;

/// A log sink that keeps everything written to it.
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

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Installs one global subscriber at trace level for this test binary. A thread-local
/// subscriber misses events when other test threads cache a callsite's interest first.
fn global_capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(capture.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other test installs a global subscriber");
        capture
    })
}

#[tokio::test]
async fn logs_contain_no_secret_keys() {
    let capture = global_capture();
    let w = world().await;
    let app = w.credentials("app");
    let created = w.create_key(&app, &w.user_id("app"), "").await;
    let new_secret = created.body["credential"]["secret"].as_str().unwrap().to_string();
    let new_key = Credentials::new(
        created.body["credential"]["access"].as_str().unwrap(),
        SecretKey::new(new_secret.clone()),
    );
    w.list_keys(&new_key, None).await;
    w.update_key(&app, &new_key.access_key_id, json!({"status": "inactive"})).await;
    w.list_keys(&new_key, None).await;
    let wrong = Credentials::new(app.access_key_id.clone(), SecretKey::new("y".repeat(40)));
    w.list_keys(&wrong, None).await;

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();

    assert!(logs.contains("served request"), "no request was logged");
    assert!(logs.contains("rejected request"), "no rejection was logged");
    for user in &w.account.users {
        for key in &user.keys {
            assert!(!logs.contains(key.secret_access_key.expose()), "seeded secret key of {} logged", user.name);
        }
    }
    assert!(!logs.contains(&new_secret), "created secret key logged");
}
