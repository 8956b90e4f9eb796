//! HTTP health checks a rotation runs after its consumers restarted.

use std::time::Duration;

use crate::rotation::decision::CheckOutcome;

/// One HTTP check: a GET of `url` must answer `expected_status` within `timeout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    pub name: String,
    pub url: String,
    pub expected_status: u16,
    pub timeout: Duration,
}

/// Runs one check. Connection errors and timeouts are failed checks, not errors.
pub async fn run(client: &reqwest::Client, check: &HttpCheck) -> CheckOutcome {
    let result = client.get(&check.url).timeout(check.timeout).send().await;
    let (passed, detail) = match result {
        Ok(response) => {
            let status = response.status().as_u16();
            (
                status == check.expected_status,
                format!("HTTP {status}, expected {}", check.expected_status),
            )
        }
        Err(error) if error.is_timeout() => {
            (false, format!("no answer within {:?}", check.timeout))
        }
        Err(error) => (false, format!("request failed: {}", error.without_url())),
    };
    CheckOutcome {
        name: check.name.clone(),
        passed,
        detail,
    }
}
