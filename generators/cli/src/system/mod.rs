//! A system: the services of one deployment environment, listed in a system file
//! ([`file`]), each checked as `harness check` and `harness kube-gen` check it
//! ([`load`]), then every connection between them resolved and checked ([`resolve`],
//! [`grpc_contract`]) into one [`Graph`], which `harness graph` draws ([`render`]) and
//! `harness kube-gen --system` deploys ([`manifests`]).

use std::path::Path;

use harness_core::config::Diagnostic;

pub mod api;
pub mod file;
pub mod graph;
pub mod grpc_contract;
pub mod load;
pub mod manifests;
pub mod render;
pub mod resolve;

pub use file::SystemFile;
pub use graph::Graph;
pub use load::Member;
pub use render::Format;

/// A system whose every service and connection checked.
#[derive(Debug, Clone)]
pub struct System {
    pub file: SystemFile,
    /// The services, in the file's order; a member's index is its [`graph::ServiceId`].
    pub members: Vec<Member>,
    pub graph: Graph,
    /// Doubts about the connections (the services' own notes are in each [`Member`]).
    pub warnings: Vec<Diagnostic>,
}

/// One problem, as printed: its lines, each with its prefix, and its exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1 for a system or configuration that is wrong, 2 for I/O and proto errors.
    pub exit_code: u8,
    pub text: String,
}

impl Problem {
    /// A located problem of the system (exit status 1).
    pub fn invalid(diagnostic: Diagnostic) -> Self {
        Problem {
            exit_code: 1,
            text: format!("error: {diagnostic}\n"),
        }
    }
}

/// Why a system cannot be used: every problem found, one or more lines each.
#[derive(Debug, Clone)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// The highest exit status of the problems: 2 when any is about I/O or a proto.
    pub fn exit_code(&self) -> u8 {
        self.0.iter().map(|p| p.exit_code).max().unwrap_or(1)
    }

    pub fn report(&self) -> String {
        self.0.iter().map(|p| p.text.as_str()).collect()
    }
}

/// `f` of every item, in order, spread over the machine's cores: each service is checked
/// and generated on its own, and a system of a thousand is mostly that.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if threads < 2 || items.len() < 2 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

impl System {
    /// Reads the system file at `path`, checks every service, and resolves the graph.
    pub fn load(path: &Path) -> Result<Self, Problems> {
        let file = SystemFile::read(path).map_err(|err| match err {
            file::FileError::Read(err) => Problems(vec![Problem {
                exit_code: 2,
                text: format!("error: {err}\n"),
            }]),
            file::FileError::Invalid(diagnostics) => {
                Problems(diagnostics.into_iter().map(Problem::invalid).collect())
            }
        })?;
        let (members, problems) = load::members(&file);
        // A connection to a service that failed its check would be misreported as one
        // to nothing: the services are fixed first.
        if !problems.is_empty() {
            return Err(Problems(problems));
        }
        let resolution = resolve::resolve(&file, &members);
        if !resolution.errors.is_empty() {
            return Err(Problems(
                resolution
                    .errors
                    .into_iter()
                    .map(Problem::invalid)
                    .collect(),
            ));
        }
        Ok(System {
            file,
            members,
            graph: resolution.graph,
            warnings: resolution.warnings,
        })
    }

    /// The warnings of `harness graph`: each service's, then the system's.
    pub fn all_warnings(&self) -> Vec<String> {
        let services = self.members.iter().flat_map(|m| m.warnings.iter().cloned());
        services.chain(self.system_warnings()).collect()
    }

    /// The warnings about connections, as printed.
    pub fn system_warnings(&self) -> impl Iterator<Item = String> + '_ {
        self.warnings.iter().map(ToString::to_string)
    }
}
