//! Runs `tests/sdk/iam_conformance.py`, which drives the emulator with Huawei Cloud's
//! official Python SDK, against an in-process emulator.
//!
//! The interpreter is `$AKGUARD_PYTHON`, else `<workspace>/.venv/bin/python` as created by
//! `bash scripts/setup-python.sh`. A missing interpreter fails the test: the wire format
//! check must never be skipped silently.

use std::path::PathBuf;
use std::process::Stdio;

use akguard_emulator::{EmulatorConfig, SeedRequest, SeedUser, start};

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

/// Picks the interpreter: `configured` (from `AKGUARD_PYTHON`) or the workspace venv.
fn interpreter(configured: Option<PathBuf>) -> Result<PathBuf, String> {
    let python = configured.unwrap_or_else(|| workspace_root().join(".venv/bin/python"));
    if python.exists() {
        Ok(python)
    } else {
        Err(format!(
            "Python interpreter {} not found; run `bash scripts/setup-python.sh` to create .venv \
             with the official Huawei Cloud SDK, or set AKGUARD_PYTHON",
            python.display()
        ))
    }
}

fn python() -> PathBuf {
    interpreter(std::env::var_os("AKGUARD_PYTHON").map(PathBuf::from)).unwrap_or_else(|message| panic!("{message}"))
}

#[test]
fn missing_interpreter_names_setup_script() {
    let result = interpreter(Some(PathBuf::from("/nonexistent/python")));

    assert!(result.unwrap_err().contains("bash scripts/setup-python.sh"));
}

/// Output of one run of the conformance script against a fresh emulator.
struct ScriptRun {
    success: bool,
    leaked: bool,
    /// Standard output and error, or a placeholder when they hold the secret key.
    shown: String,
}

/// Seeds a fresh emulator and runs the script; `domain_name` overrides the account name the
/// script expects.
async fn run_script(domain_name: Option<&str>) -> ScriptRun {
    let python = python();
    let emulator = start(EmulatorConfig::default()).await.expect("emulator starts");
    let account = emulator
        .seed(SeedRequest {
            domain_name: "acme".into(),
            users: vec![SeedUser::new("app").with_key(), SeedUser::new("other").with_key()],
            ..SeedRequest::default()
        })
        .expect("seed accepted");
    let app = account.user("app").unwrap();
    let key = &app.keys[0];
    let region = "ap-southeast-1";

    let output = tokio::process::Command::new(&python)
        .arg(workspace_root().join("tests/sdk/iam_conformance.py"))
        .env("AKGUARD_IAM_ENDPOINT", emulator.base_url())
        .env("AKGUARD_AK", &key.access_key_id)
        .env("AKGUARD_SK", key.secret_access_key.expose())
        .env("AKGUARD_USER_ID", &app.id)
        .env("AKGUARD_USER_NAME", &app.name)
        .env("AKGUARD_DOMAIN_ID", &account.domain_id)
        .env("AKGUARD_DOMAIN_NAME", domain_name.unwrap_or(&account.domain_name))
        .env("AKGUARD_PROJECT_ID", account.project_id(region).unwrap())
        .env("AKGUARD_REGION", region)
        .env("AKGUARD_OTHER_USER_ID", &account.user("other").unwrap().id)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("conformance script starts");
    emulator.shutdown().await;

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let secret = key.secret_access_key.expose();
    let leaked = stdout.contains(secret) || stderr.contains(secret);
    let shown = if leaked {
        "<withheld: it contains the secret key>".to_string()
    } else {
        format!("{stdout}\n{stderr}")
    };
    ScriptRun {
        success: output.status.success(),
        leaked,
        shown,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_sdk_manages_keys() {
    let run = run_script(None).await;

    assert!(!run.leaked, "the conformance script printed the secret key");
    assert!(run.success, "conformance script failed:\n{}", run.shown);
    assert!(run.shown.contains("all checks matched"), "unexpected output:\n{}", run.shown);
    println!("{}", run.shown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_reports_mismatch() {
    let run = run_script(Some("not-acme")).await;

    assert!(!run.success, "the script accepted a wrong account name:\n{}", run.shown);
    assert!(run.shown.contains("MISMATCH: domain name"), "unexpected output:\n{}", run.shown);
    assert!(!run.leaked, "the conformance script printed the secret key");
}
