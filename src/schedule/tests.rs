use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::api::common::DurationString;
use crate::api::rotation::{MaintenanceWindowSpec, RotationTrigger, ScheduleSpec, Weekday as SpecWeekday};
use crate::validation::FieldReason;

fn ts(value: &str) -> Timestamp {
    value.parse().unwrap()
}

fn tz(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap()
}

fn cron_cadence(expression: &str, zone: &str) -> Cadence {
    Cadence::Cron {
        cron: parse_cron("spec.schedule.cron", expression).unwrap(),
        time_zone: tz(zone),
    }
}

fn window(days: &[Weekday], start: (i8, i8), duration: SignedDuration, zone: &str) -> MaintenanceWindow {
    MaintenanceWindow::new(days, Time::new(start.0, start.1, 0, 0).unwrap(), duration, tz(zone))
}

const EVERY_DAY: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

// --- durations ---

#[test]
fn duration_valid_values() {
    let cases = [
        ("90d", 90 * 86_400),
        ("36h", 36 * 3_600),
        ("15m", 15 * 60),
        ("30s", 30),
        ("1d12h", 36 * 3_600),
        ("1h30m", 90 * 60),
        ("2d3h4m5s", 2 * 86_400 + 3 * 3_600 + 4 * 60 + 5),
        ("0s", 0),
        ("36500d", 36_500 * 86_400),
    ];
    for (value, seconds) in cases {
        assert_eq!(
            parse_duration("spec.x", value),
            Ok(SignedDuration::from_secs(seconds)),
            "{value}"
        );
    }
}

#[test]
fn duration_invalid_values() {
    let cases = [
        ("", "empty"),
        ("-1h", "negative"),
        ("1.5h", "fractions"),
        ("5w", "unknown unit"),
        ("12", "no unit"),
        ("h", "expected a number"),
        ("1h1d", "smaller unit"),
        ("1h1h", "repeats"),
        ("15ms", "expected a number"),
        ("90D", "unknown unit"),
        (" 1h", "expected a number"),
        ("36501d", "longer than 36500d"),
        ("99999999999999999999d", "too large"),
    ];
    for (value, why) in cases {
        let error = parse_duration("spec.retirement.idleWindow", value).unwrap_err();
        assert_eq!(error.field, "spec.retirement.idleWindow", "{value}");
        assert_eq!(error.reason, FieldReason::InvalidDuration, "{value}");
        assert!(error.message.contains(why), "{value}: {}", error.message);
        assert!(error.message.contains("such as 90d"), "{value}: {}", error.message);
    }
}

#[test]
fn positive_duration_rejects_zero() {
    for value in ["0s", "0d", "0d0h0m0s"] {
        let error = parse_positive_duration("spec.schedule.interval", value).unwrap_err();
        assert_eq!(error.field, "spec.schedule.interval", "{value}");
        assert_eq!(error.reason, FieldReason::InvalidDuration, "{value}");
        assert!(error.message.contains("zero"), "{value}: {}", error.message);
    }
}

#[test]
fn positive_duration_accepts_one_second() {
    assert_eq!(
        parse_positive_duration("spec.schedule.interval", "1s"),
        Ok(SignedDuration::from_secs(1))
    );
}

#[test]
fn duration_formats_in_grammar() {
    let cases = [
        (0, "0s"),
        (45, "45s"),
        (90 * 60, "1h30m"),
        (36 * 3_600, "1d12h"),
        (90 * 86_400, "90d"),
        (86_400 + 1, "1d1s"),
    ];
    for (seconds, text) in cases {
        assert_eq!(format_duration(SignedDuration::from_secs(seconds)), text);
        assert_eq!(
            parse_duration("f", text),
            Ok(SignedDuration::from_secs(seconds)),
            "round trip of {text}"
        );
    }
}

// --- time zones and cron ---

#[test]
fn time_zone_known_names() {
    for name in ["UTC", "Europe/Berlin", "America/New_York", "Asia/Shanghai"] {
        assert!(parse_time_zone("spec.schedule.timeZone", name).is_ok(), "{name}");
    }
}

#[test]
fn time_zone_unknown_names() {
    for name in ["Mars/Olympus_Mons", "", "Europe/Berlinn"] {
        let error = parse_time_zone("spec.schedule.timeZone", name).unwrap_err();
        assert_eq!(error.field, "spec.schedule.timeZone", "{name}");
        assert_eq!(error.reason, FieldReason::UnknownTimeZone, "{name}");
        assert!(error.message.contains("Europe/Berlin"), "{}", error.message);
    }
}

#[test]
fn cron_valid_expressions() {
    for expression in ["0 3 * * *", "0 3 1 */3 *", "30 2 * * MON-FRI", "0 0 29 2 *", "@weekly"] {
        assert!(parse_cron("spec.schedule.cron", expression).is_ok(), "{expression}");
    }
}

#[test]
fn cron_invalid_expressions() {
    let cases = [
        ("0 3 * *", "4 fields"),
        ("0 0 3 * * *", "6 fields"),
        ("61 * * * *", "not a valid cron"),
        ("0 0 30 2 *", "never matches"),
        ("every day", "2 fields"),
        ("@reboot", "not a valid cron"),
    ];
    for (expression, why) in cases {
        let error = parse_cron("spec.schedule.cron", expression).unwrap_err();
        assert_eq!(error.field, "spec.schedule.cron", "{expression}");
        assert_eq!(error.reason, FieldReason::InvalidSchedule, "{expression}");
        assert!(error.message.contains(why), "{expression}: {}", error.message);
        assert!(error.message.contains("five fields"), "{expression}: {}", error.message);
    }
}

// --- next due time ---

#[test]
fn next_due_interval_adds_to_since() {
    let cadence = Cadence::Interval(SignedDuration::from_hours(90 * 24));

    assert_eq!(next_due(&cadence, ts("2026-01-01T00:00:00Z")), Some(ts("2026-04-01T00:00:00Z")));
}

#[test]
fn next_due_interval_across_dst() {
    // 12:00 EST on the day before New York moves its clocks forward: one day later is
    // 13:00 EDT, 24 elapsed hours, not 12:00 local.
    let cadence = Cadence::Interval(parse_positive_duration("f", "1d").unwrap());

    assert_eq!(next_due(&cadence, ts("2026-03-07T17:00:00Z")), Some(ts("2026-03-08T17:00:00Z")));
}

#[test]
fn next_due_on_request_only_is_none() {
    assert_eq!(next_due(&Cadence::OnRequestOnly, ts("2026-01-01T00:00:00Z")), None);
}

#[test]
fn next_due_cron_table() {
    let cases = [
        // Strictly after `since`: a rotation that finished on a match waits for the next one.
        ("0 3 * * *", "UTC", "2026-01-01T03:00:00Z", "2026-01-02T03:00:00Z"),
        ("0 3 1 */3 *", "UTC", "2026-01-01T03:00:00Z", "2026-04-01T03:00:00Z"),
        // 03:00 local in winter (CET, +01:00) and in summer (CEST, +02:00).
        ("0 3 * * *", "Europe/Berlin", "2026-01-01T00:00:00Z", "2026-01-01T02:00:00Z"),
        ("0 3 * * *", "Europe/Berlin", "2026-07-01T00:00:00Z", "2026-07-01T01:00:00Z"),
        // 02:30 does not exist on 2026-03-08 in New York: the match moves to the end of
        // the gap, 03:00 EDT.
        ("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", "2026-03-08T07:00:00Z"),
        // 01:30 happens twice on 2026-11-01 in New York: the first (EDT) counts...
        ("30 1 * * *", "America/New_York", "2026-11-01T04:00:00Z", "2026-11-01T05:30:00Z"),
        // ...and the repeat (EST) does not fire again: the next match is the next day.
        ("30 1 * * *", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"),
        ("0 4 * * SUN", "Asia/Shanghai", "2026-01-01T00:00:00Z", "2026-01-03T20:00:00Z"),
    ];
    for (expression, zone, since, expected) in cases {
        assert_eq!(
            next_due(&cron_cadence(expression, zone), ts(since)),
            Some(ts(expected)),
            "{expression} in {zone} after {since}"
        );
    }
}

// --- maintenance windows ---

#[test]
fn window_state_table() {
    let weekend = window(
        &[Weekday::Saturday, Weekday::Sunday],
        (2, 0),
        SignedDuration::from_hours(4),
        "Europe/Berlin",
    );
    let cases = [
        // Saturday 02:30 CET: inside the first weekend window.
        ("2026-01-03T01:30:00Z", WindowState::Open { closes: ts("2026-01-03T05:00:00Z") }),
        // The opening instant itself is inside, the closing instant is not.
        ("2026-01-03T01:00:00Z", WindowState::Open { closes: ts("2026-01-03T05:00:00Z") }),
        ("2026-01-03T05:00:00Z", WindowState::Closed { opens: ts("2026-01-04T01:00:00Z") }),
        // Friday noon: the next opening is Saturday 02:00 CET.
        ("2026-01-02T12:00:00Z", WindowState::Closed { opens: ts("2026-01-03T01:00:00Z") }),
        // Sunday after the window: the next opening is a week later.
        ("2026-01-04T06:00:00Z", WindowState::Closed { opens: ts("2026-01-10T01:00:00Z") }),
    ];
    for (now, expected) in cases {
        assert_eq!(weekend.state(ts(now)), expected, "at {now}");
    }
}

#[test]
fn window_crossing_midnight_open_next_day() {
    let nightly = window(&EVERY_DAY, (22, 0), SignedDuration::from_hours(4), "UTC");

    assert_eq!(
        nightly.state(ts("2026-01-06T01:00:00Z")),
        WindowState::Open { closes: ts("2026-01-06T02:00:00Z") }
    );
}

#[test]
fn window_week_long_every_day_always_open() {
    let always = window(&EVERY_DAY, (0, 0), SignedDuration::from_hours(24 * 7), "UTC");

    assert!(always.is_open(ts("2026-05-05T13:14:15Z")));
}

#[test]
fn window_start_in_dst_gap() {
    // New York skips 02:00-03:00 on 2026-03-08, so 02:30 opens at 03:00 EDT (07:00Z).
    let daily = window(&EVERY_DAY, (2, 30), SignedDuration::from_hours(1), "America/New_York");

    assert_eq!(
        daily.state(ts("2026-03-08T06:59:00Z")),
        WindowState::Closed { opens: ts("2026-03-08T07:00:00Z") }
    );
    assert_eq!(
        daily.state(ts("2026-03-08T07:00:00Z")),
        WindowState::Open { closes: ts("2026-03-08T08:00:00Z") }
    );
}

#[test]
fn window_start_in_dst_fold_opens_once() {
    // New York repeats 01:00-02:00 on 2026-11-01: the window opens at the first 01:30
    // (EDT, 05:30Z) and does not open again at the repeat (EST, 06:30Z).
    let daily = window(&EVERY_DAY, (1, 30), SignedDuration::from_mins(30), "America/New_York");

    assert_eq!(
        daily.state(ts("2026-11-01T05:30:00Z")),
        WindowState::Open { closes: ts("2026-11-01T06:00:00Z") }
    );
    assert_eq!(
        daily.state(ts("2026-11-01T06:30:00Z")),
        WindowState::Closed { opens: ts("2026-11-02T06:30:00Z") }
    );
}

#[test]
fn window_spanning_dst_keeps_elapsed_duration() {
    // Berlin moves from 02:00 CET to 03:00 CEST on 2026-03-29. A 4-hour window from 01:00
    // CET (00:00Z) closes 4 elapsed hours later, at 06:00 CEST (04:00Z).
    let sunday = window(&[Weekday::Sunday], (1, 0), SignedDuration::from_hours(4), "Europe/Berlin");

    assert_eq!(
        sunday.state(ts("2026-03-29T03:59:00Z")),
        WindowState::Open { closes: ts("2026-03-29T04:00:00Z") }
    );
}

#[test]
fn window_next_open_while_open_is_now() {
    let daily = window(&EVERY_DAY, (0, 0), SignedDuration::from_hours(6), "UTC");

    assert_eq!(daily.next_open(ts("2026-01-01T03:00:00Z")), ts("2026-01-01T03:00:00Z"));
}

#[test]
fn window_start_parse_table() {
    assert_eq!(parse_start("f", "00:00"), Ok(Time::new(0, 0, 0, 0).unwrap()));
    assert_eq!(parse_start("f", "23:59"), Ok(Time::new(23, 59, 0, 0).unwrap()));
    for value in ["24:00", "2:00", "02:60", "02-00", "0200", "", "ab:cd", "02:00:00"] {
        let error = parse_start("spec.schedule.maintenanceWindow.start", value).unwrap_err();
        assert_eq!(error.field, "spec.schedule.maintenanceWindow.start", "{value}");
        assert_eq!(error.reason, FieldReason::InvalidMaintenanceWindow, "{value}");
    }
}

// --- start decisions ---

#[test]
fn decide_start_table() {
    let weekend = window(
        &[Weekday::Saturday, Weekday::Sunday],
        (2, 0),
        SignedDuration::from_hours(4),
        "UTC",
    );
    let friday = ts("2026-01-02T12:00:00Z");
    let saturday_in_window = ts("2026-01-03T03:00:00Z");
    let saturday_opens = ts("2026-01-03T02:00:00Z");

    let cases = [
        // Requested, emergency and bootstrap rotations ignore the window and the due time.
        (RotationTrigger::Request, None, Some(&weekend), friday, StartDecision::Start),
        (RotationTrigger::Emergency, None, Some(&weekend), friday, StartDecision::Start),
        (RotationTrigger::Bootstrap, None, Some(&weekend), friday, StartDecision::Start),
        // No cadence: no routine rotation.
        (RotationTrigger::Schedule, None, None, friday, StartDecision::NoSchedule),
        // Not yet due.
        (
            RotationTrigger::Schedule,
            Some(ts("2026-01-02T13:00:00Z")),
            None,
            friday,
            StartDecision::NotDue {
                due: ts("2026-01-02T13:00:00Z"),
                earliest_start: ts("2026-01-02T13:00:00Z"),
            },
        ),
        (
            RotationTrigger::Schedule,
            Some(ts("2026-01-02T13:00:00Z")),
            Some(&weekend),
            friday,
            StartDecision::NotDue {
                due: ts("2026-01-02T13:00:00Z"),
                earliest_start: saturday_opens,
            },
        ),
        // Due, no window.
        (RotationTrigger::Schedule, Some(friday), None, friday, StartDecision::Start),
        // Due, window closed: wait for it.
        (
            RotationTrigger::Schedule,
            Some(ts("2026-01-02T11:00:00Z")),
            Some(&weekend),
            friday,
            StartDecision::HeldByWindow { opens: saturday_opens },
        ),
        // Due long ago, window open now.
        (
            RotationTrigger::Schedule,
            Some(ts("2025-12-01T00:00:00Z")),
            Some(&weekend),
            saturday_in_window,
            StartDecision::Start,
        ),
    ];
    for (index, (trigger, due, window, now, expected)) in cases.into_iter().enumerate() {
        assert_eq!(decide_start(trigger, due, window, now), expected, "case {index}");
    }
}

// --- schedule spec ---

fn schedule_spec() -> ScheduleSpec {
    ScheduleSpec {
        time_zone: "UTC".to_string(),
        ..ScheduleSpec::default()
    }
}

#[test]
fn schedule_spec_without_cadence_is_on_request() {
    let schedule = RotationSchedule::from_spec(&schedule_spec()).unwrap();

    assert!(matches!(schedule.cadence, Cadence::OnRequestOnly));
    assert!(schedule.window.is_none());
}

#[test]
fn schedule_spec_interval_and_window() {
    let spec = ScheduleSpec {
        interval: Some(DurationString::from("90d")),
        maintenance_window: Some(MaintenanceWindowSpec {
            days: vec![SpecWeekday::Saturday],
            start: "02:00".to_string(),
            duration: DurationString::from("4h"),
        }),
        ..schedule_spec()
    };

    let schedule = RotationSchedule::from_spec(&spec).unwrap();

    assert_eq!(
        schedule.next_due(ts("2026-01-01T00:00:00Z")),
        Some(ts("2026-04-01T00:00:00Z"))
    );
    assert_eq!(
        schedule.decide_start(RotationTrigger::Schedule, ts("2026-01-01T00:00:00Z"), ts("2026-04-01T00:00:00Z")),
        StartDecision::HeldByWindow { opens: ts("2026-04-04T02:00:00Z") }
    );
}

#[test]
fn schedule_spec_errors_name_fields() {
    let spec = ScheduleSpec {
        interval: Some(DurationString::from("90d")),
        cron: Some("0 3 * * *".to_string()),
        time_zone: "Nowhere/City".to_string(),
        maintenance_window: Some(MaintenanceWindowSpec {
            days: vec![],
            start: "25:00".to_string(),
            duration: DurationString::from("8d"),
        }),
        ..ScheduleSpec::default()
    };

    let errors = RotationSchedule::from_spec(&spec).unwrap_err();
    let fields: Vec<(&str, FieldReason)> = errors
        .iter()
        .map(|error| (error.field.as_str(), error.reason))
        .collect();

    assert_eq!(
        fields,
        vec![
            ("spec.schedule.timeZone", FieldReason::UnknownTimeZone),
            ("spec.schedule", FieldReason::InvalidSchedule),
        ]
    );
}

#[test]
fn schedule_spec_window_errors_name_fields() {
    let spec = ScheduleSpec {
        maintenance_window: Some(MaintenanceWindowSpec {
            days: vec![],
            start: "25:00".to_string(),
            duration: DurationString::from("8d"),
        }),
        ..schedule_spec()
    };

    let errors = RotationSchedule::from_spec(&spec).unwrap_err();
    let fields: Vec<(&str, FieldReason)> = errors
        .iter()
        .map(|error| (error.field.as_str(), error.reason))
        .collect();

    assert_eq!(
        fields,
        vec![
            ("spec.schedule.maintenanceWindow.days", FieldReason::InvalidMaintenanceWindow),
            ("spec.schedule.maintenanceWindow.start", FieldReason::InvalidMaintenanceWindow),
            ("spec.schedule.maintenanceWindow.duration", FieldReason::InvalidMaintenanceWindow),
        ]
    );
}
