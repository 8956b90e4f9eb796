//! Table tests for the protobuf decoder. The fixtures are request bodies that kubectl v1.35.2
//! (`.tools/bin/kubectl`) and Helm v4.1.4 sent to `akguard simulator`, captured through a
//! logging proxy, with dummy data only. The synthetic cases cover fields no client command set.

use super::*;
use serde_json::json;

fn bytes_of(hex: &str) -> Vec<u8> {
    assert!(hex.len() % 2 == 0, "odd hex length");
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("valid hex")).collect()
}

/// Encodes a length-delimited field, for the synthetic cases.
fn field(number: u32, value: &[u8]) -> Vec<u8> {
    let mut out = varint(u64::from(number) << 3 | 2);
    out.extend(varint(value.len() as u64));
    out.extend_from_slice(value);
    out
}

fn varint_field(number: u32, value: u64) -> Vec<u8> {
    let mut out = varint(u64::from(number) << 3);
    out.extend(varint(value));
    out
}

fn varint(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn entry(key: &str, value: &[u8]) -> Vec<u8> {
    [field(1, key.as_bytes()), field(2, value)].concat()
}

/// Wraps an object's message in the `k8s\0` + `runtime.Unknown` envelope.
fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let type_meta = [field(1, api_version.as_bytes()), field(2, kind.as_bytes())].concat();
    [b"k8s\0".to_vec(), field(1, &type_meta), field(2, raw), field(3, b""), field(4, b"")].concat()
}

const KUBECTL_CREATE_NAMESPACE: &str = concat!(
    "6b3873000a0f0a02763112094e616d65737061636512200a180a087061796d656e747312001a0022002a003200380042",
    "0012001a020a001a002200",
);

const KUBECTL_CREATE_SECRET_GENERIC: &str = concat!(
    "6b3873000a0c0a0276311206536563726574124e0a1a0a02646212001a087061796d656e747322002a00320038004200",
    "12160a0870617373776f7264120a64756d6d792d7061737312160a08757365726e616d65120a64756d6d792d75736572",
    "1a001a002200",
);

const KUBECTL_CREATE_SECRET_TYPED_SAVE_CONFIG: &str = concat!(
    "6b3873000a0c0a0276311206536563726574129b020aef010a08746c732d6c696b6512001a087061796d656e74732200",
    "2a0032003800420062cc010a306b75626563746c2e6b756265726e657465732e696f2f6c6173742d6170706c6965642d",
    "636f6e66696775726174696f6e1297017b226b696e64223a22536563726574222c2261706956657273696f6e223a2276",
    "31222c226d65746164617461223a7b226e616d65223a22746c732d6c696b65222c226e616d657370616365223a227061",
    "796d656e7473227d2c2264617461223a7b22757365726e616d65223a2264513d3d227d2c2274797065223a226b756265",
    "726e657465732e696f2f62617369632d61757468227d0a120d0a08757365726e616d651201751a186b756265726e6574",
    "65732e696f2f62617369632d617574681a002200",
);

const KUBECTL_CREATE_CONFIGMAP: &str = concat!(
    "6b3873000a0f0a0276311209436f6e6669674d617012560a200a0873657474696e677312001a087061796d656e747322",
    "002a0032003800420012150a0c6772656574696e672e747874120568656c6c6f120c0a046d6f64651204666173741a0d",
    "0a04626c6f621205414200ff011a002200",
);

const KUBECTL_CREATE_SERVICEACCOUNT: &str = concat!(
    "6b3873000a140a027631120e536572766963654163636f756e7412200a1e0a0672756e6e657212001a087061796d656e",
    "747322002a003200380042001a002200",
);

const KUBECTL_CREATE_SECRET_DOCKER_REGISTRY: &str = concat!(
    "6b3873000a0c0a0276311206536563726574129a010a1c0a0470756c6c12001a087061796d656e747322002a00320038",
    "004200125a0a112e646f636b6572636f6e6669676a736f6e12457b226175746873223a7b22722e6578616d706c65223a",
    "7b22757365726e616d65223a2275222c2270617373776f7264223a2270222c2261757468223a2264547077227d7d7d1a",
    "1e6b756265726e657465732e696f2f646f636b6572636f6e6669676a736f6e1a002200",
);

const KUBECTL_CREATE_TOKEN: &str = concat!(
    "6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f6b656e52657175657374121a",
    "0a100a0012001a0022002a0032003800420012001a040a0012001a002200",
);

const KUBECTL_CREATE_TOKEN_AUDIENCE_DURATION: &str = concat!(
    "6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f6b656e526571756573741222",
    "0a100a0012001a0022002a0032003800420012080a0361706920a0381a040a0012001a002200",
);

const HELM_INSTALL_RELEASE_SECRET: &str = concat!(
    "6b3873000a0c0a0276311206536563726574128d060a83010a1773682e68656c6d2e72656c656173652e76312e742e76",
    "3112001a0022002a003200380042005a170a09637265617465644174120a313739363432303435345a090a046e616d65",
    "1201745a0d0a056f776e6572120468656c6d5a190a06737461747573120f70656e64696e672d696e7374616c6c5a0c0a",
    "0776657273696f6e12013112f0040a0772656c6561736512e4044834734941414141414141432f35535355572f614d42",
    "4448763070306530326f343049466c766f4347777968715672486147475a71694d78695974396a6d4b484b717234376c",
    "50434b4a7636736b6e336b4a78382f37762f2f6534564349304541523543554c537a494635687079726e6e7a4a5a6174",
    "764944415277786d2b696d456573762b537836444d783650666945522f65384c672f3345414947762b7a494a4d757256",
    "54706c5355514d43666c466570416b664f6f645642544a7173586243414535394858446753556b6a4a46656654374452",
    "784453417573664475776b52347a394e682b6e2f306f61737350736e4b6e4871775839786945674b566176535550764e",
    "58524e7432446f467272454c773070555976485967664637467a38696f317651614e626831302f5744394f4335585a74",
    "576b58422b327a7a62506e6a38746b4f74363839486d582f6d6f3368684e79346670793854454f70744e392b76482b2b",
    "4975742f6c384e6969324439397635702f76797933744635765a6c4b3258646a47666a4973374e5661542f505957516a",
    "4132383671623466314b723374444e7571502b5056677349486a7a78414f714f7432384a4d546c786253344e392f467a",
    "6e47574278317357524d644e467932536c3955666a33356945594a4c57547a6f4f414b496f532b684238733357565368",
    "47304a4b37656254436843776752484f4b45396f6f79455577733756542b426375457a6c5246516b48516b6a68704a66",
    "535752424673452f6f54637878327a46794a36666b4b794858555339303847656b4c3239366e63776a48587745414150",
    "2f2f7377544a377677434141413d1a1268656c6d2e73682f72656c656173652e76311a002200",
);

#[test]
fn kubectl_bodies_decode_to_json() {
    let cases = [
        (
            KUBECTL_CREATE_NAMESPACE,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "payments"}}),
        ),
        (
            KUBECTL_CREATE_SECRET_GENERIC,
            json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "db", "namespace": "payments"},
                "data": {"password": "ZHVtbXktcGFzcw==", "username": "ZHVtbXktdXNlcg=="},
            }),
        ),
        (
            KUBECTL_CREATE_SECRET_TYPED_SAVE_CONFIG,
            json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {
                    "name": "tls-like", "namespace": "payments",
                    "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"tls-like\",\"namespace\":\"payments\"},\"data\":{\"username\":\"dQ==\"},\"type\":\"kubernetes.io/basic-auth\"}\n"},
                },
                "data": {"username": "dQ=="},
                "type": "kubernetes.io/basic-auth",
            }),
        ),
        (
            KUBECTL_CREATE_CONFIGMAP,
            json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": "payments"},
                "data": {"greeting.txt": "hello", "mode": "fast"},
                "binaryData": {"blob": "QUIA/wE="},
            }),
        ),
        (
            KUBECTL_CREATE_SERVICEACCOUNT,
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "runner", "namespace": "payments"}}),
        ),
        (
            KUBECTL_CREATE_SECRET_DOCKER_REGISTRY,
            json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "pull", "namespace": "payments"},
                "data": {".dockerconfigjson": "eyJhdXRocyI6eyJyLmV4YW1wbGUiOnsidXNlcm5hbWUiOiJ1IiwicGFzc3dvcmQiOiJwIiwiYXV0aCI6ImRUcHcifX19"},
                "type": "kubernetes.io/dockerconfigjson",
            }),
        ),
        (
            KUBECTL_CREATE_TOKEN,
            json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "metadata": {}, "spec": {}}),
        ),
        (
            KUBECTL_CREATE_TOKEN_AUDIENCE_DURATION,
            json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "metadata": {}, "spec": {"audiences": ["api"], "expirationSeconds": 7200}}),
        ),
    ];
    for (hex, expected) in cases {
        let decoded = decode(&bytes_of(hex)).unwrap_or_else(|e| panic!("{expected}: {e}"));
        assert_eq!(decoded, expected);
    }
}

#[test]
fn helm_release_secret_decodes() {
    let body = bytes_of(HELM_INSTALL_RELEASE_SECRET);
    let decoded = decode(&body).expect("the release Secret decodes");
    assert_eq!(decoded["kind"], "Secret");
    assert_eq!(decoded["type"], "helm.sh/release.v1");
    assert_eq!(decoded["metadata"]["name"], "sh.helm.release.v1.t.v1");
    assert_eq!(decoded["metadata"].get("namespace"), None, "Helm leaves the namespace to the URL");
    assert_eq!(
        decoded["metadata"]["labels"],
        json!({"createdAt": "1796420454", "name": "t", "owner": "helm", "status": "pending-install", "version": "1"})
    );
    // The release is Helm's own base64 of a gzip stream, 612 bytes stored as Secret data.
    let start = body.windows(4).position(|w| w == b"H4sI").expect("the release payload is in the body");
    assert_eq!(decoded["data"]["release"], base64(&body[start..start + 612]));
    assert_eq!(decoded["data"].as_object().map(Map::len), Some(1));
}

#[test]
fn object_meta_fields_decode() {
    let time = varint_field(1, 1_700_000_000);
    let owner = [
        field(1, b"Deployment"),
        field(3, b"web"),
        field(4, b"uid-1"),
        field(5, b"apps/v1"),
        varint_field(6, 1),
        varint_field(7, 0),
    ]
    .concat();
    let managed = [
        field(1, b"kubectl"),
        field(2, b"Update"),
        field(3, b"v1"),
        field(4, &time),
        field(6, b"FieldsV1"),
        field(7, &field(1, br#"{"f:data":{}}"#)),
    ]
    .concat();
    let meta = [
        field(1, b"app"),
        field(2, b"app-"),
        field(3, b"shop"),
        field(4, b""),
        field(5, b"0b7a"),
        field(6, b"42"),
        varint_field(7, 3),
        field(8, &time),
        field(11, &entry("tier", b"web")),
        field(12, &entry("note", b"")),
        field(13, &owner),
        field(14, b"example.com/hold"),
        field(14, b"example.com/audit"),
        field(17, &managed),
    ]
    .concat();
    let raw = [field(1, &meta), field(2, &entry("k", b"v"))].concat();
    let decoded = decode(&envelope("v1", "ConfigMap", &raw)).expect("decodes");
    assert_eq!(
        decoded["metadata"],
        json!({
            "name": "app", "generateName": "app-", "namespace": "shop", "uid": "0b7a",
            "resourceVersion": "42", "generation": 3, "creationTimestamp": "2023-11-14T22:13:20Z",
            "labels": {"tier": "web"}, "annotations": {"note": ""},
            "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": "uid-1", "apiVersion": "apps/v1", "controller": true, "blockOwnerDeletion": false}],
            "finalizers": ["example.com/hold", "example.com/audit"],
            "managedFields": [{"manager": "kubectl", "operation": "Update", "apiVersion": "v1", "time": "2023-11-14T22:13:20Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {}}}],
        })
    );
    assert_eq!(decoded["data"], json!({"k": "v"}));
}

#[test]
fn kind_bodies_decode() {
    let meta = field(1, &field(1, b"x"));
    let cases = [
        (
            envelope("v1", "Secret", &[meta.clone(), field(4, &entry("token", b"dummy")), varint_field(5, 1), field(3, b"Opaque")].concat()),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "stringData": {"token": "dummy"}, "immutable": true, "type": "Opaque"}),
        ),
        (
            envelope("v1", "ConfigMap", &[meta.clone(), varint_field(4, 0), field(3, &entry("b", b"\xff"))].concat()),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "immutable": false, "binaryData": {"b": "/w=="}}),
        ),
        (
            envelope("v1", "Namespace", &[meta.clone(), field(2, &field(1, b"kubernetes")), field(3, &field(1, b"Active"))].concat()),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}),
        ),
        (
            envelope(
                "v1",
                "ServiceAccount",
                &[
                    meta.clone(),
                    field(2, &[field(1, b"Secret"), field(3, b"x-token")].concat()),
                    field(3, &field(1, b"registry")),
                    varint_field(4, 0),
                ]
                .concat(),
            ),
            json!({
                "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "x"},
                "secrets": [{"kind": "Secret", "name": "x-token"}],
                "imagePullSecrets": [{"name": "registry"}],
                "automountServiceAccountToken": false,
            }),
        ),
        (
            envelope(
                "authentication.k8s.io/v1",
                "TokenRequest",
                &[meta.clone(), field(2, &[field(1, b"api"), varint_field(4, 7200), field(3, &[field(1, b"Pod"), field(3, b"p")].concat())].concat())].concat(),
            ),
            json!({
                "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "metadata": {"name": "x"},
                "spec": {"audiences": ["api"], "expirationSeconds": 7200, "boundObjectRef": {"kind": "Pod", "name": "p"}},
            }),
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(decode(&body).unwrap_or_else(|e| panic!("{expected}: {e}")), expected);
    }
}

#[test]
fn rejected_bodies_table() {
    let meta = field(1, &field(1, b"x"));
    let cases: [(&str, Vec<u8>, u16, &str); 9] = [
        ("no magic", b"{\"kind\":\"Secret\"}".to_vec(), 400, "magic"),
        ("truncated length", [b"k8s\0".to_vec(), vec![0x12, 0x05, 0x0a]].concat(), 400, "bytes expected"),
        ("truncated varint", [b"k8s\0".to_vec(), vec![0x08, 0x80]].concat(), 400, "varint truncated"),
        ("wire type 3", [b"k8s\0".to_vec(), vec![0x0b]].concat(), 400, "wire type 3"),
        ("other kind", envelope("apps/v1", "Deployment", &meta), 415, "\"apps/v1\" \"Deployment\""),
        (
            "content encoding",
            [envelope("v1", "Secret", &meta), field(3, b"gzip")].concat(),
            415,
            "contentEncoding or contentType",
        ),
        ("unknown Secret field", envelope("v1", "Secret", &[meta.clone(), varint_field(9, 1)].concat()), 501, "field 9 of the protobuf Secret message"),
        ("unknown meta field", envelope("v1", "ConfigMap", &field(1, &[field(1, b"x"), field(16, b"set")].concat())), 501, "field 16 of the protobuf ObjectMeta message"),
        ("invalid UTF-8 data", envelope("v1", "ConfigMap", &[meta.clone(), field(2, &entry("k", b"\xff"))].concat()), 400, "ConfigMap.data[k] is not UTF-8"),
    ];
    for (name, body, code, message) in cases {
        let error = decode(&body).expect_err(name);
        assert_eq!(error.code, code, "{name}: {error}");
        assert!(error.message.contains(message), "{name}: {error}");
    }
}

#[test]
fn unknown_zero_fields_are_skipped() {
    let raw = [field(1, &[field(1, b"x"), field(16, b""), varint_field(18, 0)].concat()), varint_field(9, 0), field(10, b"")].concat();
    let decoded = decode(&envelope("v1", "Secret", &raw)).expect("zero values are absent");
    assert_eq!(decoded, json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}));
}

#[test]
fn base64_table() {
    let cases: [(&[u8], &str); 6] = [(b"", ""), (b"f", "Zg=="), (b"fo", "Zm8="), (b"foo", "Zm9v"), (b"foob", "Zm9vYg=="), (b"\xff\xfe\xfd", "//79")];
    for (input, expected) in cases {
        assert_eq!(base64(input), expected, "{input:?}");
    }
}

#[test]
fn media_type_table() {
    let cases = [
        ("application/vnd.kubernetes.protobuf", true),
        ("application/vnd.kubernetes.protobuf; charset=binary", true),
        ("application/vnd.kubernetes.protobuf;stream=watch", true),
        ("application/json", false),
        ("application/cbor", false),
    ];
    for (content_type, expected) in cases {
        assert_eq!(is_protobuf(content_type), expected, "{content_type}");
    }
}

#[test]
fn delete_options_decode() {
    // Helm v4.1.4's `helm uninstall` sends an empty DeleteOptions for its release Secrets.
    let helm = bytes_of("6b3873000a130a027631120d44656c6574654f7074696f6e7312001a002200");
    let preconditions = [field(1, b"uid-1"), field(2, b"7")].concat();
    let full = [varint_field(1, 0), field(2, &preconditions), varint_field(3, 1), field(4, b"Foreground"), field(5, b"All")].concat();
    let cases = [
        (helm, json!({"apiVersion": "v1", "kind": "DeleteOptions"})),
        (
            envelope("meta.k8s.io/v1", "DeleteOptions", &full),
            json!({
                "apiVersion": "meta.k8s.io/v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
                "preconditions": {"uid": "uid-1", "resourceVersion": "7"},
                "orphanDependents": true, "propagationPolicy": "Foreground", "dryRun": ["All"],
            }),
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(decode_delete_options(&body).unwrap_or_else(|e| panic!("{expected}: {e}")), expected);
    }

    let secret = decode_delete_options(&envelope("v1", "Secret", &[])).expect_err("a Secret is not DeleteOptions");
    assert_eq!(secret.code, 400);
    let unknown = decode_delete_options(&envelope("v1", "DeleteOptions", &varint_field(6, 1))).expect_err("field 6 is not decoded");
    assert_eq!(unknown.code, 501);
    assert!(unknown.message.contains("field 6 of the protobuf DeleteOptions message"), "{unknown}");
}
