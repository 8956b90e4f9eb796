//! Serde helpers for fields whose JSON type differs between Huawei Cloud's schemas and its
//! live responses.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Reads a string, a number or a boolean as text, and an object or array as its compact
/// JSON text; `null` reads as `None`.
pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => None,
        Value::String(text) => Some(text),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        other => Some(other.to_string()),
    })
}

/// Reads a boolean given as `true` or as the string `"true"` (CTS writes
/// `principal_is_root_user` as a string).
pub fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::Bool(flag) => Ok(Some(flag)),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Value::String(text) if text.is_empty() => Ok(None),
        other => Err(serde::de::Error::custom(format!("expected a boolean, got {other}"))),
    }
}

/// Reads a decimal amount given as a number or as a numeric string.
pub fn amount<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::Number(number) => Ok(number.as_f64()),
        Value::String(text) if text.trim().is_empty() => Ok(None),
        Value::String(text) => text
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{text:?} is not a decimal amount"))),
        other => Err(serde::de::Error::custom(format!("expected an amount, got {other}"))),
    }
}

/// Reads an integer given as a number or as a digit string.
pub fn integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::Number(number) => Ok(number.as_i64()),
        Value::String(text) if text.trim().is_empty() => Ok(None),
        Value::String(text) => text
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{text:?} is not an integer"))),
        other => Err(serde::de::Error::custom(format!("expected an integer, got {other}"))),
    }
}
