//! Shared setup: an emulator on a manual clock with one seeded account, and a client that
//! signs requests with the project's signer.

use std::sync::Arc;

use akguard_emulator::{EmulatorClock, EmulatorConfig, RunningEmulator, SeedRequest, SeedUser, SeededAccount, start};
use akguard_hwcloud::signing::{SignableRequest, sign};
use akguard_hwcloud::{Credentials, ManualClock};
use jiff::Timestamp;
use serde_json::Value;

pub struct World {
    pub emulator: RunningEmulator,
    pub clock: Arc<ManualClock>,
    pub account: SeededAccount,
    pub http: reqwest::Client,
}

/// A response reduced to what the tests check.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn error_code(&self) -> &str {
        self.body["error_code"].as_str().unwrap_or("")
    }
}

pub fn start_time() -> Timestamp {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

/// Seeds `acme` with an admin `owner` (one key), `app` (one key) and `other` (one key).
pub async fn world() -> World {
    world_with(EmulatorConfig::default()).await
}

pub async fn world_with(mut config: EmulatorConfig) -> World {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let clock = ManualClock::new(start_time());
    config.clock = EmulatorClock::Manual(clock.clone());
    let emulator = start(config).await.expect("emulator starts");
    let mut owner = SeedUser::new("owner").with_key();
    owner.admin = true;
    let account = emulator
        .seed(SeedRequest {
            domain_name: "acme".into(),
            users: vec![owner, SeedUser::new("app").with_key(), SeedUser::new("other").with_key()],
            ..SeedRequest::default()
        })
        .expect("seed accepted");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    World {
        emulator,
        clock,
        account,
        http,
    }
}

impl World {
    pub fn credentials(&self, user: &str) -> Credentials {
        self.account.credentials(user, 0).expect("seeded user has a key")
    }

    pub fn user_id(&self, user: &str) -> String {
        self.account.user(user).expect("seeded user").id.clone()
    }

    /// Sends a request signed now by the emulator's clock.
    pub async fn call(&self, credentials: &Credentials, method: &str, path: &str, query: &str, body: Option<Value>) -> Reply {
        self.call_at(credentials, method, path, query, body, self.emulator.now()).await
    }

    /// Sends a request signed at `signed_at`.
    pub async fn call_at(
        &self,
        credentials: &Credentials,
        method: &str,
        path: &str,
        query: &str,
        body: Option<Value>,
        signed_at: Timestamp,
    ) -> Reply {
        let bytes = body.map(|b| serde_json::to_vec(&b).unwrap()).unwrap_or_default();
        let mut headers = vec![
            ("Host".to_string(), self.emulator.local_addr().to_string()),
            ("X-Domain-Id".to_string(), self.account.domain_id.clone()),
        ];
        if !bytes.is_empty() {
            headers.push(("Content-Type".into(), "application/json;charset=utf8".into()));
        }
        let mut request = SignableRequest {
            method,
            path,
            query,
            headers,
            body: &bytes,
        };
        let authorization = sign(&mut request, credentials, signed_at);
        let mut headers = request.headers;
        headers.push(("Authorization".into(), authorization));
        self.send_raw(method, path, query, headers, bytes).await
    }

    pub async fn send_raw(&self, method: &str, path: &str, query: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> Reply {
        let response = self.try_send_raw(method, path, query, headers, body).await.expect("request completes");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON body") };
        Reply { status, body }
    }

    pub async fn try_send_raw(
        &self,
        method: &str,
        path: &str,
        query: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> reqwest::Result<reqwest::Response> {
        let url = if query.is_empty() {
            format!("{}{}", self.emulator.base_url(), path)
        } else {
            format!("{}{}?{}", self.emulator.base_url(), path, query)
        };
        let mut builder = self.http.request(method.parse().unwrap(), url).body(body);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        builder.send().await
    }

    pub async fn list_keys(&self, credentials: &Credentials, user_id: Option<&str>) -> Reply {
        let query = user_id.map(|id| format!("user_id={id}")).unwrap_or_default();
        self.call(credentials, "GET", "/v3.0/OS-CREDENTIAL/credentials", &query, None).await
    }

    pub async fn show_key(&self, credentials: &Credentials, access_key: &str) -> Reply {
        self.call(credentials, "GET", &format!("/v3.0/OS-CREDENTIAL/credentials/{access_key}"), "", None)
            .await
    }

    pub async fn create_key(&self, credentials: &Credentials, user_id: &str, description: &str) -> Reply {
        let body = serde_json::json!({ "credential": { "user_id": user_id, "description": description } });
        self.call(credentials, "POST", "/v3.0/OS-CREDENTIAL/credentials", "", Some(body)).await
    }

    pub async fn update_key(&self, credentials: &Credentials, access_key: &str, credential: Value) -> Reply {
        let body = serde_json::json!({ "credential": credential });
        self.call(
            credentials,
            "PUT",
            &format!("/v3.0/OS-CREDENTIAL/credentials/{access_key}"),
            "",
            Some(body),
        )
        .await
    }

    pub async fn delete_key(&self, credentials: &Credentials, access_key: &str) -> Reply {
        self.call(credentials, "DELETE", &format!("/v3.0/OS-CREDENTIAL/credentials/{access_key}"), "", None)
            .await
    }
}
