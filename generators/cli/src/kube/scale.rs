//! Autoscaling, from `(harness.service).scale` and the consumer wires. Without the scale
//! option a service gets no autoscaler (one replica, as before).
//!
//! For a Deployment:
//! - Event triggers come from the wires' own configuration: a `nats::Subscriber` reading a
//!   JetStream durable consumer gives a `nats-jetstream` trigger (its stream, its consumer,
//!   a lag of `max_concurrency` messages per replica, the monitoring endpoint of its
//!   connection's server); an `amqp::Consumer` a `rabbitmq` trigger on its queue's length
//!   (`prefetch`, else `max_concurrency`, messages per replica), which reads the broker's
//!   URL, credentials included, through a TriggerAuthentication from a Secret kube-gen
//!   writes (`FULL-keda-HASH8`), never inline; when the service may scale to zero, each cron job of a
//!   `schedule::Scheduler` gives `cron` triggers around its runs ([`super::cron`]).
//! - With event triggers, a KEDA ScaledObject holds them and a `cpu` trigger at the
//!   option's CPU target; without, a HorizontalPodAutoscaler scales on CPU alone.
//! - A PodDisruptionBudget (`maxUnavailable: 1`) when at least two replicas run.
//! - Scale to zero (`min_replicas: 0`) only when nothing calls the service synchronously,
//!   and only when every consumer wire gives a trigger that starts it again; otherwise an
//!   error says why.
//!
//! For a Knative Service the bounds become its scale annotations (see [`super::knative`]).

use std::collections::BTreeMap;

use harness_core::contract::DEFAULT_MAX_CONCURRENCY;
use harness_core::proto::harness::amqp::{Consumer as AmqpConsumer, Publisher as AmqpPublisher};
use harness_core::proto::harness::nats::Subscriber;
use harness_core::proto::harness::schedule::{Scheduler, job};
use harness_core::socket::SocketAddress;
use harness_core::spec::{Expose, Reach, ScaleSpec};
use k8s_openapi::ByteString;
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use prost_reflect::DynamicMessage;

use super::context::{Context, Wire};
use super::cron;
use super::istio::Resource;
use super::keda::{
    AuthenticationRef, ScaleTarget, ScaledObjectSpec, SecretTargetRef, Trigger,
    TriggerAuthenticationSpec,
};
use super::names::{ServiceHost, content_hash, wire_slug};
use super::{KubeGenError, Object, Options, Target};

/// The configuration message of a NATS subscriber wire.
pub const NATS_SUBSCRIBER: &str = "harness.nats.Subscriber";
/// The configuration messages of the NATS connection a subscriber shares.
pub const NATS_CONNECTIONS: [&str; 2] = ["harness.nats.Publisher", "harness.nats.Connection"];
/// The configuration message of the scheduler wire.
pub const SCHEDULER: &str = "harness.schedule.Scheduler";
/// The configuration message of a RabbitMQ consumer wire.
pub const AMQP_CONSUMER: &str = "harness.amqp.Consumer";
/// The configuration message of the RabbitMQ connection a consumer shares.
pub const AMQP_CONNECTION: &str = "harness.amqp.Publisher";
/// The NATS server's monitoring port (its `http_port`), which KEDA's scaler reads.
pub const NATS_MONITORING_PORT: u16 = 8222;
/// The NATS account of a server without accounts.
pub const NATS_DEFAULT_ACCOUNT: &str = "$G";
/// Most percent of CPU a target may be.
const MAX_CPU_UTILIZATION: u32 = 100;
/// Knative's bound of containerConcurrency.
pub const MAX_CONCURRENCY: u32 = 1000;

/// How a service scales, decided once.
#[derive(Debug, Clone)]
pub struct Scaling {
    pub spec: ScaleSpec,
    /// The consumer wires' triggers, in field order; none: an HPA on CPU.
    pub triggers: Vec<Trigger>,
    /// What the triggers read from the KEDA Secret, by key (a broker's URL with its
    /// credentials); the TriggerAuthentication of each is named after its trigger.
    pub secret_values: BTreeMap<String, String>,
    /// For stderr: a consumer wire that could have given a trigger and did not, and why.
    pub notes: Vec<String>,
}

/// A consumer wire that gives no trigger, and why.
struct Missing {
    wire: String,
    reason: String,
    /// Whether the user expects one (a JetStream subscriber): noted even when the
    /// service keeps a replica.
    expected: bool,
}

/// The service's scaling, or `None` without a scale option.
pub fn plan(
    ctx: &Context<'_>,
    config: &DynamicMessage,
    options: &Options,
) -> Result<Option<Scaling>, KubeGenError> {
    let Some(spec) = ctx.spec.service.scale else {
        return Ok(None);
    };
    check_bounds(&spec)?;
    let to_zero = spec.min_replicas == 0;
    if options.target == Target::Knative {
        // Knative scales on requests and holds them while a replica starts; what stops at
        // zero is the consumers.
        return Ok(Some(Scaling {
            spec,
            triggers: Vec::new(),
            secret_values: BTreeMap::new(),
            notes: Vec::new(),
        }));
    }
    if to_zero && let Some(callers) = synchronous_callers(ctx, options) {
        return Err(KubeGenError::ScaleToZeroWithCallers { callers });
    }
    let mut triggers = Vec::new();
    let mut secret_values = BTreeMap::new();
    let mut missing = Vec::new();
    for wire in consumers_of(ctx) {
        let found = match wire.spec.config_type.as_str() {
            NATS_SUBSCRIBER => nats_trigger(ctx, wire, config).map(|t| vec![t]),
            AMQP_CONSUMER => rabbitmq_trigger(ctx, wire, config).map(|(trigger, host)| {
                secret_values.insert(host_key(&wire.slug), host);
                vec![trigger]
            }),
            // A cron window only matters when no replica runs between the jobs.
            _ if !to_zero => continue,
            _ => cron_triggers(wire, config),
        };
        match found {
            Ok(found) => triggers.extend(found),
            Err(missed) => missing.push(missed),
        }
    }
    if to_zero {
        let reason = match missing.as_slice() {
            [] if triggers.is_empty() => Some(
                "the service has no consumer wire KEDA can watch (a nats::Subscriber of a JetStream consumer, an amqp::Consumer, or a schedule::Scheduler of cron jobs)"
                    .to_owned(),
            ),
            [] => None,
            missing => Some(
                missing
                    .iter()
                    .map(|m| format!("output `{}` gives no trigger: {}", m.wire, m.reason))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        };
        if let Some(reason) = reason {
            return Err(KubeGenError::ScaleToZeroWithoutTrigger { reason });
        }
    }
    let notes = missing
        .into_iter()
        .filter(|m| m.expected)
        .map(|m| {
            format!(
                "output `{}` gives the autoscaler no trigger: {}; it scales on CPU alone",
                m.wire, m.reason
            )
        })
        .collect();
    Ok(Some(Scaling {
        spec,
        triggers,
        secret_values,
        notes,
    }))
}

/// The autoscaler of a Deployment and, from two replicas, its PodDisruptionBudget.
pub fn objects(ctx: &Context<'_>, scaling: &Scaling) -> Vec<Object> {
    let mut objects = Vec::new();
    if scaling.triggers.is_empty() {
        objects.push(Object::HorizontalPodAutoscaler(Box::new(hpa(
            ctx,
            &scaling.spec,
        ))));
    } else {
        if let Some(secret) = keda_secret(ctx, &scaling.secret_values) {
            let secret_name = secret.metadata.name.clone().unwrap_or_default();
            objects.push(Object::Secret(secret));
            for trigger in &scaling.triggers {
                if let Some(auth) = &trigger.authentication_ref {
                    objects.push(Object::TriggerAuthentication(Resource {
                        metadata: ctx.metadata(auth.name.clone()),
                        spec: TriggerAuthenticationSpec {
                            secret_target_ref: vec![SecretTargetRef {
                                parameter: "host".to_owned(),
                                name: secret_name.clone(),
                                key: host_key(&trigger.name),
                            }],
                        },
                    }));
                }
            }
        }
        objects.push(Object::ScaledObject(Box::new(scaled_object(ctx, scaling))));
    }
    if scaling.spec.min_replicas >= 2 {
        objects.push(Object::PodDisruptionBudget(Box::new(pdb(ctx))));
    }
    objects
}

fn check_bounds(spec: &ScaleSpec) -> Result<(), KubeGenError> {
    let fail = |field, reason| Err(KubeGenError::Scale { field, reason });
    if spec.max_replicas == 0 {
        return fail(
            "max_replicas",
            "0 replicas at most would never run the service".into(),
        );
    }
    if spec.max_replicas < spec.min_replicas {
        return fail(
            "max_replicas",
            format!(
                "{} is below min_replicas {}",
                spec.max_replicas, spec.min_replicas
            ),
        );
    }
    if !(1..=MAX_CPU_UTILIZATION).contains(&spec.cpu_utilization) {
        return fail(
            "cpu_utilization",
            format!(
                "{} is not a percent of the CPU request from 1 to {MAX_CPU_UTILIZATION}",
                spec.cpu_utilization
            ),
        );
    }
    if spec.concurrency > MAX_CONCURRENCY {
        return fail(
            "concurrency",
            format!(
                "{} is above Knative's limit of {MAX_CONCURRENCY}",
                spec.concurrency
            ),
        );
    }
    Ok(())
}

/// Who calls the service synchronously, in words; `None` when nothing does. A PUBLIC
/// output is called from outside the cluster, which no system graph sees; for the
/// INTERNAL and HEADLESS ones, the system graph's answer wins when it has one.
fn synchronous_callers(ctx: &Context<'_>, options: &Options) -> Option<String> {
    let exposed: Vec<String> = ctx
        .outputs
        .iter()
        .filter(|w| w.configured)
        .filter_map(|w| match (w.expose()?, options.synchronous_callers) {
            (Expose::Private, _) | (Expose::Internal | Expose::Headless, Some(_)) => None,
            (expose, _) => Some(format!(
                "output `{}` is {}",
                w.spec.name,
                expose.as_str_name()
            )),
        })
        .chain(
            (options.synchronous_callers == Some(true))
                .then(|| "the system graph has services that call it".to_owned()),
        )
        .collect();
    (!exposed.is_empty()).then(|| exposed.join(", "))
}

/// The configured outputs that consume events, in field order.
pub fn consumers_of<'c, 'a>(ctx: &'c Context<'a>) -> impl Iterator<Item = &'c Wire<'a>> {
    ctx.outputs.iter().filter(|w| {
        w.configured
            && [NATS_SUBSCRIBER, AMQP_CONSUMER, SCHEDULER].contains(&w.spec.config_type.as_str())
    })
}

fn nats_trigger(
    ctx: &Context<'_>,
    wire: &Wire<'_>,
    config: &DynamicMessage,
) -> Result<Trigger, Missing> {
    let missing = |reason: String, expected: bool| Missing {
        wire: wire.spec.name.clone(),
        reason,
        expected,
    };
    let subscriber: Subscriber = read(wire, config).map_err(|r| missing(r, false))?;
    let Some(jetstream) = subscriber.jetstream else {
        return Err(missing(
            "it reads core NATS, which keeps no backlog for KEDA to measure (a `jetstream` consumer does)".into(),
            false,
        ));
    };
    let endpoint = nats_monitoring_endpoint(ctx).map_err(|r| missing(r, true))?;
    let lag = match subscriber.max_concurrency {
        0 => DEFAULT_MAX_CONCURRENCY,
        n => n,
    };
    Ok(Trigger::new(
        "nats-jetstream",
        wire.slug.clone(),
        &[
            ("natsServerMonitoringEndpoint", endpoint),
            ("account", NATS_DEFAULT_ACCOUNT.to_owned()),
            ("stream", jetstream.stream),
            ("consumer", jetstream.durable),
            ("lagThreshold", lag.to_string()),
        ],
    ))
}

/// `HOST:8222` of the server of the service's one NATS connection, as KEDA's operator (in
/// its own namespace) reaches it.
fn nats_monitoring_endpoint(ctx: &Context<'_>) -> Result<String, String> {
    let connection = only_connection(ctx, &NATS_CONNECTIONS, "NATS")?;
    Ok(SocketAddress {
        host: keda_host(ctx, connection)?,
        port: NATS_MONITORING_PORT,
    }
    .authority())
}

/// The service's one configured input of the `types`, which a consumer of `broker` shares.
fn only_connection<'c, 'a>(
    ctx: &'c Context<'a>,
    types: &[&str],
    broker: &str,
) -> Result<&'c Wire<'a>, String> {
    let connections: Vec<&Wire<'_>> = ctx
        .inputs
        .iter()
        .filter(|w| w.configured && types.contains(&w.spec.config_type.as_str()))
        .collect();
    match connections.as_slice() {
        [one] => Ok(one),
        [] => Err(format!("the service has no {broker} connection input")),
        many => {
            let names: Vec<String> = many.iter().map(|w| format!("`{}`", w.spec.name)).collect();
            Err(format!(
                "the service has {} {broker} connections ({}), and kube-gen cannot tell which one it reads",
                many.len(),
                names.join(", ")
            ))
        }
    }
}

/// The host of a connection's server as KEDA's operator, in a namespace of its own,
/// reaches it: a Service by its full name.
fn keda_host(ctx: &Context<'_>, connection: &Wire<'_>) -> Result<String, String> {
    let Some((_, address)) = &connection.socket else {
        return Err(format!(
            "its connection `{}` has no server address",
            connection.spec.name
        ));
    };
    match connection.reach() {
        // Context::new made sure the host names a Service.
        Some(Reach::Namespace | Reach::Cluster) => {
            Ok(ServiceHost::parse(&address.host, &ctx.namespace)
                .map_or_else(|| address.host.clone(), |service| service.fqdn()))
        }
        Some(Reach::External) => Ok(address.host.clone()),
        _ => Err(format!(
            "its connection `{}` is LOCALHOST, which KEDA's operator, in a pod of its own, cannot reach",
            connection.spec.name
        )),
    }
}

/// A `rabbitmq` trigger on the consumer's queue, and the broker's URL (with the
/// connection's credentials, as the wire uses them) for the KEDA Secret.
fn rabbitmq_trigger(
    ctx: &Context<'_>,
    wire: &Wire<'_>,
    config: &DynamicMessage,
) -> Result<(Trigger, String), Missing> {
    let missing = |reason: String, expected: bool| Missing {
        wire: wire.spec.name.clone(),
        reason,
        expected,
    };
    let consumer: AmqpConsumer = read(wire, config).map_err(|r| missing(r, false))?;
    let connection =
        only_connection(ctx, &[AMQP_CONNECTION], "RabbitMQ").map_err(|r| missing(r, true))?;
    let publisher: AmqpPublisher = read(connection, config).map_err(|r| missing(r, true))?;
    let host = keda_host(ctx, connection).map_err(|r| missing(r, true))?;
    let mut url = url::Url::parse(&publisher.url).map_err(|_| {
        missing(
            format!("its connection `{}` has no AMQP URL", connection.spec.name),
            true,
        )
    })?;
    let with_host = url.set_host(Some(&host)).is_ok();
    let with_user = publisher.username.is_empty() || url.set_username(&publisher.username).is_ok();
    let with_password =
        publisher.password.is_empty() || url.set_password(Some(&publisher.password)).is_ok();
    if !(with_host && with_user && with_password) {
        return Err(missing(
            format!(
                "the URL of its connection `{}` cannot take a host and credentials",
                connection.spec.name
            ),
            true,
        ));
    }
    let per_replica = [consumer.prefetch, consumer.max_concurrency]
        .into_iter()
        .find(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_CONCURRENCY);
    let mut trigger = Trigger::new(
        "rabbitmq",
        wire.slug.clone(),
        &[
            ("protocol", "amqp".to_owned()),
            ("queueName", consumer.queue),
            ("mode", "QueueLength".to_owned()),
            ("value", per_replica.to_string()),
        ],
    );
    trigger.authentication_ref = Some(AuthenticationRef {
        name: ctx.object_name(&[&wire.slug]),
    });
    Ok((trigger, url.to_string()))
}

/// The key of a trigger's broker URL in the KEDA Secret.
fn host_key(trigger: &str) -> String {
    format!("{trigger}-host")
}

/// `FULL-keda-HASH8`: what the triggers read through their TriggerAuthentications.
fn keda_secret(ctx: &Context<'_>, values: &BTreeMap<String, String>) -> Option<Secret> {
    if values.is_empty() {
        return None;
    }
    let hashed: String = values.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    Some(Secret {
        metadata: ctx.metadata(ctx.object_name(&["keda", &content_hash(&hashed)])),
        type_: Some("Opaque".to_owned()),
        data: Some(
            values
                .iter()
                .map(|(k, v)| (k.clone(), ByteString(v.as_bytes().to_vec())))
                .collect(),
        ),
        immutable: Some(true),
        ..Default::default()
    })
}

/// The cron triggers of every enabled job of a scheduler, by job name.
fn cron_triggers(wire: &Wire<'_>, config: &DynamicMessage) -> Result<Vec<Trigger>, Missing> {
    let missing = |reason: String| Missing {
        wire: wire.spec.name.clone(),
        reason,
        expected: false,
    };
    let scheduler: Scheduler = read(wire, config).map_err(missing)?;
    let jobs: BTreeMap<&String, _> = scheduler.jobs.iter().collect();
    let mut triggers = Vec::new();
    for (name, job) in jobs {
        if job.disabled {
            continue;
        }
        let expression = match &job.trigger {
            Some(job::Trigger::Cron(expression)) => expression,
            Some(job::Trigger::Interval(_)) => {
                return Err(missing(format!(
                    "job `{name}` runs at an interval, and KEDA's cron trigger needs a cron expression"
                )));
            }
            None => continue,
        };
        let windows = cron::windows(expression)
            .map_err(|why| missing(format!("job `{name}` at `{expression}`: {why}")))?;
        let several = windows.len() > 1;
        for (i, window) in windows.into_iter().enumerate() {
            let mut trigger_name = format!("{}-{}", wire.slug, job_slug(name));
            if several {
                trigger_name.push_str(&format!("-{}", i + 1));
            }
            triggers.push(Trigger::new(
                "cron",
                trigger_name,
                &[
                    ("timezone", "Etc/UTC".to_owned()),
                    ("start", window.start),
                    ("end", window.end),
                    ("desiredReplicas", "1".to_owned()),
                ],
            ));
        }
    }
    Ok(triggers)
}

/// A job's name as a trigger name's part: lower case, `-` for anything not alphanumeric.
fn job_slug(name: &str) -> String {
    wire_slug(name)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// The wire's configuration as its generated type.
fn read<T: prost_reflect::prost::Message + Default>(
    wire: &Wire<'_>,
    config: &DynamicMessage,
) -> Result<T, String> {
    wire.spec
        .value(config)
        .and_then(|message| message.transcode_to().ok())
        .ok_or_else(|| format!("its configuration is not a {}", wire.spec.config_type))
}

fn target_ref(ctx: &Context<'_>) -> CrossVersionObjectReference {
    CrossVersionObjectReference {
        api_version: Some("apps/v1".to_owned()),
        kind: "Deployment".to_owned(),
        name: ctx.full_name.clone(),
    }
}

fn hpa(ctx: &Context<'_>, spec: &ScaleSpec) -> HorizontalPodAutoscaler {
    HorizontalPodAutoscaler {
        metadata: ctx.metadata(ctx.full_name.clone()),
        spec: HorizontalPodAutoscalerSpec {
            scale_target_ref: target_ref(ctx),
            min_replicas: Some(spec.min_replicas as i32),
            max_replicas: spec.max_replicas as i32,
            metrics: Some(vec![MetricSpec {
                type_: "Resource".to_owned(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".to_owned(),
                    target: MetricTarget {
                        type_: "Utilization".to_owned(),
                        average_utilization: Some(spec.cpu_utilization as i32),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }]),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn scaled_object(ctx: &Context<'_>, scaling: &Scaling) -> super::ScaledObject {
    let target = target_ref(ctx);
    let mut triggers = scaling.triggers.clone();
    let mut cpu = Trigger::new(
        "cpu",
        "cpu".to_owned(),
        &[("value", scaling.spec.cpu_utilization.to_string())],
    );
    cpu.metric_type = Some("Utilization".to_owned());
    triggers.push(cpu);
    Resource {
        metadata: ctx.metadata(ctx.full_name.clone()),
        spec: ScaledObjectSpec {
            scale_target_ref: ScaleTarget {
                api_version: target.api_version.unwrap_or_default(),
                kind: target.kind,
                name: target.name,
            },
            min_replica_count: scaling.spec.min_replicas,
            max_replica_count: scaling.spec.max_replicas,
            triggers,
        },
    }
}

fn pdb(ctx: &Context<'_>) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: ctx.metadata(ctx.full_name.clone()),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some(ctx.selector_labels()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}
