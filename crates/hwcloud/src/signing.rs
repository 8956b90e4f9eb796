//! `SDK-HMAC-SHA256` request signing, as Huawei Cloud's API gateways verify it.
//!
//! The client signs with [`sign`]; the emulator verifies by rebuilding the canonical request
//! with [`canonical_request`] from the header list that the `Authorization` header names.
//! Both sides share every encoding rule here, so one set of vectors covers both.
//!
//! Rules (Huawei Cloud API Signing Guide, "Constructing a Canonical Request"; the official
//! Go, Java and Python SDK signers agree on them):
//! - each path segment and each query name and value is percent-encoded byte by byte, with
//!   only `A-Z a-z 0-9 - _ . ~` left as they are and upper-case hex digits;
//! - the canonical URI always ends with `/`;
//! - query pairs are sorted by decoded name, then decoded value, and an empty value keeps its `=`;
//! - the HMAC key is the secret access key itself (no derivation chain as in AWS SigV4).

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};

use crate::secret::Credentials;

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
pub const DERIVED_ALGORITHM: &str = "V11-HMAC-SHA256";
pub const HEADER_DATE: &str = "X-Sdk-Date";
pub const HEADER_CONTENT_SHA256: &str = "X-Sdk-Content-Sha256";
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Hex SHA-256 of an empty body.
pub const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// `X-Sdk-Date` layout: UTC, `YYYYMMDDTHHMMSSZ`.
pub const DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// Why a request could not be signed or its signature could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    #[error("Authorization header is malformed: {0}")]
    MalformedAuthorization(String),
    #[error("unsupported signing algorithm {0:?}; expected {ALGORITHM}")]
    UnsupportedAlgorithm(String),
    #[error("signed header {0:?} is missing from the request")]
    MissingSignedHeader(String),
    #[error("X-Sdk-Date must be a signed header")]
    DateNotSigned,
    #[error("X-Sdk-Date {0:?} is not in the form YYYYMMDDTHHMMSSZ")]
    InvalidDate(String),
}

/// Percent-encodes bytes the way every Huawei Cloud SDK signer does.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Builds the canonical URI from the path as sent: decode, split on `/`, encode each
/// segment, and make sure the result ends with `/`.
pub fn canonical_uri(raw_path: &str) -> String {
    let decoded: Vec<u8> = percent_decode_str(raw_path).collect();
    let segments: Vec<String> = decoded.split(|&b| b == b'/').map(encode).collect();
    let mut uri = segments.join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Splits a raw query string into decoded name/value pairs. A `+` stays a `+`: the SDK
/// signers encode a space as `%20`, never as `+`.
pub fn parse_query(raw_query: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    raw_query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode_str(name).collect(),
                percent_decode_str(value).collect(),
            )
        })
        .collect()
}

/// Builds the canonical query string from decoded pairs.
pub fn canonical_query_string<N: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(N, V)]) -> String {
    let mut sorted: Vec<(&[u8], &[u8])> = pairs
        .iter()
        .map(|(name, value)| (name.as_ref(), value.as_ref()))
        .collect();
    sorted.sort();
    sorted
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Encodes one query string for the wire, in the canonical order, so the URL a client sends
/// and the string it signs are the same.
pub fn encode_query<N: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(N, V)]) -> String {
    canonical_query_string(pairs)
}

/// Returns the hex SHA-256 of a body, or the `X-Sdk-Content-Sha256` value when the client
/// opted out of body signing. An empty body always hashes as empty, as in the Python SDK.
pub fn payload_hash(body: &[u8], content_sha256_header: Option<&str>) -> String {
    if body.is_empty() {
        return EMPTY_PAYLOAD_SHA256.to_string();
    }
    match content_sha256_header {
        Some(value) if !value.is_empty() => value.to_string(),
        _ => hex::encode(Sha256::digest(body)),
    }
}

/// Builds the canonical request. `headers` are the request's headers in any case;
/// `signed_headers` are lower-case names, already sorted, as they appear in `Authorization`.
/// A header sent several times contributes one line per value, values sorted (Go SDK rule).
pub fn canonical_request(
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &[(String, String)],
    signed_headers: &[String],
    payload_hash: &str,
) -> Result<String, SigningError> {
    let mut canonical_headers = String::new();
    for name in signed_headers {
        let mut values: Vec<&str> = headers
            .iter()
            .filter(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim())
            .collect();
        if values.is_empty() {
            return Err(SigningError::MissingSignedHeader(name.clone()));
        }
        values.sort_unstable();
        for value in values {
            canonical_headers.push_str(name);
            canonical_headers.push(':');
            canonical_headers.push_str(value);
            canonical_headers.push('\n');
        }
    }

    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        canonical_uri(raw_path),
        canonical_query_string(&parse_query(raw_query)),
        canonical_headers,
        signed_headers.join(";"),
        payload_hash
    ))
}

pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// Hex HMAC-SHA256 of `data` keyed with `key`.
pub fn hmac_hex(key: &[u8], data: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Formats a time as an `X-Sdk-Date` value.
pub fn format_sdk_date(time: Timestamp) -> String {
    time.strftime(DATE_FORMAT).to_string()
}

/// Parses an `X-Sdk-Date` value.
pub fn parse_sdk_date(value: &str) -> Result<Timestamp, SigningError> {
    jiff::civil::DateTime::strptime(DATE_FORMAT, value)
        .and_then(|civil| civil.to_zoned(jiff::tz::TimeZone::UTC))
        .map(|zoned| zoned.timestamp())
        .map_err(|_| SigningError::InvalidDate(value.to_string()))
}

/// The parsed `Authorization` header of a signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub algorithm: String,
    /// The access key ID; for `V11-HMAC-SHA256`, the part of `Credential` before the first `/`.
    pub access_key_id: String,
    /// For `V11-HMAC-SHA256`: the `<YYYYMMDD>/<region>/<service>` scope.
    pub derivation_info: Option<String>,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl Authorization {
    /// Parses `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex`. Separators
    /// between the three parts may be `,` or `, ` (gateways accept both).
    pub fn parse(header: &str) -> Result<Self, SigningError> {
        let malformed = || SigningError::MalformedAuthorization(truncate(header));
        let (algorithm, rest) = header.trim().split_once(' ').ok_or_else(malformed)?;
        if algorithm != ALGORITHM && algorithm != DERIVED_ALGORITHM {
            return Err(SigningError::UnsupportedAlgorithm(truncate(algorithm)));
        }

        let mut access = None;
        let mut signed_headers = None;
        let mut signature = None;
        for part in rest.split(',') {
            let (key, value) = part.trim().split_once('=').ok_or_else(malformed)?;
            match key {
                "Access" | "Credential" => access = Some(value.to_string()),
                "SignedHeaders" => signed_headers = Some(value.to_string()),
                "Signature" => signature = Some(value.to_string()),
                _ => return Err(malformed()),
            }
        }

        let access = access.filter(|value| !value.is_empty()).ok_or_else(malformed)?;
        let (access_key_id, derivation_info) = match access.split_once('/') {
            Some((key, info)) if algorithm == DERIVED_ALGORITHM => {
                (key.to_string(), Some(info.to_string()))
            }
            _ => (access, None),
        };
        let signed_headers: Vec<String> = signed_headers
            .ok_or_else(malformed)?
            .split(';')
            .filter(|name| !name.is_empty())
            .map(str::to_string)
            .collect();
        if signed_headers.is_empty() {
            return Err(malformed());
        }

        Ok(Self {
            algorithm: algorithm.to_string(),
            access_key_id,
            derivation_info,
            signed_headers,
            signature: signature.filter(|value| !value.is_empty()).ok_or_else(malformed)?,
        })
    }

    pub fn to_header_value(&self) -> String {
        let access = match (&self.derivation_info, self.algorithm.as_str()) {
            (Some(info), DERIVED_ALGORITHM) => {
                format!("Credential={}/{}", self.access_key_id, info)
            }
            _ => format!("Access={}", self.access_key_id),
        };
        format!(
            "{} {}, SignedHeaders={}, Signature={}",
            self.algorithm,
            access,
            self.signed_headers.join(";"),
            self.signature
        )
    }
}

fn truncate(value: &str) -> String {
    value.chars().take(64).collect()
}

/// A request as the signer sees it: headers may be added to it (`X-Sdk-Date`, `Host`).
#[derive(Debug, Clone)]
pub struct SignableRequest<'a> {
    pub method: &'a str,
    /// Path as it will be sent, already percent-encoded where needed.
    pub path: &'a str,
    /// Query string as it will be sent, without `?`.
    pub query: &'a str,
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

/// Signs a request with `SDK-HMAC-SHA256` and returns the `Authorization` header value.
///
/// Adds `X-Sdk-Date` (from `now`) unless the caller set one, and `X-Security-Token` for
/// temporary credentials. Every header present is signed except names containing `_`,
/// which the SDK signers never sign, and `Authorization` itself. `Host` is signed only when
/// the caller put it in `headers`.
pub fn sign(request: &mut SignableRequest<'_>, credentials: &Credentials, now: Timestamp) -> String {
    if !has_header(&request.headers, HEADER_DATE) {
        request
            .headers
            .push((HEADER_DATE.to_string(), format_sdk_date(now)));
    }
    if let Some(token) = &credentials.security_token
        && !has_header(&request.headers, "X-Security-Token")
    {
        request
            .headers
            .push(("X-Security-Token".to_string(), token.expose().to_string()));
    }
    let sdk_date = header_value(&request.headers, HEADER_DATE)
        .unwrap_or_default()
        .to_string();

    let mut signed_headers: Vec<String> = request
        .headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .filter(|name| !name.contains('_') && name != "authorization")
        .collect();
    signed_headers.sort();
    signed_headers.dedup();

    let hash = payload_hash(
        request.body,
        header_value(&request.headers, HEADER_CONTENT_SHA256),
    );
    let canonical = canonical_request(
        request.method,
        request.path,
        request.query,
        &request.headers,
        &signed_headers,
        &hash,
    )
    .expect("every signed header was taken from the request itself");
    let signature = hmac_hex(
        credentials.secret_access_key.expose().as_bytes(),
        &string_to_sign(&sdk_date, &canonical),
    );

    Authorization {
        algorithm: ALGORITHM.to_string(),
        access_key_id: credentials.access_key_id.clone(),
        derivation_info: None,
        signed_headers,
        signature,
    }
    .to_header_value()
}

/// Computes the signature a request should carry, for verification: the caller passes the
/// parsed `Authorization`, the request as received and the secret access key of the key
/// that `Authorization` names. Returns the expected hex signature.
pub fn expected_signature(
    authorization: &Authorization,
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &[(String, String)],
    body: &[u8],
    secret_access_key: &str,
) -> Result<String, SigningError> {
    if !authorization.signed_headers.iter().any(|name| name == "x-sdk-date") {
        return Err(SigningError::DateNotSigned);
    }
    let sdk_date = header_value(headers, HEADER_DATE)
        .ok_or_else(|| SigningError::MissingSignedHeader("x-sdk-date".to_string()))?;
    let hash = payload_hash(body, header_value(headers, HEADER_CONTENT_SHA256));
    let canonical = canonical_request(
        method,
        raw_path,
        raw_query,
        headers,
        &authorization.signed_headers,
        &hash,
    )?;

    match (authorization.algorithm.as_str(), &authorization.derivation_info) {
        (DERIVED_ALGORITHM, Some(info)) => {
            let key = derive_key(&authorization.access_key_id, secret_access_key, info);
            Ok(hmac_hex(
                key.as_bytes(),
                &derived_string_to_sign(sdk_date, info, &canonical),
            ))
        }
        (DERIVED_ALGORITHM, None) => Err(SigningError::MalformedAuthorization(
            "V11-HMAC-SHA256 needs Credential=<AK>/<date>/<region>/<service>".to_string(),
        )),
        _ => Ok(hmac_hex(
            secret_access_key.as_bytes(),
            &string_to_sign(sdk_date, &canonical),
        )),
    }
}

/// Derives the `V11-HMAC-SHA256` signing key: HKDF-SHA256 (RFC 5869) with the secret access
/// key as input keying material, the access key ID as salt and `info` as info, 32 bytes of
/// output, used as its lower-case hex string.
pub fn derive_key(access_key_id: &str, secret_access_key: &str, info: &str) -> String {
    let hkdf = hkdf::Hkdf::<Sha256>::new(Some(access_key_id.as_bytes()), secret_access_key.as_bytes());
    let mut okm = [0u8; 32];
    hkdf.expand(info.as_bytes(), &mut okm)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    hex::encode(okm)
}

/// The `V11-HMAC-SHA256` string to sign, with the `<YYYYMMDD>/<region>/<service>` scope.
pub fn derived_string_to_sign(sdk_date: &str, info: &str, canonical_request: &str) -> String {
    format!(
        "{DERIVED_ALGORITHM}\n{sdk_date}\n{info}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// Signs with the derived-key variant `V11-HMAC-SHA256`. Only opt-in endpoints use it;
/// IAM, CTS and BSS take `SDK-HMAC-SHA256`.
pub fn sign_derived(
    request: &mut SignableRequest<'_>,
    credentials: &Credentials,
    now: Timestamp,
    region: &str,
    service: &str,
) -> String {
    if !has_header(&request.headers, HEADER_DATE) {
        request
            .headers
            .push((HEADER_DATE.to_string(), format_sdk_date(now)));
    }
    let sdk_date = header_value(&request.headers, HEADER_DATE)
        .unwrap_or_default()
        .to_string();
    // `get` rather than slicing: a caller-supplied date with non-ASCII bytes must not panic.
    let day = sdk_date.get(..8).unwrap_or(&sdk_date);
    let info = format!("{day}/{region}/{service}");

    let mut signed_headers: Vec<String> = request
        .headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .filter(|name| !name.contains('_') && name != "authorization")
        .collect();
    signed_headers.sort();
    signed_headers.dedup();

    let hash = payload_hash(
        request.body,
        header_value(&request.headers, HEADER_CONTENT_SHA256),
    );
    let canonical = canonical_request(
        request.method,
        request.path,
        request.query,
        &request.headers,
        &signed_headers,
        &hash,
    )
    .expect("every signed header was taken from the request itself");
    let key = derive_key(
        &credentials.access_key_id,
        credentials.secret_access_key.expose(),
        &info,
    );
    let signature = hmac_hex(key.as_bytes(), &derived_string_to_sign(&sdk_date, &info, &canonical));

    Authorization {
        algorithm: DERIVED_ALGORITHM.to_string(),
        access_key_id: credentials.access_key_id.clone(),
        derivation_info: Some(info),
        signed_headers,
        signature,
    }
    .to_header_value()
}

/// Compares two signatures in time independent of where they first differ.
pub fn signatures_match(expected: &str, received: &str) -> bool {
    let (expected, received) = (expected.as_bytes(), received.as_bytes());
    if expected.len() != received.len() {
        return false;
    }
    expected
        .iter()
        .zip(received)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

pub fn header_value<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(header, _)| header.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

fn has_header(headers: &[(String, String)], name: &str) -> bool {
    header_value(headers, name).is_some()
}
