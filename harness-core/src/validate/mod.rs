//! protoc-gen-validate rules, enforced on a decoded configuration message.
//!
//! The rules are read from the descriptors of the message: the field option
//! `(validate.rules)`, the message options `(validate.disabled)` and `(validate.ignored)`,
//! and the oneof option `(validate.required)`. A proto that does not import
//! `validate/validate.proto` simply has no rules. The meaning of every rule is the one of
//! protoc-gen-validate (PGV), read from its Go templates; the differences are listed below.
//!
//! What is checked, field by field in declaration order:
//!
//! - a scalar field is checked even when it holds its default value, unless it is a member
//!   of a oneof (a real one, or the synthetic one of a proto3 `optional` field) and is unset;
//! - a message field that is unset only fails `required`; a set one is checked by its
//!   family (any, duration, timestamp, or the wrapped scalar of a wrapper type) and then
//!   validated recursively, unless `message.skip`;
//! - repeated items and map values that are messages are validated recursively too, unless
//!   `items`/`values` has `message.skip`; map entries are visited in key order;
//! - the message inside an Any is not validated (PGV neither), nor messages of
//!   `google.protobuf` (they carry no rules);
//! - a required oneof with no member set is reported at the path of its message, before
//!   the oneof's fields.
//!
//! Differences from PGV, on purpose:
//!
//! - PGV refuses at generation time a proto whose rules do not fit the field (string rules on
//!   an int32, `repeated.unique` on messages, `map.no_sparse` on scalar values, message rules
//!   on a repeated field, an unknown rule family). Here such a field yields a violation
//!   naming the misfit, every time it is checked. Combinations PGV refuses (`in` with
//!   `not_in`, `len` with `min_len`, `lt_now` with `lt`, `pattern` with `well_known_regex`,
//!   …) are all checked here, each on its own; only `lt` wins over `lte` and `gt` over
//!   `gte`, as in PGV's templates. `message.required` is accepted on any singular message
//!   field, Duration, Timestamp and Any included.
//! - NaN fails every bound (`lt`, `gte`, …) of float and double; with Go's comparisons it
//!   passes them.
//! - `pattern` uses the `regex` crate, with `\d`, `\w`, `\s` and `\b` made ASCII-only as
//!   in RE2. Bytes that are not UTF-8 fail `bytes.pattern`, where
//!   Go would match them with U+FFFD in place of the bad bytes.
//! - `ipv4` accepts dotted quads only and `ipv6` any IPv6 address, an IPv4-mapped one
//!   included; Go's `net.IP.To4` makes PGV accept `::ffff:1.2.3.4` as IPv4 and refuse it
//!   as IPv6 (and the same for 16-byte `bytes`, which here are always IPv6).
//! - `uri` and `uri_ref` parse with the `url` crate (WHATWG) after refusing control
//!   characters, surrounding spaces and bad `%` escapes as Go's `net/url` does; it is
//!   stricter than Go in places (`http://` with an empty host is refused).
//! - `email` follows Go's `net/mail.ParseAddress` roughly: `addr-spec` or
//!   `Name <addr-spec>`, a local part of at most 64 bytes, a domain that is a valid
//!   hostname, 254 bytes at most. The local part must be a strict dot-atom or a quoted
//!   string (Go also takes `a..b` and `.a`), and comments `(…)` and RFC 2047 encoded
//!   names are refused.
//! - `map.no_sparse` can never fail: a map value of a `DynamicMessage` always holds a
//!   message (an entry decoded without its value gets the default message), so there is
//!   no "nil" value to refuse. It is still refused on maps whose values are not messages.
//! - An invalid `duration`/`timestamp` (nanos out of range, …) fails `duration.valid` or
//!   `timestamp.valid`, names PGV lacks (it reports "value is not a valid duration").
//! - When a range has both bounds, `rule` names the bound that was crossed; for an
//!   exclusive range (`lt` < `gt`), where the value lies between both, it names the upper
//!   bound (`int32.lt`/`int32.lte`), the one the message starts with.
//!
//! Kept PGV quirks: `gt`+`lt` with equal bounds refuses only that value, and `gte`+`lte`
//! with equal bounds accepts everything (PGV calls a range inclusive only when the upper
//! bound is strictly greater); `hostname` accepts all-numeric labels (`1.2.3.4`); the
//! `HTTP_HEADER_NAME` check accepts `,` (PGV's class `+-.` is a range); `lt_now` with
//! `within` accepts `[now - within, now)`, `gt_now` with `within` `(now, now + within]`,
//! and `within` alone `(now - within, now + within)`.
//!
//! Rules are parsed once per message type and pool and kept (see `plan`), with patterns
//! compiled; an invalid pattern is reported as a violation of `string.pattern`.

mod any;
mod collections;
mod enums;
mod formats;
mod numbers;
mod plan;
mod rule_fields;
mod rules;
mod shape;
mod strings;
#[cfg(test)]
mod tests;
mod time;
mod walk;

use std::fmt;
use std::time::SystemTime;

/// The rules as the checks read them, for tools that translate them (`harness schema`):
/// one reading of the options, so a translation cannot drift from what is enforced.
pub mod read {
    pub use super::any::AnyRules;
    pub use super::collections::{MapRules, RepeatedRules, Sizes};
    pub use super::enums::{BoolRules, EnumRules};
    pub use super::formats::{Format, IpBytes};
    pub use super::numbers::{Bounds, Lower, NumberRules, Rules, Upper};
    pub use super::plan::{FieldPlan, MessagePlan, OneofPlan, Step, plan};
    pub use super::rules::{FamilyRules, FieldRules, wrapped_kind};
    pub use super::shape::Shape;
    pub use super::strings::{BytesRules, Pattern, StringRules};
    pub use super::time::{DurationRules, TimestampRules};
}

use prost_reflect::{DynamicMessage, Kind, Value};

use crate::path::FieldPath;

// Also the spec's name of a field's type.
pub(crate) use shape::kind_name;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// From the root message to the value, e.g. `server.bind.port`, `hosts[2]`, `labels["a"]`.
    pub path: FieldPath,
    /// The PGV rule, e.g. `uint32.gt`, `string.pattern`, `message.required`, `oneof.required`.
    pub rule: &'static str,
    /// What is expected, in plain words and without the value: `must be greater than 0`.
    pub message: String,
    /// The offending value rendered for display (`0`, `"abc"`), `None` when there is none
    /// (a missing field, a rule about a whole list). Secrets are the caller's to redact.
    pub value: Option<String>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for Violation {}

/// Validates `message` and every message nested in it (recursively), returning all
/// violations in field order.
pub fn validate(message: &DynamicMessage) -> Result<(), Vec<Violation>> {
    validate_at(message, SystemTime::now())
}

/// [`validate`] with a fixed "now", for `lt_now`, `gt_now` and `within`.
pub fn validate_at(message: &DynamicMessage, now: SystemTime) -> Result<(), Vec<Violation>> {
    let violations = walk::walk(message, time::nanos_since_epoch(now));
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// A broken rule, before the path to the value is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub rule: &'static str,
    pub message: String,
    pub value: Option<String>,
}

impl Failure {
    pub fn new(rule: &'static str, message: impl Into<String>) -> Self {
        Self {
            rule,
            message: message.into(),
            value: None,
        }
    }

    pub fn with_value(mut self, value: String) -> Self {
        self.value = Some(value);
        self
    }
}

/// `[a, b, c]`, each item shown by `show`.
pub(crate) fn render_list<T>(items: &[T], show: impl Fn(&T) -> String) -> String {
    let shown: Vec<String> = items.iter().map(show).collect();
    format!("[{}]", shown.join(", "))
}

/// A string as a user reads it in a message: quoted, with control characters escaped.
pub(crate) fn quote(text: &str) -> String {
    format!("{text:?}")
}

/// Bytes as an escaped string: `"ab\x00"`.
pub(crate) fn quote_bytes(bytes: &[u8]) -> String {
    format!("\"{}\"", bytes.escape_ascii())
}

/// A scalar value (a list item) for display; enum values by name.
pub(crate) fn render_scalar(value: &Value, kind: &Kind) -> String {
    match (value, kind) {
        (Value::EnumNumber(number), Kind::Enum(enumeration)) => {
            enums::enum_name(enumeration, *number)
        }
        (Value::EnumNumber(number), _) => number.to_string(),
        (Value::Bool(value), _) => value.to_string(),
        (Value::I32(value), _) => value.to_string(),
        (Value::I64(value), _) => value.to_string(),
        (Value::U32(value), _) => value.to_string(),
        (Value::U64(value), _) => value.to_string(),
        (Value::F32(value), _) => value.to_string(),
        (Value::F64(value), _) => value.to_string(),
        (Value::String(text), _) => quote(text),
        (Value::Bytes(bytes), _) => quote_bytes(bytes),
        (Value::Message(_) | Value::List(_) | Value::Map(_), _) => "…".to_owned(),
    }
}
