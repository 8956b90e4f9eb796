//! List helpers: continue tokens and resourceVersion checks.

use crate::error::{ApiError, ApiResult};
use crate::sim::ListOptions;
use crate::store::State;
use serde_json::json;

pub(super) fn encode_continue(rv: u64, namespace: &str, name: &str) -> String {
    format!("{rv}/{namespace}/{name}").bytes().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn decode_continue(token: &str) -> Option<(u64, String, String)> {
    let bytes: Option<Vec<u8>> =
        (0..token.len()).step_by(2).map(|i| token.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
    let text = String::from_utf8(bytes?).ok()?;
    let mut parts = text.splitn(3, '/');
    let rv = parts.next()?.parse().ok()?;
    Some((rv, parts.next()?.to_string(), parts.next()?.to_string()))
}

pub(super) fn check_list_resource_version(state: &State, opts: &ListOptions) -> ApiResult<()> {
    let Some(rv) = opts.resource_version.as_deref().filter(|rv| !rv.is_empty() && *rv != "0") else {
        return Ok(());
    };
    let rv: u64 = rv.parse().map_err(|_| ApiError::bad_request(format!("invalid resource version {rv:?}")))?;
    if rv > state.rv {
        return Err(ApiError::new(504, "Timeout", format!("Too large resource version: {rv}, current: {}", state.rv))
            .with_details(json!({"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}], "retryAfterSeconds": 1})));
    }
    if opts.resource_version_match.as_deref() == Some("Exact") && rv != state.rv {
        if rv < state.history.compacted_rv() {
            return Err(ApiError::gone(format!("too old resource version: {rv} ({})", state.history.compacted_rv())));
        }
        return Err(ApiError::not_implemented("lists at an exact past resourceVersion (resourceVersionMatch=Exact)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_token_round_trip() {
        let token = encode_continue(42, "ns", "name.with.dots");
        assert_eq!(decode_continue(&token), Some((42, "ns".into(), "name.with.dots".into())));
        assert_eq!(decode_continue("zz"), None);
    }
}
