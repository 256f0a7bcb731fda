//! The gRPC contract between a caller and its callee: the services a channel declares
//! it calls (`(harness.wire).input.calls`, defined in the caller's proto or its imports:
//! the copy it was built against) must be served by the output it reaches
//! (`(harness.wire).output.serves`, or else the services of the callee's own proto), with
//! every method of the caller's copy, and with request and response messages that are
//! wire-compatible between the two copies.
//!
//! Wire-compatible: a field number present in both copies has the same type and the same
//! cardinality. Names do not travel on the wire, so a renamed field is fine; so is a
//! field only one copy has (the other skips it as unknown).

use std::collections::HashSet;

use prost_reflect::{
    Cardinality, DescriptorPool, FieldDescriptor, Kind, MessageDescriptor, ServiceDescriptor,
};

use super::load::Member;

/// The names of `calls` that the caller's protos do not define, each with why.
pub fn unknown_calls(caller: &Member, calls: &[String]) -> Vec<String> {
    undefined(caller, calls, "input.calls")
}

/// The names of `serves` that the callee's protos do not define, each with why.
pub fn unknown_serves(callee: &Member, serves: &[String]) -> Vec<String> {
    undefined(callee, serves, "output.serves")
}

/// The names of `option` that `member`'s protos do not define.
fn undefined(member: &Member, names: &[String], option: &str) -> Vec<String> {
    let pool = &member.checked.compiled.pool;
    names
        .iter()
        .filter(|name| pool.get_service_by_name(name).is_none())
        .map(|name| {
            format!(
                "(harness.wire).{option} names gRPC service `{name}`, which {} and its imports do not define{}",
                member.checked.compiled.file_name,
                known(pool)
            )
        })
        .collect()
}

fn known(pool: &DescriptorPool) -> String {
    let names: Vec<String> = pool.services().map(|s| s.full_name().to_owned()).collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" (they define: {})", names.join(", "))
    }
}

/// The gRPC services `callee`'s output serves: its `serves`, or the services of its own
/// proto file. Names its protos do not define are left out (reported on their own).
pub fn served(callee: &Member, serves: &[String]) -> Vec<ServiceDescriptor> {
    let compiled = &callee.checked.compiled;
    if serves.is_empty() {
        return compiled
            .pool
            .get_file_by_name(&compiled.file_name)
            .map(|file| file.services().collect())
            .unwrap_or_default();
    }
    serves
        .iter()
        .filter_map(|name| compiled.pool.get_service_by_name(name))
        .collect()
}

/// Every way the services `calls` of `caller` break against what `callee`'s output
/// `output` serves.
pub fn check(
    caller: &Member,
    calls: &[String],
    callee: &Member,
    output: &str,
    serves: &[String],
) -> Vec<String> {
    let served = served(callee, serves);
    let mut problems = Vec::new();
    for name in calls {
        let Some(ours) = caller.checked.compiled.pool.get_service_by_name(name) else {
            continue;
        };
        let Some(theirs) = served.iter().find(|s| s.full_name() == name.as_str()) else {
            let list: Vec<&str> = served.iter().map(|s| s.full_name()).collect();
            problems.push(format!(
                "calls gRPC service {name}, but output `{output}` of {} does not serve it (it serves: {})",
                callee.node.name,
                if list.is_empty() { "none".to_owned() } else { list.join(", ") }
            ));
            continue;
        };
        let (ours_file, theirs_file) = (ours.parent_file(), theirs.parent_file());
        let copies = Copies {
            caller: &caller.node.name,
            callee: &callee.node.name,
            ours: ours_file.name(),
            theirs: theirs_file.name(),
        };
        compare_services(&ours, theirs, &copies, &mut problems);
    }
    problems
}

/// Whose copy is whose, for messages.
struct Copies<'a> {
    caller: &'a str,
    callee: &'a str,
    ours: &'a str,
    theirs: &'a str,
}

impl Copies<'_> {
    fn say(&self) -> String {
        format!(
            "{}'s copy ({}) and {}'s ({})",
            self.caller, self.ours, self.callee, self.theirs
        )
    }
}

fn compare_services(
    ours: &ServiceDescriptor,
    theirs: &ServiceDescriptor,
    copies: &Copies<'_>,
    problems: &mut Vec<String>,
) {
    for method in ours.methods() {
        let path = format!("{}/{}", ours.full_name(), method.name());
        let Some(served) = theirs.methods().find(|m| m.name() == method.name()) else {
            let list: Vec<String> = theirs.methods().map(|m| m.name().to_owned()).collect();
            problems.push(format!(
                "calls method {path}, which {}'s {} does not have (it has: {}); {}",
                copies.callee,
                theirs.full_name(),
                if list.is_empty() {
                    "none".to_owned()
                } else {
                    list.join(", ")
                },
                copies.say()
            ));
            continue;
        };
        if (method.is_client_streaming(), method.is_server_streaming())
            != (served.is_client_streaming(), served.is_server_streaming())
        {
            problems.push(format!(
                "method {path} streams differently in {}",
                copies.say()
            ));
        }
        for (what, a, b) in [
            ("request", method.input(), served.input()),
            ("response", method.output(), served.output()),
        ] {
            let mut differences = Vec::new();
            compare_messages(&a, &b, "", &mut HashSet::new(), &mut differences);
            for difference in differences {
                problems.push(format!(
                    "the {what} {} of {path} is not wire-compatible between {}: {difference}",
                    a.full_name(),
                    copies.say()
                ));
            }
        }
    }
}

/// The fields of `ours` whose number `theirs` uses with another type or cardinality,
/// nested messages included (each pair once, so recursive messages end).
fn compare_messages(
    ours: &MessageDescriptor,
    theirs: &MessageDescriptor,
    trail: &str,
    seen: &mut HashSet<(String, String)>,
    differences: &mut Vec<String>,
) {
    if !seen.insert((ours.full_name().to_owned(), theirs.full_name().to_owned())) {
        return;
    }
    for field in ours.fields() {
        let Some(other) = theirs.get_field(field.number()) else {
            continue;
        };
        let at = format!("{trail}{}", field.name());
        let (a, b) = (type_text(&field), type_text(&other));
        let same_shape = field.cardinality() == other.cardinality()
            && field.is_map() == other.is_map()
            && match (field.kind(), other.kind()) {
                (Kind::Message(x), Kind::Message(y)) => {
                    compare_messages(&x, &y, &format!("{at}."), seen, differences);
                    true
                }
                (Kind::Enum(_), Kind::Enum(_)) => true,
                (x, y) => x == y,
            };
        if !same_shape {
            differences.push(format!(
                "field {} (`{at}`) is `{a}` in one and `{b}` in the other",
                field.number()
            ));
        }
    }
}

/// `repeated uint32`, `map<string, int64>`, `scotty.Detail`.
fn type_text(field: &FieldDescriptor) -> String {
    let kind = |kind: Kind| match kind {
        Kind::Message(m) => m.full_name().to_owned(),
        Kind::Enum(e) => e.full_name().to_owned(),
        other => format!("{other:?}").to_lowercase(),
    };
    if field.is_map()
        && let Kind::Message(entry) = field.kind()
        && let (Some(k), Some(v)) = (entry.get_field(1), entry.get_field(2))
    {
        return format!("map<{}, {}>", kind(k.kind()), kind(v.kind()));
    }
    match field.cardinality() {
        Cardinality::Repeated => format!("repeated {}", kind(field.kind())),
        Cardinality::Required => format!("required {}", kind(field.kind())),
        Cardinality::Optional => kind(field.kind()),
    }
}
