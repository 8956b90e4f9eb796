//! No secret access key, old or new, appears in the process's log output at TRACE, in
//! Events or in status during a full rotation. The test process installs a global
//! subscriber that writes every log line of the operator, the emulator and the
//! simulator into a buffer. The test searches the buffer and never prints it.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use akguard::sandbox::world::{ADMIN_USER, APP_USER};
use jiff::SignedDuration;
use support::{Harness, completed_rotations};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn base64(text: &str) -> String {
    use std::fmt::Write as _;
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.write_char(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char).unwrap();
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Reads the operator's `/metrics` page, at the address its start-up log line names.
async fn scrape_metrics(buffer: &Buffer) -> String {
    let logs = String::from_utf8_lossy(&buffer.0.lock().unwrap()).into_owned();
    let start = logs.find("metrics_address=").expect("the start-up line names the metrics address") + "metrics_address=".len();
    let address: String = logs[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    client
        .get(format!("http://{address}/metrics"))
        .send()
        .await
        .expect("metrics served")
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_leaks_no_secret() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let mut harness = Harness::start().await;
    let old_key = harness.world.credentials(APP_USER).access_key_id;
    let old_secret = harness.world.credentials(APP_USER).secret_access_key;
    let admin_secret = harness.world.credentials(ADMIN_USER).secret_access_key;
    harness.create(&harness.world.rotation("app-key", "hw", Some("ops"))).await;
    harness.start_operator();
    harness.wait_ready("app-key").await;
    harness.request_rotation("app-key", "first").await;
    let done = harness
        .drive_until("app-key", SignedDuration::from_mins(15), 600, |o| completed_rotations(o) == 1)
        .await;
    let (_, new_secret) = harness.secret_pair("hw").await;
    let events = harness.events("app-key").await;
    let metrics = scrape_metrics(&buffer).await;
    harness.stop_operator().await;

    let logs = String::from_utf8_lossy(&buffer.0.lock().unwrap()).into_owned();
    let status = serde_json::to_string(&done.status).unwrap();
    let notes: Vec<String> = events.iter().filter_map(|e| e.note.clone()).collect();
    let outputs = [
        ("logs", logs.as_str()),
        ("status", status.as_str()),
        ("Events", &notes.join("\n")),
        ("metrics", metrics.as_str()),
    ];
    assert!(metrics.contains("akguard_"), "the metrics page was read");
    assert!(logs.contains("RotationSucceeded"), "the buffer captured the operator's logs");
    assert!(logs.contains(" TRACE "), "the buffer captured TRACE lines");
    assert!(logs.contains(&old_key), "access key IDs are logged");
    for (label, secret) in [("old", &old_secret), ("new", &new_secret), ("administrator", &admin_secret)] {
        for (output, text) in outputs {
            assert!(!text.contains(secret.expose()), "the {label} secret access key appears in {output}");
            assert!(!text.contains(&base64(secret.expose())), "the {label} secret access key appears base64-encoded in {output}");
        }
    }
}
