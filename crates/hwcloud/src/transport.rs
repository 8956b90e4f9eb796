//! Sends signed requests, retries transient failures, and reports every call.

use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::endpoints::authority;
use crate::error::{Error, ErrorKind, classify, parse_error_body};
use crate::metrics::{CallRecord, Service};
use crate::retry::{AttemptFailure, Delivery, RetryDecision, decide};
use crate::signing::{self, SignableRequest};

/// `Content-Type` of request bodies, as IAM's API reference writes it.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=utf8";

/// One API call, before signing.
#[derive(Debug, Clone)]
pub(crate) struct ApiRequest {
    pub service: Service,
    pub operation: &'static str,
    pub method: Method,
    /// Path segments, unencoded; each is percent-encoded on the wire.
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// False for calls that create something: those are never repeated blind.
    pub idempotent: bool,
    /// Sent as `X-Project-Id` (project-scoped services such as CTS).
    pub project_id: Option<String>,
    /// Whether to send `X-Domain-Id` when the account id is known (global services).
    pub with_domain_id: bool,
    /// Whether a success response contains a secret, so parse errors must not quote it.
    pub secret_in_response: bool,
}

impl ApiRequest {
    pub fn new(service: Service, operation: &'static str, method: Method, segments: &[&str]) -> Self {
        Self {
            service,
            operation,
            method,
            segments: segments.iter().map(|s| s.to_string()).collect(),
            query: Vec::new(),
            body: None,
            idempotent: true,
            project_id: None,
            with_domain_id: matches!(service, Service::Iam | Service::Bss),
            secret_in_response: false,
        }
    }

    pub fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_string(), value.into()));
        self
    }

    pub fn json_body(mut self, body: &serde_json::Value) -> Self {
        self.body = Some(serde_json::to_vec(body).expect("a JSON value always serializes"));
        self
    }
}

/// A successful response.
pub(crate) struct ApiResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

impl ApiResponse {
    /// Parses the body as JSON. For responses that carry a secret the error gives the
    /// position of the failure but quotes nothing, because serde's messages can include values.
    pub fn json<T: DeserializeOwned>(&self, request: &ApiRequest) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|error| {
            let detail = if request.secret_in_response {
                format!(
                    "body is not the expected JSON ({:?} error at line {} column {})",
                    error.classify(),
                    error.line(),
                    error.column()
                )
            } else {
                format!("body is not the expected JSON: {error}")
            };
            Error::invalid_response(request.operation, detail)
        })
    }
}

/// Failure of one attempt, with whether the server can have acted on it.
struct Failed {
    error: Error,
    delivery: Delivery,
    status: Option<u16>,
}

impl Client {
    /// Sends a request with retries and discards the response body.
    pub(crate) async fn send(&self, request: &ApiRequest) -> Result<(), Error> {
        self.send_with(request, |_| Ok(())).await
    }

    /// Sends a request and parses the JSON response.
    pub(crate) async fn send_json<T: DeserializeOwned>(&self, request: &ApiRequest) -> Result<T, Error> {
        self.send_with(request, |response| response.json(request)).await
    }

    /// Sends a request with retries, parses a successful response with `parse`, and
    /// reports the call to the observer. A parse failure is never retried. For a call that
    /// creates something it is ambiguous: the thing exists, but its details (for an
    /// access key, the secret) were lost.
    pub(crate) async fn send_with<T>(
        &self,
        request: &ApiRequest,
        parse: impl FnOnce(&ApiResponse) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let started = Instant::now();
        let policy = &self.inner.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let remaining = policy.deadline.saturating_sub(started.elapsed());
            let timeout = policy.attempt_timeout.min(remaining).max(Duration::from_millis(1));
            let failed = match self.attempt(request, timeout).await {
                Ok(response) => {
                    let parsed = parse(&response).map_err(|error| {
                        if request.idempotent {
                            error
                        } else {
                            Error::Ambiguous {
                                operation: request.operation,
                                cause: Box::new(error),
                            }
                        }
                    });
                    self.report(request, parsed.as_ref().err(), Some(response.status), attempt, started);
                    return parsed;
                }
                Err(failed) => failed,
            };

            let retry_after = match &failed.error {
                Error::Throttled { retry_after, .. } => *retry_after,
                _ => None,
            };
            let failure = AttemptFailure {
                kind: failed.error.kind(),
                delivery: failed.delivery,
                idempotent: request.idempotent,
                attempt,
                elapsed: started.elapsed(),
                retry_after,
            };
            let error = match decide(policy, &failure, rand::random::<f64>()) {
                RetryDecision::Retry(wait) => {
                    tracing::debug!(
                        service = request.service.as_str(),
                        operation = request.operation,
                        attempt,
                        error_kind = failure.kind.as_str(),
                        wait_ms = wait.as_millis() as u64,
                        "retrying Huawei Cloud call after a transient error"
                    );
                    (self.inner.sleeper)(wait).await;
                    continue;
                }
                RetryDecision::GiveUp => failed.error,
                RetryDecision::GiveUpAmbiguous => Error::Ambiguous {
                    operation: request.operation,
                    cause: Box::new(failed.error),
                },
            };
            self.report(request, Some(&error), failed.status, attempt, started);
            return Err(error);
        }
    }

    fn report(
        &self,
        request: &ApiRequest,
        error: Option<&Error>,
        status: Option<u16>,
        attempts: u32,
        started: Instant,
    ) {
        let record = CallRecord {
            service: request.service,
            operation: request.operation,
            error: error.map(Error::kind),
            status,
            attempts,
            duration: started.elapsed(),
        };
        match error {
            // A missing resource is often the result the caller expects, not a fault.
            Some(error) if error.kind() == ErrorKind::NotFound => tracing::debug!(
                service = record.service.as_str(),
                operation = record.operation,
                status,
                attempts,
                %error,
                "Huawei Cloud resource not found"
            ),
            None => tracing::debug!(
                service = record.service.as_str(),
                operation = record.operation,
                status,
                attempts,
                duration_ms = record.duration.as_millis() as u64,
                "Huawei Cloud call succeeded"
            ),
            Some(error) => tracing::warn!(
                service = record.service.as_str(),
                operation = record.operation,
                status,
                attempts,
                duration_ms = record.duration.as_millis() as u64,
                error_kind = record.outcome(),
                %error,
                "Huawei Cloud call failed"
            ),
        }
        if let Some(observer) = &self.inner.observer {
            observer.record(&record);
        }
    }

    fn base_url(&self, service: Service) -> &Url {
        match service {
            Service::Iam => &self.inner.endpoints.iam,
            Service::Cts => &self.inner.endpoints.cts,
            Service::Bss => &self.inner.endpoints.bss,
        }
    }

    /// Builds the URL as sent: the endpoint's path prefix, then each segment encoded with
    /// the signer's own rule, and the query in canonical order, so the wire form and the
    /// signed form cannot drift apart.
    fn url(&self, request: &ApiRequest) -> Url {
        let mut url = self.base_url(request.service).clone();
        let mut path = url.path().trim_end_matches('/').to_string();
        for segment in &request.segments {
            path.push('/');
            path.push_str(&signing::encode(segment.as_bytes()));
        }
        url.set_path(&path);
        let query = signing::encode_query(&request.query);
        url.set_query((!query.is_empty()).then_some(query.as_str()));
        url
    }

    async fn attempt(&self, request: &ApiRequest, timeout: Duration) -> Result<ApiResponse, Failed> {
        if let Some(limiter) = &self.inner.rate_limiter {
            limiter.acquire().await;
        }
        let url = self.url(request);
        let body = request.body.clone().unwrap_or_default();

        let mut headers = vec![("Host".to_string(), authority(&url))];
        if request.body.is_some() {
            headers.push(("Content-Type".to_string(), JSON_CONTENT_TYPE.to_string()));
        }
        if request.with_domain_id
            && let Some(domain_id) = self.domain_id()
        {
            headers.push(("X-Domain-Id".to_string(), domain_id));
        }
        if let Some(project_id) = &request.project_id {
            headers.push(("X-Project-Id".to_string(), project_id.clone()));
        }
        let mut signable = SignableRequest {
            method: request.method.as_str(),
            path: url.path(),
            query: url.query().unwrap_or(""),
            headers,
            body: &body,
        };
        let authorization = signing::sign(&mut signable, &self.inner.credentials, self.inner.clock.now());
        let headers = signable.headers;

        let mut builder = self
            .inner
            .http
            .request(request.method.clone(), url.clone())
            .timeout(timeout);
        for (name, value) in &headers {
            let mut value = HeaderValue::from_str(value).map_err(|_| Failed {
                error: Error::Config {
                    field: "headers",
                    message: format!("header {name} has a value that HTTP cannot carry"),
                },
                delivery: Delivery::NotSent,
                status: None,
            })?;
            // Keeps the token out of the `Debug` output of reqwest's and hyper's types.
            if name.eq_ignore_ascii_case("X-Security-Token") {
                value.set_sensitive(true);
            }
            builder = builder.header(name.as_str(), value);
        }
        builder = builder.header("Authorization", authorization);
        if request.body.is_some() {
            builder = builder.body(body);
        }

        let response = builder.send().await.map_err(|error| self.transport_failure(request, &error, true, timeout))?;
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get("X-Request-Id")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let retry_after = response
            .headers()
            .get("Retry-After")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response
            .bytes()
            .await
            .map_err(|error| self.transport_failure(request, &error, false, timeout))?;

        if (200..300).contains(&status) {
            return Ok(ApiResponse {
                status,
                body: bytes.to_vec(),
            });
        }
        let error = classify(
            request.operation,
            status,
            parse_error_body(&bytes),
            request_id,
            retry_after,
        );
        Err(Failed {
            error,
            delivery: Delivery::Answered,
            status: Some(status),
        })
    }

    fn transport_failure(
        &self,
        request: &ApiRequest,
        error: &reqwest::Error,
        sending: bool,
        timeout: Duration,
    ) -> Failed {
        // A failed connect means no byte of the request left; everything later may have
        // reached the server.
        let delivery = if sending && error.is_connect() {
            Delivery::NotSent
        } else {
            Delivery::Unknown
        };
        let error = if error.is_timeout() && !error.is_connect() {
            Error::Timeout {
                operation: request.operation,
                elapsed: timeout,
            }
        } else {
            Error::Transport {
                operation: request.operation,
                detail: error_chain(error),
            }
        };
        Failed {
            error,
            delivery,
            status: None,
        }
    }
}

/// Joins an error and its sources into one line, such as
/// `error sending request: client error (Connect): Connection refused`.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
