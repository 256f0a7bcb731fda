//! Bool and enum rules.

use prost_reflect::{DynamicMessage, EnumDescriptor, Value};

use super::rule_fields::{flag, list, scalar};
use super::{Failure, render_list};

/// The rules of a bool field.
#[derive(Debug)]
pub struct BoolRules {
    pub konst: Option<bool>,
}

impl BoolRules {
    pub fn compile(rules: &DynamicMessage) -> Self {
        Self {
            konst: scalar(rules, "const", Value::as_bool),
        }
    }

    pub fn check(&self, value: &Value, out: &mut Vec<Failure>) {
        if let (Some(konst), Some(value)) = (self.konst, value.as_bool())
            && value != konst
        {
            let failure = Failure::new("bool.const", format!("must be {konst}"));
            out.push(failure.with_value(value.to_string()));
        }
    }
}

/// The rules of an enum field. Values are shown by name when the enum defines them.
#[derive(Debug)]
pub struct EnumRules {
    enumeration: EnumDescriptor,
    pub konst: Option<i32>,
    pub defined_only: bool,
    pub allowed: Vec<i32>,
    pub refused: Vec<i32>,
}

impl EnumRules {
    pub fn compile(rules: &DynamicMessage, enumeration: EnumDescriptor) -> Self {
        Self {
            enumeration,
            konst: scalar(rules, "const", Value::as_i32),
            defined_only: flag(rules, "defined_only"),
            allowed: list(rules, "in", Value::as_i32),
            refused: list(rules, "not_in", Value::as_i32),
        }
    }

    pub fn check(&self, value: &Value, out: &mut Vec<Failure>) {
        let Some(number) = value.as_enum_number() else {
            return;
        };
        let name = |number: &i32| enum_name(&self.enumeration, *number);
        let fail = |rule, message| Failure::new(rule, message).with_value(name(&number));
        if let Some(konst) = self.konst
            && number != konst
        {
            out.push(fail("enum.const", format!("must equal {}", name(&konst))));
        }
        if self.defined_only && self.enumeration.get_value(number).is_none() {
            let defined: Vec<i32> = self
                .enumeration
                .values()
                .map(|value| value.number())
                .collect();
            let defined = render_list(&defined, name);
            let message = format!("must be one of the defined values {defined}");
            out.push(fail("enum.defined_only", message));
        }
        if !self.allowed.is_empty() && !self.allowed.contains(&number) {
            let allowed = render_list(&self.allowed, name);
            out.push(fail("enum.in", format!("must be one of {allowed}")));
        }
        if self.refused.contains(&number) {
            let refused = render_list(&self.refused, name);
            out.push(fail("enum.not_in", format!("must not be one of {refused}")));
        }
    }
}

/// The name of `number` in `enumeration`, or the number when it has none.
pub(crate) fn enum_name(enumeration: &EnumDescriptor, number: i32) -> String {
    match enumeration.get_value(number) {
        Some(value) => value.name().to_owned(),
        None => number.to_string(),
    }
}
