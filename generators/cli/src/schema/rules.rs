//! protoc-gen-validate rules, as harness reads them, said in JSON Schema where it can say
//! them. Where it cannot say a rule exactly, the schema says less than the rule (a bound
//! implied by it, or nothing), never more: a configuration that `harness check` accepts is
//! never refused by the schema.

use std::cmp::Ordering;

use harness_core::validate::read::{
    AnyRules, Bounds, EnumRules, FamilyRules, Format, Lower, NumberRules, Rules, Sizes,
    StringRules, Upper,
};
use prost_reflect::Kind;
use serde_json::{Map, Value, json};

use super::pattern;
use super::values::enum_forms;

/// A hostname as harness checks it: labels of letters, digits and inner hyphens, at most
/// 63 characters each, an optional final dot (253 characters in all: `maxLength`).
const HOSTNAME: &str = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$";
const IPV4: &str = r"^(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$";
const UUID: &str = "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$";
const HEADER_NAME: &str = r"^:?[0-9A-Za-z!#$%&'*+,\-.^_|~`]+$";
const HEADER_VALUE: &str = r"^[^\u0000-\u0008\u000A-\u001F\u007F]*$";
const HEADER_TEXT: &str = r"^[^\u0000\n\r]*$";

/// Adds to `schema`, the schema of one value of `kind`, what the scalar (or Any) `rules`
/// say. Repeated and map rules are the field's, see the parent module.
pub fn apply(rules: &FamilyRules, kind: &Kind, schema: &mut Map<String, Value>) {
    let (said, ignore_empty) = match (rules, kind) {
        (FamilyRules::Number(rules), _) => number(rules),
        (FamilyRules::Bool(rules), _) => {
            let konst = rules.konst.map(|konst| object(json!({"const": konst})));
            (konst.unwrap_or_default(), false)
        }
        (FamilyRules::String(rules), _) => (string(rules), rules.ignore_empty),
        (FamilyRules::Enum(rules), Kind::Enum(enumeration)) => {
            (enumeration_rules(rules, enumeration), false)
        }
        (FamilyRules::Any(rules), _) => (any(rules), false),
        // Bytes rules count decoded bytes, which base64 text does not show; durations and
        // timestamps are compared as times.
        _ => (Map::new(), false),
    };
    if said.is_empty() {
        return;
    }
    if ignore_empty {
        let empty = match kind {
            Kind::String => json!(""),
            _ => json!(0),
        };
        and(schema, object(json!({"anyOf": [{"const": empty}, said]})));
    } else {
        and(schema, said);
    }
}

/// The number rules, and whether `ignore_empty` exempts zero from them.
fn number(rules: &NumberRules) -> (Map<String, Value>, bool) {
    match rules {
        NumberRules::Signed(rules) => (number_rules(rules, |v| Some(json!(v))), rules.ignore_empty),
        NumberRules::Unsigned(rules) => {
            (number_rules(rules, |v| Some(json!(v))), rules.ignore_empty)
        }
        NumberRules::Float(rules) => (number_rules(rules, float32), rules.ignore_empty),
        NumberRules::Double(rules) => (number_rules(rules, float64), rules.ignore_empty),
    }
}

/// A `float` as the decimal that reads back as it (`0.1`, not `0.10000000149011612`).
fn float32(value: f32) -> Option<Value> {
    value.to_string().parse::<f64>().ok().and_then(float64)
}

/// A finite double; NaN and infinities have no JSON number.
fn float64(value: f64) -> Option<Value> {
    serde_json::Number::from_f64(value).map(Value::Number)
}

fn number_rules<T: PartialOrd + Copy>(
    rules: &Rules<T>,
    to_json: impl Fn(T) -> Option<Value> + Copy,
) -> Map<String, Value> {
    let mut said = bounds(&rules.bounds, to_json);
    let listed =
        |values: &[T]| -> Option<Vec<Value>> { values.iter().map(|v| to_json(*v)).collect() };
    // A number written as a string is checked for its form only: these rules leave it be.
    if let Some(konst) = rules.konst.and_then(to_json) {
        and(
            &mut said,
            object(json!({"anyOf": [{"type": "string"}, {"const": konst}]})),
        );
    }
    if !rules.allowed.is_empty()
        && let Some(allowed) = listed(&rules.allowed)
    {
        and(
            &mut said,
            object(json!({"anyOf": [{"type": "string"}, {"enum": allowed}]})),
        );
    }
    let refused: Vec<Value> = rules.not_in.iter().filter_map(|v| to_json(*v)).collect();
    if !refused.is_empty() {
        and(&mut said, object(json!({"not": {"enum": refused}})));
    }
    said
}

/// `lt`/`lte`/`gt`/`gte` as harness applies them: `lt` wins over `lte` and `gt` over
/// `gte`; an upper bound not above the lower one means "outside of them".
fn bounds<T: PartialOrd + Copy>(
    bounds: &Bounds<T>,
    to_json: impl Fn(T) -> Option<Value>,
) -> Map<String, Value> {
    let lower = bounds.lower.map(|lower| match lower {
        Lower::Gt(bound) => ("exclusiveMinimum", bound),
        Lower::Gte(bound) => ("minimum", bound),
    });
    let upper = bounds.upper.map(|upper| match upper {
        Upper::Lt(bound) => ("exclusiveMaximum", bound),
        Upper::Lte(bound) => ("maximum", bound),
    });
    let keyword = |(name, bound): (&str, T)| to_json(bound).map(|bound| (name.to_owned(), bound));
    match (lower, upper) {
        (Some(low), Some(up)) if !matches!(up.1.partial_cmp(&low.1), Some(Ordering::Greater)) => {
            match (keyword(up), keyword(low)) {
                (Some(up), Some(low)) => {
                    let below = Map::from_iter([up]);
                    let above = Map::from_iter([low]);
                    object(json!({"anyOf": [below, above]}))
                }
                _ => Map::new(),
            }
        }
        (low, up) => low.into_iter().chain(up).filter_map(keyword).collect(),
    }
}

fn string(rules: &StringRules) -> Map<String, Value> {
    let mut said = Map::new();
    if let Some(konst) = &rules.konst {
        and(&mut said, object(json!({"const": konst})));
    }
    if !rules.allowed.is_empty() {
        and(&mut said, object(json!({"enum": rules.allowed})));
    }
    if !rules.refused.is_empty() {
        and(&mut said, object(json!({"not": {"enum": rules.refused}})));
    }
    and(&mut said, lengths(&rules.chars, 1));
    // A character is one to four bytes in UTF-8: byte counts bound the length loosely.
    and(&mut said, lengths(&rules.bytes, 4));
    // A pattern that does not compile fails every value: left out, as one not translated.
    let translated = rules
        .pattern
        .as_ref()
        .filter(|pattern| pattern.compiles())
        .and_then(|pattern| pattern::translate(&pattern.source));
    if let Some(translated) = translated {
        and(&mut said, object(json!({"pattern": translated})));
    }
    if let Some(prefix) = &rules.prefix {
        let pattern = format!("^{}", pattern::literal(prefix));
        and(&mut said, object(json!({"pattern": pattern})));
    }
    if let Some(suffix) = &rules.suffix {
        let pattern = format!("{}$", pattern::literal(suffix));
        and(&mut said, object(json!({"pattern": pattern})));
    }
    if let Some(contains) = &rules.contains {
        and(
            &mut said,
            object(json!({"pattern": pattern::literal(contains)})),
        );
    }
    if let Some(refused) = &rules.not_contains {
        let refused = json!({"not": {"pattern": pattern::literal(refused)}});
        and(&mut said, object(refused));
    }
    if let Some(format) = rules.format {
        and(&mut said, format_schema(format));
    }
    said
}

/// `minLength`/`maxLength` from sizes counted in units of which one character holds
/// one at least and `per_char` at most. An exact size and a range both apply.
fn lengths(sizes: &Sizes, per_char: u64) -> Map<String, Value> {
    let mut said = Map::new();
    for (size, _) in sizes.exact.iter().chain(&sizes.min) {
        let min = size.div_ceil(per_char);
        if min > 0 {
            and(&mut said, object(json!({"minLength": min})));
        }
    }
    for (size, _) in sizes.exact.iter().chain(&sizes.max) {
        and(&mut said, object(json!({"maxLength": size})));
    }
    said
}

/// The well-known formats JSON Schema can say exactly; the others are left out.
fn format_schema(format: Format) -> Map<String, Value> {
    object(match format {
        Format::Hostname => json!({"format": "hostname", "maxLength": 253, "pattern": HOSTNAME}),
        Format::Ipv4 => json!({"format": "ipv4", "pattern": IPV4}),
        Format::Ipv6 => json!({"format": "ipv6"}),
        Format::Uuid => json!({"format": "uuid", "pattern": UUID}),
        Format::HeaderName => json!({"pattern": HEADER_NAME}),
        Format::HeaderValue => json!({"pattern": HEADER_VALUE}),
        Format::HeaderText => json!({"pattern": HEADER_TEXT}),
        // Email (Go's net/mail), URIs (WHATWG URLs), IPs of either family and addresses
        // mean more or less than any JSON Schema format.
        Format::Email | Format::Ip | Format::Uri | Format::UriRef | Format::Address => json!({}),
    })
}

fn enumeration_rules(
    rules: &EnumRules,
    enumeration: &prost_reflect::EnumDescriptor,
) -> Map<String, Value> {
    let mut said = Map::new();
    let forms = |numbers: &mut dyn Iterator<Item = i32>| -> Vec<Value> {
        numbers.flat_map(|n| enum_forms(enumeration, n)).collect()
    };
    if let Some(konst) = rules.konst {
        and(
            &mut said,
            object(json!({"enum": forms(&mut [konst].into_iter())})),
        );
    }
    if rules.defined_only {
        let defined = forms(&mut enumeration.values().map(|value| value.number()));
        and(&mut said, object(json!({"enum": defined})));
    }
    if !rules.allowed.is_empty() {
        let allowed = forms(&mut rules.allowed.iter().copied());
        and(&mut said, object(json!({"enum": allowed})));
    }
    if !rules.refused.is_empty() {
        let refused = forms(&mut rules.refused.iter().copied());
        and(&mut said, object(json!({"not": {"enum": refused}})));
    }
    said
}

/// `any.in`/`any.not_in`, on the `@type` of a set Any (the empty Any has an empty type URL).
fn any(rules: &AnyRules) -> Map<String, Value> {
    let mut said = Map::new();
    if !rules.allowed.is_empty() {
        let allowed = json!({
            "required": ["@type"],
            "properties": {"@type": {"enum": rules.allowed}},
        });
        and(&mut said, object(allowed));
    }
    if !rules.refused.is_empty() {
        let refused = json!({"properties": {"@type": {"not": {"enum": rules.refused}}}});
        and(&mut said, object(refused));
    }
    said
}

/// Adds the constraints of `extra` to `schema`: a keyword `schema` lacks is moved in, a
/// bound it has is tightened, and anything else joins `allOf`.
pub fn and(schema: &mut Map<String, Value>, extra: Map<String, Value>) {
    let mut rest = Map::new();
    for (key, value) in extra {
        let tighter = match key.as_str() {
            "minimum" | "exclusiveMinimum" | "minLength" | "minItems" | "minProperties" => {
                Ordering::Greater
            }
            "maximum" | "exclusiveMaximum" | "maxLength" | "maxItems" | "maxProperties" => {
                Ordering::Less
            }
            _ => Ordering::Equal,
        };
        match schema.get(&key) {
            None => {
                schema.insert(key, value);
            }
            Some(old) if tighter != Ordering::Equal => {
                if let Some(order) = compare(&value, old)
                    && order == tighter
                {
                    schema.insert(key, value);
                }
            }
            Some(old) if *old == value => {}
            Some(_) => {
                rest.insert(key, value);
            }
        }
    }
    if !rest.is_empty() {
        match schema.get_mut("allOf") {
            Some(Value::Array(all)) => all.push(Value::Object(rest)),
            _ => {
                schema.insert("allOf".to_owned(), json!([rest]));
            }
        }
    }
}

/// Orders two JSON numbers exactly when both are integers.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    let (Value::Number(a), Value::Number(b)) = (a, b) else {
        return None;
    };
    let as_i128 = |n: &serde_json::Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (as_i128(a), as_i128(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

pub fn object(value: Value) -> Map<String, Value> {
    super::values::into_map(value)
}
