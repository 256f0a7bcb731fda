//! Nesting generated code by package: `a.b` goes in `pub mod a { pub mod b { … } }`.

use std::collections::BTreeMap;

/// Source text of the module tree; `modules` maps a module path to its code, the empty
/// path being the root.
/// `top_attributes` go before each top-level `mod`.
pub(crate) fn nest(modules: &BTreeMap<Vec<String>, String>, top_attributes: &str) -> String {
    let mut out = String::new();
    write(modules, &[], top_attributes, &mut out);
    out
}

fn write(
    modules: &BTreeMap<Vec<String>, String>,
    prefix: &[String],
    top_attributes: &str,
    out: &mut String,
) {
    if let Some(code) = modules.get(prefix) {
        out.push_str(code);
        out.push('\n');
    }
    let mut children: Vec<&String> = modules
        .keys()
        .filter(|path| path.len() > prefix.len() && path.starts_with(prefix))
        .map(|path| &path[prefix.len()])
        .collect();
    children.dedup();
    for child in children {
        let mut path = prefix.to_vec();
        path.push(child.clone());
        if prefix.is_empty() {
            out.push_str(top_attributes);
        }
        out.push_str(&format!("pub mod {child} {{\n"));
        write(modules, &path, "", out);
        out.push_str("}\n");
    }
}
