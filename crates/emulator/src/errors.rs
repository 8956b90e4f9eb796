//! Error responses in the two shapes Huawei Cloud IAM sends.
//!
//! Most IAM and gateway errors are flat, `{"error_msg": "...", "error_code": "IAM.0004"}`.
//! Creating a key past the quota returns the keystone style instead,
//! `{"error": {"message": "akSkNumExceed", "code": 400, "title": "Bad Request"}}`.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Value, json};

/// An error response of the emulated cloud.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

/// The JSON shape of an error body.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorBody {
    /// `{"error_msg", "error_code"}`, used by IAM, CTS and the API gateway.
    Flat { code: String, message: String },
    /// `{"error": {"message", "code", "title"}}`, used by the key quota error.
    Keystone { message: String },
}

impl ApiError {
    pub fn flat(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody::Flat {
                code: code.to_string(),
                message: message.into(),
            },
        }
    }

    /// Creates the error IAM returns when a user already has two access keys.
    pub fn key_quota_exceeded() -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            body: ErrorBody::Keystone {
                message: "akSkNumExceed".to_string(),
            },
        }
    }

    pub fn invalid_body(detail: impl std::fmt::Display) -> Self {
        Self::flat(
            StatusCode::BAD_REQUEST,
            "IAM.0011",
            format!("Request body is invalid: {detail}"),
        )
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::flat(
            StatusCode::NOT_FOUND,
            "IAM.0004",
            format!("Could not find {what}."),
        )
    }

    /// Creates the 403 for a caller that lacks the permission for `action` (an IAM action
    /// name such as `iam:credentials:listCredentials`).
    pub fn forbidden(action: &str) -> Self {
        Self::flat(
            StatusCode::FORBIDDEN,
            "IAM.0002",
            format!("You are not authorized to perform the requested action: {action}."),
        )
    }

    pub fn throttled() -> Self {
        Self::flat(
            StatusCode::TOO_MANY_REQUESTS,
            "IAM.0012",
            "The throttling threshold has been reached.",
        )
    }

    /// Creates an error with the IAM code that usually goes with `status`, for injected faults.
    pub fn for_status(status: StatusCode) -> Self {
        let code = match status.as_u16() {
            400 => "IAM.0011",
            401 => "IAM.0001",
            403 => "IAM.0002",
            404 => "IAM.0004",
            409 => "IAM.0005",
            429 => return Self::throttled(),
            _ => "IAM.0006",
        };
        Self::flat(
            status,
            code,
            format!(
                "Injected fault: {}",
                status.canonical_reason().unwrap_or("error")
            ),
        )
    }

    /// Returns the error code as the trace's `message` shows it.
    pub fn code(&self) -> String {
        match &self.body {
            ErrorBody::Flat { code, .. } => code.clone(),
            ErrorBody::Keystone { message } => message.clone(),
        }
    }

    /// Renders the JSON body. Gateway errors also carry the request ID.
    pub fn to_json(&self, request_id: Option<&str>) -> Value {
        match &self.body {
            ErrorBody::Flat { code, message } => {
                let mut body = json!({ "error_msg": message, "error_code": code });
                if let Some(id) = request_id {
                    body["request_id"] = json!(id);
                }
                body
            }
            ErrorBody::Keystone { message } => json!({
                "error": {
                    "message": message,
                    "code": self.status.as_u16(),
                    "title": self.status.canonical_reason().unwrap_or(""),
                }
            }),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.to_json(None);
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(self);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_body_is_keystone_shape() {
        let body = ApiError::key_quota_exceeded().to_json(None);

        assert_eq!(
            body,
            json!({"error": {"message": "akSkNumExceed", "code": 400, "title": "Bad Request"}})
        );
    }

    #[test]
    fn flat_body_has_code_and_message() {
        let body = ApiError::not_found("user x").to_json(None);

        assert_eq!(body["error_code"], "IAM.0004");
        assert_eq!(body["error_msg"], "Could not find user x.");
    }

    #[test]
    fn flat_body_carries_request_id() {
        let body = ApiError::throttled().to_json(Some("abc"));

        assert_eq!(body["request_id"], "abc");
    }

    #[test]
    fn injected_status_codes() {
        let cases = [
            (500, "IAM.0006"),
            (503, "IAM.0006"),
            (429, "IAM.0012"),
            (404, "IAM.0004"),
            (403, "IAM.0002"),
        ];
        for (status, code) in cases {
            let error = ApiError::for_status(StatusCode::from_u16(status).unwrap());

            assert_eq!(error.code(), code, "status {status}");
        }
    }
}
