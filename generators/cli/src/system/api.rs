//! The gRPC APIs a service's protos define, as far as the system's contract check needs
//! them: owned values, so that a system of a thousand services does not keep a thousand
//! descriptor pools alive (each holds every bundled proto).

use std::collections::BTreeMap;

use harness_core::check::Checked;
use prost_reflect::{Cardinality, FieldDescriptor, Kind, MessageDescriptor, ServiceDescriptor};

/// The gRPC services a service calls or serves, with every message their methods reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Apis {
    /// The service's proto, by its name in the pool (`kirk.proto`).
    pub file_name: String,
    /// Every gRPC service its protos define, by full name, in the pool's order.
    pub defined: Vec<String>,
    /// The services of its own proto file: what a server serves when `serves` is empty.
    pub own: Vec<String>,
    /// The services it calls or serves, by full name.
    pub services: BTreeMap<String, ApiService>,
    /// The messages of their methods, nested ones included, by full name.
    pub messages: BTreeMap<String, Vec<ApiField>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiService {
    /// The proto file defining it, by its name in the pool.
    pub file: String,
    pub methods: Vec<ApiMethod>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiMethod {
    pub name: String,
    pub client_streaming: bool,
    pub server_streaming: bool,
    pub input: String,
    pub output: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiField {
    pub number: u32,
    pub name: String,
    pub cardinality: Cardinality,
    pub is_map: bool,
    pub kind: FieldKind,
    /// As a reader writes it: `repeated uint32`, `map<string, int64>`, `scotty.Detail`.
    pub text: String,
}

/// What travels on the wire for a field: a scalar of one kind, a message (compared field
/// by field), or an enum (an integer, whatever its name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    Scalar(String),
    Message(String),
    Enum,
}

impl Apis {
    /// The APIs of a checked service: those its inputs call, its outputs serve, and its
    /// own proto file defines.
    pub fn of(checked: &Checked) -> Self {
        let pool = &checked.compiled.pool;
        let file_name = checked.compiled.file_name.clone();
        let own: Vec<String> = pool
            .get_file_by_name(&file_name)
            .map(|file| file.services().map(|s| s.full_name().to_owned()).collect())
            .unwrap_or_default();
        let mut apis = Apis {
            defined: pool.services().map(|s| s.full_name().to_owned()).collect(),
            file_name,
            ..Apis::default()
        };
        let wanted = checked
            .spec
            .wires
            .iter()
            .flat_map(|w| w.calls.iter().chain(&w.serves));
        for name in wanted.chain(&own) {
            if let Some(service) = pool.get_service_by_name(name) {
                apis.add_service(&service);
            }
        }
        apis.own = own;
        apis
    }

    fn add_service(&mut self, service: &ServiceDescriptor) {
        if self.services.contains_key(service.full_name()) {
            return;
        }
        let methods = service
            .methods()
            .map(|method| {
                self.add_message(&method.input());
                self.add_message(&method.output());
                ApiMethod {
                    name: method.name().to_owned(),
                    client_streaming: method.is_client_streaming(),
                    server_streaming: method.is_server_streaming(),
                    input: method.input().full_name().to_owned(),
                    output: method.output().full_name().to_owned(),
                }
            })
            .collect();
        self.services.insert(
            service.full_name().to_owned(),
            ApiService {
                file: service.parent_file().name().to_owned(),
                methods,
            },
        );
    }

    fn add_message(&mut self, message: &MessageDescriptor) {
        if self.messages.contains_key(message.full_name()) {
            return;
        }
        // Inserted before its fields, so a recursive message ends.
        self.messages
            .insert(message.full_name().to_owned(), Vec::new());
        let fields: Vec<ApiField> = message.fields().map(|f| self.field(&f)).collect();
        self.messages.insert(message.full_name().to_owned(), fields);
    }

    fn field(&mut self, field: &FieldDescriptor) -> ApiField {
        let kind = match field.kind() {
            Kind::Message(message) => {
                self.add_message(&message);
                FieldKind::Message(message.full_name().to_owned())
            }
            Kind::Enum(_) => FieldKind::Enum,
            other => FieldKind::Scalar(format!("{other:?}").to_lowercase()),
        };
        ApiField {
            number: field.number(),
            name: field.name().to_owned(),
            cardinality: field.cardinality(),
            is_map: field.is_map(),
            kind,
            text: type_text(field),
        }
    }
}

/// `repeated uint32`, `map<string, int64>`, `scotty.Detail`.
fn type_text(field: &FieldDescriptor) -> String {
    let kind = |kind: Kind| match kind {
        Kind::Message(m) => m.full_name().to_owned(),
        Kind::Enum(e) => e.full_name().to_owned(),
        other => format!("{other:?}").to_lowercase(),
    };
    if field.is_map()
        && let Kind::Message(entry) = field.kind()
        && let (Some(k), Some(v)) = (entry.get_field(1), entry.get_field(2))
    {
        return format!("map<{}, {}>", kind(k.kind()), kind(v.kind()));
    }
    match field.cardinality() {
        Cardinality::Repeated => format!("repeated {}", kind(field.kind())),
        Cardinality::Required => format!("required {}", kind(field.kind())),
        Cardinality::Optional => kind(field.kind()),
    }
}
