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

pub use crate::proto::harness::input::Reach;
pub use crate::proto::harness::mark::Protocol;
pub use crate::proto::harness::output::Expose;
pub use crate::socket::{SocketAddress, SocketError};

use crate::path::FieldPath;
use crate::proto::harness as options;
use crate::validate::kind_name;

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
    /// The wire's message is itself shaped like `harness.net.Socket` (`string host = 1`,
    /// `uint32 port = 2`, the port marked with a protocol), as `harness.grpc.Endpoint`.
    Inline,
}

/// The socket of a wire: one field of its configuration message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketSpec {
    /// Field name inside the wire's message, e.g. `bind`, `address`, `value`; for the
    /// inline form, the port field.
    pub field: String,
    pub protocol: Protocol,
    pub form: SocketForm,
    /// Whether the wire needs it: a socket field that validation requires, and always a
    /// URL or inline socket. A wire that may run without it (`harness.logging.Syslog` on
    /// its Unix socket) leaves its socket field optional.
    pub required: bool,
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
    /// `(harness.wire).input.calls`: the gRPC services an input calls, by full name.
    pub calls: Vec<String>,
    /// `(harness.wire).output.serves`: the gRPC services an output serves, as declared
    /// (empty: the services of the service's own proto file).
    pub serves: Vec<String>,
}

/// Resource quantities of one kind (requests or limits).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resource {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

/// `(harness.service).scale`, with the defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleSpec {
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// Percent of the CPU request.
    pub cpu_utilization: u32,
    /// Requests one replica serves at once (Knative's containerConcurrency); 0: no limit.
    pub concurrency: u32,
}

impl ScaleSpec {
    /// Replicas when `min_replicas` is unset.
    pub const DEFAULT_MIN_REPLICAS: u32 = 1;
    /// Replicas at most when `max_replicas` is unset (or the minimum, when above it).
    pub const DEFAULT_MAX_REPLICAS: u32 = 2;
    /// CPU target when `cpu_utilization` is unset.
    pub const DEFAULT_CPU_UTILIZATION: u32 = 80;

    fn from_option(scale: &options::service::Scale) -> Self {
        let min_replicas = scale.min_replicas.unwrap_or(Self::DEFAULT_MIN_REPLICAS);
        ScaleSpec {
            min_replicas,
            max_replicas: scale
                .max_replicas
                .unwrap_or(Self::DEFAULT_MAX_REPLICAS.max(min_replicas)),
            cpu_utilization: scale
                .cpu_utilization
                .unwrap_or(Self::DEFAULT_CPU_UTILIZATION),
            concurrency: scale.concurrency.unwrap_or(0),
        }
    }
}

/// `(harness.service)`: facts about the service as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceSpec {
    pub name: Option<String>,
    pub repository: Option<String>,
    pub requests: Resource,
    pub limits: Resource,
    pub scale: Option<ScaleSpec>,
}

/// What a service's `Configuration` message declares.
#[derive(Debug, Clone)]
pub struct ConfigSpec {
    pub message: MessageDescriptor,
    pub service: ServiceSpec,
    pub wires: Vec<WireSpec>,
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
        let extensions = Extensions::of(message.parent_pool());
        let service = extensions
            .read::<options::Service>(&message.options(), &extensions.service)
            .map(|service| ServiceSpec::from_option(&service))
            .unwrap_or_default();
        let mut wires = Vec::new();
        for field in message.fields() {
            let Some(wire) = extensions.read::<options::Wire>(&field.options(), &extensions.wire)
            else {
                continue;
            };
            wires.push(WireSpec::new(&extensions, message, field, wire)?);
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

impl ServiceSpec {
    fn from_option(service: &options::Service) -> Self {
        let container = service.container.as_ref();
        let resources = container.and_then(|c| c.resources.as_ref());
        let resource = |r: Option<&options::service::Resource>| Resource {
            cpu: r.and_then(|r| r.cpu.clone()),
            memory: r.and_then(|r| r.memory.clone()),
        };
        ServiceSpec {
            name: service.name.clone(),
            repository: container.and_then(|c| c.repository.clone()),
            requests: resource(resources.and_then(|r| r.requests.as_ref())),
            limits: resource(resources.and_then(|r| r.limits.as_ref())),
            scale: service.scale.as_ref().map(ScaleSpec::from_option),
        }
    }
}

impl WireSpec {
    fn new(
        extensions: &Extensions,
        message: &MessageDescriptor,
        field: FieldDescriptor,
        wire: options::Wire,
    ) -> Result<Self, SpecError> {
        let located = || {
            (
                message.parent_file().name().to_owned(),
                message.name().to_owned(),
                field.name().to_owned(),
            )
        };
        let Kind::Message(config_message) = field.kind() else {
            let (file, message, field_name) = located();
            return Err(SpecError::WireNotMessage {
                file,
                message,
                field: field_name,
                kind: kind_name(&field.kind()),
            });
        };
        if field.is_list() || field.is_map() {
            let (file, message, field) = located();
            return Err(SpecError::WireNotSingular {
                file,
                message,
                field,
            });
        }
        let (rust_type, direction, calls, serves) = match wire.r#type {
            Some(options::wire::Type::Input(input)) => (
                input.r#type.clone(),
                Direction::Input(input.reach()),
                input.calls,
                Vec::new(),
            ),
            Some(options::wire::Type::Output(output)) => (
                output.r#type.clone(),
                Direction::Output(output.expose()),
                Vec::new(),
                output.serves,
            ),
            None => (
                String::new(),
                Direction::Input(Reach::Localhost),
                vec![],
                vec![],
            ),
        };
        if rust_type.trim().is_empty() {
            let (file, message, field) = located();
            return Err(SpecError::WireWithoutType {
                file,
                message,
                field,
            });
        }
        Ok(WireSpec {
            name: field.name().to_owned(),
            config_type: config_message.full_name().to_owned(),
            rust_type,
            direction,
            required: extensions.is_required(&field),
            socket: extensions.socket(&config_message),
            calls,
            serves,
            field,
        })
    }

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
    /// socket or is not configured, an error when its socket is unset or invalid.
    pub fn socket_address(
        &self,
        config: &DynamicMessage,
    ) -> Result<Option<SocketAddress>, SocketError> {
        let (Some(socket), Some(value)) = (&self.socket, self.value(config)) else {
            return Ok(None);
        };
        let address = match socket.form {
            SocketForm::Inline => socket_of(value, &self.name),
            SocketForm::Socket | SocketForm::Url => {
                let path = format!("{}.{}", self.name, socket.field);
                let not_set = || SocketError::NotSet {
                    field: path.clone(),
                };
                let Some(field) = value
                    .descriptor()
                    .get_field_by_name(&socket.field)
                    .filter(|field| value.has_field(field))
                else {
                    return if socket.required {
                        Err(not_set())
                    } else {
                        Ok(None)
                    };
                };
                let field_value = value.get_field(&field);
                match socket.form {
                    SocketForm::Url => {
                        SocketAddress::from_url(&path, field_value.as_str().unwrap_or_default())
                    }
                    _ => socket_of(field_value.as_message().ok_or_else(not_set)?, &path),
                }
            }
        };
        address.map(Some)
    }
}

/// A part of a socket, for locating its value in a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketPart {
    Host,
    Port,
}

impl WireSpec {
    /// The path of this wire's socket host or port in the configuration (for a URL
    /// socket, the URL's field): `scotty.address.host`, `db.value`, `bind.port`.
    pub fn socket_path(&self, part: SocketPart) -> Option<FieldPath> {
        let socket = self.socket.as_ref()?;
        let Kind::Message(config) = self.field.kind() else {
            return None;
        };
        let wire = FieldPath::root().field(&self.field);
        let leaf = |message: &MessageDescriptor, path: FieldPath| {
            let name = match part {
                SocketPart::Host => "host",
                SocketPart::Port => "port",
            };
            Some(path.field(&message.get_field_by_name(name)?))
        };
        match socket.form {
            SocketForm::Inline => leaf(&config, wire),
            SocketForm::Url => Some(wire.field(&config.get_field_by_name(&socket.field)?)),
            SocketForm::Socket => {
                let field = config.get_field_by_name(&socket.field)?;
                let Kind::Message(socket_message) = field.kind() else {
                    return None;
                };
                leaf(&socket_message, wire.field(&field))
            }
        }
    }
}

/// The address of a message shaped like `harness.net.Socket` (host 1, port 2), at `path`.
fn socket_of(message: &DynamicMessage, path: &str) -> Result<SocketAddress, SocketError> {
    let socket: options::net::Socket = message.transcode_to().unwrap_or_default();
    SocketAddress::from_parts(path, &socket.host, socket.port)
}

/// The harness and validate extensions, looked up once per pool.
struct Extensions {
    wire: Option<ExtensionDescriptor>,
    mark: Option<ExtensionDescriptor>,
    service: Option<ExtensionDescriptor>,
    rules: Option<ExtensionDescriptor>,
}

impl Extensions {
    fn of(pool: &DescriptorPool) -> Self {
        Extensions {
            wire: pool.get_extension_by_name("harness.wire"),
            mark: pool.get_extension_by_name("harness.mark"),
            service: pool.get_extension_by_name("harness.service"),
            rules: pool.get_extension_by_name("validate.rules"),
        }
    }

    /// The extension `ext` of `options`, as its generated type.
    fn read<T: prost::Message + Default>(
        &self,
        options: &DynamicMessage,
        ext: &Option<ExtensionDescriptor>,
    ) -> Option<T> {
        let ext = ext.as_ref()?;
        if !options.has_extension(ext) {
            return None;
        }
        options.get_extension(ext).as_message()?.transcode_to().ok()
    }

    fn is_required(&self, field: &FieldDescriptor) -> bool {
        self.read::<crate::proto::validate::FieldRules>(&field.options(), &self.rules)
            .and_then(|rules| rules.message?.required)
            .unwrap_or(false)
    }

    /// The first field of a wire's message marked with a protocol, or else its first
    /// `harness.net.Socket` field (TCP), as harness does.
    fn socket(&self, message: &MessageDescriptor) -> Option<SocketSpec> {
        let form = |field: &FieldDescriptor| match field.kind() {
            Kind::Message(m) if m.full_name() == SOCKET => Some(SocketForm::Socket),
            Kind::String => Some(SocketForm::Url),
            Kind::Uint32 if is_socket_shaped(message) => Some(SocketForm::Inline),
            _ => None,
        };
        let marked = message.fields().find_map(|field| {
            let mark = self.read::<options::Mark>(&field.options(), &self.mark)?;
            mark.protocol?;
            let form = form(&field)?;
            Some(SocketSpec {
                field: field.name().to_owned(),
                protocol: mark.protocol(),
                // A URL socket cannot be told apart from its empty default.
                required: form != SocketForm::Socket || self.is_required(&field),
                form,
            })
        });
        marked.or_else(|| {
            message.fields().find_map(|field| {
                (form(&field)? == SocketForm::Socket).then(|| SocketSpec {
                    field: field.name().to_owned(),
                    protocol: Protocol::Tcp,
                    form: SocketForm::Socket,
                    required: self.is_required(&field),
                })
            })
        })
    }
}

/// Full name of the socket message.
pub const SOCKET: &str = "harness.net.Socket";

/// Whether `message` has `string host = 1` and `uint32 port = 2`, as `harness.net.Socket`.
fn is_socket_shaped(message: &MessageDescriptor) -> bool {
    let field = |number| message.get_field(number);
    field(1).is_some_and(|f| f.name() == "host" && f.kind() == Kind::String)
        && field(2).is_some_and(|f| f.name() == "port" && f.kind() == Kind::Uint32)
}

#[cfg(test)]
mod tests;
