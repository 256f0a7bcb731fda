//! Repeated and map rules, and the size rules they share with strings and bytes.
//!
//! The rules of items, keys and values are plain [`FieldRules`], applied by the walker.

use std::collections::HashSet;

use prost_reflect::{DynamicMessage, Kind, Value};

use super::rule_fields::{count, flag, message_field};
use super::rules::{self, FieldRules};
use super::shape::{Shape, misfit};
use super::{Failure, render_scalar};

/// What is counted, and how the expectation reads: "must be at least 3 characters long",
/// "must have at most 2 items".
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unit {
    one: &'static str,
    many: &'static str,
    held: bool,
}

impl Unit {
    /// A length: "must be … long".
    pub const fn long(one: &'static str, many: &'static str) -> Self {
        Self {
            one,
            many,
            held: false,
        }
    }

    /// A count of things held: "must have …".
    pub const fn held(one: &'static str, many: &'static str) -> Self {
        Self {
            one,
            many,
            held: true,
        }
    }

    fn amount(self, count: u64) -> String {
        let noun = if count == 1 { self.one } else { self.many };
        format!("{count} {noun}")
    }

    fn expect(self, phrase: String) -> String {
        if self.held {
            format!("must have {phrase}")
        } else {
            format!("must be {phrase} long")
        }
    }
}

/// An exact size, a minimum and a maximum, each with its rule name.
#[derive(Debug)]
pub struct Sizes {
    unit: Unit,
    pub exact: Option<(u64, &'static str)>,
    pub min: Option<(u64, &'static str)>,
    pub max: Option<(u64, &'static str)>,
}

impl Sizes {
    pub(crate) fn new(
        unit: Unit,
        exact: (Option<u64>, &'static str),
        min: (Option<u64>, &'static str),
        max: (Option<u64>, &'static str),
    ) -> Self {
        let named = |(size, rule): (Option<u64>, &'static str)| size.map(|size| (size, rule));
        Self {
            unit,
            exact: named(exact),
            min: named(min),
            max: named(max),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_none() && self.min.is_none() && self.max.is_none()
    }

    /// The broken rule and what is expected, when `actual` is not a size allowed.
    pub fn check(&self, actual: usize) -> Option<(&'static str, String)> {
        let actual = actual as u64;
        let unit = self.unit;
        if let Some((exact, rule)) = self.exact
            && actual != exact
        {
            return Some((rule, unit.expect(format!("exactly {}", unit.amount(exact)))));
        }
        match (self.min, self.max) {
            (Some((min, min_rule)), Some((max, max_rule))) => {
                let broken = if actual < min {
                    min_rule
                } else if actual > max {
                    max_rule
                } else {
                    return None;
                };
                let phrase = if min == max {
                    format!("exactly {}", unit.amount(min))
                } else {
                    format!("between {min} and {}", unit.amount(max))
                };
                Some((broken, unit.expect(phrase)))
            }
            (Some((min, rule)), None) => (actual < min)
                .then(|| (rule, unit.expect(format!("at least {}", unit.amount(min))))),
            (None, Some((max, rule))) => {
                (actual > max).then(|| (rule, unit.expect(format!("at most {}", unit.amount(max)))))
            }
            (None, None) => None,
        }
    }
}

/// The rules of a repeated field.
#[derive(Debug)]
pub struct RepeatedRules {
    pub sizes: Sizes,
    pub unique: bool,
    item: Kind,
    /// The rules of each item.
    pub items: Option<FieldRules>,
    pub ignore_empty: bool,
}

impl RepeatedRules {
    pub fn compile(
        rules: &DynamicMessage,
        item: &Kind,
        shape: &Shape,
        misfits: &mut Vec<Failure>,
    ) -> Self {
        let mut unique = flag(rules, "unique");
        if unique && item.as_message().is_some() {
            misfits.push(misfit("repeated.unique", shape));
            unique = false;
        }
        Self {
            sizes: Sizes::new(
                Unit::held("item", "items"),
                (None, ""),
                (count(rules, "min_items"), "repeated.min_items"),
                (count(rules, "max_items"), "repeated.max_items"),
            ),
            unique,
            item: item.clone(),
            items: message_field(rules, "items")
                .map(|items| rules::compile(&items, &Shape::Single(item.clone()), misfits)),
            ignore_empty: flag(rules, "ignore_empty"),
        }
    }

    /// Whether `ignore_empty` turns every rule off for `items`.
    pub fn ignores(&self, items: &[Value]) -> bool {
        self.ignore_empty && items.is_empty()
    }

    /// The rules about the list as a whole: its size, and unique items.
    pub fn check(&self, items: &[Value], out: &mut Vec<Failure>) {
        if let Some((rule, message)) = self.sizes.check(items.len()) {
            out.push(Failure::new(rule, message));
        }
        if self.unique
            && let Some(duplicate) = first_duplicate(items)
        {
            let value = render_scalar(duplicate, &self.item);
            out.push(Failure::new("repeated.unique", "items must be unique").with_value(value));
        }
    }
}

/// A scalar as a set member: floats by their bits, -0 as 0; NaN is never a duplicate.
#[derive(PartialEq, Eq, Hash)]
enum Member<'a> {
    Bool(bool),
    Signed(i64),
    Unsigned(u64),
    Float(u64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

fn member(value: &Value) -> Option<Member<'_>> {
    let float = |float: f64| (!float.is_nan()).then(|| Member::Float((float + 0.0).to_bits()));
    match value {
        Value::Bool(value) => Some(Member::Bool(*value)),
        Value::I32(value) | Value::EnumNumber(value) => Some(Member::Signed(i64::from(*value))),
        Value::I64(value) => Some(Member::Signed(*value)),
        Value::U32(value) => Some(Member::Unsigned(u64::from(*value))),
        Value::U64(value) => Some(Member::Unsigned(*value)),
        Value::F32(value) => float(f64::from(*value)),
        Value::F64(value) => float(*value),
        Value::String(value) => Some(Member::Text(value)),
        Value::Bytes(value) => Some(Member::Bytes(value)),
        Value::Message(_) | Value::List(_) | Value::Map(_) => None,
    }
}

fn first_duplicate(items: &[Value]) -> Option<&Value> {
    let mut seen = HashSet::with_capacity(items.len());
    items
        .iter()
        .find(|item| member(item).is_some_and(|member| !seen.insert(member)))
}

/// The rules of a map field.
#[derive(Debug)]
pub struct MapRules {
    pub sizes: Sizes,
    /// The rules of each key.
    pub keys: Option<FieldRules>,
    /// The rules of each value.
    pub values: Option<FieldRules>,
    pub ignore_empty: bool,
}

impl MapRules {
    pub fn compile(
        rules: &DynamicMessage,
        key: &Kind,
        value: &Kind,
        shape: &Shape,
        misfits: &mut Vec<Failure>,
    ) -> Self {
        // `no_sparse` cannot fail on a DynamicMessage (a map value always holds a message);
        // it only tells whether it fits the field.
        if flag(rules, "no_sparse") && value.as_message().is_none() {
            misfits.push(misfit("map.no_sparse", shape));
        }
        let compile = |name, kind: &Kind, misfits: &mut Vec<Failure>| {
            message_field(rules, name)
                .map(|rules| rules::compile(&rules, &Shape::Single(kind.clone()), misfits))
        };
        Self {
            sizes: Sizes::new(
                Unit::held("entry", "entries"),
                (None, ""),
                (count(rules, "min_pairs"), "map.min_pairs"),
                (count(rules, "max_pairs"), "map.max_pairs"),
            ),
            keys: compile("keys", key, misfits),
            values: compile("values", value, misfits),
            ignore_empty: flag(rules, "ignore_empty"),
        }
    }

    /// Whether `ignore_empty` turns every rule off for a map of `len` entries.
    pub fn ignores(&self, len: usize) -> bool {
        self.ignore_empty && len == 0
    }

    /// The rules about the map as a whole: its size.
    pub fn check(&self, len: usize, out: &mut Vec<Failure>) {
        if let Some((rule, message)) = self.sizes.check(len) {
            out.push(Failure::new(rule, message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_words() {
        let items = Unit::held("item", "items");
        let both = Sizes::new(items, (None, "n"), (Some(1), "min"), (Some(3), "max"));
        assert_eq!(both.check(2), None);
        assert_eq!(
            both.check(0),
            Some(("min", "must have between 1 and 3 items".to_owned()))
        );
        assert_eq!(
            both.check(4),
            Some(("max", "must have between 1 and 3 items".to_owned()))
        );
        let same = Sizes::new(items, (None, "n"), (Some(1), "min"), (Some(1), "max"));
        assert_eq!(
            same.check(2),
            Some(("max", "must have exactly 1 item".to_owned()))
        );
        let chars = Unit::long("character", "characters");
        let exact = Sizes::new(chars, (Some(2), "len"), (None, "min"), (None, "max"));
        assert_eq!(
            exact.check(3),
            Some(("len", "must be exactly 2 characters long".to_owned()))
        );
    }

    #[test]
    fn duplicates_compare_floats_by_value() {
        let floats = [Value::F64(0.0), Value::F64(f64::NAN), Value::F64(f64::NAN)];
        assert_eq!(first_duplicate(&floats), None, "NaN is never equal");
        let zeros = [Value::F64(0.0), Value::F64(-0.0)];
        assert_eq!(first_duplicate(&zeros), Some(&Value::F64(-0.0)));
        let texts = [Value::String("a".into()), Value::String("b".into())];
        assert_eq!(first_duplicate(&texts), None);
    }
}
