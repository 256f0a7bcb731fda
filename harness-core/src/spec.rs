//! The configuration spec of a service: what its `Configuration` message declares.
//!
//! One owner for reading `(harness.service)`, `(harness.wire)` and `(harness.mark)`:
//! the code generator, `harness check`, `harness kube-gen` and the runtime all take a
//! [`ConfigSpec`] from here instead of reading options themselves.

use prost_reflect::{
    DescriptorPool, DynamicMessage, ExtensionDescriptor, FieldDescriptor, Kind, MessageDescriptor,
    ReflectMessage, Value,
};

/// The name every service's configuration message has.
pub const CONFIGURATION: &str = "Configuration";

/// Why a proto does not describe a service.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpecError {
    #[error("{file}: no message named `Configuration`; a service declares its contract in one")]
    NoConfiguration { file: String },
    #[error(
        "{file}: {message}.{field}: (harness.wire) is set on a field of type {kind}; a wire's field must be a message"
    )]
    WireNotMessage {
        file: String,
        message: String,
        field: String,
        kind: String,
    },
    #[error(
        "{file}: {message}.{field}: (harness.wire) needs `input.type` or `output.type`, the Rust path of the wire"
    )]
    WireWithoutType {
        file: String,
        message: String,
        field: String,
    },
    #[error(
        "{file}: {message}.{field}: (harness.wire) is repeated or a map; a wire's field must be a single message"
    )]
    WireNotSingular {
        file: String,
        message: String,
        field: String,
    },
}

/// Where the peer of an input wire lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reach {
    Localhost,
    Namespace,
    Cluster,
    External,
}

/// Who may connect to an output wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Expose {
    Private,
    Headless,
    Internal,
    Public,
}

/// The protocol spoken over a wire's socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Http,
    Grpc,
}

impl Protocol {
    /// Lower-case name, as used in port names: `http-server`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
        }
    }
}

/// Whether a wire is a connection the service needs or something it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Input(Reach),
    Output(Expose),
}

/// How a wire's configuration message says where its socket is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketForm {
    /// A `harness.net.Socket` field: `{host, port}`.
    Socket,
    /// A string field holding a URL (a DSN); host and port come from the URL.
    Url,
}

/// The socket of a wire: one field of its configuration message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketSpec {
    /// Field name inside the wire's message, e.g. `bind`, `address`, `url`.
    pub field: String,
    pub protocol: Protocol,
    pub form: SocketForm,
}

/// One `(harness.wire)` field of the configuration message.
#[derive(Debug, Clone)]
pub struct WireSpec {
    /// Field name, e.g. `db`; also the wire's name in manifests.
    pub name: String,
    pub field: FieldDescriptor,
    /// Full name of the wire's configuration message, e.g. `harness.postgres.Pool`.
    pub config_type: String,
    /// The Rust type implementing the wire, verbatim from the proto.
    pub rust_type: String,
    pub direction: Direction,
    /// `(validate.rules).message.required = true`; optional wires are `Option<_>`.
    pub required: bool,
    pub socket: Option<SocketSpec>,
}

/// Resource quantities of one kind (requests or limits).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resource {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

/// `(harness.service)`: facts about the service as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceSpec {
    pub name: Option<String>,
    pub repository: Option<String>,
    pub requests: Resource,
    pub limits: Resource,
}

/// What a service's `Configuration` message declares.
#[derive(Debug, Clone)]
pub struct ConfigSpec {
    pub message: MessageDescriptor,
    pub service: ServiceSpec,
    pub wires: Vec<WireSpec>,
}

/// A host and port read from a configuration value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketAddress {
    pub host: String,
    pub port: u16,
}

/// Why a wire's socket could not be read from the configuration.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SocketError {
    #[error("{wire}.{field}: not a URL: {reason}")]
    NotUrl {
        wire: String,
        field: String,
        reason: String,
    },
    #[error("{wire}.{field}: the URL has no host")]
    NoHost { wire: String, field: String },
    #[error("{wire}.{field}: the URL has no port and its scheme `{scheme}` has no default port")]
    NoPort {
        wire: String,
        field: String,
        scheme: String,
    },
    #[error("{wire}.{field}.port: {port} is not a TCP port")]
    BadPort {
        wire: String,
        field: String,
        port: u32,
    },
}

impl ConfigSpec {
    /// Reads the spec of the `Configuration` message of `file` in `pool`.
    pub fn from_file(pool: &DescriptorPool, file: &str) -> Result<Self, SpecError> {
        let message = pool
            .get_file_by_name(file)
            .and_then(|file| file.messages().find(|m| m.name() == CONFIGURATION))
            .ok_or_else(|| SpecError::NoConfiguration {
                file: file.to_owned(),
            })?;
        Self::from_message(&message)
    }

    /// Reads the spec of a configuration message.
    pub fn from_message(message: &MessageDescriptor) -> Result<Self, SpecError> {
        let options = Options::of(message.parent_pool());
        let file = message.parent_file().name().to_owned();
        let service = options.service(message);
        let mut wires = Vec::new();
        for field in message.fields() {
            let Some(wire) = options.message_extension(&field.options(), &options.wire) else {
                continue;
            };
            let located = |field: &FieldDescriptor| {
                (
                    file.clone(),
                    message.name().to_owned(),
                    field.name().to_owned(),
                )
            };
            let Kind::Message(config_message) = field.kind() else {
                let (file, message, field_name) = located(&field);
                return Err(SpecError::WireNotMessage {
                    file,
                    message,
                    field: field_name,
                    kind: kind_name(&field.kind()),
                });
            };
            if field.is_list() || field.is_map() {
                let (file, message, field) = located(&field);
                return Err(SpecError::WireNotSingular {
                    file,
                    message,
                    field,
                });
            }
            let (rust_type, direction) = wire_direction(&wire).ok_or_else(|| {
                let (file, message, field) = located(&field);
                SpecError::WireWithoutType {
                    file,
                    message,
                    field,
                }
            })?;
            wires.push(WireSpec {
                name: field.name().to_owned(),
                config_type: config_message.full_name().to_owned(),
                rust_type,
                direction,
                required: options.is_required(&field),
                socket: options.socket(&config_message),
                field,
            });
        }
        Ok(ConfigSpec {
            message: message.clone(),
            service,
            wires,
        })
    }

    pub fn inputs(&self) -> impl Iterator<Item = &WireSpec> {
        self.wires
            .iter()
            .filter(|w| matches!(w.direction, Direction::Input(_)))
    }

    pub fn outputs(&self) -> impl Iterator<Item = &WireSpec> {
        self.wires
            .iter()
            .filter(|w| matches!(w.direction, Direction::Output(_)))
    }
}

impl WireSpec {
    /// The wire's configuration in `config`, or `None` when the field is not set.
    pub fn value<'a>(&self, config: &'a DynamicMessage) -> Option<&'a DynamicMessage> {
        if !config.has_field(&self.field) {
            return None;
        }
        match config.get_field(&self.field) {
            std::borrow::Cow::Borrowed(Value::Message(message)) => Some(message),
            _ => None,
        }
    }

    /// Host and port of this wire's socket in `config`; `None` when the wire has no
    /// socket or is not configured.
    pub fn socket_address(
        &self,
        config: &DynamicMessage,
    ) -> Result<Option<SocketAddress>, SocketError> {
        let (Some(socket), Some(value)) = (&self.socket, self.value(config)) else {
            return Ok(None);
        };
        let Some(field) = value.descriptor().get_field_by_name(&socket.field) else {
            return Ok(None);
        };
        if !value.has_field(&field) {
            return Ok(None);
        }
        let field_value = value.get_field(&field);
        match socket.form {
            SocketForm::Socket => {
                let Some(message) = field_value.as_message() else {
                    return Ok(None);
                };
                let host = message
                    .get_field_by_name("host")
                    .and_then(|v| v.as_str().map(str::to_owned));
                let port = message.get_field_by_name("port").and_then(|v| v.as_u32());
                let (host, port) = (host.unwrap_or_default(), port.unwrap_or_default());
                let port = u16::try_from(port).map_err(|_| SocketError::BadPort {
                    wire: self.name.clone(),
                    field: socket.field.clone(),
                    port,
                })?;
                Ok(Some(SocketAddress { host, port }))
            }
            SocketForm::Url => {
                let text = field_value.as_str().unwrap_or_default();
                parse_url_address(text)
                    .map(Some)
                    .map_err(|reason| reason.into_error(&self.name, &socket.field))
            }
        }
    }
}

/// Why a URL gives no socket address; the URL itself is never kept (it may hold a password).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum UrlProblem {
    NotUrl(String),
    NoHost,
    NoPort(String),
}

impl UrlProblem {
    fn into_error(self, wire: &str, field: &str) -> SocketError {
        let (wire, field) = (wire.to_owned(), field.to_owned());
        match self {
            UrlProblem::NotUrl(reason) => SocketError::NotUrl {
                wire,
                field,
                reason,
            },
            UrlProblem::NoHost => SocketError::NoHost { wire, field },
            UrlProblem::NoPort(scheme) => SocketError::NoPort {
                wire,
                field,
                scheme,
            },
        }
    }
}

/// Host and port of a connection URL such as `postgres://user:pass@db:5432/app`.
pub(crate) fn parse_url_address(text: &str) -> Result<SocketAddress, UrlProblem> {
    let url = url::Url::parse(text).map_err(|err| UrlProblem::NotUrl(err.to_string()))?;
    let host = match url.host() {
        Some(url::Host::Domain(domain)) => domain.to_owned(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(UrlProblem::NoHost),
    };
    let port = url
        .port()
        .or_else(|| default_port(url.scheme()))
        .ok_or_else(|| UrlProblem::NoPort(url.scheme().to_owned()))?;
    Ok(SocketAddress { host, port })
}

/// Default ports of the schemes harness wires connect to.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" | "postgresql" => Some(5432),
        "mysql" | "mariadb" => Some(3306),
        "redis" => Some(6379),
        "rediss" => Some(6380),
        "nats" => Some(4222),
        "amqp" => Some(5672),
        "amqps" => Some(5671),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// The harness and validate extensions, looked up once per pool.
struct Options {
    wire: Option<ExtensionDescriptor>,
    mark: Option<ExtensionDescriptor>,
    service: Option<ExtensionDescriptor>,
    rules: Option<ExtensionDescriptor>,
}

impl Options {
    fn of(pool: &DescriptorPool) -> Self {
        Options {
            wire: pool.get_extension_by_name("harness.wire"),
            mark: pool.get_extension_by_name("harness.mark"),
            service: pool.get_extension_by_name("harness.service"),
            rules: pool.get_extension_by_name("validate.rules"),
        }
    }

    fn message_extension(
        &self,
        options: &DynamicMessage,
        ext: &Option<ExtensionDescriptor>,
    ) -> Option<DynamicMessage> {
        let ext = ext.as_ref()?;
        if !options.has_extension(ext) {
            return None;
        }
        options.get_extension(ext).as_message().cloned()
    }

    fn service(&self, message: &MessageDescriptor) -> ServiceSpec {
        let Some(service) = self.message_extension(&message.options(), &self.service) else {
            return ServiceSpec::default();
        };
        let container = submessage(&service, "container");
        let resources = container.as_ref().and_then(|c| submessage(c, "resources"));
        let resource = |name: &str| {
            let resource = resources.as_ref().and_then(|r| submessage(r, name));
            Resource {
                cpu: resource.as_ref().and_then(|r| string_field(r, "cpu")),
                memory: resource.as_ref().and_then(|r| string_field(r, "memory")),
            }
        };
        ServiceSpec {
            name: string_field(&service, "name"),
            repository: container
                .as_ref()
                .and_then(|c| string_field(c, "repository")),
            requests: resource("requests"),
            limits: resource("limits"),
        }
    }

    fn is_required(&self, field: &FieldDescriptor) -> bool {
        self.message_extension(&field.options(), &self.rules)
            .and_then(|rules| submessage(&rules, "message"))
            .and_then(|message| message.get_field_by_name("required")?.as_bool())
            .unwrap_or(false)
    }

    /// The first field of a wire's message marked with a protocol, or else its first
    /// `harness.net.Socket` field (TCP), as harness does.
    fn socket(&self, message: &MessageDescriptor) -> Option<SocketSpec> {
        let form = |field: &FieldDescriptor| match field.kind() {
            Kind::Message(m) if m.full_name() == "harness.net.Socket" => Some(SocketForm::Socket),
            Kind::String => Some(SocketForm::Url),
            _ => None,
        };
        let marked = message.fields().find_map(|field| {
            let mark = self.message_extension(&field.options(), &self.mark)?;
            if !mark.has_field_by_name("protocol") {
                return None;
            }
            let protocol = match mark.get_field_by_name("protocol")?.as_enum_number()? {
                1 => Protocol::Http,
                2 => Protocol::Grpc,
                _ => Protocol::Tcp,
            };
            Some(SocketSpec {
                field: field.name().to_owned(),
                protocol,
                form: form(&field)?,
            })
        });
        marked.or_else(|| {
            message.fields().find_map(|field| {
                (form(&field)? == SocketForm::Socket).then(|| SocketSpec {
                    field: field.name().to_owned(),
                    protocol: Protocol::Tcp,
                    form: SocketForm::Socket,
                })
            })
        })
    }
}

fn wire_direction(wire: &DynamicMessage) -> Option<(String, Direction)> {
    if let Some(input) = submessage(wire, "input") {
        let reach = match input.get_field_by_name("reach")?.as_enum_number()? {
            1 => Reach::Namespace,
            2 => Reach::Cluster,
            3 => Reach::External,
            _ => Reach::Localhost,
        };
        return Some((
            non_empty(string_field(&input, "type"))?,
            Direction::Input(reach),
        ));
    }
    let output = submessage(wire, "output")?;
    let expose = match output.get_field_by_name("expose")?.as_enum_number()? {
        1 => Expose::Headless,
        2 => Expose::Internal,
        3 => Expose::Public,
        _ => Expose::Private,
    };
    Some((
        non_empty(string_field(&output, "type"))?,
        Direction::Output(expose),
    ))
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty())
}

fn submessage(message: &DynamicMessage, name: &str) -> Option<DynamicMessage> {
    if !message.has_field_by_name(name) {
        return None;
    }
    message.get_field_by_name(name)?.as_message().cloned()
}

fn string_field(message: &DynamicMessage, name: &str) -> Option<String> {
    if !message.has_field_by_name(name) {
        return None;
    }
    message.get_field_by_name(name)?.as_str().map(str::to_owned)
}

fn kind_name(kind: &Kind) -> String {
    match kind {
        Kind::Message(m) => m.full_name().to_owned(),
        Kind::Enum(e) => e.full_name().to_owned(),
        other => format!("{other:?}").to_lowercase(),
    }
}

#[cfg(test)]
mod tests;
