//! Kubernetes and Istio manifests of a service, for `harness kube-gen`.
//!
//! The input is what `harness check` produces: the service's [`ConfigSpec`], its
//! merged, patched and validated configuration, and the files it was read from (the
//! ConfigMap and Secrets ship the files, not the merged result). The output is a list
//! of typed objects, always in the same order, and [`Manifests::to_yaml`] writes them
//! as one multi-document YAML stream, byte-identical for the same input.
//!
//! ```text
//! ConfigMap       NAME[-INSTANCE]-config-HASH8
//! Secret          NAME[-INSTANCE]-config-merge-HASH8, NAME[-INSTANCE]-config-patch-HASH8
//! Deployment      NAME[-INSTANCE]
//! Service         NAME[-INSTANCE] (INTERNAL, PUBLIC), NAME[-INSTANCE]-headless (HEADLESS)
//! Gateway         NAME[-INSTANCE] (PUBLIC outputs with --base-domain)
//! VirtualService  NAME[-INSTANCE] (INTERNAL, PUBLIC)
//! ServiceEntry    NAME[-INSTANCE]-WIRE (each EXTERNAL input)
//! Sidecar         NAME[-INSTANCE]
//! ```

use harness_core::config::{Diagnostic, Sources};
use harness_core::spec::{ConfigSpec, SocketError};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use prost_reflect::DynamicMessage;

pub mod config;
pub mod context;
pub mod deployment;
pub mod istio;
pub mod names;
pub mod render;
pub mod resources;
pub mod service;

pub use istio::{Gateway, ServiceEntry, Sidecar, VirtualService};
pub use render::RenderError;

/// The deploy-time options of `harness kube-gen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The image tag and the `app.kubernetes.io/version` label.
    pub version: String,
    /// Objects are named `NAME-INSTANCE` when set.
    pub instance: Option<String>,
    /// Namespace of every object.
    pub namespace: String,
    /// PUBLIC outputs are served at `NAME[-INSTANCE].DOMAIN` when set.
    pub base_domain: Option<String>,
}

impl Options {
    /// Options with the given version, the `default` namespace and nothing else.
    pub fn new(version: impl Into<String>) -> Self {
        Options {
            version: version.into(),
            instance: None,
            namespace: "default".to_owned(),
            base_domain: None,
        }
    }
}

/// Why no manifests can be made for a valid configuration. Every variant is the
/// user's to fix, and its message says what.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KubeGenError {
    #[error(
        "{file}: (harness.service).name is not set; kube-gen names every object after the service"
    )]
    NoName { file: String },
    #[error(
        "{file}: (harness.service).container.repository is not set on {message}; kube-gen needs it for the image REPOSITORY:VERSION"
    )]
    NoRepository { file: String, message: String },
    #[error("{what} `{value}` is not {rule}: {reason}")]
    Invalid {
        what: String,
        value: String,
        rule: &'static str,
        reason: String,
    },
    #[error("--base-domain `{value}` is not a domain: {reason}")]
    BaseDomain { value: String, reason: String },
    #[error("output `{wire}` is PUBLIC but has no socket: {reason}")]
    PublicWithoutSocket { wire: String, reason: String },
    #[error(
        "two outputs would share port {port}: `{wire}` and one before it; give each its own port"
    )]
    DuplicatePort { wire: String, port: u16 },
    #[error(
        "(harness.service).container.resources.{field}: `{value}` is not a Kubernetes quantity (e.g. 250m, 1, 128Mi)"
    )]
    Quantity { field: String, value: String },
    #[error(
        "(harness.service).container.resources: the {resource} request {request} is above its limit {limit}"
    )]
    RequestAboveLimit {
        resource: String,
        request: String,
        limit: String,
    },
    #[error("{0}")]
    Socket(SocketError),
    /// A host that the input's reach cannot use, located in the file that set it.
    #[error("{0}")]
    Host(Diagnostic),
}

/// One generated object. The big ones are boxed, to keep the list compact.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    ConfigMap(ConfigMap),
    Secret(Secret),
    Deployment(Box<Deployment>),
    Service(Box<Service>),
    Gateway(Gateway),
    VirtualService(VirtualService),
    ServiceEntry(ServiceEntry),
    Sidecar(Sidecar),
}

impl Object {
    pub fn kind(&self) -> &'static str {
        match self {
            Object::ConfigMap(_) => "ConfigMap",
            Object::Secret(_) => "Secret",
            Object::Deployment(_) => "Deployment",
            Object::Service(_) => "Service",
            Object::Gateway(_) => "Gateway",
            Object::VirtualService(_) => "VirtualService",
            Object::ServiceEntry(_) => "ServiceEntry",
            Object::Sidecar(_) => "Sidecar",
        }
    }

    pub fn name(&self) -> &str {
        let metadata = match self {
            Object::ConfigMap(o) => &o.metadata,
            Object::Secret(o) => &o.metadata,
            Object::Deployment(o) => &o.metadata,
            Object::Service(o) => &o.metadata,
            Object::Gateway(o) => &o.metadata,
            Object::VirtualService(o) => &o.metadata,
            Object::ServiceEntry(o) => &o.metadata,
            Object::Sidecar(o) => &o.metadata,
        };
        metadata.name.as_deref().unwrap_or_default()
    }

    fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Object::ConfigMap(o) => render::to_value(o),
            Object::Secret(o) => render::to_value(o),
            Object::Deployment(o) => render::to_value(o),
            Object::Service(o) => render::to_value(o),
            Object::Gateway(o) => render::to_value(o),
            Object::VirtualService(o) => render::to_value(o),
            Object::ServiceEntry(o) => render::to_value(o),
            Object::Sidecar(o) => render::to_value(o),
        }
    }
}

/// The manifests of one service, and notes for the user about likely mistakes.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifests {
    pub objects: Vec<Object>,
    /// Things that make valid manifests but are probably not what was meant, e.g. an
    /// exposed output bound to 127.0.0.1. For stderr, never in the YAML.
    pub warnings: Vec<String>,
}

impl Manifests {
    /// The objects as a multi-document YAML stream.
    pub fn to_yaml(&self) -> Result<String, RenderError> {
        render::to_yaml(&self.objects)
    }
}

/// The manifests of the service `spec` whose configuration `config` was read from
/// `sources` (the ConfigMap and Secrets ship the files, not the merged result).
pub fn generate(
    spec: &ConfigSpec,
    config: &DynamicMessage,
    sources: &Sources,
    options: &Options,
) -> Result<Manifests, KubeGenError> {
    let ctx = context::Context::new(spec, config, sources, options)?;
    let mut objects = vec![Object::ConfigMap(config::config_map(&ctx))];
    objects.extend(config::secrets(&ctx).into_iter().map(Object::Secret));
    objects.push(Object::Deployment(Box::new(deployment::deployment(&ctx)?)));
    objects.extend(
        service::services(&ctx)?
            .into_iter()
            .map(|s| Object::Service(Box::new(s))),
    );
    objects.extend(istio::gateway(&ctx).map(Object::Gateway));
    objects.extend(istio::virtual_service(&ctx).map(Object::VirtualService));
    objects.extend(
        istio::service_entries(&ctx)
            .into_iter()
            .map(Object::ServiceEntry),
    );
    objects.push(Object::Sidecar(istio::sidecar(&ctx)));
    Ok(Manifests {
        objects,
        warnings: ctx.warnings,
    })
}

#[cfg(test)]
mod tests;
