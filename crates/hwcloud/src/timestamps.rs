//! Timestamp forms found in Huawei Cloud responses, all read as UTC [`Timestamp`]s:
//! - RFC 3339 with a zone, such as `2023-06-28T08:56:33.710000Z` (access keys);
//! - a civil date and time without a zone, such as `2020-07-08 02:19:03.0` (IAM users),
//!   read as UTC (NOTE: IAM does not document the zone of this form);
//! - epoch milliseconds as a number or a digit string (groups, CTS traces).

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Parses one timestamp in any of the forms above.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().ok().and_then(from_epoch_millis);
    }
    if let Ok(timestamp) = text.parse::<Timestamp>() {
        return Some(timestamp);
    }
    text.parse::<DateTime>()
        .ok()
        .and_then(|civil| civil.to_zoned(TimeZone::UTC).ok())
        .map(|zoned| zoned.timestamp())
}

pub fn from_epoch_millis(millis: i64) -> Option<Timestamp> {
    Timestamp::from_millisecond(millis).ok()
}

fn from_value(value: Value) -> Result<Option<Timestamp>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) if text.trim().is_empty() => Ok(None),
        Value::String(text) => parse_timestamp(&text)
            .map(Some)
            .ok_or_else(|| format!("{text:?} is not a timestamp")),
        Value::Number(number) => number
            .as_i64()
            .and_then(from_epoch_millis)
            .map(Some)
            .ok_or_else(|| format!("{number} is not epoch milliseconds")),
        _ => Err("expected a timestamp string or epoch milliseconds".to_string()),
    }
}

/// Serde helper for a required timestamp field.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
    from_value(Value::deserialize(deserializer)?)
        .map_err(serde::de::Error::custom)?
        .ok_or_else(|| serde::de::Error::custom("timestamp is missing"))
}

/// Serde helper for an optional timestamp field; `null` and `""` read as `None`.
pub fn deserialize_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Timestamp>, D::Error> {
    from_value(Value::deserialize(deserializer)?).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_forms_parsed() {
        let cases = [
            ("2023-06-28T08:56:33.710000Z", "2023-06-28T08:56:33.71Z"),
            ("2024-03-05T10:11:12.123456Z", "2024-03-05T10:11:12.123456Z"),
            ("2024-03-05T10:11:12Z", "2024-03-05T10:11:12Z"),
            ("2024-03-05T18:11:12+08:00", "2024-03-05T10:11:12Z"),
            ("2020-07-08 02:19:03.0", "2020-07-08T02:19:03Z"),
            ("2020-07-08T02:19:03", "2020-07-08T02:19:03Z"),
            ("1578969208707", "2020-01-14T02:33:28.707Z"),
        ];
        for (text, expected) in cases {
            assert_eq!(
                parse_timestamp(text).map(|t| t.to_string()).as_deref(),
                Some(expected),
                "{text}"
            );
        }
    }

    #[test]
    fn garbage_timestamps_rejected() {
        for text in ["", "yesterday", "2020-13-01T00:00:00Z", "12:00"] {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
    }

    #[test]
    fn serde_helpers_accept_numbers_and_null() {
        #[derive(Deserialize)]
        struct Row {
            #[serde(deserialize_with = "deserialize")]
            at: Timestamp,
            #[serde(default, deserialize_with = "deserialize_option")]
            maybe: Option<Timestamp>,
        }

        let row: Row = serde_json::from_str(r#"{"at": 1578969208707, "maybe": null}"#).unwrap();
        assert_eq!(row.at.to_string(), "2020-01-14T02:33:28.707Z");
        assert_eq!(row.maybe, None);

        let row: Row = serde_json::from_str(r#"{"at": "2020-07-08 02:19:03.0"}"#).unwrap();
        assert_eq!(row.maybe, None);
        assert!(serde_json::from_str::<Row>(r#"{"at": true}"#).is_err());
    }
}
