//! Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`)
//! into the JSON objects the simulator stores.
//!
//! client-go sends built-in kinds this way: `kubectl create namespace|secret|configmap|
//! serviceaccount|token` and Helm's release Secrets. A body is the magic `k8s\0` followed by
//! a `runtime.Unknown` message: 1 typeMeta {1 apiVersion, 2 kind}, 2 raw (the object's own
//! message), 3 contentEncoding, 4 contentType. The field numbers below are those of
//! Kubernetes' `generated.proto` files for core/v1 and meta/v1, and the tests decode bodies
//! that kubectl v1.35.2 and Helm v4.1.4 sent. client-go writes every non-pointer field even
//! when it is empty, so a zero value counts as absent.
//!
//! Only the kinds in [`decode`] are known. A field this module does not decode is skipped when
//! it contains its zero value and rejected with 501 naming the field number otherwise, so no data
//! is dropped without the client hearing of it.

use crate::error::ApiError;
use serde_json::{Map, Value, json};

/// The media type client-go sends for protobuf bodies.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

const MAGIC: &[u8] = b"k8s\0";

/// Returns whether a Content-Type header names the Kubernetes protobuf encoding.
pub fn is_protobuf(content_type: &str) -> bool {
    content_type.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case(MEDIA_TYPE)
}

/// Decodes a protobuf request body into the object's JSON form, with `apiVersion` and `kind`.
///
/// Errors: 400 for a malformed body, 415 for a kind outside v1 Namespace, Secret, ConfigMap,
/// ServiceAccount and authentication.k8s.io/v1 TokenRequest or for an encoded envelope, 501
/// for a set field this module does not decode.
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let (api_version, kind, raw) = envelope(body)?;
    let (mut object, message) = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Namespace") => (namespace(raw)?, "Namespace"),
        ("v1", "Secret") => (secret(raw)?, "Secret"),
        ("v1", "ConfigMap") => (config_map(raw)?, "ConfigMap"),
        ("v1", "ServiceAccount") => (service_account(raw)?, "ServiceAccount"),
        ("authentication.k8s.io/v1", "TokenRequest") => (token_request(raw)?, "TokenRequest"),
        _ => {
            return Err(ApiError::unsupported_media_type(format!(
                "the simulator decodes protobuf bodies of v1 Namespace, Secret, ConfigMap, ServiceAccount and authentication.k8s.io/v1 TokenRequest only, not {api_version:?} {kind:?}; send it as JSON (kubectl create -f or apply)"
            )));
        }
    };
    tracing::debug!(kind = message, "decoded a protobuf request body");
    object.insert("apiVersion".into(), Value::String(api_version));
    object.insert("kind".into(), Value::String(kind));
    Ok(Value::Object(object))
}

/// Decodes a protobuf `DeleteOptions` body, which client-go sends with delete requests, into
/// its JSON form. Errors as for [`decode`].
pub fn decode_delete_options(body: &[u8]) -> Result<Value, ApiError> {
    let (api_version, kind, raw) = envelope(body)?;
    if !matches!(api_version.as_str(), "v1" | "meta.k8s.io/v1") || kind != "DeleteOptions" {
        return Err(ApiError::bad_request(format!("a delete request body must be DeleteOptions, not {api_version:?} {kind:?}")));
    }
    let mut options = Map::new();
    for field in Fields::new(raw) {
        let field = field?;
        match field.number {
            1 => {
                options.insert("gracePeriodSeconds".into(), json!(field.int("DeleteOptions.gracePeriodSeconds")?));
            }
            2 => {
                let mut preconditions = Map::new();
                for condition in Fields::new(field.bytes("DeleteOptions.preconditions")?) {
                    let condition = condition?;
                    match condition.number {
                        1 => put_string(&mut preconditions, "uid", condition.string("Preconditions.uid")?),
                        2 => put_string(&mut preconditions, "resourceVersion", condition.string("Preconditions.resourceVersion")?),
                        _ => condition.skip_if_zero("Preconditions")?,
                    }
                }
                options.insert("preconditions".into(), Value::Object(preconditions));
            }
            3 => {
                options.insert("orphanDependents".into(), json!(field.bool("DeleteOptions.orphanDependents")?));
            }
            4 => put_string(&mut options, "propagationPolicy", field.string("DeleteOptions.propagationPolicy")?),
            5 => push(&mut options, "dryRun", Value::String(field.string("DeleteOptions.dryRun")?)),
            _ => field.skip_if_zero("DeleteOptions")?,
        }
    }
    options.insert("apiVersion".into(), Value::String(api_version));
    options.insert("kind".into(), Value::String(kind));
    Ok(Value::Object(options))
}

/// Reads the `k8s\0` magic and the `runtime.Unknown` envelope; returns apiVersion, kind and
/// the object's own message.
fn envelope(body: &[u8]) -> Result<(String, String, &[u8]), ApiError> {
    let Some(envelope) = body.strip_prefix(MAGIC) else {
        return Err(malformed("the body does not start with the magic bytes k8s\\0"));
    };

    let mut api_version = String::new();
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    for field in Fields::new(envelope) {
        let field = field?;
        match field.number {
            1 => {
                for type_field in Fields::new(field.bytes("Unknown.typeMeta")?) {
                    let type_field = type_field?;
                    match type_field.number {
                        1 => api_version = type_field.string("TypeMeta.apiVersion")?,
                        2 => kind = type_field.string("TypeMeta.kind")?,
                        _ => type_field.skip_if_zero("TypeMeta")?,
                    }
                }
            }
            2 => raw = field.bytes("Unknown.raw")?,
            3 | 4 => {
                let value = field.string(if field.number == 3 { "Unknown.contentEncoding" } else { "Unknown.contentType" })?;
                if !value.is_empty() {
                    return Err(ApiError::unsupported_media_type(format!(
                        "protobuf bodies with contentEncoding or contentType {value:?} are not supported; send the object unencoded or as JSON"
                    )));
                }
            }
            _ => field.skip_if_zero("Unknown")?,
        }
    }
    Ok((api_version, kind, raw))
}

fn malformed(reason: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("invalid protobuf body: {reason}"))
}

/// The value of one field in protobuf's wire format.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl Wire<'_> {
    /// Names the wire type for error messages, which must not echo field contents.
    fn type_name(&self) -> &'static str {
        match self {
            Wire::Varint(_) => "a varint",
            Wire::Fixed64(_) => "a 64-bit value",
            Wire::Bytes(_) => "length-delimited",
            Wire::Fixed32(_) => "a 32-bit value",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Field<'a> {
    number: u32,
    value: Wire<'a>,
}

impl<'a> Field<'a> {
    fn bytes(&self, name: &str) -> Result<&'a [u8], ApiError> {
        match self.value {
            Wire::Bytes(bytes) => Ok(bytes),
            other => Err(malformed(format!("{name} (field {}) must be length-delimited, not {}", self.number, other.type_name()))),
        }
    }

    fn string(&self, name: &str) -> Result<String, ApiError> {
        let bytes = self.bytes(name)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| malformed(format!("{name} (field {}) is not UTF-8", self.number)))
    }

    fn varint(&self, name: &str) -> Result<u64, ApiError> {
        match self.value {
            Wire::Varint(value) => Ok(value),
            other => Err(malformed(format!("{name} (field {}) must be a varint, not {}", self.number, other.type_name()))),
        }
    }

    /// Reads an int64 or int32, which protobuf sends as the two's complement varint.
    fn int(&self, name: &str) -> Result<i64, ApiError> {
        Ok(self.varint(name)? as i64)
    }

    fn bool(&self, name: &str) -> Result<bool, ApiError> {
        Ok(self.varint(name)? != 0)
    }

    fn is_zero(&self) -> bool {
        matches!(self.value, Wire::Varint(0) | Wire::Fixed64(0) | Wire::Fixed32(0)) || self.value == Wire::Bytes(&[])
    }

    /// Accepts a field this module does not decode only when it contains its zero value.
    fn skip_if_zero(&self, message: &str) -> Result<(), ApiError> {
        if self.is_zero() {
            return Ok(());
        }
        Err(ApiError::not_implemented(format!(
            "field {} of the protobuf {message} message, which this request sets; send the object as JSON instead",
            self.number
        )))
    }
}

/// Iterates over the fields of one encoded message.
struct Fields<'a> {
    data: &'a [u8],
    position: usize,
}

impl<'a> Fields<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self { data, position: 0 }
    }

    fn read_varint(&mut self) -> Result<u64, ApiError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = self.data.get(self.position) else {
                return Err(malformed(format!("varint truncated at byte {}", self.position)));
            };
            self.position += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err(malformed(format!("varint longer than 10 bytes before byte {}", self.position)))
    }

    fn take(&mut self, length: usize) -> Result<&'a [u8], ApiError> {
        let end = self.position.checked_add(length).filter(|end| *end <= self.data.len());
        let Some(end) = end else {
            return Err(malformed(format!("{length} bytes expected at byte {}, {} left", self.position, self.data.len() - self.position)));
        };
        let bytes = &self.data[self.position..end];
        self.position = end;
        Ok(bytes)
    }

    fn read_field(&mut self) -> Result<Field<'a>, ApiError> {
        let key = self.read_varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| malformed(format!("field number {} out of range", key >> 3)))?;
        if number == 0 {
            return Err(malformed(format!("field number 0 at byte {}", self.position)));
        }
        let value = match key & 7 {
            0 => Wire::Varint(self.read_varint()?),
            1 => Wire::Fixed64(u64::from_le_bytes(self.take(8)?.try_into().expect("take returns 8 bytes"))),
            2 => {
                let length = usize::try_from(self.read_varint()?).map_err(|_| malformed("length out of range"))?;
                Wire::Bytes(self.take(length)?)
            }
            5 => Wire::Fixed32(u32::from_le_bytes(self.take(4)?.try_into().expect("take returns 4 bytes"))),
            other => return Err(malformed(format!("unsupported wire type {other} for field {number}"))),
        };
        Ok(Field { number, value })
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, ApiError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.position >= self.data.len() {
            return None;
        }
        let field = self.read_field();
        if field.is_err() {
            // Stop after the first error: the rest of the buffer cannot be framed.
            self.position = self.data.len();
        }
        Some(field)
    }
}

fn put_string(object: &mut Map<String, Value>, key: &str, value: String) {
    if !value.is_empty() {
        object.insert(key.into(), Value::String(value));
    }
}

/// Reads one `map<string, V>` entry, a message {1 key, 2 value}; a missing value is empty.
fn map_entry<'a>(field: &Field<'a>, message: &str) -> Result<(String, &'a [u8]), ApiError> {
    let mut key = String::new();
    let mut value: &[u8] = &[];
    for entry_field in Fields::new(field.bytes(message)?) {
        let entry_field = entry_field?;
        match entry_field.number {
            1 => key = entry_field.string(message)?,
            2 => value = entry_field.bytes(message)?,
            _ => entry_field.skip_if_zero(message)?,
        }
    }
    Ok((key, value))
}

fn insert_string_entry(object: &mut Map<String, Value>, map: &str, field: &Field, message: &str) -> Result<(), ApiError> {
    let (key, value) = map_entry(field, message)?;
    let value = String::from_utf8(value.to_vec()).map_err(|_| malformed(format!("{message}[{key}] is not UTF-8")))?;
    map_object(object, map).insert(key, Value::String(value));
    Ok(())
}

/// Inserts a `map<string, bytes>` entry as standard base64, the JSON form of bytes.
fn insert_bytes_entry(object: &mut Map<String, Value>, map: &str, field: &Field, message: &str) -> Result<(), ApiError> {
    let (key, value) = map_entry(field, message)?;
    map_object(object, map).insert(key, Value::String(base64(value)));
    Ok(())
}

fn map_object<'m>(object: &'m mut Map<String, Value>, key: &str) -> &'m mut Map<String, Value> {
    let value = object.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    value.as_object_mut().expect("the entry was just made an object")
}

fn push(object: &mut Map<String, Value>, key: &str, value: Value) {
    let list = object.entry(key).or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(items) = list {
        items.push(value);
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let group = chunk.iter().enumerate().fold(0u32, |group, (i, byte)| group | u32::from(*byte) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                text.push(ALPHABET[(group >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                text.push('=');
            }
        }
    }
    text
}

/// Decodes a `meta.v1.Time` {1 seconds, 2 nanos} as RFC 3339 in UTC with whole seconds, the
/// JSON form of a Kubernetes timestamp; the zero time is absent.
fn time(field: &Field, name: &str) -> Result<Option<Value>, ApiError> {
    let mut seconds = 0i64;
    for time_field in Fields::new(field.bytes(name)?) {
        let time_field = time_field?;
        match time_field.number {
            1 => seconds = time_field.int(name)?,
            2 => {}
            _ => time_field.skip_if_zero(name)?,
        }
    }
    if seconds == 0 {
        return Ok(None);
    }
    let timestamp = jiff::Timestamp::from_second(seconds).map_err(|e| malformed(format!("{name}: {e}")))?;
    Ok(Some(Value::String(timestamp.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())))
}

fn object_meta(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let mut meta = Map::new();
    for field in Fields::new(bytes) {
        let field = field?;
        match field.number {
            1 => put_string(&mut meta, "name", field.string("ObjectMeta.name")?),
            2 => put_string(&mut meta, "generateName", field.string("ObjectMeta.generateName")?),
            3 => put_string(&mut meta, "namespace", field.string("ObjectMeta.namespace")?),
            // selfLink is deprecated and never stored, as on kube-apiserver since 1.20.
            4 => {}
            5 => put_string(&mut meta, "uid", field.string("ObjectMeta.uid")?),
            6 => put_string(&mut meta, "resourceVersion", field.string("ObjectMeta.resourceVersion")?),
            7 => {
                let generation = field.int("ObjectMeta.generation")?;
                if generation != 0 {
                    meta.insert("generation".into(), json!(generation));
                }
            }
            8 | 9 => {
                let key = if field.number == 8 { "creationTimestamp" } else { "deletionTimestamp" };
                if let Some(time) = time(&field, key)? {
                    meta.insert(key.into(), time);
                }
            }
            10 => {
                meta.insert("deletionGracePeriodSeconds".into(), json!(field.int("ObjectMeta.deletionGracePeriodSeconds")?));
            }
            11 => insert_string_entry(&mut meta, "labels", &field, "ObjectMeta.labels")?,
            12 => insert_string_entry(&mut meta, "annotations", &field, "ObjectMeta.annotations")?,
            13 => push(&mut meta, "ownerReferences", owner_reference(field.bytes("ObjectMeta.ownerReferences")?)?),
            14 => push(&mut meta, "finalizers", Value::String(field.string("ObjectMeta.finalizers")?)),
            17 => push(&mut meta, "managedFields", managed_fields_entry(field.bytes("ObjectMeta.managedFields")?)?),
            _ => field.skip_if_zero("ObjectMeta")?,
        }
    }
    Ok(meta)
}

fn owner_reference(bytes: &[u8]) -> Result<Value, ApiError> {
    let mut owner = Map::new();
    for field in Fields::new(bytes) {
        let field = field?;
        match field.number {
            1 => put_string(&mut owner, "kind", field.string("OwnerReference.kind")?),
            3 => put_string(&mut owner, "name", field.string("OwnerReference.name")?),
            4 => put_string(&mut owner, "uid", field.string("OwnerReference.uid")?),
            5 => put_string(&mut owner, "apiVersion", field.string("OwnerReference.apiVersion")?),
            6 => {
                owner.insert("controller".into(), json!(field.bool("OwnerReference.controller")?));
            }
            7 => {
                owner.insert("blockOwnerDeletion".into(), json!(field.bool("OwnerReference.blockOwnerDeletion")?));
            }
            _ => field.skip_if_zero("OwnerReference")?,
        }
    }
    Ok(Value::Object(owner))
}

/// Decodes a `ManagedFieldsEntry`, which clients send back on update after reading an object.
fn managed_fields_entry(bytes: &[u8]) -> Result<Value, ApiError> {
    let mut entry = Map::new();
    for field in Fields::new(bytes) {
        let field = field?;
        match field.number {
            1 => put_string(&mut entry, "manager", field.string("ManagedFieldsEntry.manager")?),
            2 => put_string(&mut entry, "operation", field.string("ManagedFieldsEntry.operation")?),
            3 => put_string(&mut entry, "apiVersion", field.string("ManagedFieldsEntry.apiVersion")?),
            4 => {
                if let Some(time) = time(&field, "ManagedFieldsEntry.time")? {
                    entry.insert("time".into(), time);
                }
            }
            6 => put_string(&mut entry, "fieldsType", field.string("ManagedFieldsEntry.fieldsType")?),
            7 => {
                // FieldsV1 {1 Raw}: the field set as JSON text.
                for raw in Fields::new(field.bytes("ManagedFieldsEntry.fieldsV1")?) {
                    let raw = raw?;
                    match raw.number {
                        1 => {
                            let fields: Value = serde_json::from_slice(raw.bytes("FieldsV1.Raw")?)
                                .map_err(|e| malformed(format!("ManagedFieldsEntry.fieldsV1 is not JSON: {e}")))?;
                            entry.insert("fieldsV1".into(), fields);
                        }
                        _ => raw.skip_if_zero("FieldsV1")?,
                    }
                }
            }
            8 => put_string(&mut entry, "subresource", field.string("ManagedFieldsEntry.subresource")?),
            _ => field.skip_if_zero("ManagedFieldsEntry")?,
        }
    }
    Ok(Value::Object(entry))
}

/// Decodes the `metadata` field (1) that every kind shares into `object`.
fn with_metadata(object: &mut Map<String, Value>, field: &Field) -> Result<(), ApiError> {
    object.insert("metadata".into(), Value::Object(object_meta(field.bytes("metadata")?)?));
    Ok(())
}

fn new_object() -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("metadata".into(), Value::Object(Map::new()));
    object
}

fn namespace(raw: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let mut object = new_object();
    for field in Fields::new(raw) {
        let field = field?;
        match field.number {
            1 => with_metadata(&mut object, &field)?,
            2 => {
                for spec_field in Fields::new(field.bytes("Namespace.spec")?) {
                    let spec_field = spec_field?;
                    match spec_field.number {
                        1 => push(map_object(&mut object, "spec"), "finalizers", Value::String(spec_field.string("NamespaceSpec.finalizers")?)),
                        _ => spec_field.skip_if_zero("NamespaceSpec")?,
                    }
                }
            }
            3 => {
                // kubectl sends an empty status.phase; the simulator drops status on create.
                for status_field in Fields::new(field.bytes("Namespace.status")?) {
                    let status_field = status_field?;
                    match status_field.number {
                        1 => {
                            let phase = status_field.string("NamespaceStatus.phase")?;
                            if !phase.is_empty() {
                                map_object(&mut object, "status").insert("phase".into(), Value::String(phase));
                            }
                        }
                        _ => status_field.skip_if_zero("NamespaceStatus")?,
                    }
                }
            }
            _ => field.skip_if_zero("Namespace")?,
        }
    }
    Ok(object)
}

fn secret(raw: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let mut object = new_object();
    for field in Fields::new(raw) {
        let field = field?;
        match field.number {
            1 => with_metadata(&mut object, &field)?,
            2 => insert_bytes_entry(&mut object, "data", &field, "Secret.data")?,
            3 => put_string(&mut object, "type", field.string("Secret.type")?),
            4 => insert_string_entry(&mut object, "stringData", &field, "Secret.stringData")?,
            5 => {
                object.insert("immutable".into(), json!(field.bool("Secret.immutable")?));
            }
            _ => field.skip_if_zero("Secret")?,
        }
    }
    Ok(object)
}

fn config_map(raw: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let mut object = new_object();
    for field in Fields::new(raw) {
        let field = field?;
        match field.number {
            1 => with_metadata(&mut object, &field)?,
            2 => insert_string_entry(&mut object, "data", &field, "ConfigMap.data")?,
            3 => insert_bytes_entry(&mut object, "binaryData", &field, "ConfigMap.binaryData")?,
            4 => {
                object.insert("immutable".into(), json!(field.bool("ConfigMap.immutable")?));
            }
            _ => field.skip_if_zero("ConfigMap")?,
        }
    }
    Ok(object)
}

fn service_account(raw: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let mut object = new_object();
    for field in Fields::new(raw) {
        let field = field?;
        match field.number {
            1 => with_metadata(&mut object, &field)?,
            2 => push(&mut object, "secrets", object_reference(field.bytes("ServiceAccount.secrets")?)?),
            3 => {
                let mut reference = Map::new();
                for reference_field in Fields::new(field.bytes("ServiceAccount.imagePullSecrets")?) {
                    let reference_field = reference_field?;
                    match reference_field.number {
                        1 => put_string(&mut reference, "name", reference_field.string("LocalObjectReference.name")?),
                        _ => reference_field.skip_if_zero("LocalObjectReference")?,
                    }
                }
                push(&mut object, "imagePullSecrets", Value::Object(reference));
            }
            4 => {
                object.insert("automountServiceAccountToken".into(), json!(field.bool("ServiceAccount.automountServiceAccountToken")?));
            }
            _ => field.skip_if_zero("ServiceAccount")?,
        }
    }
    Ok(object)
}

// NOTE: no captured request sets ObjectReference, NamespaceSpec.finalizers or
// BoundObjectReference fields, so their numbers are untested against a real client.
fn object_reference(bytes: &[u8]) -> Result<Value, ApiError> {
    const NAMES: [&str; 7] = ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"];
    let mut reference = Map::new();
    for field in Fields::new(bytes) {
        let field = field?;
        match NAMES.get((field.number as usize).wrapping_sub(1)) {
            Some(name) => put_string(&mut reference, name, field.string("ObjectReference")?),
            None => field.skip_if_zero("ObjectReference")?,
        }
    }
    Ok(Value::Object(reference))
}

fn token_request(raw: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let mut object = new_object();
    for field in Fields::new(raw) {
        let field = field?;
        match field.number {
            1 => with_metadata(&mut object, &field)?,
            2 => {
                let spec = token_request_spec(field.bytes("TokenRequest.spec")?)?;
                object.insert("spec".into(), Value::Object(spec));
            }
            // status {1 token, 2 expirationTimestamp} is the server's output; kubectl sends
            // it empty and kube-apiserver ignores it on create.
            3 => {}
            _ => field.skip_if_zero("TokenRequest")?,
        }
    }
    Ok(object)
}

fn token_request_spec(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let mut spec = Map::new();
    for field in Fields::new(bytes) {
        let field = field?;
        match field.number {
            1 => push(&mut spec, "audiences", Value::String(field.string("TokenRequestSpec.audiences")?)),
            3 => {
                let mut bound = Map::new();
                for bound_field in Fields::new(field.bytes("TokenRequestSpec.boundObjectRef")?) {
                    let bound_field = bound_field?;
                    let key = match bound_field.number {
                        1 => "kind",
                        2 => "apiVersion",
                        3 => "name",
                        4 => "uid",
                        _ => {
                            bound_field.skip_if_zero("BoundObjectReference")?;
                            continue;
                        }
                    };
                    put_string(&mut bound, key, bound_field.string("BoundObjectReference")?);
                }
                spec.insert("boundObjectRef".into(), Value::Object(bound));
            }
            4 => {
                spec.insert("expirationSeconds".into(), json!(field.int("TokenRequestSpec.expirationSeconds")?));
            }
            _ => field.skip_if_zero("TokenRequestSpec")?,
        }
    }
    Ok(spec)
}

#[cfg(test)]
#[path = "protobuf_tests.rs"]
mod tests;
