//! `google.protobuf.Any` rules: on the type URL of a set Any.

use prost_reflect::{DynamicMessage, Value};

use super::rule_fields::{flag, list};
use super::{Failure, quote, render_list};

/// The rules of an Any field.
#[derive(Debug)]
pub struct AnyRules {
    /// `any.required`, checked by the walker with the other `required` rules.
    pub required: bool,
    pub allowed: Vec<String>,
    pub refused: Vec<String>,
}

impl AnyRules {
    pub fn compile(rules: &DynamicMessage) -> Self {
        let text = |value: &Value| value.as_str().map(str::to_owned);
        Self {
            required: flag(rules, "required"),
            allowed: list(rules, "in", text),
            refused: list(rules, "not_in", text),
        }
    }

    /// Checks a set Any.
    pub fn check(&self, any: &DynamicMessage, out: &mut Vec<Failure>) {
        let type_url = any.get_field_by_number(1);
        let type_url = type_url
            .as_deref()
            .and_then(Value::as_str)
            .unwrap_or_default();
        let fail = |rule, message| Failure::new(rule, message).with_value(quote(type_url));
        let show = |url: &String| quote(url);
        if !self.allowed.is_empty() && !self.allowed.iter().any(|url| url == type_url) {
            let allowed = render_list(&self.allowed, show);
            out.push(fail(
                "any.in",
                format!("must hold one of the types {allowed}"),
            ));
        }
        if self.refused.iter().any(|url| url == type_url) {
            let refused = render_list(&self.refused, show);
            out.push(fail(
                "any.not_in",
                format!("must not hold any of the types {refused}"),
            ));
        }
    }
}
