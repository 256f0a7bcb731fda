//! Autoscaling, the Gateway API router, the Knative target and credentials in CONFIG.

use harness_core::check::Checked;
use harness_core::contract::DEFAULT_MAX_CONCURRENCY;
use k8s_openapi::api::core::v1::Container;

use super::tests::{
    NAMED, check, error_of, generate_for, kinds, scratch_service, scratch_service_with,
};
use super::*;

/// A worker: a NATS connection, a subscriber, a scheduler, and an INTERNAL HTTP output
/// when its YAML configures `api`.
const WORKER: &str = r#"
harness.nats.Connection nats = 1 [
    (harness.wire).input.type = "harness_wires::nats::Publisher",
    (harness.wire).input.reach = NAMESPACE
];
harness.nats.Subscriber orders = 2 [
    (harness.wire).output.type = "harness_wires::nats::Subscriber"
];
harness.schedule.Scheduler jobs = 3 [
    (harness.wire).output.type = "harness_wires::schedule::Scheduler"
];
harness.http.Server api = 4 [
    (harness.wire).output.type = "harness_wires::http::Server",
    (harness.wire).output.expose = INTERNAL
];
harness.redis.Connection cache = 5 [
    (harness.wire).input.type = "harness_wires::redis::Connection",
    (harness.wire).input.reach = NAMESPACE
];
harness.nats.Connection audit = 6 [
    (harness.wire).input.type = "harness_wires::nats::Publisher",
    (harness.wire).input.reach = NAMESPACE
];
"#;

const NATS: &str = "nats:\n  url: nats://nats.messaging:4222\n";
const JETSTREAM: &str =
    "orders:\n  subject: orders.>\n  jetstream:\n    stream: ORDERS\n    durable: billing\n";
const CORE_NATS: &str = "orders:\n  subject: orders.>\n";
const CRON_JOB: &str = "jobs:\n  jobs:\n    invoices:\n      cron: 0 3 * * *\n";
const INTERVAL_JOB: &str = "jobs:\n  jobs:\n    invoices:\n      interval: 60s\n";
const API: &str = "api:\n  bind:\n    host: 0.0.0.0\n    port: 8080\n";

fn worker(scale: &str, yaml: &[&str]) -> Checked {
    let options = format!("{NAMED}\noption (harness.service).scale = {{{scale}}};");
    scratch_service(&options, WORKER, &yaml.concat())
}

fn scaled_object(manifests: &Manifests) -> &ScaledObject {
    manifests
        .objects
        .iter()
        .find_map(|o| match o {
            Object::ScaledObject(s) => Some(s.as_ref()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no ScaledObject: {:?}", kinds(manifests)))
}

fn has_kind(manifests: &Manifests, kind: &str) -> bool {
    manifests.objects.iter().any(|o| o.kind() == kind)
}

#[test]
fn scale_to_zero_is_refused_for_a_service_with_an_internal_output() {
    let checked = worker("min_replicas: 0", &[NATS, JETSTREAM, API]);
    let err = error_of(&checked, &Options::new("v1"));
    assert!(
        err.contains("min_replicas is 0") && err.contains("output `api` is INTERNAL"),
        "{err}"
    );
    // The same service keeps a replica when min_replicas is 1, and KEDA scales it.
    let checked = worker("min_replicas: 1", &[NATS, JETSTREAM, API]);
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    assert_eq!(scaled_object(&manifests).spec.min_replica_count, 1);
}

#[test]
fn the_system_graph_decides_whether_something_calls() {
    let no_callers = Options {
        synchronous_callers: Some(false),
        ..Options::new("v1")
    };
    let checked = worker("min_replicas: 0", &[NATS, JETSTREAM, API]);
    let manifests = generate_for(&checked, &no_callers).unwrap();
    assert_eq!(scaled_object(&manifests).spec.min_replica_count, 0);

    let callers = Options {
        synchronous_callers: Some(true),
        ..Options::new("v1")
    };
    let checked = worker("min_replicas: 0", &[NATS, JETSTREAM]);
    assert!(generate_for(&checked, &Options::new("v1")).is_ok());
    let err = error_of(&checked, &callers);
    assert!(
        err.contains("the system graph has services that call it"),
        "{err}"
    );
}

#[test]
fn scale_to_zero_needs_a_trigger_from_every_consumer() {
    for (yaml, why) in [
        (
            vec![NATS, CORE_NATS],
            "output `orders` gives no trigger: it reads core NATS",
        ),
        (
            vec![NATS, JETSTREAM, INTERVAL_JOB],
            "output `jobs` gives no trigger: job `invoices` runs at an interval",
        ),
        (vec![NATS], "no consumer wire KEDA can watch"),
        (
            vec![JETSTREAM, "audit:\n  url: nats://audit:4222\n", NATS],
            "2 NATS connections (`nats`, `audit`)",
        ),
    ] {
        let checked = worker("min_replicas: 0", &yaml);
        let err = error_of(&checked, &Options::new("v1"));
        assert!(
            err.contains("nothing would start a replica again") && err.contains(why),
            "{yaml:?}: {err}"
        );
    }
}

#[test]
fn the_scaled_object_names_the_stream_and_consumer_of_the_yaml() {
    let checked = worker(
        "min_replicas: 0, max_replicas: 4",
        &[NATS, JETSTREAM, CRON_JOB],
    );
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    let scaled = scaled_object(&manifests);
    assert_eq!(
        (scaled.spec.min_replica_count, scaled.spec.max_replica_count),
        (0, 4)
    );
    assert_eq!(scaled.spec.scale_target_ref.kind, "Deployment");
    assert_eq!(scaled.spec.scale_target_ref.name, "web");
    let types: Vec<&str> = scaled
        .spec
        .triggers
        .iter()
        .map(|t| t.type_.as_str())
        .collect();
    assert_eq!(types, ["nats-jetstream", "cron", "cpu"]);
    let nats = &scaled.spec.triggers[0].metadata;
    assert_eq!(nats["stream"], "ORDERS");
    assert_eq!(nats["consumer"], "billing");
    // The backlog per replica is the wire's default concurrency when the YAML sets none.
    assert_eq!(nats["lagThreshold"], DEFAULT_MAX_CONCURRENCY.to_string());
    assert_eq!(
        nats["natsServerMonitoringEndpoint"],
        "nats.messaging.svc.cluster.local:8222"
    );
    let cron = &scaled.spec.triggers[1].metadata;
    assert_eq!(
        (cron["start"].as_str(), cron["end"].as_str()),
        ("55 2 * * *", "15 3 * * *")
    );
    // No HPA beside KEDA's own, and no PDB below two replicas.
    assert!(!has_kind(&manifests, "HorizontalPodAutoscaler"));
    assert!(!has_kind(&manifests, "PodDisruptionBudget"));
}

#[test]
fn the_autoscaler_never_holds_a_credential() {
    let options = format!("{NAMED}\noption (harness.service).scale.min_replicas = 0;");
    let yaml = [NATS, "  username: billing\n", JETSTREAM].concat();
    let merge = "nats:\n  password: pa55-w0rd-n4ts\n";
    let checked = scratch_service_with(&options, WORKER, &yaml, Some(merge));
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    assert!(!has_kind(&manifests, "TriggerAuthentication"));
    let yaml = manifests.to_yaml().unwrap();
    assert!(!yaml.contains("pa55-w0rd-n4ts"), "{yaml}");
    assert!(manifests.warnings.is_empty(), "{:?}", manifests.warnings);
}

#[test]
fn without_event_triggers_an_hpa_scales_on_cpu() {
    let checked = worker(
        "min_replicas: 3, max_replicas: 5, cpu_utilization: 60",
        &[API],
    );
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    let Some(Object::HorizontalPodAutoscaler(hpa)) = manifests
        .objects
        .iter()
        .find(|o| o.kind() == "HorizontalPodAutoscaler")
    else {
        panic!("{:?}", kinds(&manifests))
    };
    assert_eq!((hpa.spec.min_replicas, hpa.spec.max_replicas), (Some(3), 5));
    let metric = &hpa.spec.metrics.as_ref().unwrap()[0];
    let target = &metric.resource.as_ref().unwrap().target;
    assert_eq!(target.average_utilization, Some(60));
    let Some(Object::PodDisruptionBudget(pdb)) = manifests
        .objects
        .iter()
        .find(|o| o.kind() == "PodDisruptionBudget")
    else {
        panic!("{:?}", kinds(&manifests))
    };
    let spec = pdb.spec.as_ref().unwrap();
    assert_eq!(
        spec.max_unavailable,
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(1))
    );
    // The autoscaler owns the replica count.
    let Object::Deployment(deployment) = &manifests.objects[1] else {
        panic!("{:?}", kinds(&manifests))
    };
    assert_eq!(deployment.spec.replicas, None);
    assert!(!has_kind(&manifests, "ScaledObject"));

    // A core NATS subscriber gives no trigger, and a replica always runs: an HPA, quietly.
    let checked = worker("min_replicas: 1", &[NATS, CORE_NATS, INTERVAL_JOB]);
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    assert!(has_kind(&manifests, "HorizontalPodAutoscaler"));
    assert!(!has_kind(&manifests, "PodDisruptionBudget"));
    assert!(manifests.warnings.is_empty(), "{:?}", manifests.warnings);
}

#[test]
fn a_subscriber_whose_connection_is_unknown_is_noted() {
    let audit = "audit:\n  url: nats://audit:4222\n";
    let checked = worker("min_replicas: 1", &[NATS, audit, JETSTREAM]);
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    assert!(has_kind(&manifests, "HorizontalPodAutoscaler"));
    assert!(
        manifests.warnings.iter().any(|w| w
            .contains("output `orders` gives the autoscaler no trigger")
            && w.contains("cannot tell which one")),
        "{:?}",
        manifests.warnings
    );
}

#[test]
fn no_scale_option_no_autoscaler() {
    let checked = scratch_service(NAMED, WORKER, &[NATS, JETSTREAM].concat());
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    for kind in [
        "HorizontalPodAutoscaler",
        "ScaledObject",
        "PodDisruptionBudget",
    ] {
        assert!(!has_kind(&manifests, kind), "{kind}");
    }
}

#[test]
fn scale_bounds_are_checked() {
    for (scale, why) in [
        (
            "min_replicas: 3, max_replicas: 2",
            "max_replicas: 2 is below min_replicas 3",
        ),
        ("max_replicas: 0", "max_replicas: 0 replicas at most"),
        ("cpu_utilization: 0", "cpu_utilization: 0 is not a percent"),
        (
            "cpu_utilization: 150",
            "cpu_utilization: 150 is not a percent",
        ),
        (
            "concurrency: 5000",
            "concurrency: 5000 is above Knative's limit",
        ),
    ] {
        let checked = worker(scale, &[API]);
        let err = error_of(&checked, &Options::new("v1"));
        assert!(err.contains(why), "{scale}: {err}");
    }
}

fn gateway_api(base_domain: Option<&str>) -> Manifests {
    let checked = check("spock.proto", "spock.yaml", Some("spock-merge.yaml"), None);
    let options = Options {
        router: Router::GatewayApi,
        namespace: "bridge".into(),
        base_domain: base_domain.map(str::to_owned),
        ..Options::new("v1")
    };
    generate_for(&checked, &options).unwrap()
}

#[test]
fn gateway_api_routes_the_public_host_to_the_service_port() {
    let manifests = gateway_api(Some("acme.dev"));
    assert!(!has_kind(&manifests, "Gateway") && !has_kind(&manifests, "VirtualService"));
    let http: Vec<&HttpRoute> = manifests
        .objects
        .iter()
        .filter_map(|o| match o {
            Object::HttpRoute(r) => Some(r),
            _ => None,
        })
        .collect();
    let [api] = http.as_slice() else {
        panic!("{:?}", kinds(&manifests))
    };
    assert_eq!(api.metadata.name.as_deref(), Some("spock-api"));
    assert_eq!(api.spec.hostnames, ["spock.acme.dev"]);
    let parent = &api.spec.parent_refs[0];
    assert_eq!(
        (
            parent.kind.as_str(),
            parent.namespace.as_str(),
            parent.name.as_str()
        ),
        ("Gateway", "istio-ingress", "gateway")
    );
    let backend = &api.spec.rules[0].backend_refs[0];
    assert_eq!((backend.name.as_str(), backend.port), ("spock", 80));

    let Some(Object::GrpcRoute(rpc)) = manifests.objects.iter().find(|o| o.kind() == "GRPCRoute")
    else {
        panic!("{:?}", kinds(&manifests))
    };
    // INTERNAL: attached to the Service itself, at the port it routes (GAMMA).
    let parent = &rpc.spec.parent_refs[0];
    assert_eq!(
        (
            parent.group.as_str(),
            parent.kind.as_str(),
            parent.name.as_str(),
            parent.port
        ),
        ("", "Service", "spock", Some(50051))
    );
    assert!(rpc.spec.hostnames.is_empty());
    assert_eq!(rpc.spec.rules[0].backend_refs[0].port, 50051);
    // The PUBLIC TCP output `shell` gets no route, and a warning says so.
    assert!(
        manifests
            .warnings
            .iter()
            .any(|w| w.contains("output `shell` is PUBLIC over TCP")),
        "{:?}",
        manifests.warnings
    );
}

#[test]
fn gateway_api_without_a_base_domain_routes_in_the_mesh() {
    let manifests = gateway_api(None);
    let Some(Object::HttpRoute(api)) = manifests.objects.iter().find(|o| o.kind() == "HTTPRoute")
    else {
        panic!("{:?}", kinds(&manifests))
    };
    let parent = &api.spec.parent_refs[0];
    assert_eq!((parent.kind.as_str(), parent.port), ("Service", Some(80)));
    assert!(api.spec.hostnames.is_empty());
    assert!(manifests.warnings.is_empty(), "{:?}", manifests.warnings);
}

#[test]
fn a_bad_gateway_is_refused() {
    let checked = check("kirk.proto", "kirk.yaml", None, None);
    let options = Options {
        router: Router::GatewayApi,
        gateway: "Infra/edge".into(),
        ..Options::new("v1")
    };
    let err = error_of(&checked, &options);
    assert!(err.starts_with("--gateway `Infra/edge`"), "{err}");
}

fn container(manifests: &Manifests) -> &Container {
    manifests
        .objects
        .iter()
        .find_map(|o| match o {
            Object::Deployment(d) => d.spec.template.spec.as_ref(),
            Object::KnativeService(k) => Some(&k.spec.template.spec.pod),
            _ => None,
        })
        .map(|pod| &pod.containers[0])
        .expect("a pod")
}

#[test]
fn knative_keeps_the_security_context_and_probes() {
    let checked = check("rand.proto", "rand.yaml", None, None);
    let deployment = generate_for(&checked, &Options::new("v1")).unwrap_err();
    // As a Deployment, rand's scale to zero is refused: its output is PUBLIC.
    assert!(matches!(
        deployment,
        KubeGenError::ScaleToZeroWithCallers { .. }
    ));
    let knative = Options {
        target: Target::Knative,
        base_domain: Some("acme.dev".into()),
        ..Options::new("v1")
    };
    let manifests = generate_for(&checked, &knative).unwrap();
    let names: Vec<&str> = manifests.objects.iter().map(Object::kind).collect();
    assert_eq!(
        names,
        [
            "ConfigMap",
            "Service",
            "DomainMapping",
            "Sidecar",
            "NetworkPolicy"
        ]
    );
    let Object::KnativeService(service) = &manifests.objects[1] else {
        panic!("{names:?}")
    };
    let annotations = service.spec.template.metadata.annotations.as_ref().unwrap();
    assert_eq!(annotations[knative::MIN_SCALE_ANNOTATION], "0");
    assert_eq!(annotations[knative::MAX_SCALE_ANNOTATION], "10");
    assert_eq!(service.spec.template.spec.container_concurrency, Some(50));
    assert_eq!(service.spec.template.spec.pod.security_context, None);

    // The container is the Deployment's, but for its one port's name.
    let unscaled = scratch_service(
        NAMED,
        r#"harness.http.Server web = 1 [
            (harness.wire).output.type = "harness_wires::http::Server",
            (harness.wire).output.expose = PUBLIC
        ];"#,
        "web:\n  bind:\n    host: 0.0.0.0\n    port: 8080\n",
    );
    let as_deployment = generate_for(&unscaled, &Options::new("v1")).unwrap();
    let as_knative = generate_for(&unscaled, &knative).unwrap();
    let (expected, actual) = (container(&as_deployment), container(&as_knative));
    assert_eq!(actual.security_context, expected.security_context);
    assert_eq!(
        actual.security_context.as_ref().unwrap().run_as_non_root,
        Some(true)
    );
    assert_eq!(actual.volume_mounts, expected.volume_mounts);
    assert_eq!(actual.resources, expected.resources);
    for (probe, original) in [
        (&actual.readiness_probe, &expected.readiness_probe),
        (&actual.liveness_probe, &expected.liveness_probe),
        (&actual.startup_probe, &expected.startup_probe),
    ] {
        let (probe, original) = (probe.clone().unwrap(), original.clone().unwrap());
        let http = probe.http_get.clone().unwrap();
        assert_eq!(http.path, original.http_get.clone().unwrap().path);
        assert_eq!(
            http.port,
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("http1".into())
        );
        assert_eq!(probe.period_seconds, original.period_seconds);
        assert_eq!(probe.failure_threshold, original.failure_threshold);
    }
    let ports = actual.ports.as_ref().unwrap();
    assert_eq!(ports.len(), 1);
    assert_eq!(
        (ports[0].name.as_deref(), ports[0].container_port),
        (Some("http1"), 8080)
    );
}

#[test]
fn knative_refuses_what_it_cannot_serve() {
    let knative = Options {
        target: Target::Knative,
        ..Options::new("v1")
    };
    let spock = check("spock.proto", "spock.yaml", Some("spock-merge.yaml"), None);
    let err = error_of(&spock, &knative);
    assert!(err.contains("output `raft` is HEADLESS"), "{err}");

    let two = scratch_service(
        NAMED,
        r#"harness.http.Server web = 1 [
            (harness.wire).output.type = "harness_wires::http::Server",
            (harness.wire).output.expose = PUBLIC
        ];
        harness.grpc.Server rpc = 2 [
            (harness.wire).output.type = "harness_wires::grpc::Server",
            (harness.wire).output.expose = INTERNAL
        ];"#,
        "web:\n  bind:\n    host: 0.0.0.0\n    port: 8080\nrpc:\n  bind:\n    host: 0.0.0.0\n    port: 9090\n",
    );
    let err = error_of(&two, &knative);
    assert!(err.contains("outputs `web`, `rpc` are exposed"), "{err}");

    let reserved = scratch_service(
        NAMED,
        r#"harness.grpc.Server rpc = 1 [
            (harness.wire).output.type = "harness_wires::grpc::Server",
            (harness.wire).output.expose = INTERNAL
        ];"#,
        "rpc:\n  bind:\n    host: 0.0.0.0\n    port: 9090\n",
    );
    let err = error_of(&reserved, &knative);
    assert!(
        err.contains("listens on 9090, a port Knative's queue-proxy takes"),
        "{err}"
    );

    let tcp = scratch_service(
        NAMED,
        r#"harness.net.Server shell = 1 [
            (harness.wire).output.type = "harness_wires::net::Server",
            (harness.wire).output.expose = PUBLIC
        ];"#,
        "shell:\n  bind:\n    host: 0.0.0.0\n    port: 2222\n",
    );
    let err = error_of(&tcp, &knative);
    assert!(err.contains("speaks plain TCP"), "{err}");

    let worker = worker("min_replicas: 0", &[NATS, JETSTREAM, API]);
    let err = error_of(&worker, &knative);
    assert!(
        err.contains("output `orders` (harness.nats.Subscriber) would stop"),
        "{err}"
    );

    let kirk = check("kirk.proto", "kirk.yaml", None, None);
    let routed = Options {
        router: Router::GatewayApi,
        ..knative.clone()
    };
    let err = error_of(&kirk, &routed);
    assert!(err.contains("--router gateway-api"), "{err}");
}

#[test]
fn an_internal_knative_service_is_cluster_local() {
    let worker = worker("min_replicas: 1", &[NATS, JETSTREAM, API]);
    let knative = Options {
        target: Target::Knative,
        base_domain: Some("acme.dev".into()),
        ..Options::new("v1")
    };
    let manifests = generate_for(&worker, &knative).unwrap();
    let Some(Object::KnativeService(service)) =
        manifests.objects.iter().find(|o| o.kind() == "Service")
    else {
        panic!("{:?}", kinds(&manifests))
    };
    let labels = service.metadata.labels.as_ref().unwrap();
    assert_eq!(labels[knative::VISIBILITY_LABEL], "cluster-local");
    assert!(!has_kind(&manifests, "DomainMapping"));
    assert!(!has_kind(&manifests, "ScaledObject"));
}

#[test]
fn credentials_in_config_are_warned_without_their_value() {
    let yaml = [
        "nats:\n  url: nats://billing:s3cr3t-url@nats:4222\n",
        "cache:\n  address:\n    host: redis\n    port: 6379\n  password: hunter2-redis\n",
    ]
    .concat();
    let checked = scratch_service(NAMED, WORKER, &yaml);
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    let warnings = manifests.warnings.join("\n");
    assert!(
        warnings.contains(
            "s.yaml:2:8: nats.url: a URL with a password is written in the configuration file"
        ),
        "{warnings}"
    );
    assert!(
        warnings.contains("s.yaml:7:13: cache.password: a credential is written")
            && warnings.contains("--secret-merge")
            && warnings.contains("`cache: {password: …}`"),
        "{warnings}"
    );
    assert!(
        !warnings.contains("s3cr3t-url") && !warnings.contains("hunter2"),
        "{warnings}"
    );

    // The same credentials from a secret file, or empty ones, are quiet.
    let quiet = scratch_service_with(
        NAMED,
        WORKER,
        "nats:\n  url: nats://nats:4222\ncache:\n  address:\n    host: redis\n    port: 6379\n  password: \"\"\n",
        Some(
            "nats:\n  url: nats://billing:s3cr3t-url@nats:4222\ncache:\n  password: hunter2-redis\n",
        ),
    );
    let manifests = generate_for(&quiet, &Options::new("v1")).unwrap();
    assert!(manifests.warnings.is_empty(), "{:?}", manifests.warnings);
}

/// riley (a RabbitMQ consumer) with `yaml` for its configuration and its merge secret.
fn riley(yaml: &str) -> Checked {
    let dir = tempfile::tempdir().unwrap();
    let inputs = std::path::Path::new(super::tests::INPUTS);
    for file in ["riley.proto", "riley-merge.yaml"] {
        std::fs::copy(inputs.join(file), dir.path().join(file)).unwrap();
    }
    std::fs::write(dir.path().join("riley.yaml"), yaml).unwrap();
    harness_core::check::check_files(
        &dir.path().join("riley.proto"),
        &[],
        &dir.path().join("riley.yaml"),
        Some(&dir.path().join("riley-merge.yaml")),
        None,
    )
    .unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn the_rabbitmq_trigger_reads_the_broker_through_a_secret() {
    let checked = check("riley.proto", "riley.yaml", Some("riley-merge.yaml"), None);
    let options = Options {
        namespace: "engineering".into(),
        ..Options::new("v1")
    };
    let manifests = generate_for(&checked, &options).unwrap();
    let trigger = &scaled_object(&manifests).spec.triggers[0];
    assert_eq!(trigger.type_, "rabbitmq");
    assert_eq!(trigger.metadata["queueName"], "orders");
    assert_eq!(trigger.metadata["mode"], "QueueLength");
    // The broker sends `prefetch` messages ahead to a replica: that many per replica.
    assert_eq!(trigger.metadata["value"], "20");
    assert!(
        !trigger.metadata.contains_key("host"),
        "{:?}",
        trigger.metadata
    );
    let auth_name = &trigger.authentication_ref.as_ref().unwrap().name;
    let Some(Object::TriggerAuthentication(auth)) =
        manifests.objects.iter().find(|o| o.name() == auth_name)
    else {
        panic!(
            "no TriggerAuthentication {auth_name}: {:?}",
            kinds(&manifests)
        )
    };
    let [target] = auth.spec.secret_target_ref.as_slice() else {
        panic!("{:?}", auth.spec)
    };
    assert_eq!(target.parameter, "host");
    let Some(Object::Secret(secret)) = manifests.objects.iter().find(|o| o.name() == target.name)
    else {
        panic!("no Secret {}: {:?}", target.name, kinds(&manifests))
    };
    let url = &secret.data.as_ref().unwrap()[&target.key];
    assert_eq!(
        String::from_utf8(url.0.clone()).unwrap(),
        "amqp://riley:l0ck-the-h4tch@rabbitmq.engineering.svc.cluster.local:5672/shop"
    );
    assert_eq!(secret.immutable, Some(true));
    // The password is in that Secret only, base64 like every Secret's data.
    let yaml = manifests.to_yaml().unwrap();
    assert!(!yaml.contains("l0ck-the-h4tch"), "{yaml}");
}

#[test]
fn the_rabbitmq_backlog_per_replica_falls_back_to_the_concurrency() {
    let base = "rabbitmq:\n  url: amqp://rabbitmq:5672/shop\norders:\n  queue: orders\n";
    for (extra, value) in [
        ("  max_concurrency: 4\n", "4".to_owned()),
        ("", DEFAULT_MAX_CONCURRENCY.to_string()),
    ] {
        let manifests =
            generate_for(&riley(&format!("{base}{extra}")), &Options::new("v1")).unwrap();
        let trigger = &scaled_object(&manifests).spec.triggers[0];
        assert_eq!(trigger.metadata["value"], value, "{extra:?}");
    }
}
