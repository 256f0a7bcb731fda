//! Everything the object builders need, resolved and checked once: names, labels,
//! hashes, and each wire with its socket read from the configuration.

use std::collections::BTreeMap;

use harness_core::spec::{ConfigSpec, Direction, Expose, Protocol, Reach, SocketAddress, WireSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use prost_reflect::DynamicMessage;

use super::names::{self, check_dns1035_label, check_dns1123_label, check_port_name};
use super::{KubeGenError, Options, Sources};

pub const LABEL_NAME: &str = "app.kubernetes.io/name";
pub const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
pub const LABEL_VERSION: &str = "app.kubernetes.io/version";

/// Service port of HTTP outputs, as in harness.
pub const HTTP_SERVICE_PORT: u16 = 80;
/// Service port of gRPC outputs, as in harness.
pub const GRPC_SERVICE_PORT: u16 = 50051;

/// The message type whose wire needs the node's syslog socket mounted.
pub const SYSLOG_TYPE: &str = "harness.logging.Syslog";
/// The syslog socket when the Syslog wire names none.
pub const DEFAULT_SYSLOG_SOCKET: &str = "/dev/log";

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
    /// Notes for stderr: the manifests are valid, but probably not what was meant.
    pub warnings: Vec<String>,
}

impl<'a> Context<'a> {
    pub fn new(
        spec: &'a ConfigSpec,
        config: &DynamicMessage,
        sources: &Sources<'a>,
        options: &Options,
    ) -> Result<Self, KubeGenError> {
        let file = spec.message.parent_file().name().to_owned();
        let name = spec
            .service
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| KubeGenError::NoName { file: file.clone() })?;
        check_dns1035_label(&name).map_err(|reason| KubeGenError::Invalid {
            what: "(harness.service).name".into(),
            value: name.clone(),
            rule: "a DNS-1035 label",
            reason,
        })?;
        let repository = spec
            .service
            .repository
            .clone()
            .filter(|r| !r.trim().is_empty())
            .ok_or_else(|| KubeGenError::NoRepository {
                file: file.clone(),
                message: spec.message.full_name().to_owned(),
            })?;
        if let Some(bad) = repository
            .chars()
            .find(|c| c.is_whitespace() || c.is_ascii_uppercase() || *c == '@')
        {
            return Err(KubeGenError::Invalid {
                what: "(harness.service).container.repository".into(),
                value: repository.clone(),
                rule: "an image repository",
                reason: format!(
                    "it contains {bad:?}; a repository is lower-case, without tag or digest"
                ),
            });
        }
        names::check_version(&options.version).map_err(|reason| KubeGenError::Invalid {
            what: "VERSION".into(),
            value: options.version.clone(),
            rule: "an image tag and label value",
            reason,
        })?;
        check_dns1123_label(&options.namespace).map_err(|reason| KubeGenError::Invalid {
            what: "--namespace".into(),
            value: options.namespace.clone(),
            rule: "a DNS-1123 label",
            reason,
        })?;
        let full_name = match &options.instance {
            Some(instance) => {
                check_dns1123_label(instance).map_err(|reason| KubeGenError::Invalid {
                    what: "--instance".into(),
                    value: instance.clone(),
                    rule: "a DNS-1123 label",
                    reason,
                })?;
                format!("{name}-{instance}")
            }
            None => name.clone(),
        };
        check_dns1035_label(&full_name).map_err(|reason| KubeGenError::Invalid {
            what: "NAME-INSTANCE, the name of the Deployment and Service,".into(),
            value: full_name.clone(),
            rule: "a DNS-1035 label",
            reason,
        })?;
        let public_host = match &options.base_domain {
            Some(domain) => {
                names::check_domain(domain).map_err(|reason| KubeGenError::BaseDomain {
                    value: domain.clone(),
                    reason,
                })?;
                let host = format!("{full_name}.{domain}");
                names::check_dns1123_subdomain(&host).map_err(|reason| {
                    KubeGenError::BaseDomain {
                        value: domain.clone(),
                        reason: format!("the public host {host} is not valid: {reason}"),
                    }
                })?;
                Some(host)
            }
            None => None,
        };

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
        let mut service_outputs = Vec::new();
        let mut headless_outputs = Vec::new();
        for wire in &outputs {
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
                let reason = if wire.spec.socket.is_none() {
                    format!(
                        "its type {} has no harness.net.Socket field",
                        wire.spec.config_type
                    )
                } else {
                    "its socket is not set in the configuration".to_owned()
                };
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
            let port_name = wire.port_name().unwrap_or_default();
            if is_loopback(&address.host) {
                warnings.push(format!(
                    "output `{}` binds {}: only the pod itself can reach it; bind 0.0.0.0 to serve it",
                    wire.spec.name, address.host
                ));
            }
            let exposed = Exposed {
                wire: wire.clone(),
                protocol,
                port_name,
                container_port: address.port,
                service_port: address.port,
            };
            if expose == Expose::Headless {
                headless_outputs.push(exposed);
            } else {
                service_outputs.push(exposed);
            }
        }
        assign_service_ports(&mut service_outputs)?;
        check_unique_container_ports(&outputs)?;

        let hashed = |text: &'a str| (text, names::content_hash(text));
        let mut ctx = Context {
            name,
            full_name,
            namespace: options.namespace.clone(),
            version: options.version.clone(),
            repository,
            public_host,
            config_text: sources.config,
            config_hash: names::content_hash(sources.config),
            merge: sources.merge.map(hashed),
            patch: sources.patch.map(hashed),
            spec,
            inputs,
            outputs,
            service_outputs,
            headless_outputs,
            syslog_socket: None,
            warnings,
        };
        ctx.syslog_socket = ctx.find_syslog_socket(config);
        Ok(ctx)
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

    /// The labels that select this deployment's pods: name and instance. The instance
    /// is always set (to NAME or NAME-INSTANCE), so two instances never select each
    /// other's pods.
    pub fn selector_labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (LABEL_NAME.to_owned(), self.name.clone()),
            (LABEL_INSTANCE.to_owned(), self.full_name.clone()),
        ])
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
        format!("{}.{}.svc.cluster.local", self.full_name, self.namespace)
    }

    pub fn image(&self) -> String {
        format!("{}:{}", self.repository, self.version)
    }

    /// The node's syslog socket the pod mounts: the `path` of a configured Syslog wire
    /// (default `/dev/log`), unless the wire sends to a server over the network.
    fn find_syslog_socket(&self, config: &DynamicMessage) -> Option<String> {
        self.inputs.iter().find_map(|wire| {
            if wire.spec.config_type != SYSLOG_TYPE {
                return None;
            }
            let value = wire.spec.value(config)?;
            if value.has_field_by_name("address") {
                return None;
            }
            let path = value
                .get_field_by_name("path")
                .and_then(|v| v.as_str().map(str::to_owned))
                .filter(|p| !p.is_empty());
            Some(path.unwrap_or_else(|| DEFAULT_SYSLOG_SOCKET.to_owned()))
        })
    }
}

fn resolve_wire<'a>(spec: &'a WireSpec, config: &DynamicMessage) -> Result<Wire<'a>, KubeGenError> {
    let configured = spec.value(config).is_some();
    let address = spec
        .socket_address(config)
        .map_err(KubeGenError::Socket)?
        .filter(|a| !a.host.is_empty() && a.port != 0);
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

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
