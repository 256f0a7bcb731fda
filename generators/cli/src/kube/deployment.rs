//! The Deployment: one container running the service's image with its configuration
//! mounted, under the restricted Pod Security Standard.
//!
//! The image's ENTRYPOINT is the service binary (a Rust service image is built that
//! way: `ENTRYPOINT ["/usr/local/bin/kirk"]`), so the container sets only `args`, the
//! runtime's command line: `/etc/config/config.yaml [--merge FILE] [--patch FILE]`.

use std::collections::BTreeMap;

use harness_core::spec::{Expose, Protocol};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    GRPCAction, HTTPGetAction, HostPathVolumeSource, PodSecurityContext, PodSpec, PodTemplateSpec,
    Probe, SeccompProfile, SecretVolumeSource, SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::KubeGenError;
use super::config::CONFIG_KEY;
use super::context::{Context, LABEL_VERSION};
use super::resources;

/// How long the runtime drains in-flight work after SIGTERM, at most, by default.
pub const RUNTIME_DRAIN_SECONDS: i64 = harness_core::DEFAULT_GRACE_PERIOD.as_secs() as i64;
/// Time after the drain for closing input wires and flushing logs, metrics and traces.
pub const SHUTDOWN_MARGIN_SECONDS: i64 = 5;
/// Kubernetes waits this long after SIGTERM before SIGKILL: the drain, then the margin.
pub const TERMINATION_GRACE_PERIOD_SECONDS: i64 = RUNTIME_DRAIN_SECONDS + SHUTDOWN_MARGIN_SECONDS;

/// The numeric user and group the container runs as: the `nonroot` user of distroless
/// and Chainguard base images, above 10000 so it maps to no user of the node.
pub const RUN_AS_USER: i64 = 65532;

/// Name of the service's container.
pub const CONTAINER: &str = "app";
pub use harness_core::contract::HEALTH_PATH;

const CONFIG_DIR: &str = "/etc/config";
const MERGE_DIR: &str = "/etc/config-merge";
const PATCH_DIR: &str = "/etc/config-patch";
const TMP_DIR: &str = "/tmp";
/// Size limit of the writable `/tmp` (the root file system is read-only).
const TMP_SIZE_LIMIT: &str = "64Mi";

pub fn deployment(ctx: &Context<'_>) -> Result<Deployment, KubeGenError> {
    let mut pod_labels = ctx.selector_labels();
    pod_labels.insert(LABEL_VERSION.to_owned(), ctx.version.clone());
    // The label is what current Istio reads; the annotation is what harness wrote and
    // older Istio reads. Both say the same.
    pod_labels.insert("sidecar.istio.io/inject".to_owned(), "true".to_owned());
    let annotations = BTreeMap::from([("sidecar.istio.io/inject".to_owned(), "true".to_owned())]);

    let mut container = Container {
        name: CONTAINER.to_owned(),
        image: Some(ctx.image()),
        // The node checks the pod may pull the image even when it has it cached, so a
        // private image is never started from another tenant's pull.
        image_pull_policy: Some("Always".to_owned()),
        args: Some(args(ctx)),
        ports: non_empty(container_ports(ctx)),
        resources: Some(resources::requirements(&ctx.spec.service)?),
        security_context: Some(container_security_context()),
        volume_mounts: Some(volume_mounts(ctx)),
        ..Default::default()
    };
    if let Some(handler) = health_probe(ctx) {
        // Ready while the health check passes; the runtime fails it while draining.
        container.readiness_probe = Some(Probe {
            period_seconds: Some(5),
            failure_threshold: Some(2),
            timeout_seconds: Some(1),
            ..handler.clone()
        });
        // Allows two minutes to connect input wires and start serving.
        container.startup_probe = Some(Probe {
            period_seconds: Some(2),
            failure_threshold: Some(60),
            timeout_seconds: Some(1),
            ..handler.clone()
        });
        // Restarts a process that stopped answering for a minute: longer than a
        // drain, so a pod shutting down is never killed by its liveness probe.
        container.liveness_probe = Some(Probe {
            period_seconds: Some(10),
            failure_threshold: Some(6),
            timeout_seconds: Some(1),
            ..handler
        });
    }

    Ok(Deployment {
        metadata: ctx.metadata(ctx.full_name.clone()),
        spec: DeploymentSpec {
            selector: LabelSelector {
                match_labels: Some(ctx.selector_labels()),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    annotations: Some(annotations),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    service_account_name: ctx.service_account.clone(),
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    security_context: Some(pod_security_context()),
                    termination_grace_period_seconds: Some(TERMINATION_GRACE_PERIOD_SECONDS),
                    volumes: Some(volumes(ctx)),
                    ..Default::default()
                }),
            },
            ..Default::default()
        },
        ..Default::default()
    })
}

/// The runtime's command line after the binary.
fn args(ctx: &Context<'_>) -> Vec<String> {
    let mut args = vec![format!("{CONFIG_DIR}/{CONFIG_KEY}")];
    if ctx.merge.is_some() {
        args.extend(["--merge".to_owned(), format!("{MERGE_DIR}/{CONFIG_KEY}")]);
    }
    if ctx.patch.is_some() {
        args.extend(["--patch".to_owned(), format!("{PATCH_DIR}/{CONFIG_KEY}")]);
    }
    args
}

/// A port for every configured output with a socket, named `PROTOCOL-WIRE`.
fn container_ports(ctx: &Context<'_>) -> Vec<ContainerPort> {
    ctx.outputs
        .iter()
        .filter(|w| w.configured)
        .filter_map(|wire| {
            let (_, address) = wire.socket.as_ref()?;
            Some(ContainerPort {
                name: wire.port_name(),
                container_port: i32::from(address.port),
                protocol: Some("TCP".to_owned()),
                ..Default::default()
            })
        })
        .collect()
}

/// The check of the first exposed HTTP or gRPC output, in field order: `/_/health` over
/// HTTP, or the standard gRPC health service with Kubernetes' native gRPC probe.
fn health_probe(ctx: &Context<'_>) -> Option<Probe> {
    ctx.outputs.iter().find_map(|wire| {
        if !wire.configured || matches!(wire.expose(), None | Some(Expose::Private)) {
            return None;
        }
        let (protocol, address) = wire.socket.as_ref()?;
        match protocol {
            Protocol::Http => Some(Probe {
                http_get: Some(HTTPGetAction {
                    path: Some(HEALTH_PATH.to_owned()),
                    port: IntOrString::String(wire.port_name()?),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            Protocol::Grpc => Some(Probe {
                grpc: Some(GRPCAction {
                    port: i32::from(address.port),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            Protocol::Tcp => None,
        }
    })
}

/// Restricted Pod Security at the pod level: a numeric non-root user and the runtime's
/// default seccomp profile.
fn pod_security_context() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(RUN_AS_USER),
        run_as_group: Some(RUN_AS_USER),
        fs_group: Some(RUN_AS_USER),
        seccomp_profile: Some(runtime_default_seccomp()),
        ..Default::default()
    }
}

/// Restricted Pod Security at the container level: no privilege, no capability, no
/// escalation, a read-only root file system.
fn container_security_context() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_owned()]),
            ..Default::default()
        }),
        privileged: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        run_as_user: Some(RUN_AS_USER),
        run_as_group: Some(RUN_AS_USER),
        seccomp_profile: Some(runtime_default_seccomp()),
        ..Default::default()
    }
}

fn runtime_default_seccomp() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".to_owned(),
        ..Default::default()
    }
}

fn volume_mounts(ctx: &Context<'_>) -> Vec<VolumeMount> {
    let mount = |name: &str, path: &str, read_only: bool| VolumeMount {
        name: name.to_owned(),
        mount_path: path.to_owned(),
        read_only: read_only.then_some(true),
        ..Default::default()
    };
    let mut mounts = vec![mount("config", CONFIG_DIR, true)];
    if ctx.merge.is_some() {
        mounts.push(mount("config-merge", MERGE_DIR, true));
    }
    if ctx.patch.is_some() {
        mounts.push(mount("config-patch", PATCH_DIR, true));
    }
    mounts.push(mount("tmp", TMP_DIR, false));
    if let Some(socket) = &ctx.syslog_socket {
        mounts.push(mount("syslog", socket, false));
    }
    mounts
}

fn volumes(ctx: &Context<'_>) -> Vec<Volume> {
    let mut volumes = vec![Volume {
        name: "config".to_owned(),
        config_map: Some(ConfigMapVolumeSource {
            name: ctx.config_map_name(),
            ..Default::default()
        }),
        ..Default::default()
    }];
    let secret = |volume: &str, name: String| Volume {
        name: volume.to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(name),
            ..Default::default()
        }),
        ..Default::default()
    };
    if let Some(name) = ctx.merge_secret_name() {
        volumes.push(secret("config-merge", name));
    }
    if let Some(name) = ctx.patch_secret_name() {
        volumes.push(secret("config-patch", name));
    }
    volumes.push(Volume {
        name: "tmp".to_owned(),
        empty_dir: Some(EmptyDirVolumeSource {
            size_limit: Some(Quantity(TMP_SIZE_LIMIT.to_owned())),
            ..Default::default()
        }),
        ..Default::default()
    });
    if let Some(socket) = &ctx.syslog_socket {
        volumes.push(Volume {
            name: "syslog".to_owned(),
            host_path: Some(HostPathVolumeSource {
                path: socket.clone(),
                type_: Some("Socket".to_owned()),
            }),
            ..Default::default()
        });
    }
    volumes
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}
