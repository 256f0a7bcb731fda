//! Walking a message: each planned field, its items or entries, and nested messages.

use std::collections::HashMap;

use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MapKey, ReflectMessage, Value};

use super::plan::{self, FieldPlan, Step};
use super::rules::{FamilyRules, FieldRules};
use super::shape::Shape;
use super::{Failure, Violation};
use crate::path::{FieldPath, Segment};

/// The rules of a field that has none.
static NO_RULES: FieldRules = FieldRules {
    required: false,
    skip: false,
    family: None,
};

pub(super) fn walk(message: &DynamicMessage, now: i128) -> Vec<Violation> {
    let mut walker = Walker {
        now,
        violations: Vec::new(),
    };
    walker.message(message, &Path::Root);
    walker.violations
}

/// The path to the value being checked, on the stack; made a [`FieldPath`] only for a
/// violation.
enum Path<'a> {
    Root,
    Field(&'a Path<'a>, &'a FieldDescriptor),
    Index(&'a Path<'a>, usize),
    Key(&'a Path<'a>, &'a MapKey),
}

impl Path<'_> {
    fn to_field_path(&self) -> FieldPath {
        let mut segments = Vec::new();
        let mut path = self;
        loop {
            path = match path {
                Path::Root => break,
                Path::Field(parent, field) => {
                    segments.push(Segment::Field {
                        name: field.name().to_owned(),
                        json_name: field.json_name().to_owned(),
                    });
                    parent
                }
                Path::Index(parent, index) => {
                    segments.push(Segment::Index(*index));
                    parent
                }
                Path::Key(parent, key) => {
                    segments.push(Segment::Key(key_text(key)));
                    parent
                }
            };
        }
        segments.reverse();
        FieldPath(segments)
    }
}

/// A map key as the YAML holds it.
fn key_text(key: &MapKey) -> String {
    match key {
        MapKey::Bool(key) => key.to_string(),
        MapKey::I32(key) => key.to_string(),
        MapKey::I64(key) => key.to_string(),
        MapKey::U32(key) => key.to_string(),
        MapKey::U64(key) => key.to_string(),
        MapKey::String(key) => key.clone(),
    }
}

struct Walker {
    now: i128,
    violations: Vec<Violation>,
}

impl Walker {
    fn report(&mut self, path: &Path<'_>, failure: Failure) {
        self.violations.push(Violation {
            path: path.to_field_path(),
            rule: failure.rule,
            message: failure.message,
            value: failure.value,
        });
    }

    fn message(&mut self, message: &DynamicMessage, path: &Path<'_>) {
        let plan = plan::plan(&message.descriptor());
        for step in &plan.steps {
            match step {
                Step::Field(field) => self.field(message, field, path),
                Step::RequiredOneof(oneof) => {
                    if !oneof.fields.iter().any(|field| message.has_field(field)) {
                        let failure = Failure::new("oneof.required", oneof.message.clone());
                        self.report(path, failure);
                    }
                }
            }
        }
    }

    fn field(&mut self, message: &DynamicMessage, plan: &FieldPlan, parent: &Path<'_>) {
        let path = Path::Field(parent, &plan.field);
        for misfit in &plan.misfits {
            self.report(&path, misfit.clone());
        }
        match &plan.shape {
            Shape::Single(kind) => {
                let is_message = matches!(kind, Kind::Message(_));
                if (plan.in_oneof || is_message) && !message.has_field(&plan.field) {
                    if !plan.in_oneof
                        && let Some(rule) = required_rule(&plan.rules)
                    {
                        self.report(&path, Failure::new(rule, "is required"));
                    }
                    return;
                }
                let value = message.get_field(&plan.field);
                self.value(&value, &plan.rules, plan.visit, &path);
            }
            Shape::List(_) => {
                let value = message.get_field(&plan.field);
                let items = value.as_list().unwrap_or_default();
                self.list(items, &plan.rules, plan.visit, &path);
            }
            Shape::Map(..) => {
                let value = message.get_field(&plan.field);
                if let Some(entries) = value.as_map() {
                    self.map(entries, &plan.rules, plan.visit, &path);
                }
            }
        }
    }

    /// Checks a value that is there (a field's, an item, a map value) and validates the
    /// message it holds.
    fn value(&mut self, value: &Value, rules: &FieldRules, visit: bool, path: &Path<'_>) {
        if let Some(family) = &rules.family {
            for failure in self.family(family, value) {
                self.report(path, failure);
            }
        }
        if visit
            && !rules.skip
            && let Value::Message(nested) = value
        {
            self.message(nested, path);
        }
    }

    fn family(&self, family: &FamilyRules, value: &Value) -> Vec<Failure> {
        let mut out = Vec::new();
        // A wrapper (`google.protobuf.Int32Value`, …) holds the value in its field 1.
        let unwrapped;
        let value = match value {
            Value::Message(wrapper) if family.is_scalar() => {
                unwrapped = wrapper.get_field_by_number(1);
                match &unwrapped {
                    Some(inner) => inner.as_ref(),
                    None => return out,
                }
            }
            value => value,
        };
        match (family, value) {
            (FamilyRules::Number(rules), value) => rules.check(value, &mut out),
            (FamilyRules::Bool(rules), value) => rules.check(value, &mut out),
            (FamilyRules::String(rules), value) => rules.check(value, &mut out),
            (FamilyRules::Bytes(rules), value) => rules.check(value, &mut out),
            (FamilyRules::Enum(rules), value) => rules.check(value, &mut out),
            (FamilyRules::Any(rules), Value::Message(any)) => rules.check(any, &mut out),
            (FamilyRules::Duration(rules), Value::Message(duration)) => {
                rules.check(duration, &mut out)
            }
            (FamilyRules::Timestamp(rules), Value::Message(timestamp)) => {
                rules.check(timestamp, self.now, &mut out)
            }
            // Repeated and map rules are about whole fields, checked by `list` and `map`.
            _ => {}
        }
        out
    }

    fn list(&mut self, items: &[Value], rules: &FieldRules, visit: bool, path: &Path<'_>) {
        let mut item_rules = &NO_RULES;
        if let Some(FamilyRules::Repeated(repeated)) = &rules.family {
            if repeated.ignores(items) {
                return;
            }
            let mut out = Vec::new();
            repeated.check(items, &mut out);
            for failure in out {
                self.report(path, failure);
            }
            item_rules = repeated.items.as_ref().unwrap_or(&NO_RULES);
        }
        if item_rules.family.is_none() && !visit {
            return;
        }
        for (index, item) in items.iter().enumerate() {
            self.value(item, item_rules, visit, &Path::Index(path, index));
        }
    }

    fn map(
        &mut self,
        entries: &HashMap<MapKey, Value>,
        rules: &FieldRules,
        visit: bool,
        path: &Path<'_>,
    ) {
        let (mut key_rules, mut value_rules) = (&NO_RULES, &NO_RULES);
        if let Some(FamilyRules::Map(map)) = &rules.family {
            if map.ignores(entries.len()) {
                return;
            }
            let mut out = Vec::new();
            map.check(entries.len(), &mut out);
            for failure in out {
                self.report(path, failure);
            }
            key_rules = map.keys.as_ref().unwrap_or(&NO_RULES);
            value_rules = map.values.as_ref().unwrap_or(&NO_RULES);
        }
        if key_rules.family.is_none() && value_rules.family.is_none() && !visit {
            return;
        }
        let mut sorted: Vec<(&MapKey, &Value)> = entries.iter().collect();
        sorted.sort_unstable_by_key(|(key, _)| *key);
        for (key, value) in sorted {
            let path = Path::Key(path, key);
            if let Some(family) = &key_rules.family {
                for mut failure in self.family(family, &Value::from(key.clone())) {
                    failure.message = format!("key {}", failure.message);
                    self.report(&path, failure);
                }
            }
            self.value(value, value_rules, visit, &path);
        }
    }
}

/// The `required` rule of a message field, if it has one.
fn required_rule(rules: &FieldRules) -> Option<&'static str> {
    if rules.required {
        Some("message.required")
    } else {
        rules.family.as_ref().and_then(FamilyRules::required_rule)
    }
}
