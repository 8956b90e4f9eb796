//! Maintenance windows: recurring local times at which routine rotations may start.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, ToSpan};

use super::duration::parse_positive_duration;
use crate::api::rotation::MaintenanceWindowSpec;
use crate::validation::{FieldError, FieldReason, quote};

/// Maximum window length in days: a longer window would overlap itself every week.
pub const MAX_WINDOW_DAYS: i64 = 7;

/// A maintenance window: on each of `days`, opens at `start` local time in `time_zone` and
/// stays open for `duration` of elapsed time. A window that spans a daylight saving time
/// change is as long as on other days, so its local closing time moves.
#[derive(Clone, Debug, PartialEq)]
pub struct MaintenanceWindow {
    days: Vec<Weekday>,
    start: Time,
    duration: SignedDuration,
    time_zone: TimeZone,
}

/// Whether a maintenance window is open at a given instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowState {
    /// Open until `closes`. Windows that overlap or touch count as one.
    Open { closes: Timestamp },
    /// Closed until `opens`.
    Closed { opens: Timestamp },
}

impl MaintenanceWindow {
    /// Creates a window that opens on `days` at `start` local time. `days` must not be empty and
    /// `duration` must be longer than zero and at most a week.
    pub fn new(
        days: &[Weekday],
        start: Time,
        duration: SignedDuration,
        time_zone: TimeZone,
    ) -> Self {
        let mut days = days.to_vec();
        days.sort_by_key(|day| day.to_monday_zero_offset());
        days.dedup();
        Self {
            days,
            start,
            duration,
            time_zone,
        }
    }

    /// Builds a window from the spec. `field` is the spec path of the window, such as
    /// `spec.schedule.maintenanceWindow`; `time_zone` is the already parsed schedule time
    /// zone. Returns every problem found.
    pub fn from_spec(
        field: &str,
        spec: &MaintenanceWindowSpec,
        time_zone: TimeZone,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();

        if spec.days.is_empty() {
            errors.push(FieldError::new(
                format!("{field}.days"),
                FieldReason::InvalidMaintenanceWindow,
                "no day is listed; list the days on which the window opens, such as \
                 [Saturday, Sunday], or remove the field to open it every day",
            ));
        }

        let start = parse_start(&format!("{field}.start"), &spec.start);
        if let Err(error) = &start {
            errors.push(error.clone());
        }

        let duration_field = format!("{field}.duration");
        let duration = parse_positive_duration(&duration_field, spec.duration.as_str());
        match &duration {
            Err(error) => errors.push(error.clone()),
            Ok(duration) if *duration > SignedDuration::from_hours(24 * MAX_WINDOW_DAYS) => {
                errors.push(FieldError::new(
                    duration_field,
                    FieldReason::InvalidMaintenanceWindow,
                    format!(
                        "{} is longer than {MAX_WINDOW_DAYS}d; a window repeats every week, so \
                         give at most 7d, or remove the window to allow any time",
                        quote(spec.duration.as_str())
                    ),
                ));
            }
            Ok(_) => {}
        }

        match (start, duration) {
            (Ok(start), Ok(duration)) if errors.is_empty() => {
                let days: Vec<Weekday> = spec.days.iter().map(|day| day.to_jiff()).collect();
                Ok(Self::new(&days, start, duration, time_zone))
            }
            _ => Err(errors),
        }
    }

    /// Returns whether the window is open at `now`, and until when, or when it next opens.
    pub fn state(&self, now: Timestamp) -> WindowState {
        let occurrences = self.occurrences_around(now);

        if let Some(closes) = open_until(&occurrences, now) {
            return WindowState::Open { closes };
        }
        let opens = occurrences
            .iter()
            .map(|&(start, _)| start)
            .filter(|&start| start > now)
            .min()
            // The scan covers more than a week ahead and the window opens at least once a
            // week, so an opening is always found. The fallback only guards the arithmetic.
            .unwrap_or(now);
        WindowState::Closed { opens }
    }

    /// Returns whether the window is open at `now`.
    pub fn is_open(&self, now: Timestamp) -> bool {
        matches!(self.state(now), WindowState::Open { .. })
    }

    /// Returns `at` when the window is open then, else the next time it opens after `at`.
    pub fn next_open(&self, at: Timestamp) -> Timestamp {
        match self.state(at) {
            WindowState::Open { .. } => at,
            WindowState::Closed { opens } => opens,
        }
    }

    /// Returns the start and end instants of every opening from eight days before `now` to nine days
    /// after it: enough to contain a window of up to seven days that is open at `now`, and
    /// the next opening.
    fn occurrences_around(&self, now: Timestamp) -> Vec<(Timestamp, Timestamp)> {
        let today = now.to_zoned(self.time_zone.clone()).date();
        let mut occurrences = Vec::new();

        for offset in -(MAX_WINDOW_DAYS + 1)..=(MAX_WINDOW_DAYS + 2) {
            let Ok(day) = today.checked_add(offset.days()) else {
                continue;
            };
            if !self.days.contains(&day.weekday()) {
                continue;
            }
            let Some(start) = self.opening_instant(day) else {
                continue;
            };
            let Ok(end) = start.checked_add(self.duration) else {
                continue;
            };
            occurrences.push((start, end));
        }
        occurrences
    }

    /// Returns the instant the window opens on `day`. A start time that a daylight saving
    /// time gap skips opens at the end of the gap. A start time that happens twice opens at
    /// the first.
    fn opening_instant(&self, day: Date) -> Option<Timestamp> {
        let local = day.to_datetime(self.start);
        let ambiguous = self.time_zone.to_ambiguous_timestamp(local);
        match ambiguous.offset() {
            AmbiguousOffset::Gap { .. } => {
                // With the offset from before the gap the instant lands after the
                // transition; the transition itself is the first instant after the gap.
                let after_gap = ambiguous.compatible().ok()?;
                let transition = self.time_zone.preceding(after_gap).next()?;
                Some(transition.timestamp())
            }
            _ => ambiguous.earlier().ok(),
        }
    }
}

/// Returns the end of the run of openings that contains `now`, merging openings that overlap
/// or touch.
fn open_until(occurrences: &[(Timestamp, Timestamp)], now: Timestamp) -> Option<Timestamp> {
    let mut sorted = occurrences.to_vec();
    sorted.sort();

    let mut runs: Vec<(Timestamp, Timestamp)> = Vec::new();
    for (start, end) in sorted {
        match runs.last_mut() {
            Some(run) if start <= run.1 => run.1 = run.1.max(end),
            _ => runs.push((start, end)),
        }
    }
    runs.into_iter()
        .find(|&(start, end)| start <= now && now < end)
        .map(|(_, end)| end)
}

/// Parses a local time of day in `HH:MM` form.
pub fn parse_start(field: &str, value: &str) -> Result<Time, FieldError> {
    let invalid = || {
        FieldError::new(
            field,
            FieldReason::InvalidMaintenanceWindow,
            format!(
                "{} is not a time of day; write HH:MM in 24-hour form, such as 02:00 or 22:30",
                quote(value)
            ),
        )
    };

    let bytes = value.as_bytes();
    let well_formed = bytes.len() == 5
        && bytes[2] == b':'
        && [0, 1, 3, 4].iter().all(|&i| bytes[i].is_ascii_digit());
    if !well_formed {
        return Err(invalid());
    }
    let hour: i8 = value[..2].parse().map_err(|_| invalid())?;
    let minute: i8 = value[3..].parse().map_err(|_| invalid())?;
    Time::new(hour, minute, 0, 0).map_err(|_| invalid())
}
