//! Reading the wires' configuration values.

use std::time::Duration;

/// A `google.protobuf.Duration` of the configuration: `None` when unset, zero or negative
/// (the wire's default applies).
pub(crate) fn duration(value: Option<&harness::prost_types::Duration>) -> Option<Duration> {
    value
        .and_then(|v| Duration::try_from(*v).ok())
        .filter(|d| !d.is_zero())
}
