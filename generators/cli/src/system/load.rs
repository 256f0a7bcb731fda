//! Every service of a system file, checked exactly as `harness check` and `harness
//! kube-gen` check it (the same calls, so the same messages).

use std::borrow::Cow;

use harness_core::check::{CheckError, Checked, check_files};

use crate::kube::{self, Options, context::Context};

use super::Problem;
use super::api::Apis;
use super::file::{ServiceEntry, SystemFile, service_steps};
use super::graph::ServiceNode;

/// How many services, the first of the file, keep their checked configuration for
/// `kube-gen --system`: about 1 MiB each, nearly all of it the descriptor pool. A system of
/// this size is generated without checking a service twice; a larger one stays within a
/// bounded memory, the others checked again (docs/benchmarks-system.md).
const KEPT_CHECKS: usize = 64;

/// A service of the system that passed every check. It keeps what the graph needs and,
/// for the first [`KEPT_CHECKS`] services only, the checked configuration and its
/// descriptors (large, and a system may have a thousand services): [`Member::check`]
/// checks the others again where those are needed.
#[derive(Debug, Clone)]
pub struct Member {
    pub entry: ServiceEntry,
    /// The gRPC services it calls and serves, for the contract check.
    pub apis: Apis,
    /// kube-gen's options from the system file; `synchronous_callers` comes from the graph.
    pub options: Options,
    pub node: ServiceNode,
    /// kube-gen's notes about the service (e.g. a LOCALHOST input's host that is not
    /// loopback), each naming its file.
    pub warnings: Vec<String>,
    kept: Option<Checked>,
}

/// Checks every service of `file`, in order; the members that passed and the problems of
/// the others (and of two entries that are the same service).
pub fn members(file: &SystemFile) -> (Vec<Member>, Vec<Problem>) {
    let mut members: Vec<Member> = Vec::with_capacity(file.services.len());
    let mut problems = Vec::new();
    let loaded = super::parallel_map(&file.services, |entry| member(file, entry));
    for (entry, loaded) in file.services.iter().zip(loaded) {
        match loaded {
            Ok(member) => {
                if let Some(first) = members.iter().find(|m| {
                    m.node.name == member.node.name && m.node.namespace == member.node.namespace
                }) {
                    problems.push(Problem::invalid(file.diagnostic(
                        &service_steps(entry.index),
                        format!(
                            "service {} in namespace {} is already services[{}]; give one of them an `instance`",
                            member.node.name, member.node.namespace, first.entry.index
                        ),
                    )));
                } else {
                    members.push(member);
                }
            }
            Err(problem) => problems.push(problem),
        }
    }
    (members, problems)
}

/// Checks the service of `entry`, as `harness check` does.
fn check(entry: &ServiceEntry) -> Result<Checked, CheckError> {
    check_files(
        &entry.proto,
        &entry.include,
        &entry.config,
        entry.merge.as_deref(),
        entry.patch.as_deref(),
    )
}

impl Member {
    /// The checked service, for what the graph does not keep: its manifests, the position
    /// of a value in its configuration. Checked again unless the member kept it.
    pub fn check(&self) -> Result<Cow<'_, Checked>, Problem> {
        match &self.kept {
            Some(checked) => Ok(Cow::Borrowed(checked)),
            None => check(&self.entry)
                .map(Cow::Owned)
                .map_err(|err| Problem::check(&err)),
        }
    }
}

fn member(file: &SystemFile, entry: &ServiceEntry) -> Result<Member, Problem> {
    let checked = check(entry).map_err(|err| Problem::check(&err))?;
    let options = Options {
        instance: entry.instance.clone(),
        namespace: entry.namespace.clone(),
        base_domain: file.base_domain.clone(),
        ..Options::new(entry.version.clone())
    };
    let ctx = Context::new(&checked.spec, &checked.config, &checked.sources, &options)
        .map_err(|err| Problem::kube_gen(entry, &err))?;
    let node = ServiceNode::from_context(&ctx);
    let warnings = ctx.warnings.clone();
    let apis = Apis::of(&checked);
    Ok(Member {
        entry: entry.clone(),
        apis,
        options,
        node,
        warnings,
        kept: (entry.index < KEPT_CHECKS).then_some(checked),
    })
}

impl Problem {
    /// A service that fails `harness check`, said as it says it.
    pub fn check(err: &CheckError) -> Problem {
        Problem {
            exit_code: err.exit_code(),
            text: err.report(),
        }
    }

    /// A service kube-gen refuses, said as kube-gen says it, with the service's
    /// configuration named when the message does not locate itself.
    pub fn kube_gen(entry: &ServiceEntry, err: &kube::KubeGenError) -> Problem {
        let text = match err {
            kube::KubeGenError::Host(_) | kube::KubeGenError::NoName { .. } => {
                format!("error: {err}\n")
            }
            _ => format!("error: {}: {err}\n", entry.config.display()),
        };
        Problem { exit_code: 1, text }
    }
}
