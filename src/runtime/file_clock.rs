//! A clock read from a file, so a test can move the time of an operator running as a
//! separate process (for example one it kills and restarts).

use std::path::PathBuf;
use std::sync::Mutex;

use akguard_hwcloud::Clock;
use jiff::Timestamp;

/// Reads an RFC 3339 time from a file on every call. When the file is missing or does not
/// parse, the last good value stays (the system time before the first good read).
#[derive(Debug)]
pub struct FileClock {
    path: PathBuf,
    last: Mutex<Option<Timestamp>>,
}

impl FileClock {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            last: Mutex::new(None),
        }
    }
}

impl Clock for FileClock {
    fn now(&self) -> Timestamp {
        let read = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|text| text.trim().parse::<Timestamp>().ok());
        let mut last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(time) = read {
            *last = Some(time);
        }
        last.unwrap_or_else(Timestamp::now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_time_and_keeps_last_good_value() {
        let path = std::env::temp_dir().join(format!("akguard-clock-{}", std::process::id()));
        std::fs::write(&path, "2026-01-02T03:04:05Z\n").unwrap();
        let clock = FileClock::new(path.clone());

        assert_eq!(clock.now().to_string(), "2026-01-02T03:04:05Z");
        std::fs::write(&path, "garbage").unwrap();
        assert_eq!(clock.now().to_string(), "2026-01-02T03:04:05Z");
        std::fs::remove_file(&path).unwrap();
    }
}
