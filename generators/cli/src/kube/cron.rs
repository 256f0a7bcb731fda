//! The windows in which a scheduled job's replica must run, as the start and end cron
//! expressions of KEDA's `cron` trigger.
//!
//! A job of `schedule::Scheduler` runs inside the service, on the service's own clock:
//! the replica must be up before the job is due and stay up while it runs. So each run
//! gets a window from [`LEAD_MINUTES`] before it to [`RUN_MINUTES`] after it, and a trigger
//! per minute of the hour the job runs at (KEDA's cron trigger is active from its start
//! to its next end, so one trigger must not hold overlapping windows).
//!
//! Only what both cron dialects read the same is translated: the job's expression (UTC,
//! five fields or six with seconds first, or `@hourly`-style names) with numbers, `*`,
//! ranges, steps and lists in its minute and hour fields, and day, month and weekday
//! fields that KEDA's parser (robfig/cron) reads as croner does. Anything else is an
//! error that says why, and the service keeps a replica.

/// Minutes a replica is started before a run is due: KEDA's polling (30 s), the pod's
/// scheduling and the service's start.
pub const LEAD_MINUTES: u32 = 5;
/// Minutes a run may take before its replica may be stopped (after them, KEDA's cooldown
/// of 5 minutes still passes before it scales to zero).
pub const RUN_MINUTES: u32 = 15;
/// Runs in an hour above which windows would cover the hour: no point in scaling to zero.
pub const MAX_RUNS_PER_HOUR: usize = (60 / (LEAD_MINUTES + RUN_MINUTES)) as usize;

/// The start and end of one KEDA cron trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub start: String,
    pub end: String,
}

/// The hours a field allows: every hour, or some.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Hours {
    Every,
    Some(Vec<u32>),
}

/// The windows of a job that runs at `expression`, or why there are none.
pub fn windows(expression: &str) -> Result<Vec<Window>, String> {
    let expanded = match expression.trim() {
        "@hourly" => "0 * * * *",
        "@daily" | "@midnight" => "0 0 * * *",
        "@weekly" => "0 0 * * 0",
        "@monthly" => "0 0 1 * *",
        "@yearly" | "@annually" => "0 0 1 1 *",
        other => other,
    };
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    let fields = match fields.as_slice() {
        [_seconds, rest @ ..] if rest.len() == 5 => rest,
        all if all.len() == 5 => all,
        _ => {
            return Err(format!(
                "`{expression}` is not a cron expression of five fields (or six, seconds first)"
            ));
        }
    };
    let minutes = numbers(fields[0], 0, 59).ok_or_else(|| {
        format!(
            "its minute field `{}` is not numbers, `*`, ranges, steps or lists",
            fields[0]
        )
    })?;
    let hours = match fields[1] {
        "*" => Hours::Every,
        field => Hours::Some(numbers(field, 0, 23).ok_or_else(|| {
            format!("its hour field `{field}` is not numbers, `*`, ranges, steps or lists")
        })?),
    };
    let days = &fields[2..];
    if let Some(field) = days.iter().find(|f| !portable_day_field(f)) {
        return Err(format!(
            "its field `{field}` uses syntax KEDA's cron parser does not read as the scheduler does"
        ));
    }
    if minutes.len() > MAX_RUNS_PER_HOUR {
        return Err(format!(
            "it runs {} times an hour: with a window of {} minutes around each run, a replica would never stop",
            minutes.len(),
            LEAD_MINUTES + RUN_MINUTES
        ));
    }
    let every_day = days.iter().all(|f| *f == "*");
    minutes
        .iter()
        .map(|&minute| {
            let start = shifted(minute, &hours, -(LEAD_MINUTES as i32), days, every_day)?;
            let end = shifted(minute, &hours, RUN_MINUTES as i32, days, every_day)?;
            Ok(Window { start, end })
        })
        .collect()
}

/// The expression of the runs at `minute` of `hours`, moved by `delta` minutes (less
/// than an hour either way).
fn shifted(
    minute: u32,
    hours: &Hours,
    delta: i32,
    days: &[&str],
    every_day: bool,
) -> Result<String, String> {
    let moved = minute as i32 + delta;
    let (minute, hour_shift) = match moved {
        m if m < 0 => ((m + 60) as u32, -1),
        m if m >= 60 => ((m - 60) as u32, 1),
        m => (m as u32, 0),
    };
    let hours = match hours {
        Hours::Every => "*".to_owned(),
        Hours::Some(hours) => {
            let crosses_midnight = hours
                .iter()
                .any(|&h| (h == 0 && hour_shift < 0) || (h == 23 && hour_shift > 0));
            if crosses_midnight && !every_day {
                return Err(
                    "its window crosses midnight on a restricted day, month or weekday, which a cron window cannot follow"
                        .to_owned(),
                );
            }
            let mut moved: Vec<u32> = hours
                .iter()
                .map(|&h| (h as i32 + hour_shift).rem_euclid(24) as u32)
                .collect();
            moved.sort_unstable();
            list(&moved)
        }
    };
    Ok(format!("{minute} {hours} {}", days.join(" ")))
}

/// The values a cron field of numbers allows, sorted, or `None` for other syntax.
fn numbers(field: &str, low: u32, high: u32) -> Option<Vec<u32>> {
    let mut values = Vec::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, step.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (from, to) = match range {
            "*" => (low, high),
            range => match range.split_once('-') {
                Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
                // `N/S` runs from N to the end of the field, every S.
                None if part.contains('/') => (range.parse().ok()?, high),
                None => {
                    let n = range.parse().ok()?;
                    (n, n)
                }
            },
        };
        if from < low || to > high || from > to {
            return None;
        }
        values.extend((from..=to).step_by(step as usize));
    }
    values.sort_unstable();
    values.dedup();
    Some(values)
}

/// A day, month or weekday field both parsers read alike: numbers, `*`, `?`, ranges,
/// steps, lists and three-letter names (no `L`, `W` or `#`).
fn portable_day_field(field: &str) -> bool {
    field.split(',').all(|part| {
        part.split(['/', '-']).all(|token| {
            token == "*"
                || token == "?"
                || (!token.is_empty() && token.chars().all(|c| c.is_ascii_digit()))
                || (token.len() == 3 && token.chars().all(|c| c.is_ascii_alphabetic()))
        })
    })
}

fn list(values: &[u32]) -> String {
    values
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(start: &str, end: &str) -> Window {
        Window {
            start: start.into(),
            end: end.into(),
        }
    }

    #[test]
    fn a_daily_job_gets_one_window_around_it() {
        assert_eq!(
            windows("30 3 * * *").unwrap(),
            [window("25 3 * * *", "45 3 * * *")]
        );
        // Seconds first, as the scheduler allows: the window is by the minute.
        assert_eq!(
            windows("0 30 3 * * *").unwrap(),
            [window("25 3 * * *", "45 3 * * *")]
        );
    }

    #[test]
    fn windows_that_cross_an_hour_move_the_hour() {
        assert_eq!(
            windows("2 6,12 * * 1-5").unwrap(),
            [window("57 5,11 * * 1-5", "17 6,12 * * 1-5")]
        );
        assert_eq!(
            windows("50 9 * * MON").unwrap(),
            [window("45 9 * * MON", "5 10 * * MON")]
        );
        assert_eq!(
            windows("@hourly").unwrap(),
            [window("55 * * * *", "15 * * * *")]
        );
        // Across midnight, on every day: the previous day's 23:55.
        assert_eq!(
            windows("@daily").unwrap(),
            [window("55 23 * * *", "15 0 * * *")]
        );
    }

    #[test]
    fn several_runs_an_hour_get_a_trigger_each() {
        assert_eq!(
            windows("*/20 8-9 * * *").unwrap(),
            [
                window("55 7,8 * * *", "15 8,9 * * *"),
                window("15 8,9 * * *", "35 8,9 * * *"),
                window("35 8,9 * * *", "55 8,9 * * *"),
            ]
        );
    }

    #[test]
    fn what_cannot_be_translated_says_why() {
        for (expression, why) in [
            ("*/15 * * * *", "4 times an hour"),
            ("* * * * *", "60 times an hour"),
            ("0 0 * * 1", "crosses midnight"),
            ("0 3 L * *", "`L`"),
            ("0 3 * * 5#3", "`5#3`"),
            ("0 3 * *", "five fields"),
            ("0 25 * * *", "hour field"),
            ("a 3 * * *", "minute field"),
        ] {
            let err = windows(expression).unwrap_err();
            assert!(err.contains(why), "{expression}: {err}");
        }
    }

    #[test]
    fn number_fields() {
        assert_eq!(numbers("5", 0, 59), Some(vec![5]));
        assert_eq!(numbers("1-3,10", 0, 59), Some(vec![1, 2, 3, 10]));
        assert_eq!(numbers("40/10", 0, 59), Some(vec![40, 50]));
        assert_eq!(numbers("0-30/15", 0, 59), Some(vec![0, 15, 30]));
        for bad in ["60", "5-1", "*/0", "x", "", "1,,2"] {
            assert_eq!(numbers(bad, 0, 59), None, "{bad}");
        }
    }
}
