//! `harness kube-gen --system`: every service's manifests, each built by kube-gen's own
//! code with the options the system file gives it and what the graph knows of its
//! callers, in one stream in the file's order.

use crate::kube::{self, Options};

use super::{Problem, Problems, System};

/// The whole stream and kube-gen's notes about each service, prefixed by its name.
pub struct Stream {
    pub yaml: String,
    pub warnings: Vec<String>,
}

/// The options kube-gen builds service `id` of `system` with.
pub fn options(system: &System, id: usize) -> Options {
    Options {
        synchronous_callers: Some(system.graph.has_synchronous_callers(id)),
        ..system.members[id].options.clone()
    }
}

pub fn stream(system: &System) -> Result<Stream, Problems> {
    let mut yaml = String::new();
    let mut warnings = Vec::new();
    let mut problems = Vec::new();
    for (id, member) in system.members.iter().enumerate() {
        let checked = &member.checked;
        let generated = kube::generate(
            &checked.spec,
            &checked.config,
            &checked.sources,
            &options(system, id),
        );
        match generated.and_then(|manifests| {
            let text = manifests.to_yaml().map_err(|err| {
                kube::KubeGenError::Unsupported(err.to_string())
            })?;
            Ok((manifests.warnings, text))
        }) {
            Ok((notes, text)) => {
                yaml.push_str(&text);
                warnings.extend(notes.into_iter().map(|note| format!("{}: {note}", member.node.name)));
            }
            Err(err) => problems.push(Problem::kube_gen(&member.entry, &err)),
        }
    }
    warnings.extend(system.system_warnings());
    if problems.is_empty() {
        Ok(Stream { yaml, warnings })
    } else {
        Err(Problems(problems))
    }
}
