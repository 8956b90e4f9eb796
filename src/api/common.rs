//! Types that both custom resources share: the provider block, Secret references and
//! duration strings.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// Schema pattern of a duration string: one or more `<integer><unit>` terms with the units
/// `d` (24 hours), `h`, `m` and `s`, largest first, such as `90d`, `36h`, `1d12h` or `0s`.
/// `schedule::parse_duration` applies the same grammar and also checks the order and range.
pub const DURATION_PATTERN: &str = r"^([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$";

/// Schema pattern of a Huawei Cloud region ID: two or more lower-case words and a number,
/// joined by hyphens (`cn-north-4`, `ap-southeast-1`, `my-kualalumpur-1`).
pub const REGION_PATTERN: &str = r"^[a-z]+(-[a-z]+)+-[0-9]{1,3}$";

/// Schema pattern of a Kubernetes object name (a DNS subdomain, RFC 1123).
pub const OBJECT_NAME_PATTERN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/// Schema pattern of a key in a Secret's `data`.
pub const DATA_KEY_PATTERN: &str = r"^[-._a-zA-Z0-9]+$";

/// Data key of the access key ID in the Huawei Cloud SDK's environment variable layout.
pub const SDK_ACCESS_KEY_ID_KEY: &str = "HUAWEICLOUD_SDK_AK";
/// Data key of the secret access key in the Huawei Cloud SDK's environment variable layout.
pub const SDK_SECRET_ACCESS_KEY_KEY: &str = "HUAWEICLOUD_SDK_SK";

/// A duration written as a string, such as `90d`, `36h`, `15m` or `1d12h`. A day is always
/// 24 hours, regardless of daylight saving time in any time zone.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DurationString(pub String);

impl DurationString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DurationString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for DurationString {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

impl JsonSchema for DurationString {
    fn schema_name() -> Cow<'static, str> {
        "DurationString".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": DURATION_PATTERN,
            "minLength": 2,
            "maxLength": 32,
        })
    }
}

/// Huawei Cloud endpoints and the identity that calls them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderSpec {
    /// Huawei Cloud region ID, such as `cn-north-4` or `ap-southeast-1`. It selects the
    /// regional Cloud Trace Service endpoint and, with `iamScope: regional`, the IAM endpoint.
    #[schemars(regex(pattern = REGION_PATTERN), length(max = 64))]
    pub region: String,

    /// IAM endpoint used when `endpoints.iam` is not set: `global` (`iam.myhuaweicloud.com`,
    /// default) or `regional` (`iam.<region>.myhuaweicloud.com`).
    #[serde(default)]
    pub iam_scope: IamScope,

    /// The billing site, which selects the Business Support System (BSS) host: `china`
    /// (`bss.myhuaweicloud.com`, default) or `international` (`bss-intl.myhuaweicloud.com`).
    #[serde(default)]
    pub billing_site: BillingSite,

    /// Base URLs that replace the derived IAM, CTS and BSS endpoints, for a private cloud or
    /// a local emulator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<EndpointOverrides>,

    /// A Secret in this namespace that contains the access key of a privileged IAM identity,
    /// which then creates, disables and deletes the managed keys. Without it the managed key
    /// manages itself: the current key creates its successor and the new key retires the
    /// old one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<CredentialsSecretRef>,
}

/// IAM endpoint derived from the region.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum IamScope {
    #[default]
    Global,
    Regional,
}

/// Billing site whose BSS host is called.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum BillingSite {
    #[default]
    China,
    International,
}

/// Base URLs (`http` or `https`, a host, an optional port and path prefix, no query) that
/// replace the endpoints derived from the region.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointOverrides {
    /// IAM base URL, such as `https://iam.myhuaweicloud.com` or `http://127.0.0.1:18080`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub iam: Option<String>,

    /// Cloud Trace Service (CTS) base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub cts: Option<String>,

    /// Business Support System (BSS, billing) base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub bss: Option<String>,
}

/// A Secret in the resource's namespace that contains an access key ID and its secret
/// access key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsSecretRef {
    /// Name of the Secret.
    #[schemars(regex(pattern = OBJECT_NAME_PATTERN), length(min = 1, max = 253))]
    pub name: String,

    /// Data key that contains the access key ID. Default: `HUAWEICLOUD_SDK_AK`.
    #[serde(default = "default_sdk_access_key_id_key")]
    #[schemars(regex(pattern = DATA_KEY_PATTERN), length(min = 1, max = 253))]
    pub access_key_id_key: String,

    /// Data key that contains the secret access key. Default: `HUAWEICLOUD_SDK_SK`.
    #[serde(default = "default_sdk_secret_access_key_key")]
    #[schemars(regex(pattern = DATA_KEY_PATTERN), length(min = 1, max = 253))]
    pub secret_access_key_key: String,
}

impl CredentialsSecretRef {
    /// Creates a reference to Secret `name` with the SDK's default data keys.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            access_key_id_key: default_sdk_access_key_id_key(),
            secret_access_key_key: default_sdk_secret_access_key_key(),
        }
    }
}

pub(crate) fn default_sdk_access_key_id_key() -> String {
    SDK_ACCESS_KEY_ID_KEY.to_string()
}

pub(crate) fn default_sdk_secret_access_key_key() -> String {
    SDK_SECRET_ACCESS_KEY_KEY.to_string()
}

/// Removes a type's own description from its schema. kube's `OptionalEnum` transform copies
/// an enum's schema over the field of an `Option<Enum>`, so without this the enum type's
/// description would replace the field's own in `kubectl explain`.
pub(crate) fn without_type_description(schema: &mut Schema) {
    schema.remove("description");
}

pub(crate) fn default_true() -> bool {
    true
}
