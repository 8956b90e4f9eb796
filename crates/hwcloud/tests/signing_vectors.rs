//! Published signing vectors: the API Signing Guide example and the test cases of the
//! official Go and Java SDK signers. Each must be reproduced byte for byte.

use akguard_hwcloud::signing::{self, SignableRequest};
use akguard_hwcloud::{Credentials, SecretKey};
use jiff::Timestamp;

const VPCS_PATH: &str = "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs";

fn credentials(ak: &str, sk: &str) -> Credentials {
    Credentials::new(ak, SecretKey::new(sk))
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// Signing time that the vectors do not use: every vector sets `X-Sdk-Date` itself.
fn unused_now() -> Timestamp {
    Timestamp::UNIX_EPOCH
}

#[test]
fn s1_signing_guide_example() {
    let mut request = SignableRequest {
        method: "GET",
        path: VPCS_PATH,
        query: "limit=2&marker=13551d6b-755d-4757-b956-536f674975c0",
        headers: headers(&[
            ("Content-Type", "application/json"),
            ("Host", "service.region.example.com"),
            ("X-Sdk-Date", "20191115T033655Z"),
        ]),
        body: b"",
    };
    let creds = credentials("QTWAOYTTINDUT2QVKYUC", "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc");

    let canonical = signing::canonical_request(
        "GET",
        request.path,
        request.query,
        &request.headers,
        &["content-type".into(), "host".into(), "x-sdk-date".into()],
        signing::EMPTY_PAYLOAD_SHA256,
    )
    .unwrap();
    let authorization = signing::sign(&mut request, &creds, unused_now());

    assert_eq!(
        signing::string_to_sign("20191115T033655Z", &canonical),
        "SDK-HMAC-SHA256\n20191115T033655Z\nb25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
    );
    assert_eq!(
        authorization,
        "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
    );
}

#[test]
fn s2_go_signer_skips_underscore_header() {
    let mut request = SignableRequest {
        method: "GET",
        path: "/path",
        query: "limit=1",
        headers: headers(&[
            ("X-Sdk-Date", "20060102T150405Z"),
            ("TEST_UNDERSCORE", "TEST_VALUE"),
        ]),
        body: b"",
    };

    let authorization = signing::sign(
        &mut request,
        &credentials("AccessKey", "SecretKey"),
        unused_now(),
    );

    assert_eq!(
        authorization,
        "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
    );
}

#[test]
fn s3_go_derived_signer() {
    let mut request = SignableRequest {
        method: "GET",
        path: "/path",
        query: "limit=1",
        headers: headers(&[
            ("X-Sdk-Date", "20060102T150405Z"),
            ("TEST_UNDERSCORE", "TEST_VALUE"),
        ]),
        body: b"",
    };

    let authorization = signing::sign_derived(
        &mut request,
        &credentials("AccessKey", "SecretKey"),
        unused_now(),
        "test-region-1",
        "demo",
    );

    assert_eq!(
        signing::derive_key("AccessKey", "SecretKey", "20060102/test-region-1/demo"),
        "fded840bf50eb1da840c631cec6649d58c4df22167c366bce4534ec85997f429"
    );
    assert_eq!(
        authorization,
        "V11-HMAC-SHA256 Credential=AccessKey/20060102/test-region-1/demo, SignedHeaders=x-sdk-date, Signature=8fd3610508884bb19718317797c7378716a94bc740d97502e569322e366341cc"
    );
}

/// The Java SDK signs `host` and `x-sdk-date` only; the caller's view of the request holds
/// exactly the headers that signer would sign.
fn java_request<'a>(path: &'a str, query: &'a str, host: &str, body: &'a [u8]) -> SignableRequest<'a> {
    SignableRequest {
        method: if body.is_empty() { "GET" } else { "POST" },
        path,
        query,
        headers: headers(&[("Host", host), ("X-Sdk-Date", "20191115T033655Z")]),
        body,
    }
}

#[test]
fn s4_java_signer_with_query() {
    let mut request = java_request(
        VPCS_PATH,
        "limit=2&marker=13551d6b-755d-4757-b956-536f674975c0",
        "service.region.example.com",
        b"",
    );

    let authorization = signing::sign(
        &mut request,
        &credentials("AccessKey", "SecretKey"),
        unused_now(),
    );

    assert_eq!(
        authorization,
        "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, Signature=fd95e7da6f695cfb4cabbb9d6b0968aec155bc576b064835282473539ae9ea1d"
    );
}

#[test]
fn s5_java_signer_huawei_endpoint() {
    let mut request = java_request(VPCS_PATH, "", "service.test-region-1.myhuaweicloud.com", b"");

    let authorization = signing::sign(
        &mut request,
        &credentials("AccessKey", "SecretKey"),
        unused_now(),
    );

    assert_eq!(
        authorization,
        "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, Signature=fbfa53d70fa0dec48f511be2e9e522172f9dca6d56f8856d12d7e575b978d9be"
    );
}

#[test]
fn s6_java_derived_signer() {
    let mut request = java_request(VPCS_PATH, "", "service.region.example.com", b"");

    let authorization = signing::sign_derived(
        &mut request,
        &credentials("AccessKey", "SecretKey"),
        unused_now(),
        "region-id-1",
        "service",
    );

    assert_eq!(
        signing::derive_key("AccessKey", "SecretKey", "20191115/region-id-1/service"),
        "1c5724913ed69bdda5e7a25d0beb7f2518aa55d96f97e0649301127d35b9ed31"
    );
    assert_eq!(
        authorization,
        "V11-HMAC-SHA256 Credential=AccessKey/20191115/region-id-1/service, SignedHeaders=host;x-sdk-date, Signature=c63981314b17efeca4c2577e3e22ecfd3831e0c87eb87277271e32587207dd2c"
    );
}

#[test]
fn s7_java_signer_post_body() {
    let mut request = java_request(
        "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpc/123",
        "",
        "service.test-region-1.myhuaweicloud.com",
        br#"{"key":"value"}"#,
    );

    let authorization = signing::sign(
        &mut request,
        &credentials("AccessKey", "SecretKey"),
        unused_now(),
    );

    assert_eq!(
        signing::payload_hash(br#"{"key":"value"}"#, None),
        "e43abcf3375244839c012f9633f95862d232a95b00d5bc7348b3098b9fed7f32"
    );
    assert_eq!(
        authorization,
        "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, Signature=f65c535f8f86d95e963fbd795d6d41dbf59e675a8b4ae161356cf8cd93f1ec4c"
    );
}

#[test]
fn s8_java_derived_signer_caller_host() {
    let mut request = java_request(VPCS_PATH, "", "example.com", b"");

    let authorization = signing::sign_derived(
        &mut request,
        &credentials("AccessKey", "SecretKey"),
        unused_now(),
        "region-id-1",
        "service",
    );

    assert_eq!(
        authorization,
        "V11-HMAC-SHA256 Credential=AccessKey/20191115/region-id-1/service, SignedHeaders=host;x-sdk-date, Signature=5ba93d159e81cf6b1550585721ac2e2223793cee3a06f1c9fb245985608d5d0f"
    );
}

#[test]
fn s9_go_canonical_query_string() {
    let pairs: Vec<(&str, &str)> = vec![
        ("limit", "1"),
        ("enable", "true"),
        ("test", "一 (&=?!#%.*)"),
        ("path", "/tmp/123"),
        ("multi", "3"),
        ("multi", "1"),
        ("multi", "2"),
    ];

    assert_eq!(
        signing::canonical_query_string(&pairs),
        "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29"
    );
}

#[test]
fn s9_round_trip_through_wire_query() {
    let wire = signing::encode_query(&[("test", "一 (&=?!#%.*)"), ("path", "/tmp/123")]);

    let canonical = signing::canonical_query_string(&signing::parse_query(&wire));

    assert_eq!(canonical, wire);
}

#[test]
fn authorization_parse_round_trip() {
    let header = "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, Signature=abc123";

    let parsed = signing::Authorization::parse(header).unwrap();

    assert_eq!(parsed.access_key_id, "AccessKey");
    assert_eq!(parsed.signed_headers, vec!["host", "x-sdk-date"]);
    assert_eq!(parsed.signature, "abc123");
    assert_eq!(parsed.to_header_value(), header);
}

#[test]
fn authorization_parse_rejects_garbage() {
    for header in [
        "",
        "SDK-HMAC-SHA256",
        "Bearer token",
        "SDK-HMAC-SHA256 Access=AK, Signature=abc",
        "SDK-HMAC-SHA256 Access=, SignedHeaders=x-sdk-date, Signature=abc",
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature=abc, Extra=1",
    ] {
        assert!(
            signing::Authorization::parse(header).is_err(),
            "accepted {header:?}"
        );
    }
}

#[test]
fn canonical_uri_appends_slash_and_encodes() {
    assert_eq!(signing::canonical_uri(""), "/");
    assert_eq!(signing::canonical_uri("/"), "/");
    assert_eq!(signing::canonical_uri("/a b/c"), "/a%20b/c/");
    assert_eq!(signing::canonical_uri("/a%20b/"), "/a%20b/");
    assert_eq!(signing::canonical_uri("/v3/é"), "/v3/%C3%A9/");
}

#[test]
fn sdk_date_round_trip() {
    let time = signing::parse_sdk_date("20191115T033655Z").unwrap();

    assert_eq!(signing::format_sdk_date(time), "20191115T033655Z");
    assert!(signing::parse_sdk_date("2019-11-15T03:36:55Z").is_err());
}
