//! `--target knative`: a Knative Service (serving.knative.dev/v1) in place of the
//! Deployment and its Services, for a service that serves one HTTP or gRPC output.
//! Knative starts replicas on requests (down to zero) and holds requests while one
//! starts, so unlike a Deployment's autoscaler it may scale a service with callers to zero.
//!
//! The pod is the Deployment's ([`super::deployment`]), adjusted to what Knative's API
//! accepts by default: one container port, named `http1` (HTTP) or `h2c` (gRPC), which
//! the probes name; no pod-level security context (Knative allows one only behind its
//! `kubernetes.podspec-securitycontext` flag), the container's own (non-root user,
//! read-only root, no privilege, no capability, seccomp `RuntimeDefault`) staying whole;
//! no `terminationGracePeriodSeconds` (Knative derives it from the request timeout).
//! The scale option gives `autoscaling.knative.dev/min-scale` and `max-scale` and the
//! `containerConcurrency`. An INTERNAL output is `cluster-local`; a PUBLIC one with
//! `--base-domain` also gets a DomainMapping (serving.knative.dev/v1beta1) from
//! `FULL.DOMAIN`.

use std::collections::BTreeMap;

use harness_core::spec::{Expose, Protocol};
use k8s_openapi::api::core::v1::{ContainerPort, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use super::context::{Context, Exposed};
use super::istio::{Kind, Resource};
use super::scale::{Scaling, consumers_of};
use super::{KubeGenError, Object, Options, Router, deployment};

/// The API version of the Knative Service.
pub const API_VERSION: &str = "serving.knative.dev/v1";
/// The API version of DomainMapping, beta in every Knative release so far.
pub const DOMAIN_MAPPING_API_VERSION: &str = "serving.knative.dev/v1beta1";
/// The label that keeps a Knative Service off the cluster's ingress.
pub const VISIBILITY_LABEL: &str = "networking.knative.dev/visibility";
pub const MIN_SCALE_ANNOTATION: &str = "autoscaling.knative.dev/min-scale";
pub const MAX_SCALE_ANNOTATION: &str = "autoscaling.knative.dev/max-scale";
/// Ports Knative's queue-proxy takes in every pod (Knative refuses them for the service).
pub const RESERVED_PORTS: [u16; 6] = [8008, 8012, 8013, 8022, 9090, 9091];

pub type KnativeService = Resource<KnativeServiceSpec>;
pub type DomainMapping = Resource<DomainMappingSpec>;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnativeServiceSpec {
    pub template: RevisionTemplate,
}

impl Kind for KnativeServiceSpec {
    const KIND: &'static str = "Service";
    const API_VERSION: &'static str = API_VERSION;
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevisionTemplate {
    pub metadata: ObjectMeta,
    pub spec: RevisionSpec,
}

/// A Knative revision: a pod spec and how many requests a replica takes at once.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_concurrency: Option<u32>,
    #[serde(flatten)]
    pub pod: PodSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainMappingSpec {
    #[serde(rename = "ref")]
    pub reference: KReference,
}

impl Kind for DomainMappingSpec {
    const KIND: &'static str = "DomainMapping";
    const API_VERSION: &'static str = DOMAIN_MAPPING_API_VERSION;
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KReference {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

/// The Knative Service of the service and, for a PUBLIC output with a base domain, its
/// DomainMapping.
pub fn objects(
    ctx: &Context<'_>,
    scaling: Option<&Scaling>,
    options: &Options,
    warnings: &mut Vec<String>,
) -> Result<Vec<Object>, KubeGenError> {
    if options.router == Router::GatewayApi {
        return Err(KubeGenError::Unsupported(
            "--router gateway-api routes to a Deployment's Services; Knative routes its Services itself: drop --router, or use --target deployment".to_owned(),
        ));
    }
    let served = served_output(ctx)?;
    check_consumers(ctx, scaling)?;
    let port_name = match served.protocol {
        Protocol::Grpc => "h2c",
        _ => "http1",
    };
    let template = deployment::deployment(ctx)?.spec.template;
    let mut pod = template.spec.unwrap_or_default();
    pod.security_context = None;
    pod.termination_grace_period_seconds = None;
    if let Some(syslog) = &ctx.syslog_socket {
        warnings.push(format!(
            "the syslog wire mounts the node's {syslog} (a hostPath volume), which Knative accepts only with its `kubernetes.podspec-volumes-hostpath` flag enabled; log to the console instead"
        ));
    }
    for container in &mut pod.containers {
        container.ports = Some(vec![ContainerPort {
            name: Some(port_name.to_owned()),
            container_port: i32::from(served.container_port),
            protocol: Some("TCP".to_owned()),
            ..Default::default()
        }]);
        for probe in [
            &mut container.readiness_probe,
            &mut container.liveness_probe,
            &mut container.startup_probe,
        ]
        .into_iter()
        .flatten()
        {
            if let Some(http) = &mut probe.http_get {
                http.port = IntOrString::String(port_name.to_owned());
            }
        }
    }
    let mut metadata = template.metadata.unwrap_or_default();
    let annotations = metadata.annotations.get_or_insert_with(BTreeMap::new);
    if let Some(scaling) = scaling {
        annotations.insert(
            MIN_SCALE_ANNOTATION.to_owned(),
            scaling.spec.min_replicas.to_string(),
        );
        annotations.insert(
            MAX_SCALE_ANNOTATION.to_owned(),
            scaling.spec.max_replicas.to_string(),
        );
    }
    let public = served.wire.expose() == Some(Expose::Public);
    let mut service_metadata = ctx.metadata(ctx.full_name.clone());
    if !public {
        service_metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(VISIBILITY_LABEL.to_owned(), "cluster-local".to_owned());
    }
    let mut objects = vec![Object::KnativeService(Box::new(Resource {
        metadata: service_metadata,
        spec: KnativeServiceSpec {
            template: RevisionTemplate {
                metadata,
                spec: RevisionSpec {
                    container_concurrency: scaling.map(|s| s.spec.concurrency).filter(|c| *c > 0),
                    pod,
                },
            },
        },
    }))];
    if let (true, Some(host)) = (public, &ctx.public_host) {
        objects.push(Object::DomainMapping(domain_mapping(ctx, host)));
    }
    Ok(objects)
}

/// The one INTERNAL or PUBLIC HTTP or gRPC output a Knative Service serves.
fn served_output<'c, 'a>(ctx: &'c Context<'a>) -> Result<&'c Exposed<'a>, KubeGenError> {
    let unsupported = |why: String| {
        Err(KubeGenError::Unsupported(format!(
            "--target knative: {why}"
        )))
    };
    if let Some(headless) = ctx.headless_outputs.first() {
        return unsupported(format!(
            "output `{}` is HEADLESS, and a Knative Service has no per-pod addresses; use --target deployment",
            headless.wire.spec.name
        ));
    }
    let served = match ctx.service_outputs.as_slice() {
        [one] => one,
        [] => {
            return unsupported(
                "the service has no INTERNAL or PUBLIC output with a socket, and Knative starts replicas on requests".to_owned(),
            );
        }
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|o| format!("`{}`", o.wire.spec.name))
                .collect();
            return unsupported(format!(
                "a Knative Service serves one port, and outputs {} are exposed; keep one exposed (the others PRIVATE), or use --target deployment",
                names.join(", ")
            ));
        }
    };
    if served.protocol == Protocol::Tcp {
        return unsupported(format!(
            "output `{}` speaks plain TCP, and Knative serves HTTP and gRPC only",
            served.wire.spec.name
        ));
    }
    if RESERVED_PORTS.contains(&served.container_port) {
        return unsupported(format!(
            "output `{}` listens on {}, a port Knative's queue-proxy takes in every pod ({}); bind another",
            served.wire.spec.name,
            served.container_port,
            RESERVED_PORTS.map(|p| p.to_string()).join(", ")
        ));
    }
    Ok(served)
}

/// A consumer wire stops with its last replica, and Knative only starts one on requests.
fn check_consumers(ctx: &Context<'_>, scaling: Option<&Scaling>) -> Result<(), KubeGenError> {
    let min = scaling.map_or(0, |s| s.spec.min_replicas);
    match consumers_of(ctx).next() {
        Some(consumer) if min == 0 => Err(KubeGenError::Unsupported(format!(
            "--target knative scales on requests, down to zero replicas, where output `{}` ({}) would stop consuming; set `option (harness.service).scale.min_replicas = 1;` or more, or use --target deployment, whose KEDA autoscaler starts it on its backlog",
            consumer.spec.name, consumer.spec.config_type
        ))),
        _ => Ok(()),
    }
}

fn domain_mapping(ctx: &Context<'_>, host: &str) -> DomainMapping {
    Resource {
        metadata: ctx.metadata(host.to_owned()),
        spec: DomainMappingSpec {
            reference: KReference {
                api_version: API_VERSION.to_owned(),
                kind: "Service".to_owned(),
                name: ctx.full_name.clone(),
                namespace: ctx.namespace.clone(),
            },
        },
    }
}
