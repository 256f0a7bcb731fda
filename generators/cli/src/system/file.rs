//! The system file: the services of one deployment environment, read with positions.
//!
//! ```yaml
//! namespace: prod                 # default namespace of every service (default: default)
//! base_domain: acme.dev           # optional, as kube-gen --base-domain
//! services:
//!   - proto: scotty/proto/scotty.proto
//!     config: scotty/scotty.prod.yaml
//!     version: v1
//!   - proto: kirk/proto/kirk.proto
//!     include: [scotty/proto]     # -I directories, optional
//!     config: kirk/kirk.prod.yaml
//!     merge: kirk/secrets.yaml    # optional, as --secret-merge; `patch:` likewise
//!     version: v1
//!     instance: blue              # optional, as --instance
//!     namespace: bridge           # optional, overrides the default
//! outside:                        # optional: peers that harness does not manage
//!   - {host: auth.identity.svc.cluster.local, port: 50051, protocol: GRPC}
//! ```
//!
//! These keys are a contract: other tools write such files. Paths are relative to the
//! file. An unknown key is an error, located like every other one.

use std::path::{Path, PathBuf};

use harness_core::config::{self, ConfigError, Diagnostic, Source, Step};
use harness_core::spec::Protocol;
use serde::Deserialize;

use crate::kube::names::{self, ServiceHost};

/// The namespace of services that neither the file nor their entry names.
pub const DEFAULT_NAMESPACE: &str = "default";

/// A system file, read and checked.
#[derive(Debug, Clone)]
pub struct SystemFile {
    /// The file's text, to locate errors about it.
    pub source: Source,
    pub namespace: String,
    pub base_domain: Option<String>,
    pub services: Vec<ServiceEntry>,
    pub outside: Vec<OutsideEntry>,
}

/// One service of the system; its paths are joined to the system file's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    /// Its index in `services`, to locate errors about it.
    pub index: usize,
    pub proto: PathBuf,
    pub include: Vec<PathBuf>,
    pub config: PathBuf,
    pub merge: Option<PathBuf>,
    pub patch: Option<PathBuf>,
    pub version: String,
    pub instance: Option<String>,
    /// The entry's namespace, or else the file's.
    pub namespace: String,
}

/// A peer that harness does not manage, which NAMESPACE and CLUSTER inputs may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsideEntry {
    /// As written.
    pub host: String,
    /// The Service it names, a host without namespace being in the file's namespace.
    pub service: ServiceHost,
    pub port: u16,
    pub protocol: Protocol,
}

/// Why a system file cannot be used: it cannot be read (exit 2), or it is not a valid
/// system file (exit 1, each problem located).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{0}")]
    Read(ConfigError),
    #[error("{}", lines(.0))]
    Invalid(Vec<Diagnostic>),
}

fn lines(diagnostics: &[Diagnostic]) -> String {
    let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    namespace: Option<String>,
    base_domain: Option<String>,
    services: Vec<RawService>,
    #[serde(default)]
    outside: Vec<RawOutside>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    proto: PathBuf,
    #[serde(default)]
    include: Vec<PathBuf>,
    config: PathBuf,
    merge: Option<PathBuf>,
    patch: Option<PathBuf>,
    version: String,
    instance: Option<String>,
    namespace: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutside {
    host: String,
    port: u16,
    protocol: RawProtocol,
}

#[derive(Deserialize, Clone, Copy)]
enum RawProtocol {
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "HTTP")]
    Http,
    #[serde(rename = "GRPC")]
    Grpc,
}

impl From<RawProtocol> for Protocol {
    fn from(raw: RawProtocol) -> Self {
        match raw {
            RawProtocol::Tcp => Protocol::Tcp,
            RawProtocol::Http => Protocol::Http,
            RawProtocol::Grpc => Protocol::Grpc,
        }
    }
}

impl SystemFile {
    /// Reads and checks the system file at `path`.
    pub fn read(path: &Path) -> Result<Self, FileError> {
        let source = Source::read(path).map_err(FileError::Read)?;
        Self::parse(source)
    }

    /// Checks a system file already read.
    pub fn parse(source: Source) -> Result<Self, FileError> {
        let value = config::read_yaml(&source).map_err(|err| match err {
            ConfigError::Parse(diagnostic) => FileError::Invalid(vec![diagnostic]),
            other => FileError::Read(other),
        })?;
        let raw: RawFile = serde_path_to_error::deserialize(value).map_err(|err| {
            let steps = steps_of(err.path());
            let message = err.into_inner().to_string();
            FileError::Invalid(vec![diagnostic_at(&source, &steps, message)])
        })?;
        let mut problems = Vec::new();
        let file = Self::from_raw(source, raw, &mut problems);
        if problems.is_empty() {
            Ok(file)
        } else {
            Err(FileError::Invalid(problems))
        }
    }

    fn from_raw(source: Source, raw: RawFile, problems: &mut Vec<Diagnostic>) -> Self {
        let dir = source.path.parent().unwrap_or(Path::new("")).to_path_buf();
        let mut checker = Checker {
            source: &source,
            problems,
        };
        let namespace = raw
            .namespace
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
        checker.label(vec![named("namespace")], &namespace, "a namespace");
        if let Some(domain) = &raw.base_domain {
            let verdict = names::check_domain(domain);
            checker.check(vec![named("base_domain")], domain, "a domain", verdict);
        }
        let services = (raw.services.into_iter().enumerate())
            .map(|(index, service)| {
                checker.service(index, &service);
                ServiceEntry {
                    index,
                    proto: dir.join(&service.proto),
                    include: service.include.iter().map(|d| dir.join(d)).collect(),
                    config: dir.join(&service.config),
                    merge: service.merge.as_ref().map(|p| dir.join(p)),
                    patch: service.patch.as_ref().map(|p| dir.join(p)),
                    version: service.version,
                    instance: service.instance,
                    namespace: service.namespace.unwrap_or_else(|| namespace.clone()),
                }
            })
            .collect();
        let outside = (raw.outside.into_iter().enumerate())
            .filter_map(|(index, entry)| checker.outside(index, entry, &namespace))
            .collect();
        SystemFile {
            source,
            namespace,
            base_domain: raw.base_domain,
            services,
            outside,
        }
    }

    /// A diagnostic about the value at `steps` of this file.
    pub fn diagnostic(&self, steps: &[Step], message: String) -> Diagnostic {
        diagnostic_at(&self.source, steps, message)
    }
}

/// Checks the values of a system file, collecting every problem.
struct Checker<'a> {
    source: &'a Source,
    problems: &'a mut Vec<Diagnostic>,
}

impl Checker<'_> {
    fn check(&mut self, steps: Vec<Step>, value: &str, rule: &str, verdict: Result<(), String>) {
        if let Err(reason) = verdict {
            let message = format!("`{value}` is not {rule}: {reason}");
            self.problems
                .push(diagnostic_at(self.source, &steps, message));
        }
    }

    /// A namespace or instance name: a DNS-1123 label.
    fn label(&mut self, steps: Vec<Step>, value: &str, what: &str) {
        let verdict = names::check_dns1123_label(value);
        self.check(steps, value, &format!("{what} (a DNS-1123 label)"), verdict);
    }

    fn service(&mut self, index: usize, service: &RawService) {
        let at = |field: &str| vec![services_key(), Step::Index(index), named(field)];
        let version = &service.version;
        let verdict = names::check_version(version);
        self.check(
            at("version"),
            version,
            "an image tag and label value",
            verdict,
        );
        if let Some(instance) = &service.instance {
            self.label(at("instance"), instance, "an instance name");
        }
        if let Some(namespace) = &service.namespace {
            self.label(at("namespace"), namespace, "a namespace");
        }
    }

    fn outside(
        &mut self,
        index: usize,
        entry: RawOutside,
        namespace: &str,
    ) -> Option<OutsideEntry> {
        let Some(service) = ServiceHost::parse(&entry.host, namespace) else {
            self.problems.push(diagnostic_at(
                self.source,
                &[named("outside"), Step::Index(index), named("host")],
                format!(
                    "`{}` is not a Service name of the cluster (NAME, NAME.NS, NAME.NS.svc or NAME.NS.svc.cluster.local); an EXTERNAL input needs no entry",
                    entry.host
                ),
            ));
            return None;
        };
        Some(OutsideEntry {
            host: entry.host,
            service,
            port: entry.port,
            protocol: entry.protocol.into(),
        })
    }
}

/// The step to a key of the file.
pub fn named(key: &str) -> Step {
    Step::Key(vec![key.to_owned()])
}

fn services_key() -> Step {
    named("services")
}

/// The steps to entry `index` of `services`.
pub fn service_steps(index: usize) -> Vec<Step> {
    vec![services_key(), Step::Index(index)]
}

fn diagnostic_at(source: &Source, steps: &[Step], message: String) -> Diagnostic {
    let shown = path_text(steps);
    Diagnostic {
        file: Some(source.path.clone()),
        position: config::position_in(source, steps),
        path: (!shown.is_empty()).then_some(shown),
        message,
    }
}

/// `services[1].config`.
fn path_text(steps: &[Step]) -> String {
    let mut text = String::new();
    for step in steps {
        match step {
            Step::Key(names) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(names.first().map(String::as_str).unwrap_or_default());
            }
            Step::Index(index) => text.push_str(&format!("[{index}]")),
        }
    }
    text
}

fn steps_of(path: &serde_path_to_error::Path) -> Vec<Step> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(Step::Index(*index)),
            Segment::Map { key } => Some(named(key)),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SystemFile, String> {
        SystemFile::parse(Source::new("sys/system.yaml", text)).map_err(|e| e.to_string())
    }

    #[test]
    fn paths_are_relative_to_the_file_and_namespaces_default() {
        let file = parse(
            "namespace: prod\nservices:\n  - {proto: a/a.proto, config: a/a.yaml, version: v1, include: [b]}\n  - {proto: b.proto, config: b.yaml, version: v2, namespace: eng}\noutside:\n  - {host: otel, port: 4317, protocol: TCP}\n",
        )
        .unwrap();
        assert_eq!(file.services[0].proto, Path::new("sys/a/a.proto"));
        assert_eq!(file.services[0].include, [PathBuf::from("sys/b")]);
        assert_eq!(file.services[0].namespace, "prod");
        assert_eq!(file.services[1].namespace, "eng");
        assert_eq!(
            file.outside[0].service.fqdn(),
            "otel.prod.svc.cluster.local"
        );
        assert_eq!(file.outside[0].protocol, Protocol::Tcp);
    }

    #[test]
    fn errors_are_located() {
        let err = parse("services:\n  - proto: a.proto\n    confg: a.yaml\n    version: v1\n")
            .unwrap_err();
        assert!(
            err.starts_with("sys/system.yaml:3:12: services[0].confg: unknown field `confg`"),
            "{err}"
        );
        let err = parse("namespace: Prod\nservices: []\n").unwrap_err();
        assert!(
            err.starts_with("sys/system.yaml:1:12: namespace: `Prod` is not"),
            "{err}"
        );
        let err = parse("services: []\noutside:\n  - {host: 10.0.0.1, port: 1, protocol: TCP}\n")
            .unwrap_err();
        assert!(
            err.starts_with("sys/system.yaml:3:12: outside[0].host:"),
            "{err}"
        );
        let err =
            parse("services: []\noutside:\n  - {host: a, port: 1, protocol: UDP}\n").unwrap_err();
        assert!(err.starts_with("sys/system.yaml:3:"), "{err}");
        assert!(err.contains("unknown variant `UDP`"), "{err}");
    }
}
