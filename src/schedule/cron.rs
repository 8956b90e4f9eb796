//! Cron expressions and IANA time zones.

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use jiff::Zoned;
use jiff::tz::TimeZone;

use crate::validation::{FieldError, FieldReason, quote};

/// Parses an IANA time zone name such as `Europe/Berlin` or `UTC` from the system's time zone
/// database.
pub fn parse_time_zone(field: &str, name: &str) -> Result<TimeZone, FieldError> {
    TimeZone::get(name).map_err(|_| {
        FieldError::new(
            field,
            FieldReason::UnknownTimeZone,
            format!(
                "{} is not a known IANA time zone; use a name from the time zone database, \
                 such as UTC, Europe/Berlin or Asia/Shanghai",
                quote(name)
            ),
        )
    })
}

/// Parses a standard five-field cron expression: minute, hour, day of month, month and day
/// of week. Names such as `MON` and `JAN` and nicknames such as `@weekly` are accepted, but
/// seconds and year fields are rejected. An expression that never matches, such as `0 0 30 2 *`, is
/// an error too.
pub fn parse_cron(field: &str, expression: &str) -> Result<Cron, FieldError> {
    let invalid = |why: String| {
        FieldError::new(
            field,
            FieldReason::InvalidSchedule,
            format!(
                "{} is not a valid cron expression: {why}; write five fields (minute, hour, \
                 day of month, month, day of week), such as \"0 3 * * MON\" for 03:00 every \
                 Monday",
                quote(expression)
            ),
        )
    };

    if expression.split_whitespace().count() != 5 && !expression.trim_start().starts_with('@') {
        return Err(invalid(format!(
            "it has {} fields instead of 5",
            expression.split_whitespace().count()
        )));
    }

    let parser = CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build();
    let cron = parser
        .parse(expression)
        .map_err(|error| invalid(error.to_string()))?;

    // croner gives up after a bounded search, so a pattern such as February 30th shows up as
    // an error here instead of at the first due time computation.
    let reference = Zoned::new(jiff::Timestamp::UNIX_EPOCH, TimeZone::UTC);
    if cron.find_next_occurrence(&reference, false).is_err() {
        return Err(invalid("it never matches any date".to_string()));
    }

    Ok(cron)
}
