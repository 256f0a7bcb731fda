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

use super::api::{ApiService, Apis, FieldKind};
use super::load::Member;

/// The names of `calls` that the caller's protos do not define, each with why.
pub fn unknown_calls(caller: &Member, calls: &[String]) -> Vec<String> {
    undefined(&caller.apis, calls, "input.calls")
}

/// The names of `serves` that the callee's protos do not define, each with why.
pub fn unknown_serves(callee: &Member, serves: &[String]) -> Vec<String> {
    undefined(&callee.apis, serves, "output.serves")
}

/// The names of `option` that the protos of `apis` do not define.
fn undefined(apis: &Apis, names: &[String], option: &str) -> Vec<String> {
    let known = if apis.defined.is_empty() {
        String::new()
    } else {
        format!(" (they define: {})", apis.defined.join(", "))
    };
    names
        .iter()
        .filter(|name| !apis.defined.contains(name))
        .map(|name| {
            format!(
                "(harness.wire).{option} names gRPC service `{name}`, which {} and its imports do not define{known}",
                apis.file_name
            )
        })
        .collect()
}

/// The gRPC services an output serves: its `serves`, or the services of its own proto
/// file. Names its protos do not define are left out (reported on their own).
fn served<'a>(apis: &'a Apis, serves: &'a [String]) -> Vec<&'a str> {
    let names = if serves.is_empty() { &apis.own } else { serves };
    names
        .iter()
        .filter(|name| apis.services.contains_key(*name))
        .map(String::as_str)
        .collect()
}

/// Every way the services `calls` of `caller` break against what `callee`'s output
/// `output` serves (`serves`, as declared).
pub fn check(
    caller: &Member,
    calls: &[String],
    callee: &Member,
    output: &str,
    serves: &[String],
) -> Vec<String> {
    let served = served(&callee.apis, serves);
    let mut problems = Vec::new();
    for name in calls {
        let Some(ours) = caller.apis.services.get(name) else {
            continue;
        };
        let Some(theirs) = served
            .contains(&name.as_str())
            .then(|| &callee.apis.services[name])
        else {
            problems.push(format!(
                "calls gRPC service {name}, but output `{output}` of {} does not serve it (it serves: {})",
                callee.node.name,
                if served.is_empty() { "none".to_owned() } else { served.join(", ") }
            ));
            continue;
        };
        let copies = Copies {
            caller,
            callee,
            ours_file: &ours.file,
            theirs_file: &theirs.file,
        };
        copies.compare_services(name, ours, theirs, &mut problems);
    }
    problems
}

/// The two copies of one API: the caller's and the callee's.
struct Copies<'a> {
    caller: &'a Member,
    callee: &'a Member,
    ours_file: &'a str,
    theirs_file: &'a str,
}

impl Copies<'_> {
    fn say(&self) -> String {
        format!(
            "{}'s copy ({}) and {}'s ({})",
            self.caller.node.name, self.ours_file, self.callee.node.name, self.theirs_file
        )
    }

    fn compare_services(
        &self,
        name: &str,
        ours: &ApiService,
        theirs: &ApiService,
        problems: &mut Vec<String>,
    ) {
        for method in &ours.methods {
            let path = format!("{name}/{}", method.name);
            let Some(served) = theirs.methods.iter().find(|m| m.name == method.name) else {
                let list: Vec<&str> = theirs.methods.iter().map(|m| m.name.as_str()).collect();
                problems.push(format!(
                    "calls method {path}, which {}'s {name} does not have (it has: {}); {}",
                    self.callee.node.name,
                    if list.is_empty() {
                        "none".to_owned()
                    } else {
                        list.join(", ")
                    },
                    self.say()
                ));
                continue;
            };
            if (method.client_streaming, method.server_streaming)
                != (served.client_streaming, served.server_streaming)
            {
                problems.push(format!(
                    "method {path} streams differently in {}",
                    self.say()
                ));
            }
            for (what, a, b) in [
                ("request", &method.input, &served.input),
                ("response", &method.output, &served.output),
            ] {
                let mut differences = Vec::new();
                self.compare_messages(a, b, "", &mut HashSet::new(), &mut differences);
                for difference in differences {
                    problems.push(format!(
                        "the {what} {a} of {path} is not wire-compatible between {}: {difference}",
                        self.say()
                    ));
                }
            }
        }
    }

    /// The fields of `ours` whose number `theirs` uses with another type or cardinality,
    /// nested messages included (each pair once, so recursive messages end).
    fn compare_messages(
        &self,
        ours: &str,
        theirs: &str,
        trail: &str,
        seen: &mut HashSet<(String, String)>,
        differences: &mut Vec<String>,
    ) {
        if !seen.insert((ours.to_owned(), theirs.to_owned())) {
            return;
        }
        let (Some(ours), Some(theirs)) = (
            self.caller.apis.messages.get(ours),
            self.callee.apis.messages.get(theirs),
        ) else {
            return;
        };
        for field in ours {
            let Some(other) = theirs.iter().find(|f| f.number == field.number) else {
                continue;
            };
            let at = format!("{trail}{}", field.name);
            let same_shape = field.cardinality == other.cardinality
                && field.is_map == other.is_map
                && match (&field.kind, &other.kind) {
                    (FieldKind::Message(x), FieldKind::Message(y)) => {
                        self.compare_messages(x, y, &format!("{at}."), seen, differences);
                        true
                    }
                    (x, y) => x == y,
                };
            if !same_shape {
                differences.push(format!(
                    "field {} (`{at}`) is `{}` in one and `{}` in the other",
                    field.number, field.text, other.text
                ));
            }
        }
    }
}
