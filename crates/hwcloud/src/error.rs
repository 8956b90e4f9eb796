//! Errors typed by what the caller must do, and the parser for Huawei Cloud error bodies.
//!
//! No variant ever carries a secret key: response bodies of calls that return one are never
//! quoted, and other bodies are quoted only through the parsed `error_msg`, shortened.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// Error category by the caller's next step, also the `outcome` label of call metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    QuotaExceeded,
    NotFound,
    Unauthorized,
    Forbidden,
    KeyInactive,
    UserDisabled,
    Throttled,
    Server,
    Timeout,
    Ambiguous,
    BadRequest,
    WrongRegion,
    InvalidResponse,
    Transport,
    Config,
}

impl ErrorKind {
    /// Returns a stable snake_case name for metrics labels and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::QuotaExceeded => "quota_exceeded",
            Self::NotFound => "not_found",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::KeyInactive => "key_inactive",
            Self::UserDisabled => "user_disabled",
            Self::Throttled => "throttled",
            Self::Server => "server",
            Self::Timeout => "timeout",
            Self::Ambiguous => "ambiguous",
            Self::BadRequest => "bad_request",
            Self::WrongRegion => "wrong_region",
            Self::InvalidResponse => "invalid_response",
            Self::Transport => "transport",
            Self::Config => "config",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error response from a Huawei Cloud API: the HTTP status and the code and message of
/// its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Operation name, such as `CreatePermanentAccessKey`.
    pub operation: &'static str,
    pub status: u16,
    /// Service error code such as `IAM.0004` or `APIGW.0301`, when the body has one.
    pub code: Option<String>,
    pub message: String,
    /// `X-Request-Id` of the response, for support tickets.
    pub request_id: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} returned HTTP {}", self.operation, self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// A failed Huawei Cloud call.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The IAM user already has the maximum number of access keys (two). Delete or reuse
    /// one before creating another.
    #[error("access key quota reached ({0}); the IAM user already has two access keys")]
    QuotaExceeded(ApiError),
    #[error("not found: {0}")]
    NotFound(ApiError),
    /// The credentials were rejected: wrong AK/SK, bad signature, clock skew, unknown,
    /// expired or locked key. Fix the credentials or the clock.
    #[error("authentication failed: {0}")]
    Unauthorized(ApiError),
    /// The identity lacks permission for the action.
    #[error("permission denied: {0}")]
    Forbidden(ApiError),
    /// The signing access key exists but is disabled.
    #[error("access key is inactive: {0}")]
    KeyInactive(ApiError),
    /// The IAM user that owns the signing key is disabled or has no programmatic access.
    #[error("IAM user is disabled: {0}")]
    UserDisabled(ApiError),
    #[error("throttled: {api}")]
    Throttled {
        api: ApiError,
        /// The delay the server asked for in `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    #[error("server error: {0}")]
    Server(ApiError),
    /// The request was rejected as invalid (a 4xx other than the ones above).
    #[error("request rejected: {0}")]
    BadRequest(ApiError),
    #[error("{operation} timed out after {elapsed:?}")]
    Timeout {
        operation: &'static str,
        elapsed: Duration,
    },
    /// A call that creates something failed after the request may have reached the server,
    /// so it may have taken effect. Look for the result (for access keys:
    /// `Client::find_key_by_marker`) before trying again.
    #[error("{operation} may or may not have taken effect: {cause}")]
    Ambiguous {
        operation: &'static str,
        cause: Box<Error>,
    },
    /// No or several projects are named after the region: the region is wrong for this
    /// account.
    #[error(
        "region {region:?} matches {matches} projects of this account instead of one; \
         check the region id in the provider spec"
    )]
    WrongRegion { region: String, matches: usize },
    #[error("{operation} returned an unexpected response: {detail}")]
    InvalidResponse {
        operation: &'static str,
        detail: String,
    },
    #[error("{operation} failed to reach the server: {detail}")]
    Transport {
        operation: &'static str,
        detail: String,
    },
    /// Invalid client configuration; `field` names the setting to fix.
    #[error("invalid {field}: {message}")]
    Config { field: &'static str, message: String },
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::QuotaExceeded(_) => ErrorKind::QuotaExceeded,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Unauthorized(_) => ErrorKind::Unauthorized,
            Self::Forbidden(_) => ErrorKind::Forbidden,
            Self::KeyInactive(_) => ErrorKind::KeyInactive,
            Self::UserDisabled(_) => ErrorKind::UserDisabled,
            Self::Throttled { .. } => ErrorKind::Throttled,
            Self::Server(_) => ErrorKind::Server,
            Self::BadRequest(_) => ErrorKind::BadRequest,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Ambiguous { .. } => ErrorKind::Ambiguous,
            Self::WrongRegion { .. } => ErrorKind::WrongRegion,
            Self::InvalidResponse { .. } => ErrorKind::InvalidResponse,
            Self::Transport { .. } => ErrorKind::Transport,
            Self::Config { .. } => ErrorKind::Config,
        }
    }

    /// Returns the API error of a variant that came from an error response.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::QuotaExceeded(api)
            | Self::NotFound(api)
            | Self::Unauthorized(api)
            | Self::Forbidden(api)
            | Self::KeyInactive(api)
            | Self::UserDisabled(api)
            | Self::Server(api)
            | Self::BadRequest(api)
            | Self::Throttled { api, .. } => Some(api),
            Self::Ambiguous { cause, .. } => cause.api(),
            _ => None,
        }
    }

    pub(crate) fn invalid_response(operation: &'static str, detail: impl Into<String>) -> Self {
        Self::InvalidResponse {
            operation,
            detail: detail.into(),
        }
    }
}

/// Maximum length of an error message kept from a response body, in characters.
const MAX_MESSAGE_CHARS: usize = 300;

/// The code and message found in an error body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorBody {
    pub code: Option<String>,
    pub message: Option<String>,
}

/// Parses the error body shapes Huawei Cloud services return:
/// - flat `{"error_code": "IAM.0004", "error_msg": "..."}` (IAM, gateway `APIGW.0301`, CTS,
///   BSS);
/// - Keystone-style `{"error": {"message": "akSkNumExceed", "code": 400, "title": "..."}}`,
///   whose numeric `code` repeats the HTTP status, so `message` doubles as the code;
/// - `{"error": {"error_code": ..., "error_msg": ...}}` and top-level `code`/`message`,
///   which the official Go SDK's parser also accepts.
///
/// Anything else (HTML from a proxy, empty bodies) gives a message made of the body's first
/// printable characters.
pub fn parse_error_body(body: &[u8]) -> ErrorBody {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        let text: String = String::from_utf8_lossy(body)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        return ErrorBody {
            code: None,
            message: (!text.is_empty()).then(|| shorten(&text)),
        };
    };

    let flat = code_and_message(&value);
    if flat.code.is_some() || flat.message.is_some() {
        return flat;
    }
    if let Some(nested) = value.get("error") {
        let mut parsed = code_and_message(nested);
        // Keystone puts the HTTP status in `code` and the IAM code (`akSkNumExceed`) in
        // `message`; a numeric code carries nothing the status does not.
        if parsed.code.as_deref().is_some_and(|code| code.parse::<u16>().is_ok()) {
            parsed.code = None;
        }
        if parsed.code.is_none()
            && let Some(message) = &parsed.message
            && is_code_like(message)
        {
            parsed.code = Some(message.clone());
        }
        if let Some(title) = nested.get("title").and_then(Value::as_str)
            && parsed.message.is_none()
        {
            parsed.message = Some(shorten(title));
        }
        return parsed;
    }
    ErrorBody::default()
}

fn code_and_message(value: &Value) -> ErrorBody {
    let text = |key: &str| match value.get(key) {
        Some(Value::String(text)) if !text.is_empty() => Some(shorten(text)),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    };
    ErrorBody {
        code: text("error_code").or_else(|| text("code")),
        message: text("error_msg").or_else(|| text("message")),
    }
}

/// Checks that text is one word of letters, digits and dots, such as `akSkNumExceed` or
/// `IAM.0004`.
fn is_code_like(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
}

fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// Maps an error response to the variant for the caller's next step.
pub fn classify(
    operation: &'static str,
    status: u16,
    body: ErrorBody,
    request_id: Option<String>,
    retry_after: Option<Duration>,
) -> Error {
    let code = body.code.clone().unwrap_or_default();
    let api = ApiError {
        operation,
        status,
        code: body.code,
        message: body.message.unwrap_or_default(),
        request_id,
    };
    let code_is = |wanted: &[&str]| wanted.iter().any(|w| code.eq_ignore_ascii_case(w));

    if code == "akSkNumExceed" || api.message.contains("akSkNumExceed") {
        return Error::QuotaExceeded(api);
    }
    if code_is(&["IAM.1107"]) {
        return Error::KeyInactive(api);
    }
    if code_is(&["IAM.0080", "IAM.0081", "IAM.0082"]) {
        return Error::UserDisabled(api);
    }
    // Gateway authentication failures (bad signature, unknown or locked AK, expired
    // signature) and IAM's credential errors (blacklisted, expired, orphaned AK, expired
    // security token) all mean the credentials or the clock must be fixed.
    if code_is(&[
        "APIGW.0301", "APIG.0301", "APIGW.0303", "APIG.0303", "IAM.0001", "IAM.1104", "IAM.1105",
        "IAM.1106", "IAM.1108",
    ]) {
        return Error::Unauthorized(api);
    }
    if status == 429 || code_is(&["IAM.0012", "APIGW.0308", "APIG.0308"]) {
        return Error::Throttled { api, retry_after };
    }
    match status {
        401 => Error::Unauthorized(api),
        403 => Error::Forbidden(api),
        404 => Error::NotFound(api),
        500..=599 => Error::Server(api),
        _ => Error::BadRequest(api),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(status: u16, body: &str) -> ErrorKind {
        classify("Test", status, parse_error_body(body.as_bytes()), None, None).kind()
    }

    #[test]
    fn error_bodies_parsed() {
        let cases: [(&str, Option<&str>, Option<&str>); 9] = [
            (
                r#"{"error_msg":"The request you have made requires authentication.","error_code":"IAM.0001"}"#,
                Some("IAM.0001"),
                Some("The request you have made requires authentication."),
            ),
            (
                r#"{"error":{"message":"akSkNumExceed","code":400,"title":"Bad Request"}}"#,
                Some("akSkNumExceed"),
                Some("akSkNumExceed"),
            ),
            (
                r#"{"error":{"message":"akSkNumExceed","code":400,"title":"Bad Request","error_msg":null,"error_code":null}}"#,
                Some("akSkNumExceed"),
                Some("akSkNumExceed"),
            ),
            (
                r#"{"error":{"error_code":"IAM.0004","error_msg":"Could not find credential."}}"#,
                Some("IAM.0004"),
                Some("Could not find credential."),
            ),
            (
                r#"{"error_msg":"Incorrect IAM authentication information: verify aksk signature fail","error_code":"APIGW.0301","request_id":"abc"}"#,
                Some("APIGW.0301"),
                Some("Incorrect IAM authentication information: verify aksk signature fail"),
            ),
            (
                r#"{"code":"CTS.0214","message":"bad trace type"}"#,
                Some("CTS.0214"),
                Some("bad trace type"),
            ),
            ("<html><body>502 Bad Gateway</body></html>", None, Some("<html><body>502 Bad Gateway</body></html>")),
            ("", None, None),
            ("[1,2,3]", None, None),
        ];
        for (body, code, message) in cases {
            let parsed = parse_error_body(body.as_bytes());
            assert_eq!(parsed.code.as_deref(), code, "code of {body}");
            assert_eq!(parsed.message.as_deref(), message, "message of {body}");
        }
    }

    #[test]
    fn garbage_body_is_shortened_and_printable() {
        let mut body = vec![0u8, 1, 2, 0xff, b'x'];
        body.extend(std::iter::repeat_n(b'y', 5000));

        let parsed = parse_error_body(&body);
        let message = parsed.message.unwrap();

        assert!(message.chars().count() <= MAX_MESSAGE_CHARS + 1);
        assert!(!message.chars().any(char::is_control));
    }

    #[test]
    fn errors_classified_by_action() {
        let cases = [
            (400, r#"{"error":{"message":"akSkNumExceed","code":400,"title":"Bad Request"}}"#, ErrorKind::QuotaExceeded),
            (400, r#"{"error_code":"IAM.1107","error_msg":"The access key AK is inactive."}"#, ErrorKind::KeyInactive),
            (403, r#"{"error_code":"IAM.0080","error_msg":"The user is disabled."}"#, ErrorKind::UserDisabled),
            (403, r#"{"error_code":"IAM.0082","error_msg":"user disabled"}"#, ErrorKind::UserDisabled),
            (401, r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail"}"#, ErrorKind::Unauthorized),
            (400, r#"{"error_code":"IAM.1105","error_msg":"expired"}"#, ErrorKind::Unauthorized),
            (401, "", ErrorKind::Unauthorized),
            (403, r#"{"error_code":"IAM.0002","error_msg":"You are not authorized."}"#, ErrorKind::Forbidden),
            (404, r#"{"error_code":"IAM.0004","error_msg":"Could not find."}"#, ErrorKind::NotFound),
            (429, r#"{"error_code":"IAM.0012","error_msg":"too many"}"#, ErrorKind::Throttled),
            (400, r#"{"error_code":"IAM.0012","error_msg":"too many"}"#, ErrorKind::Throttled),
            (500, r#"{"error_code":"IAM.0006","error_msg":"unexpected"}"#, ErrorKind::Server),
            (503, "<html>unavailable</html>", ErrorKind::Server),
            (400, r#"{"error_code":"IAM.1102","error_msg":"bad value"}"#, ErrorKind::BadRequest),
            (409, r#"{"error_code":"IAM.0005","error_msg":"conflict"}"#, ErrorKind::BadRequest),
        ];
        for (status, body, kind) in cases {
            assert_eq!(kind_of(status, body), kind, "{status} {body}");
        }
    }

    #[test]
    fn api_error_carries_code_and_message() {
        let error = classify(
            "ListPermanentAccessKeys",
            403,
            parse_error_body(br#"{"error_code":"IAM.0002","error_msg":"You are not authorized."}"#),
            Some("req-1".into()),
            None,
        );
        let api = error.api().unwrap();

        assert_eq!(api.code.as_deref(), Some("IAM.0002"));
        assert_eq!(api.message, "You are not authorized.");
        assert_eq!(
            error.to_string(),
            "permission denied: ListPermanentAccessKeys returned HTTP 403 IAM.0002: You are not authorized. (request id req-1)"
        );
    }
}
