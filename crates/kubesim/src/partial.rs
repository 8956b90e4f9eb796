//! The `meta.k8s.io/v1` PartialObjectMetadata representation, which clients request with
//! `Accept: application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1` (or
//! `as=PartialObjectMetadataList` for lists) to read metadata only, as kube-rs metadata
//! watchers do.

use serde_json::{Value, json};

/// Checks whether an Accept header requests PartialObjectMetadata as its first choice.
pub fn wants_metadata(accept: &str) -> bool {
    accept.split(',').next().is_some_and(|first| first.contains("as=PartialObjectMetadata"))
}

/// Reduces an object to its metadata.
pub fn object(full: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": full.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// Reduces a list (or a deletecollection result) to metadata only.
pub fn list(full: &Value) -> Value {
    let items: Vec<Value> = full.get("items").and_then(Value::as_array).map(|items| items.iter().map(object).collect()).unwrap_or_default();
    json!({
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": full.get("metadata").cloned().unwrap_or_else(|| json!({})),
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_header_table() {
        assert!(wants_metadata("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"));
        assert!(wants_metadata("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"));
        assert!(!wants_metadata("application/json"));
    }

    #[test]
    fn list_keeps_metadata_only() {
        let full = json!({"kind": "SecretList", "metadata": {"resourceVersion": "5"},
            "items": [{"kind": "Secret", "metadata": {"name": "a"}, "data": {"k": "dg=="}}]});
        let partial = list(&full);
        assert_eq!(partial["kind"], json!("PartialObjectMetadataList"));
        assert_eq!(partial["metadata"]["resourceVersion"], json!("5"));
        assert_eq!(partial["items"][0], json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": {"name": "a"}}));
    }
}
