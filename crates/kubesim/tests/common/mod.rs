//! Shared helpers: start a simulator, build clients, poll with a deadline, run kubectl.
#![allow(dead_code)]

use akguard_kubesim::{RunningSim, SimConfig};
use http::Request;
use serde_json::Value;
use std::future::Future;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub async fn start() -> RunningSim {
    start_with(SimConfig::default()).await
}

pub async fn start_with(config: SimConfig) -> RunningSim {
    akguard_kubesim::start(config).await.expect("simulator starts")
}

pub fn client(sim: &RunningSim) -> kube::Client {
    let config = kube::Config::new(sim.base_url().parse().expect("base URL parses"));
    kube::Client::try_from(config).expect("client builds")
}

/// Sends a raw request and returns the status code and body text.
pub async fn raw(client: &kube::Client, method: &str, path: &str, content_type: &str, body: &str) -> (u16, String) {
    raw_bytes(client, method, path, content_type, body.as_bytes()).await
}

/// Sends `body` as is, for binary encodings such as protobuf.
pub async fn raw_bytes(client: &kube::Client, method: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(body.to_vec())
        .expect("request builds");
    let response = client.send(request.map(kube::client::Body::from)).await.expect("request is sent");
    let status = response.status().as_u16();
    let bytes = http_body_util_collect(response).await;
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn http_body_util_collect(response: http::Response<kube::client::Body>) -> Vec<u8> {
    use http_body_util::BodyExt;
    response.into_body().collect().await.expect("body is read").to_bytes().to_vec()
}

/// Polls `check` every 20 ms until it returns `Some`, panicking after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn json_at<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    value.pointer(pointer).unwrap_or(&Value::Null)
}

/// A kubectl bound to one simulator through a kubeconfig in a temporary directory.
pub struct Kubectl {
    pub kubeconfig: PathBuf,
}

pub const KUBECTL: &str = "/usr/bin/kubectl";

impl Kubectl {
    pub fn new(sim: &RunningSim, test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("kubesim-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let kubeconfig = dir.join("kubeconfig");
        sim.write_kubeconfig(&kubeconfig).expect("kubeconfig written");
        Self { kubeconfig }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(KUBECTL);
        command
            .args(args)
            .arg("--request-timeout=20s")
            .env("KUBECONFIG", &self.kubeconfig)
            // A private cache directory keeps discovery from other runs out of the picture.
            .env("KUBECACHEDIR", self.kubeconfig.with_file_name("cache"))
            .env("HOME", self.kubeconfig.parent().expect("dir"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs kubectl to completion on a blocking thread (kubectl talks to the in-process
    /// simulator, so the runtime must keep serving).
    pub async fn run(&self, args: &[&str]) -> Output {
        self.run_with_input(args, "").await
    }

    pub async fn run_with_input(&self, args: &[&str], input: &str) -> Output {
        let mut command = self.command(args);
        let input = input.to_string();
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut child = command.spawn().expect("kubectl starts");
            child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("stdin written");
            child.wait_with_output().expect("kubectl finishes")
        })
        .await
        .expect("kubectl thread")
    }

    /// Runs kubectl and panics with its output unless it succeeds; returns stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        self.ok_with_input(args, "").await
    }

    pub async fn ok_with_input(&self, args: &[&str], input: &str) -> String {
        let output = self.run_with_input(args, input).await;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}\nstdout: {stdout}\nstderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// Starts kubectl without waiting, for watches that a test stops itself.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command(args).spawn().expect("kubectl starts")
    }
}
