//! Everything the object builders need, resolved and checked once: names, labels,
//! hashes, and each wire with its socket read from the configuration.

use std::collections::BTreeMap;

use harness_core::config::{self, Sources};
use harness_core::spec::{
    ConfigSpec, Direction, Expose, Protocol, Reach, SocketAddress, SocketPart, WireSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use prost_reflect::DynamicMessage;

use super::names::{self, ServiceHost, check_dns1035_label, check_dns1123_label, check_port_name};
use super::{KubeGenError, Options};

pub const LABEL_NAME: &str = "app.kubernetes.io/name";
pub const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
pub const LABEL_VERSION: &str = "app.kubernetes.io/version";

/// Service port of HTTP outputs, as in harness.
pub const HTTP_SERVICE_PORT: u16 = 80;
/// Service port of gRPC outputs, as in harness.
pub const GRPC_SERVICE_PORT: u16 = 50051;

/// The message type whose wire needs the node's syslog socket mounted.
pub const SYSLOG_TYPE: &str = "harness.logging.Syslog";

/// A wire of the service with its socket, when it has one in this configuration.
#[derive(Debug, Clone)]
pub struct Wire<'a> {
    pub spec: &'a WireSpec,
    /// The field name as used in Kubernetes names: `user_db` -> `user-db`.
    pub slug: String,
    /// Protocol and address; `None` when the wire has no socket or is not configured.
    pub socket: Option<(Protocol, SocketAddress)>,
    /// Whether the wire's field is set in the configuration.
    pub configured: bool,
}

impl Wire<'_> {
    /// `PROTOCOL-WIRE`, e.g. `http-server`: the port name of this wire's socket.
    pub fn port_name(&self) -> Option<String> {
        let (protocol, _) = self.socket.as_ref()?;
        Some(format!("{}-{}", protocol.as_str(), self.slug))
    }

    pub fn reach(&self) -> Option<Reach> {
        match self.spec.direction {
            Direction::Input(reach) => Some(reach),
            Direction::Output(_) => None,
        }
    }

    pub fn expose(&self) -> Option<Expose> {
        match self.spec.direction {
            Direction::Output(expose) => Some(expose),
            Direction::Input(_) => None,
        }
    }
}

/// An output reachable through a Service, with the port clients use.
#[derive(Debug, Clone)]
pub struct Exposed<'a> {
    pub wire: Wire<'a>,
    pub protocol: Protocol,
    pub port_name: String,
    pub container_port: u16,
    /// The Service port: 80 for HTTP, 50051 for gRPC, its own port for TCP (or its own
    /// port when another output of this Service already took 80 or 50051). For a
    /// headless Service, always the container port (clients connect to pods).
    pub service_port: u16,
}

/// The resolved input of every object builder.
#[derive(Debug)]
pub struct Context<'a> {
    /// `(harness.service).name`.
    pub name: String,
    /// `--instance`, when given.
    pub instance: Option<String>,
    /// `NAME` or `NAME-INSTANCE`: the Deployment's, Service's and Istio objects' name.
    pub full_name: String,
    pub namespace: String,
    pub version: String,
    pub repository: String,
    /// `NAME[-INSTANCE].DOMAIN` when `--base-domain` is given.
    pub public_host: Option<String>,
    pub config_text: &'a str,
    pub config_hash: String,
    pub merge: Option<(&'a str, String)>,
    pub patch: Option<(&'a str, String)>,
    pub spec: &'a ConfigSpec,
    pub inputs: Vec<Wire<'a>>,
    pub outputs: Vec<Wire<'a>>,
    /// INTERNAL and PUBLIC outputs with a socket, in field order.
    pub service_outputs: Vec<Exposed<'a>>,
    /// HEADLESS outputs with a socket, in field order.
    pub headless_outputs: Vec<Exposed<'a>>,
    /// The node's syslog socket to mount, for a configured Syslog wire.
    pub syslog_socket: Option<String>,
    /// The pods' own ServiceAccount (`FULL`), in a system; the namespace's default alone.
    pub service_account: Option<String>,
    /// Notes for stderr: the manifests are valid, but probably not what was meant.
    pub warnings: Vec<String>,
}

/// The labels that select the pods of service `name` (and of `instance`, when given),
/// exactly as the Python harness sets them.
pub fn selector_labels(name: &str, instance: Option<&str>) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([(LABEL_NAME.to_owned(), name.to_owned())]);
    if let Some(instance) = instance {
        labels.insert(LABEL_INSTANCE.to_owned(), instance.to_owned());
    }
    labels
}

/// `NAME` or `NAME-INSTANCE`: the name of a service's objects.
pub fn full_name(name: &str, instance: Option<&str>) -> String {
    match instance {
        Some(instance) => format!("{name}-{instance}"),
        None => name.to_owned(),
    }
}

/// The names of a service's objects, checked.
struct Naming {
    name: String,
    full_name: String,
    repository: String,
    public_host: Option<String>,
}

impl<'a> Context<'a> {
    pub fn new(
        spec: &'a ConfigSpec,
        config: &DynamicMessage,
        sources: &'a Sources,
        options: &Options,
    ) -> Result<Self, KubeGenError> {
        let naming = Naming::new(spec, options)?;
        let mut inputs = Vec::new();
        let mut outputs = Vec::new();
        for spec_wire in &spec.wires {
            let wire = resolve_wire(spec_wire, config)?;
            match spec_wire.direction {
                Direction::Input(_) => inputs.push(wire),
                Direction::Output(_) => outputs.push(wire),
            }
        }
        let mut warnings = Vec::new();
        for wire in &inputs {
            check_input_host(wire, sources, &options.namespace, &mut warnings)?;
        }
        let (mut service_outputs, headless_outputs) = exposed_outputs(&outputs, &mut warnings)?;
        assign_service_ports(&mut service_outputs)?;
        check_unique_container_ports(&outputs)?;

        let service_account = options.peers.as_ref().map(|_| naming.full_name.clone());
        let hashed =
            |source: &'a config::Source| (source.text.as_str(), names::content_hash(&source.text));
        Ok(Context {
            name: naming.name,
            instance: options.instance.clone(),
            full_name: naming.full_name,
            namespace: options.namespace.clone(),
            version: options.version.clone(),
            repository: naming.repository,
            public_host: naming.public_host,
            config_text: &sources.config.text,
            config_hash: names::content_hash(&sources.config.text),
            merge: sources.merge.as_ref().map(hashed),
            patch: sources.patch.as_ref().map(hashed),
            spec,
            syslog_socket: syslog_socket(&inputs, config),
            service_account,
            inputs,
            outputs,
            service_outputs,
            headless_outputs,
            warnings,
        })
    }

    /// `FULL_NAME-SUFFIX...`
    pub fn object_name(&self, suffix: &[&str]) -> String {
        let mut name = self.full_name.clone();
        for part in suffix {
            name.push('-');
            name.push_str(part);
        }
        name
    }

    pub fn config_map_name(&self) -> String {
        self.object_name(&["config", &self.config_hash])
    }

    pub fn merge_secret_name(&self) -> Option<String> {
        let (_, hash) = self.merge.as_ref()?;
        Some(self.object_name(&["config-merge", hash]))
    }

    pub fn patch_secret_name(&self) -> Option<String> {
        let (_, hash) = self.patch.as_ref()?;
        Some(self.object_name(&["config-patch", hash]))
    }

    /// The labels that select this deployment's pods, exactly as the Python harness sets
    /// them (selectors are immutable, so a service moves over in place): the name, and
    /// the instance name with `--instance`.
    pub fn selector_labels(&self) -> BTreeMap<String, String> {
        selector_labels(&self.name, self.instance.as_deref())
    }

    /// Metadata of an object of this service.
    pub fn metadata(&self, name: String) -> ObjectMeta {
        ObjectMeta {
            name: Some(name),
            namespace: Some(self.namespace.clone()),
            labels: Some(self.selector_labels()),
            ..Default::default()
        }
    }

    /// `NAME[-INSTANCE].NAMESPACE.svc.cluster.local`: the Service's host in the mesh.
    pub fn service_host(&self) -> String {
        ServiceHost {
            name: self.full_name.clone(),
            namespace: self.namespace.clone(),
        }
        .fqdn()
    }

    pub fn image(&self) -> String {
        format!("{}:{}", self.repository, self.version)
    }
}

impl Naming {
    fn new(spec: &ConfigSpec, options: &Options) -> Result<Self, KubeGenError> {
        let file = spec.message.parent_file().name().to_owned();
        let invalid = KubeGenError::invalid;
        let name = spec
            .service
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| KubeGenError::NoName { file: file.clone() })?;
        check_dns1035_label(&name).map_err(invalid(
            "(harness.service).name",
            &name,
            "a DNS-1035 label",
        ))?;
        let repository = spec
            .service
            .repository
            .clone()
            .filter(|r| !r.trim().is_empty())
            .ok_or_else(|| KubeGenError::NoRepository {
                file,
                message: spec.message.full_name().to_owned(),
            })?;
        names::check_repository(&repository).map_err(invalid(
            "(harness.service).container.repository",
            &repository,
            "an image repository",
        ))?;
        names::check_version(&options.version).map_err(invalid(
            "VERSION",
            &options.version,
            "an image tag and label value",
        ))?;
        check_dns1123_label(&options.namespace).map_err(invalid(
            "--namespace",
            &options.namespace,
            "a DNS-1123 label",
        ))?;
        if let Some(instance) = &options.instance {
            check_dns1123_label(instance).map_err(invalid(
                "--instance",
                instance,
                "a DNS-1123 label",
            ))?;
        }
        let full_name = full_name(&name, options.instance.as_deref());
        check_dns1035_label(&full_name).map_err(invalid(
            "NAME-INSTANCE, the name of the Deployment and Service,",
            &full_name,
            "a DNS-1035 label",
        ))?;
        let public_host = options
            .base_domain
            .as_deref()
            .map(|domain| public_host(&full_name, domain))
            .transpose()?;
        Ok(Naming {
            name,
            full_name,
            repository,
            public_host,
        })
    }
}

/// `FULL_NAME.DOMAIN`, checked.
fn public_host(full_name: &str, domain: &str) -> Result<String, KubeGenError> {
    names::check_domain(domain).map_err(|reason| KubeGenError::BaseDomain {
        value: domain.to_owned(),
        reason,
    })?;
    let host = format!("{full_name}.{domain}");
    names::check_dns1123_subdomain(&host).map_err(|reason| KubeGenError::BaseDomain {
        value: domain.to_owned(),
        reason: format!("the public host {host} is not valid: {reason}"),
    })?;
    Ok(host)
}

fn resolve_wire<'a>(spec: &'a WireSpec, config: &DynamicMessage) -> Result<Wire<'a>, KubeGenError> {
    let configured = spec.value(config).is_some();
    let address = spec.socket_address(config).map_err(KubeGenError::Socket)?;
    let socket = match (&spec.socket, address) {
        (Some(socket), Some(address)) => Some((socket.protocol, address)),
        _ => None,
    };
    Ok(Wire {
        spec,
        slug: names::wire_slug(&spec.name),
        socket,
        configured,
    })
}

/// An input's host must be what a pod can reach as its reach says: a Service's name for
/// NAMESPACE and CLUSTER, anything but the pod itself for EXTERNAL. A LOCALHOST input
/// elsewhere than the pod only gets a warning.
fn check_input_host(
    wire: &Wire<'_>,
    sources: &Sources,
    namespace: &str,
    warnings: &mut Vec<String>,
) -> Result<(), KubeGenError> {
    let (Some(reach), Some((_, address))) = (wire.reach(), &wire.socket) else {
        return Ok(());
    };
    let located = |message: String| {
        let path = wire.spec.socket_path(SocketPart::Host).unwrap_or_default();
        config::locate(wire.spec.field.parent_message(), sources, &path, message)
    };
    let host = &address.host;
    match reach {
        Reach::Namespace | Reach::Cluster => {
            let problem = if address.is_loopback() {
                Some("is a loopback address: in a pod it is the pod itself")
            } else if address.ip().is_some() {
                Some("is an IP address: a pod reaches a Service of the cluster by its name")
            } else if ServiceHost::parse(host, namespace).is_none() {
                Some("is not a Service name of the cluster")
            } else {
                None
            };
            if let Some(problem) = problem {
                let reach = reach.as_str_name();
                return Err(KubeGenError::Host(located(format!(
                    "host `{host}` {problem}; a {reach} input names a Service: NAME, NAME.NS, NAME.NS.svc or NAME.NS.svc.cluster.local"
                ))));
            }
        }
        Reach::External if address.is_loopback() => {
            return Err(KubeGenError::Host(located(format!(
                "host `{host}` is a loopback address: in a pod it is the pod itself; an EXTERNAL input names a host outside the cluster"
            ))));
        }
        Reach::Localhost if !address.is_loopback() => warnings.push(
            located(format!(
                "host `{host}` is not a loopback address, but the input's reach is LOCALHOST: the Sidecar lets no traffic out to it"
            ))
            .to_string(),
        ),
        _ => {}
    }
    Ok(())
}

/// The outputs a Service exposes (INTERNAL, PUBLIC) and those of the headless Service.
fn exposed_outputs<'a>(
    outputs: &[Wire<'a>],
    warnings: &mut Vec<String>,
) -> Result<(Vec<Exposed<'a>>, Vec<Exposed<'a>>), KubeGenError> {
    let mut service_outputs = Vec::new();
    let mut headless_outputs = Vec::new();
    for wire in outputs {
        if let Some(port_name) = wire.port_name() {
            check_port_name(&port_name).map_err(|reason| KubeGenError::Invalid {
                what: format!("the port name of output `{}`", wire.spec.name),
                value: port_name.clone(),
                rule: "a port name (IANA service name); shorten the field's name",
                reason,
            })?;
        }
        let Some(expose) = wire.expose() else {
            continue;
        };
        if expose == Expose::Private || !wire.configured {
            continue;
        }
        let Some((protocol, address)) = wire.socket.clone() else {
            let reason = format!(
                "its type {} has no harness.net.Socket field",
                wire.spec.config_type
            );
            if expose == Expose::Public {
                return Err(KubeGenError::PublicWithoutSocket {
                    wire: wire.spec.name.clone(),
                    reason,
                });
            }
            warnings.push(format!(
                "output `{}` is exposed but {reason}: it gets no Service port",
                wire.spec.name
            ));
            continue;
        };
        if address.is_loopback() {
            warnings.push(format!(
                "output `{}` binds {}: only the pod itself can reach it; bind 0.0.0.0 to serve it",
                wire.spec.name, address.host
            ));
        }
        let exposed = Exposed {
            wire: wire.clone(),
            protocol,
            port_name: wire.port_name().unwrap_or_default(),
            container_port: address.port,
            service_port: address.port,
        };
        if expose == Expose::Headless {
            headless_outputs.push(exposed);
        } else {
            service_outputs.push(exposed);
        }
    }
    Ok((service_outputs, headless_outputs))
}

/// The node's syslog socket the pod mounts, for a configured Syslog wire that writes to
/// one (not to a server over the network).
fn syslog_socket(inputs: &[Wire<'_>], config: &DynamicMessage) -> Option<String> {
    inputs.iter().find_map(|wire| {
        if wire.spec.config_type != SYSLOG_TYPE {
            return None;
        }
        let syslog: harness_core::proto::harness::logging::Syslog =
            wire.spec.value(config)?.transcode_to().ok()?;
        harness_core::contract::syslog_socket(&syslog).map(str::to_owned)
    })
}

/// 80 for the first HTTP output, 50051 for the first gRPC output, the container port
/// otherwise; an error when two outputs would still share a Service port.
fn assign_service_ports(outputs: &mut [Exposed<'_>]) -> Result<(), KubeGenError> {
    let mut taken: Vec<u16> = Vec::new();
    for output in outputs.iter_mut() {
        let preferred = match output.protocol {
            Protocol::Http => HTTP_SERVICE_PORT,
            Protocol::Grpc => GRPC_SERVICE_PORT,
            Protocol::Tcp => output.container_port,
        };
        let port = if taken.contains(&preferred) {
            output.container_port
        } else {
            preferred
        };
        if taken.contains(&port) {
            return Err(KubeGenError::DuplicatePort {
                wire: output.wire.spec.name.clone(),
                port,
            });
        }
        taken.push(port);
        output.service_port = port;
    }
    Ok(())
}

/// Two outputs listening on one port cannot both be served: an error, not a pod that
/// fails to start.
fn check_unique_container_ports(outputs: &[Wire<'_>]) -> Result<(), KubeGenError> {
    let port = |w: &Wire<'_>| w.socket.as_ref().map(|(_, a)| a.port);
    for (i, output) in outputs.iter().enumerate() {
        let Some(mine) = port(output) else { continue };
        if outputs[..i].iter().any(|o| port(o) == Some(mine)) {
            return Err(KubeGenError::DuplicatePort {
                wire: output.spec.name.clone(),
                port: mine,
            });
        }
    }
    Ok(())
}
