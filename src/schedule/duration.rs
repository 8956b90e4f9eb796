//! Duration strings: `90d`, `36h`, `15m`, `30s` and combinations such as `1d12h`.

use jiff::SignedDuration;

use crate::validation::{FieldError, FieldReason, quote};

const SECONDS_PER_DAY: i64 = 86_400;

/// Maximum duration in days: 100 years of 365 days. Nothing in a rotation schedule needs
/// more, and the limit keeps every due time far inside the range of a timestamp.
pub const MAX_DURATION_DAYS: i64 = 36_500;

/// Parses a duration string into a non-negative duration.
///
/// The grammar is one or more `<integer><unit>` terms with the units `d` (24 hours,
/// regardless of daylight saving time), `h`, `m` and `s`, each at most once
/// and largest first: `90d`, `1d12h`, `1h30m`, `0s`. Errors name `field` and say how to
/// write the value.
pub fn parse_duration(field: &str, value: &str) -> Result<SignedDuration, FieldError> {
    let invalid = |why: String| {
        FieldError::new(
            field,
            FieldReason::InvalidDuration,
            format!(
                "{} is not a valid duration: {why}; write whole numbers with the units d, h, m \
                 and s, largest first, such as 90d, 36h, 15m or 1d12h",
                quote(value)
            ),
        )
    };

    if value.is_empty() {
        return Err(invalid("the value is empty".to_string()));
    }
    if value.starts_with('-') {
        return Err(invalid("negative durations are not allowed".to_string()));
    }

    let mut total_seconds: i64 = 0;
    let mut previous_rank = usize::MAX;
    let mut rest = value;
    while !rest.is_empty() {
        let digits_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits_len == 0 {
            return Err(invalid(format!("expected a number at {}", quote(rest))));
        }
        let (digits, after_digits) = rest.split_at(digits_len);

        let Some(unit) = after_digits.chars().next() else {
            return Err(invalid(format!("the number {digits} has no unit")));
        };
        let (rank, unit_seconds) = match unit {
            'd' => (3, SECONDS_PER_DAY),
            'h' => (2, 3_600),
            'm' => (1, 60),
            's' => (0, 1),
            '.' => return Err(invalid("fractions are not allowed, write 1h30m for 1.5h".to_string())),
            other => return Err(invalid(format!("unknown unit {:?}", other))),
        };
        if rank >= previous_rank {
            return Err(invalid(format!(
                "the unit {unit:?} repeats or comes after a smaller unit"
            )));
        }
        previous_rank = rank;

        let amount: i64 = digits
            .parse()
            .map_err(|_| invalid(format!("the number {digits} is too large")))?;
        total_seconds = amount
            .checked_mul(unit_seconds)
            .and_then(|seconds| total_seconds.checked_add(seconds))
            .filter(|&seconds| seconds <= MAX_DURATION_DAYS * SECONDS_PER_DAY)
            .ok_or_else(|| invalid(format!("it is longer than {MAX_DURATION_DAYS}d")))?;

        rest = &after_digits[unit.len_utf8()..];
    }

    Ok(SignedDuration::from_secs(total_seconds))
}

/// Parses a duration string that must be longer than zero, such as a rotation interval or a
/// timeout.
pub fn parse_positive_duration(field: &str, value: &str) -> Result<SignedDuration, FieldError> {
    let duration = parse_duration(field, value)?;
    if duration.is_zero() {
        return Err(FieldError::new(
            field,
            FieldReason::InvalidDuration,
            format!(
                "{} is zero; give a duration longer than zero, such as 90d or 15m",
                quote(value)
            ),
        ));
    }
    Ok(duration)
}

/// Formats a non-negative duration in the duration string grammar, such as `1d12h` or `0s`.
/// Sub-second parts are dropped.
pub fn format_duration(duration: SignedDuration) -> String {
    let mut seconds = duration.as_secs().max(0);
    if seconds == 0 {
        return "0s".to_string();
    }

    let mut output = String::new();
    for (unit, unit_seconds) in [('d', SECONDS_PER_DAY), ('h', 3_600), ('m', 60), ('s', 1)] {
        let amount = seconds / unit_seconds;
        if amount > 0 {
            output.push_str(&format!("{amount}{unit}"));
            seconds -= amount * unit_seconds;
        }
    }
    output
}
