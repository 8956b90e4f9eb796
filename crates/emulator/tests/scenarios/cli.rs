//! The `akguard emulator` command: flags, seed file, credentials file, clean stop.

use std::path::PathBuf;

use akguard_emulator::cli::{EmulatorArgs, serve_until};
use akguard_hwcloud::signing::{SignableRequest, sign};
use akguard_hwcloud::{Credentials, SecretKey};
use clap::Parser;

#[derive(Parser)]
struct Command {
    #[command(flatten)]
    args: EmulatorArgs,
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("akguard-emulator-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const SEED: &str = "\
accounts:
  - domain_name: acme
    regions: [cn-north-4]
    users:
      - name: app
        keys:
          - description: from the seed file
";

#[tokio::test]
async fn seed_file_and_credentials_out() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = scratch_dir("seed");
    let seed = dir.join("seed.yaml");
    let credentials_out = dir.join("credentials.json");
    std::fs::write(&seed, SEED).unwrap();
    let args = Command::try_parse_from([
        "emulator".as_ref(),
        "--seed".as_ref(),
        seed.as_os_str(),
        "--credentials-out".as_ref(),
        credentials_out.as_os_str(),
    ])
    .unwrap()
    .args;
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();

    let server = tokio::spawn(serve_until(
        args,
        move |emulator| {
            let _ = ready_tx.send(emulator.base_url().to_string());
        },
        async move {
            let _ = stop_rx.await;
            Ok(())
        },
    ));
    let base_url = ready_rx.await.unwrap();
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&credentials_out).unwrap()).unwrap();
    let key = &written["accounts"][0]["users"][0]["keys"][0];
    let credentials = Credentials::new(
        key["access_key_id"].as_str().unwrap(),
        SecretKey::new(key["secret_access_key"].as_str().unwrap()),
    );
    let mut request = SignableRequest {
        method: "GET",
        path: "/v3/auth/domains",
        query: "",
        headers: Vec::new(),
        body: b"",
    };
    let authorization = sign(&mut request, &credentials, jiff::Timestamp::now());
    let mut http = reqwest::Client::builder().no_proxy().build().unwrap().get(format!("{base_url}/v3/auth/domains"));
    for (name, value) in request.headers {
        http = http.header(name, value);
    }
    let status = http.header("Authorization", authorization).send().await.unwrap().status();
    stop_tx.send(()).unwrap();
    let result = server.await.unwrap();

    assert_eq!(status.as_u16(), 200);
    assert!(result.is_ok(), "{result:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&credentials_out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn unreadable_seed_file_fails() {
    let args = Command::try_parse_from(["emulator", "--seed", "/nonexistent/seed.yaml"]).unwrap().args;

    let result = serve_until(args, |_| {}, async { Ok(()) }).await;

    assert!(result.unwrap_err().to_string().contains("/nonexistent/seed.yaml"));
}

#[tokio::test]
async fn invalid_seed_file_fails() {
    let dir = scratch_dir("invalid");
    let seed = dir.join("seed.yaml");
    std::fs::write(&seed, "accounts:\n  - domain_name: acme\n    colour: red\n").unwrap();
    let args = Command::try_parse_from(["emulator".as_ref(), "--seed".as_ref(), seed.as_os_str()])
        .unwrap()
        .args;

    let result = serve_until(args, |_| {}, async { Ok(()) }).await;

    assert!(result.unwrap_err().to_string().contains("invalid seed file"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn help_gives_units() {
    let help = <Command as clap::CommandFactory>::command().render_long_help().to_string();

    for flag in ["--listen", "--admin", "--admin-listen", "--seed", "--credentials-out", "--fault", "--manual-clock-start", "--log-level"] {
        assert!(help.contains(flag), "{flag} missing from help");
    }
    assert!(help.contains("MILLISECONDS"));
    assert!(help.contains("TCP port"));
}
