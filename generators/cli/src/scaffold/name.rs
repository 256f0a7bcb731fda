//! Which names a new service can have: one name is the directory, the cargo package, the
//! binary, the proto package, the Rust module of its types and the Kubernetes objects.

use crate::kube::names::check_dns1035_label;

/// Names that pass as Kubernetes labels but break the project elsewhere: Rust keywords
/// (cargo refuses them as package names, prost escapes them as modules), names cargo
/// reserves, and the crates and proto packages the project uses (a module of the same
/// name at the crate root would shadow them).
#[rustfmt::skip]
const RESERVED: &[&str] = &[
    // Rust keywords, strict and reserved, that are valid labels.
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
    "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait",
    "true", "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do",
    "final", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
    // Cargo: the standard library's crates and its own directory names.
    "std", "core", "alloc", "test", "proc-macro", "build", "deps", "examples", "incremental",
    // What the generated project depends on, and the bundled proto packages.
    "harness", "harness-core", "harness-wires", "harness-build", "harness-macros", "axum",
    "tonic", "tonic-prost", "tonic-prost-build", "anyhow", "prost", "prost-types", "sqlx",
    "validate", "google",
];

/// Checks a new service's name: a DNS-1035 label (a DNS-1123 label that starts with a
/// letter, as Kubernetes Service names, cargo packages and proto packages need) that
/// is none of the [`RESERVED`] names.
pub fn check_service_name(name: &str) -> Result<(), String> {
    check_dns1035_label(name).map_err(|reason| {
        format!("{name:?} is not a valid service name: {reason} (a DNS-1123 label that starts with a letter)")
    })?;
    if RESERVED.contains(&name) {
        return Err(format!(
            "{name:?} is not a valid service name: it is reserved (a Rust keyword, a name cargo \
             reserves or a crate the project depends on)"
        ));
    }
    Ok(())
}

/// `my-svc` → `my_svc`: the proto package and the Rust module of the service's types.
pub fn snake_case(name: &str) -> String {
    name.replace('-', "_")
}

/// `my-svc` → `MySvc`: the prefix of the service's gRPC API.
pub fn camel_case(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_that_start_with_a_letter_are_service_names() {
        for name in ["status", "my-svc", "a", "v2-api", &"a".repeat(63)] {
            assert_eq!(check_service_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn other_names_are_refused_with_the_reason() {
        for (name, reason) in [
            ("", "empty"),
            ("Status", "'S'"),
            ("my_svc", "'_'"),
            ("2fast", "start with a lower-case letter"),
            ("svc-", "start and end"),
            ("a.b", "'.'"),
            (&"a".repeat(64), "64 characters"),
            ("match", "reserved"),
            ("axum", "reserved"),
            ("test", "reserved"),
        ] {
            let error = check_service_name(name).unwrap_err();
            assert!(error.contains(reason), "{name}: {error}");
        }
    }

    #[test]
    fn names_map_to_identifiers() {
        assert_eq!(snake_case("my-svc-2"), "my_svc_2");
        assert_eq!(camel_case("my-svc-2"), "MySvc2");
        assert_eq!(camel_case("status"), "Status");
    }
}
