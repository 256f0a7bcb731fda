//! `harness kube-gen --system`: every service's manifests, each built by kube-gen's own
//! code with the options the system file gives it and what the graph knows of it (its
//! callers and callees, for the autoscaler and the policies), in one stream in the file's
//! order, then one PeerAuthentication per namespace (mutual TLS required).

use std::collections::BTreeSet;

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
        peers: Some(system.graph.peers(id)),
        ..system.members[id].options.clone()
    }
}

/// A PeerAuthentication for each namespace of the system, in name order.
fn peer_authentications(system: &System) -> Result<String, kube::RenderError> {
    let namespaces: BTreeSet<&str> = (system.graph.services.iter())
        .map(|s| s.namespace.as_str())
        .collect();
    let objects = namespaces
        .into_iter()
        .map(|ns| kube::Object::PeerAuthentication(kube::peer_authentication(ns)))
        .collect();
    kube::Manifests {
        objects,
        warnings: Vec::new(),
    }
    .to_yaml()
}

pub fn stream(system: &System) -> Result<Stream, Problems> {
    let mut yaml = String::new();
    let mut warnings = Vec::new();
    let mut problems = Vec::new();
    let ids: Vec<usize> = (0..system.members.len()).collect();
    // Each service is checked again and generated, a few at a time: the system keeps no
    // service's descriptors.
    let generated = super::parallel_map(&ids, |&id| -> Result<_, Problem> {
        let member = &system.members[id];
        let checked = member.check()?;
        let manifests = kube::generate(
            &checked.spec,
            &checked.config,
            &checked.sources,
            &options(system, id),
        )
        .map_err(|err| Problem::kube_gen(&member.entry, &err))?;
        Ok((manifests.to_yaml(), manifests.warnings))
    });
    for (member, generated) in system.members.iter().zip(generated) {
        match generated {
            Ok((Ok(text), notes)) => {
                yaml.push_str(&text);
                let name = &member.node.name;
                warnings.extend(notes.iter().map(|note| format!("{name}: {note}")));
            }
            Err(problem) => problems.push(problem),
            // A bug, never the user's mistake: exit 2, as kube-gen.
            Ok((Err(err), _)) => problems.push(Problem {
                exit_code: 2,
                text: format!("error: {err}\n"),
            }),
        }
    }
    match peer_authentications(system) {
        Ok(text) => yaml.push_str(&text),
        Err(err) => problems.push(Problem {
            exit_code: 2,
            text: format!("error: {err}\n"),
        }),
    }
    warnings.extend(system.system_warnings());
    if problems.is_empty() {
        Ok(Stream { yaml, warnings })
    } else {
        Err(Problems(problems))
    }
}
