//! Verification of `SDK-HMAC-SHA256` signed requests, as Huawei Cloud's API gateway and IAM
//! check them before a request reaches the service.
//!
//! The canonical request is rebuilt from the header list that the request's `Authorization`
//! header names, because SDKs sign different header sets. The Go SDK leaves out `Host` and
//! `Content-Type`, the Python SDK signs both, and the Java SDK signs `Host` and `X-Sdk-Date`.

use akguard_hwcloud::signing::{self, Authorization, SigningError};
use http::StatusCode;
use jiff::{SignedDuration, Timestamp};

use crate::errors::ApiError;
use crate::state::{KeyStatus, World};

/// Maximum difference between `X-Sdk-Date` and the emulator's clock (gateway rule: 15 minutes).
pub const MAX_CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(15);
/// Bad signatures in a row that lock a key.
pub const MAX_CONSECUTIVE_FAILURES: u32 = 5;
/// How long a key stays locked after [`MAX_CONSECUTIVE_FAILURES`] bad signatures.
pub const LOCKOUT: SignedDuration = SignedDuration::from_mins(5);

/// A request as received, reduced to what the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// Path as received, still percent-encoded.
    pub path: &'a str,
    /// Query string as received, without `?`.
    pub query: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The verified identity behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: String,
    pub user_name: String,
    pub domain_id: String,
    pub domain_name: String,
    pub access_key_id: String,
    pub may_manage_others: bool,
    pub is_domain_owner: bool,
}

/// Reason a request was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    MissingAuthorization,
    /// The `Authorization` header cannot be parsed, names an unknown algorithm, leaves
    /// `X-Sdk-Date` unsigned or lists a header the request lacks.
    Malformed(String),
    UnknownKey,
    Locked,
    Expired { signed_at: String, server_time: String },
    BadSignature,
    DomainMismatch,
    Inactive { access_key_id: String },
    UserDisabled { user_id: String, access_key_id: String },
}

impl AuthFailure {
    /// Builds the error response. Gateway rejections use `APIGW.0301` with status 401 and the
    /// message prefixes Huawei Cloud documents for AK/SK authentication failures.
    pub fn to_api_error(&self) -> ApiError {
        let gateway = |detail: String| {
            ApiError::flat(
                StatusCode::UNAUTHORIZED,
                "APIGW.0301",
                format!("Incorrect IAM authentication information: {detail}"),
            )
        };
        match self {
            // NOTE: the response to an unsigned IAM request is not documented for AK/SK;
            // keystone rejects a request without credentials with 401 and IAM.0001.
            AuthFailure::MissingAuthorization => ApiError::flat(
                StatusCode::UNAUTHORIZED,
                "IAM.0001",
                "The request you have made requires authentication.",
            ),
            // NOTE: the gateway's code for a malformed Authorization header or an unsigned
            // X-Sdk-Date is not documented, so a client must treat any 401 as an auth failure.
            AuthFailure::Malformed(detail) => gateway(format!("verify aksk signature fail, {detail}")),
            AuthFailure::UnknownKey => {
                gateway("Get secretKey failed,ak:******,err:ak not exist".to_string())
            }
            AuthFailure::Locked => {
                gateway("AK access failed to reach the limit,forbidden.".to_string())
            }
            // NOTE: only app authentication documents its expiry error (APIGW.0303); for
            // AK/SK the code is not documented, so this keeps APIGW.0301 with the same text.
            AuthFailure::Expired {
                signed_at,
                server_time,
            } => gateway(format!(
                "signature expired, signature time:{signed_at},server time:{server_time}"
            )),
            AuthFailure::BadSignature => gateway("verify aksk signature fail".to_string()),
            // NOTE: the gateway's response to an X-Domain-Id of another account is not
            // documented.
            AuthFailure::DomainMismatch => {
                gateway("X-Domain-Id does not match the access key's account".to_string())
            }
            // NOTE: the gateway's response to an inactive key or a disabled user's key is not
            // documented, so these are IAM's own codes for the two cases.
            AuthFailure::Inactive { access_key_id } => ApiError::flat(
                StatusCode::BAD_REQUEST,
                "IAM.1107",
                format!("The access key {access_key_id} is inactive."),
            ),
            AuthFailure::UserDisabled {
                user_id,
                access_key_id,
            } => ApiError::flat(
                StatusCode::FORBIDDEN,
                "IAM.0080",
                format!("The user {user_id} with access key {access_key_id} is disabled."),
            ),
        }
    }
}

impl From<SigningError> for AuthFailure {
    fn from(error: SigningError) -> Self {
        AuthFailure::Malformed(error.to_string())
    }
}

/// Result of a verification: the access key ID the request named (when it named one), and
/// the caller or the failure.
#[derive(Debug, Clone)]
pub struct Verification {
    pub claimed_access_key_id: Option<String>,
    pub result: Result<Caller, AuthFailure>,
}

/// Verifies a request against the world at `now`. A good signature resets the key's failure
/// count and, when the key may act, moves its `last_use_time`. A bad one counts towards
/// the lockout.
pub fn verify(world: &mut World, request: &SignedRequest<'_>, now: Timestamp) -> Verification {
    let header = signing::header_value(request.headers, "Authorization");
    let authorization = match header.map(Authorization::parse) {
        None => return failed(None, AuthFailure::MissingAuthorization),
        Some(Err(error)) => return failed(None, error.into()),
        Some(Ok(parsed)) => parsed,
    };
    let claimed = Some(authorization.access_key_id.clone());
    let result = check(world, request, &authorization, now);
    Verification {
        claimed_access_key_id: claimed,
        result,
    }
}

fn failed(claimed: Option<String>, failure: AuthFailure) -> Verification {
    Verification {
        claimed_access_key_id: claimed,
        result: Err(failure),
    }
}

fn check(
    world: &mut World,
    request: &SignedRequest<'_>,
    authorization: &Authorization,
    now: Timestamp,
) -> Result<Caller, AuthFailure> {
    if authorization.algorithm != signing::ALGORITHM {
        // IAM, CTS and BSS accept only SDK-HMAC-SHA256. The derived-key variant is for
        // other endpoints.
        return Err(AuthFailure::Malformed(format!(
            "unsupported algorithm {}",
            authorization.algorithm
        )));
    }
    if !authorization.signed_headers.iter().any(|h| h == "x-sdk-date") {
        return Err(SigningError::DateNotSigned.into());
    }

    let key = world
        .keys
        .get_mut(&authorization.access_key_id)
        .ok_or(AuthFailure::UnknownKey)?;

    if let Some(until) = key.locked_until {
        if now < until {
            return Err(AuthFailure::Locked);
        }
        key.locked_until = None;
        key.consecutive_failures = 0;
    }

    let sdk_date = signing::header_value(request.headers, signing::HEADER_DATE)
        .ok_or_else(|| SigningError::MissingSignedHeader("x-sdk-date".into()))?;
    let signed_at = signing::parse_sdk_date(sdk_date)?;
    if is_skewed(signed_at, now) {
        return Err(AuthFailure::Expired {
            signed_at: sdk_date.to_string(),
            server_time: signing::format_sdk_date(now),
        });
    }

    let expected = signing::expected_signature(
        authorization,
        request.method,
        request.path,
        request.query,
        request.headers,
        request.body,
        key.secret_access_key.expose(),
    )?;
    if !signing::signatures_match(&expected, &authorization.signature) {
        key.consecutive_failures += 1;
        if key.consecutive_failures >= MAX_CONSECUTIVE_FAILURES {
            key.locked_until = Some(now + LOCKOUT);
        }
        return Err(AuthFailure::BadSignature);
    }
    key.consecutive_failures = 0;

    let key = world.keys[&authorization.access_key_id].clone();
    let user = world
        .users
        .get(&key.user_id)
        .ok_or(AuthFailure::UnknownKey)?
        .clone();
    let account = world
        .accounts
        .get(&user.domain_id)
        .ok_or(AuthFailure::UnknownKey)?;

    if let Some(domain_id) = signing::header_value(request.headers, "X-Domain-Id")
        && domain_id != account.id
    {
        return Err(AuthFailure::DomainMismatch);
    }
    if key.status == KeyStatus::Inactive {
        return Err(AuthFailure::Inactive {
            access_key_id: key.access_key_id,
        });
    }
    if !user.enabled {
        return Err(AuthFailure::UserDisabled {
            user_id: user.id,
            access_key_id: key.access_key_id,
        });
    }

    let caller = Caller {
        user_id: user.id.clone(),
        user_name: user.name.clone(),
        domain_id: account.id.clone(),
        domain_name: account.name.clone(),
        access_key_id: key.access_key_id.clone(),
        may_manage_others: user.may_manage_others(),
        is_domain_owner: user.is_domain_owner,
    };
    if let Some(stored) = world.keys.get_mut(&key.access_key_id) {
        stored.last_used = Some(crate::state::truncate_to_micros(now));
    }
    Ok(caller)
}

/// Returns whether a signing time is too far from the server time, in either direction.
pub fn is_skewed(signed_at: Timestamp, now: Timestamp) -> bool {
    let difference = now.duration_since(signed_at).abs();
    difference > MAX_CLOCK_SKEW
}

#[cfg(test)]
mod tests {
    use super::*;

    use akguard_hwcloud::Credentials;
    use akguard_hwcloud::signing::{SignableRequest, sign};

    use crate::seed::{SeedRequest, SeedUser};

    const HOST: &str = "127.0.0.1:9";

    fn world() -> (World, Credentials, Timestamp) {
        let now: Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
        let mut world = World::default();
        let account = world
            .seed(
                &SeedRequest {
                    domain_name: "acme".into(),
                    users: vec![SeedUser::new("app").with_key()],
                    ..SeedRequest::default()
                },
                now,
            )
            .unwrap();
        (world, account.credentials("app", 0).unwrap(), now)
    }

    fn signed_headers(credentials: &Credentials, signed_at: Timestamp) -> Vec<(String, String)> {
        let mut request = SignableRequest {
            method: "GET",
            path: "/v3/auth/domains",
            query: "",
            headers: vec![("Host".into(), HOST.into())],
            body: b"",
        };
        let authorization = sign(&mut request, credentials, signed_at);
        let mut headers = request.headers;
        headers.push(("Authorization".into(), authorization));
        headers
    }

    fn run(world: &mut World, headers: &[(String, String)], now: Timestamp) -> Result<Caller, AuthFailure> {
        let request = SignedRequest {
            method: "GET",
            path: "/v3/auth/domains",
            query: "",
            headers,
            body: b"",
        };
        verify(world, &request, now).result
    }

    fn tamper(headers: &mut [(String, String)]) {
        for (name, value) in headers.iter_mut() {
            if name == "Authorization" {
                let last = value.pop().unwrap();
                value.push(if last == '0' { '1' } else { '0' });
            }
        }
    }

    #[test]
    fn good_signature_accepted() {
        let (mut world, credentials, now) = world();
        let headers = signed_headers(&credentials, now);

        let caller = run(&mut world, &headers, now).unwrap();

        assert_eq!(caller.user_name, "app");
    }

    #[test]
    fn skew_limits() {
        let cases = [
            (SignedDuration::from_mins(15), true),
            (SignedDuration::from_mins(-15), true),
            (SignedDuration::from_secs(15 * 60 + 1), false),
            (SignedDuration::from_secs(-15 * 60 - 1), false),
        ];
        for (offset, accepted) in cases {
            let (mut world, credentials, now) = world();
            let headers = signed_headers(&credentials, now + offset);

            let result = run(&mut world, &headers, now);

            assert_eq!(result.is_ok(), accepted, "offset {offset}");
        }
    }

    #[test]
    fn missing_authorization() {
        let (mut world, _, now) = world();

        let result = run(&mut world, &[("Host".into(), HOST.into())], now);

        assert_eq!(result, Err(AuthFailure::MissingAuthorization));
    }

    #[test]
    fn lockout_after_five_failures() {
        let (mut world, credentials, now) = world();
        let mut bad = signed_headers(&credentials, now);
        tamper(&mut bad);
        for _ in 0..MAX_CONSECUTIVE_FAILURES {
            assert_eq!(run(&mut world, &bad, now), Err(AuthFailure::BadSignature));
        }
        let good = signed_headers(&credentials, now);

        assert_eq!(run(&mut world, &good, now), Err(AuthFailure::Locked));
        let later = now + LOCKOUT;
        let good_later = signed_headers(&credentials, later);
        assert!(run(&mut world, &good_later, later).is_ok());
    }

    #[test]
    fn good_signature_resets_failures() {
        let (mut world, credentials, now) = world();
        let mut bad = signed_headers(&credentials, now);
        tamper(&mut bad);
        let good = signed_headers(&credentials, now);
        for _ in 0..MAX_CONSECUTIVE_FAILURES - 1 {
            run(&mut world, &bad, now).unwrap_err();
        }

        run(&mut world, &good, now).unwrap();
        run(&mut world, &bad, now).unwrap_err();

        assert!(run(&mut world, &good, now).is_ok());
    }

    #[test]
    fn unsigned_date_rejected() {
        let (mut world, credentials, now) = world();
        let mut headers = signed_headers(&credentials, now);
        for (name, value) in headers.iter_mut() {
            if name == "Authorization" {
                *value = value.replace("host;x-sdk-date", "host");
            }
        }

        let result = run(&mut world, &headers, now);

        assert!(matches!(result, Err(AuthFailure::Malformed(_))), "{result:?}");
    }

    #[test]
    fn use_moves_last_use_time() {
        let (mut world, credentials, now) = world();
        let later = now + SignedDuration::from_hours(3);
        let headers = signed_headers(&credentials, later);

        run(&mut world, &headers, later).unwrap();

        let key = world.key(&credentials.access_key_id).unwrap();
        assert_eq!(key.last_use_time(), later);
    }

    #[test]
    fn failure_codes() {
        let cases = [
            (AuthFailure::UnknownKey, 401, "APIGW.0301"),
            (AuthFailure::BadSignature, 401, "APIGW.0301"),
            (AuthFailure::Locked, 401, "APIGW.0301"),
            (
                AuthFailure::Inactive {
                    access_key_id: "AK".into(),
                },
                400,
                "IAM.1107",
            ),
            (
                AuthFailure::UserDisabled {
                    user_id: "u".into(),
                    access_key_id: "AK".into(),
                },
                403,
                "IAM.0080",
            ),
        ];
        for (failure, status, code) in cases {
            let error = failure.to_api_error();

            assert_eq!(error.status.as_u16(), status, "{failure:?}");
            assert_eq!(error.code(), code, "{failure:?}");
        }
    }
}
