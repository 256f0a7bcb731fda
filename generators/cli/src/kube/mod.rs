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
//! NetworkPolicy   NAME[-INSTANCE]
//! ```
//!
//! In a system ([`Options::peers`]), a ServiceAccount NAME[-INSTANCE] follows the
//! Secrets and an AuthorizationPolicy NAME[-INSTANCE] the NetworkPolicy (see [`policy`]).
//!
//! With `(harness.service).scale`, an autoscaler follows the Services (see [`scale`]):
//! a HorizontalPodAutoscaler, or a KEDA ScaledObject (and what it authenticates with)
//! whose triggers come from the consumer wires, and a PodDisruptionBudget from two
//! replicas up. [`Router::GatewayApi`] writes Gateway API routes in place of the Istio
//! Gateway and VirtualService ([`gateway_api`]); [`Target::Knative`] a Knative Service in
//! place of the Deployment and Services ([`knative`]).

use harness_core::config::{Diagnostic, Sources};
use harness_core::spec::{ConfigSpec, SocketError};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use prost_reflect::DynamicMessage;

pub mod config;
pub mod context;
pub mod credentials;
pub mod cron;
pub mod deployment;
pub mod gateway_api;
pub mod istio;
pub mod keda;
pub mod knative;
pub mod names;
pub mod policy;
pub mod render;
pub mod resources;
pub mod scale;
pub mod service;

pub use gateway_api::{GrpcRoute, HttpRoute};
pub use istio::{Gateway, ServiceEntry, Sidecar, VirtualService};
pub use keda::{ScaledObject, TriggerAuthentication};
pub use knative::{DomainMapping, KnativeService};
pub use policy::authorization::{AuthorizationPolicy, PeerAuthentication, peer_authentication};
pub use policy::{IngressOverrides, Peer, PeerPort, Peers};
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
    /// What routes requests to the Services: Istio's objects or the Gateway API's.
    pub router: Router,
    /// `NS/NAME` or `NAME` (in `namespace`): the Gateway that PUBLIC routes attach to
    /// with [`Router::GatewayApi`].
    pub gateway: String,
    /// What runs the service: a Deployment with its Services, or a Knative Service.
    pub target: Target,
    /// Whether another service calls this one synchronously, as the system graph knows
    /// it; `None` (a single service) takes any INTERNAL or HEADLESS output for a caller. A
    /// PUBLIC output always has callers (outside the cluster). Scaling to zero is refused
    /// when there are callers.
    pub synchronous_callers: Option<bool>,
    /// Who calls the service and whom it calls, as the system graph resolved it; `None`
    /// for a single service, whose policy follows from its own declarations.
    pub peers: Option<Peers>,
    /// The ingress gateway's parts that replace `router`'s default (its pods may call
    /// PUBLIC outputs).
    pub ingress: IngressOverrides,
    /// The namespace whose pods may scrape the metrics outputs.
    pub monitoring_namespace: String,
}

/// `--router`: the objects that route requests to a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Router {
    /// Istio Gateway and VirtualService, as the Python harness writes them.
    #[default]
    Istio,
    /// Kubernetes Gateway API: an HTTPRoute or GRPCRoute per HTTP or gRPC output.
    GatewayApi,
}

/// `--target`: what runs the service's pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Target {
    /// A Deployment, its Services and, with a scale option, its autoscaler.
    #[default]
    Deployment,
    /// A Knative Service (serving.knative.dev/v1), which scales on requests, to zero too.
    Knative,
}

/// `--gateway` when not given: Istio's Gateway API ingress, as its documentation names it.
pub const DEFAULT_GATEWAY: &str = "istio-ingress/gateway";

impl Options {
    /// Options with the given version, the `default` namespace and nothing else.
    pub fn new(version: impl Into<String>) -> Self {
        Options {
            version: version.into(),
            instance: None,
            namespace: "default".to_owned(),
            base_domain: None,
            router: Router::default(),
            gateway: DEFAULT_GATEWAY.to_owned(),
            target: Target::default(),
            synchronous_callers: None,
            peers: None,
            ingress: IngressOverrides::default(),
            monitoring_namespace: policy::DEFAULT_MONITORING_NAMESPACE.to_owned(),
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
    #[error("(harness.service).scale.{field}: {reason}")]
    Scale { field: &'static str, reason: String },
    /// Scale to zero asked of a service that something calls synchronously.
    #[error(
        "(harness.service).scale.min_replicas is 0, but {callers}: a synchronous caller would wait for a cold start or fail; scale to zero is for services that only consume events (no INTERNAL, PUBLIC or HEADLESS output), or use --target knative, which holds requests while it starts a replica"
    )]
    ScaleToZeroWithCallers { callers: String },
    /// Scale to zero asked, but no event source would start a replica again.
    #[error(
        "(harness.service).scale.min_replicas is 0, but nothing would start a replica again: {reason}"
    )]
    ScaleToZeroWithoutTrigger { reason: String },
    /// A combination of options or of service and target that cannot be generated.
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Socket(SocketError),
    /// A host that the input's reach cannot use, located in the file that set it.
    #[error("{0}")]
    Host(Diagnostic),
}

impl KubeGenError {
    /// What makes a [`KubeGenError::Invalid`] of `what` `value` from the reason it breaks
    /// `rule`, for `map_err` after a check of [`names`].
    pub fn invalid(what: &str, value: &str, rule: &'static str) -> impl FnOnce(String) -> Self {
        let (what, value) = (what.to_owned(), value.to_owned());
        move |reason| KubeGenError::Invalid {
            what,
            value,
            rule,
            reason,
        }
    }
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
    HorizontalPodAutoscaler(Box<HorizontalPodAutoscaler>),
    PodDisruptionBudget(Box<PodDisruptionBudget>),
    ScaledObject(Box<ScaledObject>),
    TriggerAuthentication(TriggerAuthentication),
    HttpRoute(HttpRoute),
    GrpcRoute(GrpcRoute),
    KnativeService(Box<KnativeService>),
    DomainMapping(DomainMapping),
    ServiceAccount(ServiceAccount),
    NetworkPolicy(Box<NetworkPolicy>),
    AuthorizationPolicy(AuthorizationPolicy),
    PeerAuthentication(PeerAuthentication),
}

/// Calls `$body` with the object inside any variant bound to `$o`.
macro_rules! each_object {
    ($object:expr, $o:ident => $body:expr) => {
        match $object {
            Object::ConfigMap($o) => $body,
            Object::Secret($o) => $body,
            Object::Deployment($o) => $body,
            Object::Service($o) => $body,
            Object::Gateway($o) => $body,
            Object::VirtualService($o) => $body,
            Object::ServiceEntry($o) => $body,
            Object::Sidecar($o) => $body,
            Object::HorizontalPodAutoscaler($o) => $body,
            Object::PodDisruptionBudget($o) => $body,
            Object::ScaledObject($o) => $body,
            Object::TriggerAuthentication($o) => $body,
            Object::HttpRoute($o) => $body,
            Object::GrpcRoute($o) => $body,
            Object::KnativeService($o) => $body,
            Object::DomainMapping($o) => $body,
            Object::ServiceAccount($o) => $body,
            Object::NetworkPolicy($o) => $body,
            Object::AuthorizationPolicy($o) => $body,
            Object::PeerAuthentication($o) => $body,
        }
    };
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
            Object::HorizontalPodAutoscaler(_) => "HorizontalPodAutoscaler",
            Object::PodDisruptionBudget(_) => "PodDisruptionBudget",
            Object::ScaledObject(_) => "ScaledObject",
            Object::TriggerAuthentication(_) => "TriggerAuthentication",
            Object::HttpRoute(_) => "HTTPRoute",
            Object::GrpcRoute(_) => "GRPCRoute",
            Object::KnativeService(_) => "Service",
            Object::DomainMapping(_) => "DomainMapping",
            Object::ServiceAccount(_) => "ServiceAccount",
            Object::NetworkPolicy(_) => "NetworkPolicy",
            Object::AuthorizationPolicy(_) => "AuthorizationPolicy",
            Object::PeerAuthentication(_) => "PeerAuthentication",
        }
    }

    pub fn name(&self) -> &str {
        let metadata = each_object!(self, o => &o.metadata);
        metadata.name.as_deref().unwrap_or_default()
    }

    fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        each_object!(self, o => render::to_value(o))
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
    let mut warnings = ctx.warnings.clone();
    warnings.extend(credentials::in_config(spec, sources));
    let scaling = scale::plan(&ctx, config, options)?;
    let gateway = policy::ingress_gateway(options, &ctx.namespace)?;
    let mut objects = vec![Object::ConfigMap(config::config_map(&ctx))];
    objects.extend(config::secrets(&ctx).into_iter().map(Object::Secret));
    if ctx.service_account.is_some() {
        objects.push(Object::ServiceAccount(policy::service_account(&ctx)));
    }
    match options.target {
        Target::Deployment => {
            objects.push(Object::Deployment(Box::new(deployment::deployment(&ctx)?)));
            objects.extend(
                service::services(&ctx)?
                    .into_iter()
                    .map(|s| Object::Service(Box::new(s))),
            );
            if let Some(scaling) = &scaling {
                objects.extend(scale::objects(&ctx, scaling));
            }
            objects.extend(routes(&ctx, options, &mut warnings)?);
        }
        Target::Knative => objects.extend(knative::objects(
            &ctx,
            scaling.as_ref(),
            options,
            &mut warnings,
        )?),
    }
    objects.extend(
        istio::service_entries(&ctx)
            .into_iter()
            .map(Object::ServiceEntry),
    );
    objects.push(Object::Sidecar(istio::sidecar(&ctx)));
    objects.extend(policy_objects(&ctx, options, &gateway));
    if let Some(scaling) = scaling {
        warnings.extend(scaling.notes);
    }
    Ok(Manifests { objects, warnings })
}

/// The NetworkPolicy and, in a system, the AuthorizationPolicy. A Knative Service gets
/// none: requests reach it through Knative's activator, whose identity, not the
/// caller's, its pods see.
fn policy_objects(
    ctx: &context::Context<'_>,
    options: &Options,
    gateway: &policy::IngressGateway,
) -> Vec<Object> {
    let mut objects = vec![Object::NetworkPolicy(Box::new(
        policy::network_policy::network_policy(ctx, options, gateway),
    ))];
    if let (Some(peers), Target::Deployment) = (&options.peers, options.target) {
        objects.push(Object::AuthorizationPolicy(
            policy::authorization::authorization_policy(
                ctx,
                peers,
                gateway,
                &options.monitoring_namespace,
            ),
        ));
    }
    objects
}

/// The objects that route requests to a Deployment's Services, by `--router`.
fn routes(
    ctx: &context::Context<'_>,
    options: &Options,
    warnings: &mut Vec<String>,
) -> Result<Vec<Object>, KubeGenError> {
    Ok(match options.router {
        Router::Istio => istio::gateway(ctx)
            .map(Object::Gateway)
            .into_iter()
            .chain(istio::virtual_service(ctx).map(Object::VirtualService))
            .collect(),
        Router::GatewayApi => gateway_api::routes(ctx, &options.gateway, warnings)?,
    })
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_scale;
