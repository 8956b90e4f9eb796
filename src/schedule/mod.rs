//! Rotation schedules: intervals, cron expressions in a time zone, maintenance windows, and
//! when a rotation is due and may start. Every function is pure; the caller passes `now`.

mod cron;
mod duration;
mod window;

#[cfg(test)]
mod tests;

pub use self::cron::{parse_cron, parse_time_zone};
pub use self::duration::{MAX_DURATION_DAYS, format_duration, parse_duration, parse_positive_duration};
pub use self::window::{MAX_WINDOW_DAYS, MaintenanceWindow, WindowState, parse_start};

use ::croner::Cron;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};

use crate::api::rotation::{RotationTrigger, ScheduleSpec};
use crate::validation::{FieldError, FieldReason};

/// How often routine rotations come due.
#[derive(Clone, Debug)]
pub enum Cadence {
    /// Neither `interval` nor `cron` is set: rotations happen only on request or in an
    /// emergency.
    OnRequestOnly,
    /// A fixed time after the last rotation.
    Interval(SignedDuration),
    /// The first cron match after the last rotation, evaluated in `time_zone`.
    Cron { cron: Cron, time_zone: TimeZone },
}

/// A parsed `spec.schedule`.
#[derive(Clone, Debug)]
pub struct RotationSchedule {
    pub cadence: Cadence,
    /// Routine rotations start only inside it; `None` allows any time.
    pub window: Option<MaintenanceWindow>,
}

/// Whether a rotation may start now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartDecision {
    /// Start the rotation now.
    Start,
    /// No routine rotation is due before `due`; with the maintenance window it would start
    /// at `earliest_start`.
    NotDue {
        due: Timestamp,
        earliest_start: Timestamp,
    },
    /// A routine rotation is due but the maintenance window is closed until `opens`.
    HeldByWindow { opens: Timestamp },
    /// The schedule has no cadence, so no routine rotation ever comes due.
    NoSchedule,
}

impl RotationSchedule {
    /// Parses `spec.schedule`, reporting every invalid field under `spec.schedule`.
    pub fn from_spec(spec: &ScheduleSpec) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();

        let time_zone = match parse_time_zone("spec.schedule.timeZone", &spec.time_zone) {
            Ok(time_zone) => Some(time_zone),
            Err(error) => {
                errors.push(error);
                None
            }
        };

        let cadence = match (&spec.interval, &spec.cron) {
            (Some(_), Some(_)) => {
                errors.push(FieldError::new(
                    "spec.schedule",
                    FieldReason::InvalidSchedule,
                    "both interval and cron are set; keep one of them",
                ));
                None
            }
            (Some(interval), None) => {
                match parse_positive_duration("spec.schedule.interval", interval.as_str()) {
                    Ok(interval) => Some(Cadence::Interval(interval)),
                    Err(error) => {
                        errors.push(error);
                        None
                    }
                }
            }
            (None, Some(expression)) => match parse_cron("spec.schedule.cron", expression) {
                Ok(cron) => time_zone.clone().map(|time_zone| Cadence::Cron { cron, time_zone }),
                Err(error) => {
                    errors.push(error);
                    None
                }
            },
            (None, None) => Some(Cadence::OnRequestOnly),
        };

        let window = match (&spec.maintenance_window, &time_zone) {
            (Some(window), Some(time_zone)) => {
                match MaintenanceWindow::from_spec(
                    "spec.schedule.maintenanceWindow",
                    window,
                    time_zone.clone(),
                ) {
                    Ok(window) => Some(window),
                    Err(window_errors) => {
                        errors.extend(window_errors);
                        None
                    }
                }
            }
            _ => None,
        };

        match cadence {
            Some(cadence) if errors.is_empty() => Ok(Self { cadence, window }),
            _ => Err(errors),
        }
    }

    /// Returns when the next routine rotation is due, counting from `since`: the last
    /// rotation's completion, or the current key's creation before the first rotation.
    pub fn next_due(&self, since: Timestamp) -> Option<Timestamp> {
        next_due(&self.cadence, since)
    }

    /// Decides whether a rotation with `trigger` may start at `now`. See [`decide_start`].
    pub fn decide_start(
        &self,
        trigger: RotationTrigger,
        since: Timestamp,
        now: Timestamp,
    ) -> StartDecision {
        decide_start(trigger, self.next_due(since), self.window.as_ref(), now)
    }
}

/// Returns when the next routine rotation is due after `since`. An interval counts from
/// `since`; a cron expression gives its first match strictly after `since`. Returns `None`
/// for [`Cadence::OnRequestOnly`], and when the due time falls outside the range of a
/// timestamp or the cron expression never matches again.
pub fn next_due(cadence: &Cadence, since: Timestamp) -> Option<Timestamp> {
    match cadence {
        Cadence::OnRequestOnly => None,
        Cadence::Interval(interval) => since.checked_add(*interval).ok(),
        Cadence::Cron { cron, time_zone } => {
            let since = Zoned::new(since, time_zone.clone());
            cron.find_next_occurrence(&since, false)
                .ok()
                .map(|next| next.timestamp())
        }
    }
}

/// Decides whether a rotation may start at `now`.
///
/// Requested, emergency and bootstrap rotations start at once, regardless of the schedule
/// and the window. A routine (`Schedule`) rotation starts once `due` has passed and the
/// maintenance window, if any, is open at `now`. A due time that passed while the window was
/// closed waits for the next opening instead of starting late outside it.
pub fn decide_start(
    trigger: RotationTrigger,
    due: Option<Timestamp>,
    window: Option<&MaintenanceWindow>,
    now: Timestamp,
) -> StartDecision {
    if trigger != RotationTrigger::Schedule {
        return StartDecision::Start;
    }
    let Some(due) = due else {
        return StartDecision::NoSchedule;
    };

    if now < due {
        let earliest_start = window.map_or(due, |window| window.next_open(due));
        return StartDecision::NotDue {
            due,
            earliest_start,
        };
    }
    match window.map(|window| window.state(now)) {
        None | Some(WindowState::Open { .. }) => StartDecision::Start,
        Some(WindowState::Closed { opens }) => StartDecision::HeldByWindow { opens },
    }
}
