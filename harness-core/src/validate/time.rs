//! Duration and timestamp rules, on nanoseconds (since the epoch, for timestamps).

use std::time::{SystemTime, UNIX_EPOCH};

use prost_reflect::{DynamicMessage, Value};

use super::numbers::{Bounds, Names, Words, names};
use super::rule_fields::{field, flag, list, scalar};
use super::{Failure, render_list};

const NANOS_PER_SECOND: i128 = 1_000_000_000;

static DURATION: Names = names!("duration");
static TIMESTAMP: Names = names!("timestamp");

const DURATION_WORDS: Words = Words {
    gt: "longer than",
    gte: "at least",
    lt: "shorter than",
    lte: "at most",
};

const TIMESTAMP_WORDS: Words = Words {
    gt: "after",
    gte: "at or after",
    lt: "before",
    lte: "at or before",
};

/// `now` in nanoseconds since the Unix epoch.
pub(crate) fn nanos_since_epoch(now: SystemTime) -> i128 {
    match now.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    }
}

/// The `seconds` and `nanos` of a Duration or Timestamp message.
fn parts(message: &DynamicMessage) -> (i64, i32) {
    let seconds = message.get_field_by_number(1);
    let nanos = message.get_field_by_number(2);
    (
        seconds.as_deref().and_then(Value::as_i64).unwrap_or(0),
        nanos.as_deref().and_then(Value::as_i32).unwrap_or(0),
    )
}

fn total((seconds, nanos): (i64, i32)) -> i128 {
    i128::from(seconds) * NANOS_PER_SECOND + i128::from(nanos)
}

/// A Duration or Timestamp rule, in nanoseconds.
fn nanos(value: &Value) -> Option<i128> {
    value.as_message().map(|message| total(parts(message)))
}

fn show_parts((seconds, nanos): (i64, i32)) -> String {
    format!("{{ seconds: {seconds}, nanos: {nanos} }}")
}

/// A duration as a user writes it: `1.5s`, `-0.001s`, `90s`.
pub(crate) fn render_duration(nanos: &i128) -> String {
    let sign = if *nanos < 0 { "-" } else { "" };
    let nanos = nanos.unsigned_abs();
    let seconds = nanos / NANOS_PER_SECOND as u128;
    let fraction = nanos % NANOS_PER_SECOND as u128;
    if fraction == 0 {
        format!("{sign}{seconds}s")
    } else {
        let fraction = format!("{fraction:09}");
        format!("{sign}{seconds}.{}s", fraction.trim_end_matches('0'))
    }
}

/// A timestamp in RFC 3339: `2024-05-01T12:00:00Z`.
pub(crate) fn render_timestamp(nanos: &i128) -> String {
    let timestamp = prost_types::Timestamp {
        seconds: nanos.div_euclid(NANOS_PER_SECOND) as i64,
        nanos: nanos.rem_euclid(NANOS_PER_SECOND) as i32,
    };
    timestamp.to_string()
}

/// The rules of a Duration field.
#[derive(Debug)]
pub struct DurationRules {
    /// `duration.required`, checked by the walker with the other `required` rules.
    pub required: bool,
    konst: Option<i128>,
    bounds: Bounds<i128>,
    allowed: Vec<i128>,
    refused: Vec<i128>,
    /// Whether any rule compares the value, which then must be a valid duration.
    compares: bool,
}

impl DurationRules {
    pub fn compile(rules: &DynamicMessage) -> Self {
        let compares = ["const", "lt", "lte", "gt", "gte", "in", "not_in"]
            .iter()
            .any(|name| field(rules, name).is_some());
        Self {
            required: flag(rules, "required"),
            konst: scalar(rules, "const", nanos),
            bounds: Bounds::new(
                scalar(rules, "lt", nanos),
                scalar(rules, "lte", nanos),
                scalar(rules, "gt", nanos),
                scalar(rules, "gte", nanos),
            ),
            allowed: list(rules, "in", nanos),
            refused: list(rules, "not_in", nanos),
            compares,
        }
    }

    /// Checks a set Duration.
    pub fn check(&self, duration: &DynamicMessage, out: &mut Vec<Failure>) {
        if !self.compares {
            return;
        }
        let (seconds, nanos) = parts(duration);
        let valid = seconds.abs() <= 315_576_000_000
            && nanos.abs() < 1_000_000_000
            && (seconds == 0 || nanos == 0 || (seconds < 0) == (nanos < 0));
        if !valid {
            let failure = Failure::new("duration.valid", "must be a valid duration");
            out.push(failure.with_value(show_parts((seconds, nanos))));
            return;
        }
        let value = total((seconds, nanos));
        let fail = |rule, message| Failure::new(rule, message).with_value(render_duration(&value));
        if let Some(konst) = self.konst
            && value != konst
        {
            out.push(fail(
                DURATION.konst,
                format!("must equal {}", render_duration(&konst)),
            ));
        }
        let bounds = self
            .bounds
            .check(value, &DURATION, &DURATION_WORDS, render_duration);
        if let Some((rule, message)) = bounds {
            out.push(fail(rule, message));
        }
        if !self.allowed.is_empty() && !self.allowed.contains(&value) {
            let allowed = render_list(&self.allowed, render_duration);
            out.push(fail(DURATION.one_of, format!("must be one of {allowed}")));
        }
        if self.refused.contains(&value) {
            let refused = render_list(&self.refused, render_duration);
            out.push(fail(
                DURATION.not_in,
                format!("must not be one of {refused}"),
            ));
        }
    }
}

/// The rules of a Timestamp field.
#[derive(Debug)]
pub struct TimestampRules {
    /// `timestamp.required`, checked by the walker with the other `required` rules.
    pub required: bool,
    konst: Option<i128>,
    bounds: Bounds<i128>,
    lt_now: bool,
    gt_now: bool,
    within: Option<i128>,
    /// Whether any rule compares the value, which then must be a valid timestamp.
    compares: bool,
}

impl TimestampRules {
    pub fn compile(rules: &DynamicMessage) -> Self {
        let compares = [
            "const", "lt", "lte", "gt", "gte", "lt_now", "gt_now", "within",
        ]
        .iter()
        .any(|name| field(rules, name).is_some());
        Self {
            required: flag(rules, "required"),
            konst: scalar(rules, "const", nanos),
            bounds: Bounds::new(
                scalar(rules, "lt", nanos),
                scalar(rules, "lte", nanos),
                scalar(rules, "gt", nanos),
                scalar(rules, "gte", nanos),
            ),
            lt_now: flag(rules, "lt_now"),
            gt_now: flag(rules, "gt_now"),
            within: scalar(rules, "within", nanos),
            compares,
        }
    }

    /// Checks a set Timestamp against the rules, `now` for the relative ones.
    pub fn check(&self, timestamp: &DynamicMessage, now: i128, out: &mut Vec<Failure>) {
        if !self.compares {
            return;
        }
        let (seconds, nanos) = parts(timestamp);
        // 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z, as protobuf defines it.
        let valid = (-62_135_596_800..=253_402_300_799).contains(&seconds)
            && (0..1_000_000_000).contains(&nanos);
        if !valid {
            let failure = Failure::new("timestamp.valid", "must be a valid timestamp");
            out.push(failure.with_value(show_parts((seconds, nanos))));
            return;
        }
        let value = total((seconds, nanos));
        let fail = |rule, message: String| {
            Failure::new(rule, message).with_value(render_timestamp(&value))
        };
        if let Some(konst) = self.konst
            && value != konst
        {
            out.push(fail(
                TIMESTAMP.konst,
                format!("must equal {}", render_timestamp(&konst)),
            ));
        }
        let bounds = self
            .bounds
            .check(value, &TIMESTAMP, &TIMESTAMP_WORDS, render_timestamp);
        if let Some((rule, message)) = bounds {
            out.push(fail(rule, message));
        }
        // PGV's relative rules: `within` narrows `lt_now`/`gt_now` to one side of now.
        let within = self.within.map(|within| (within, render_duration(&within)));
        if self.lt_now {
            let (broken, message) = match &within {
                Some((within, shown)) => (
                    if value >= now {
                        Some("timestamp.lt_now")
                    } else if value < now - within {
                        Some("timestamp.within")
                    } else {
                        None
                    },
                    format!("must be in the past, at most {shown} ago"),
                ),
                None => (
                    (value >= now).then_some("timestamp.lt_now"),
                    "must be in the past".to_owned(),
                ),
            };
            if let Some(rule) = broken {
                out.push(fail(rule, message));
            }
        }
        if self.gt_now {
            let (broken, message) = match &within {
                Some((within, shown)) => (
                    if value <= now {
                        Some("timestamp.gt_now")
                    } else if value > now + within {
                        Some("timestamp.within")
                    } else {
                        None
                    },
                    format!("must be in the future, at most {shown} from now"),
                ),
                None => (
                    (value <= now).then_some("timestamp.gt_now"),
                    "must be in the future".to_owned(),
                ),
            };
            if let Some(rule) = broken {
                out.push(fail(rule, message));
            }
        }
        if !self.lt_now
            && !self.gt_now
            && let Some((within, shown)) = &within
            && (value >= now + within || value <= now - within)
        {
            out.push(fail(
                "timestamp.within",
                format!("must be within {shown} of now"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn durations_read_as_seconds() {
        assert_eq!(render_duration(&0), "0s");
        assert_eq!(render_duration(&1_500_000_000), "1.5s");
        assert_eq!(render_duration(&90_000_000_000), "90s");
        assert_eq!(render_duration(&-1_000_000), "-0.001s");
        assert_eq!(render_duration(&1), "0.000000001s");
    }

    #[test]
    fn timestamps_read_as_rfc_3339() {
        assert_eq!(render_timestamp(&0), "1970-01-01T00:00:00Z");
        assert_eq!(render_timestamp(&-500_000_000), "1969-12-31T23:59:59.500Z");
        let now = UNIX_EPOCH + Duration::from_secs(1_714_564_800);
        assert_eq!(
            render_timestamp(&nanos_since_epoch(now)),
            "2024-05-01T12:00:00Z"
        );
        let before = UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(nanos_since_epoch(before), -1_500_000_000);
    }
}
