//! The policies' meaning, object by object: each test asks a small interpreter of the
//! NetworkPolicy and AuthorizationPolicy rules whether a given connection is allowed.

use std::collections::BTreeMap;
use std::net::IpAddr;

use harness_core::spec::Protocol;
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::authorization::{AuthorizationPolicy, peer_authentication};
use super::network_policy::NAMESPACE_NAME_LABEL;
use super::*;
use crate::kube::tests::{NAMED, check, generate_for, kinds, scratch_service};
use crate::kube::{Manifests, Object, Target};

/// One end of a connection, as a NetworkPolicy sees it.
#[derive(Debug, Clone)]
enum Endpoint {
    Pod {
        namespace: String,
        labels: BTreeMap<String, String>,
    },
    Outside(IpAddr),
}

fn pod(namespace: &str, labels: &[(&str, &str)]) -> Endpoint {
    Endpoint::Pod {
        namespace: namespace.to_owned(),
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// A pod of a harness service.
fn service_pod(namespace: &str, name: &str) -> Endpoint {
    pod(namespace, &[(crate::kube::context::LABEL_NAME, name)])
}

fn selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    assert!(
        selector.match_expressions.is_none(),
        "only matchLabels is used"
    );
    selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v))
}

/// Whether `peer` (a rule's `from` or `to` item) matches `endpoint`, for a policy in
/// `own_namespace`.
fn peer_matches(peer: &NetworkPolicyPeer, endpoint: &Endpoint, own_namespace: &str) -> bool {
    match endpoint {
        Endpoint::Outside(ip) => peer.ip_block.as_ref().is_some_and(|block| {
            let (address, bits) = block.cidr.split_once('/').unwrap();
            assert!(bits == "32" || bits == "128", "{}", block.cidr);
            address.parse::<IpAddr>().unwrap() == *ip
        }),
        Endpoint::Pod { namespace, labels } => {
            if peer.ip_block.is_some() {
                return false;
            }
            let namespace_labels =
                BTreeMap::from([(NAMESPACE_NAME_LABEL.to_owned(), namespace.clone())]);
            let namespace_ok = match &peer.namespace_selector {
                Some(selector) => selects(selector, &namespace_labels),
                None => namespace == own_namespace,
            };
            let pod_ok = peer
                .pod_selector
                .as_ref()
                .is_none_or(|selector| selects(selector, labels));
            namespace_ok && pod_ok
        }
    }
}

fn port_matches(ports: Option<&Vec<NetworkPolicyPort>>, port: u16, protocol: &str) -> bool {
    ports.is_none_or(|ports| {
        ports.iter().any(|p| {
            p.port == Some(IntOrString::Int(i32::from(port)))
                && p.protocol.as_deref().unwrap_or("TCP") == protocol
        })
    })
}

fn peers_match(peers: Option<&Vec<NetworkPolicyPeer>>, endpoint: &Endpoint, ns: &str) -> bool {
    peers.is_none_or(|peers| peers.iter().any(|p| peer_matches(p, endpoint, ns)))
}

fn spec_of(policy: &NetworkPolicy) -> (&k8s_openapi::api::networking::v1::NetworkPolicySpec, &str) {
    (
        policy.spec.as_ref().unwrap(),
        policy.metadata.namespace.as_deref().unwrap(),
    )
}

/// Whether the policy lets its pods connect to `to` on `port`.
fn egress_allows(policy: &NetworkPolicy, to: &Endpoint, port: u16, protocol: &str) -> bool {
    let (spec, ns) = spec_of(policy);
    assert!(
        spec.policy_types
            .as_ref()
            .unwrap()
            .contains(&"Egress".to_owned())
    );
    spec.egress.iter().flatten().any(|rule| {
        peers_match(rule.to.as_ref(), to, ns) && port_matches(rule.ports.as_ref(), port, protocol)
    })
}

/// Whether the policy lets `from` connect to its pods on `port` (TCP).
fn ingress_allows(policy: &NetworkPolicy, from: &Endpoint, port: u16) -> bool {
    let (spec, ns) = spec_of(policy);
    if !spec
        .policy_types
        .as_ref()
        .unwrap()
        .contains(&"Ingress".to_owned())
    {
        return true;
    }
    spec.ingress.iter().flatten().any(|rule| {
        peers_match(rule.from.as_ref(), from, ns) && port_matches(rule.ports.as_ref(), port, "TCP")
    })
}

/// Whether the AuthorizationPolicy lets a request from `principal` (of `namespace`) in
/// on `port`.
fn authorization_allows(policy: &AuthorizationPolicy, principal: &str, port: u16) -> bool {
    assert_eq!(policy.spec.action, "ALLOW");
    let namespace = principal.split('/').nth(2).unwrap();
    policy.spec.rules.iter().any(|rule| {
        let from = rule.from.iter().any(|f| {
            f.source.principals.iter().any(|p| p == principal)
                || f.source.namespaces.iter().any(|n| n == namespace)
        });
        let to = rule
            .to
            .iter()
            .any(|t| t.operation.ports.contains(&port.to_string()));
        from && to
    })
}

fn network_policy_of(manifests: &Manifests) -> &NetworkPolicy {
    manifests
        .objects
        .iter()
        .find_map(|o| match o {
            Object::NetworkPolicy(p) => Some(p.as_ref()),
            _ => None,
        })
        .expect("a NetworkPolicy")
}

fn authorization_policy_of(manifests: &Manifests) -> Option<&AuthorizationPolicy> {
    manifests.objects.iter().find_map(|o| match o {
        Object::AuthorizationPolicy(p) => Some(p),
        _ => None,
    })
}

fn service_account_of(manifests: &Manifests) -> Option<&ServiceAccount> {
    manifests.objects.iter().find_map(|o| match o {
        Object::ServiceAccount(a) => Some(a),
        _ => None,
    })
}

fn grpc(port: u16) -> PeerPort {
    PeerPort {
        port,
        protocol: Protocol::Grpc,
    }
}

fn peer(service: &str, namespace: &str, ports: Vec<PeerPort>) -> Peer {
    Peer {
        service: service.to_owned(),
        instance: None,
        namespace: namespace.to_owned(),
        ports,
    }
}

fn in_system(peers: Peers) -> Options {
    Options {
        peers: Some(peers),
        ..Options::new("v1")
    }
}

/// kirk in a system: it calls scotty (gRPC, 50051) and nobody calls it.
fn kirk_in_system() -> Manifests {
    let checked = check("kirk.proto", "kirk.yaml", None, None);
    let peers = Peers {
        callees: vec![peer("scotty", "default", vec![grpc(50051)])],
        ..Peers::default()
    };
    generate_for(&checked, &in_system(peers)).unwrap()
}

/// scotty in a system: kirk calls it.
fn scotty_in_system() -> Manifests {
    let checked = check("scotty.proto", "scotty.yaml", None, None);
    let peers = Peers {
        callers: vec![peer("kirk", "default", vec![grpc(50051)])],
        ..Peers::default()
    };
    generate_for(&checked, &in_system(peers)).unwrap()
}

const DB_HOST_ADDRESS: &str = "203.0.113.7";

#[test]
fn kirk_reaches_scotty_dns_istiod_and_postgresql_and_nothing_else() {
    let manifests = kirk_in_system();
    let policy = network_policy_of(&manifests);
    let scotty = service_pod("default", "scotty");
    let dns = pod("kube-system", &[("k8s-app", "kube-dns")]);
    let istiod = pod("istio-system", &[("app", "istiod")]);
    // db.acme.dev resolves to some address outside the cluster.
    let db = Endpoint::Outside(DB_HOST_ADDRESS.parse().unwrap());

    assert!(egress_allows(policy, &scotty, 50051, "TCP"));
    assert!(egress_allows(policy, &dns, 53, "UDP"));
    assert!(egress_allows(policy, &dns, 53, "TCP"));
    assert!(egress_allows(policy, &istiod, 15012, "TCP"));
    assert!(egress_allows(policy, &db, 5432, "TCP"));

    assert!(
        !egress_allows(policy, &scotty, 9000, "TCP"),
        "scotty's metrics"
    );
    assert!(!egress_allows(policy, &scotty, 50051, "UDP"));
    for other in [
        service_pod("default", "uhura"),
        service_pod("engineering", "scotty"),
        pod("default", &[]),
    ] {
        assert!(!egress_allows(policy, &other, 50051, "TCP"), "{other:?}");
    }
    assert!(!egress_allows(policy, &db, 443, "TCP"));
    assert!(!egress_allows(policy, &dns, 5353, "UDP"));
    assert!(
        !egress_allows(policy, &istiod, 15010, "TCP"),
        "istiod in plain text"
    );
    // The PostgreSQL port is the only one open to the outside (a host name has no
    // address to pin), and to nothing else in the cluster.
    let spec = policy.spec.as_ref().unwrap();
    assert_eq!(spec.egress.as_ref().unwrap().len(), 4, "{:#?}", spec.egress);
}

#[test]
fn kirk_admits_the_gateway_on_its_public_port_and_monitoring_on_telemetry_only() {
    let manifests = kirk_in_system();
    let policy = network_policy_of(&manifests);
    let gateway = pod("istio-system", &[("istio", "ingressgateway")]);
    let monitoring = pod("monitoring", &[("app", "prometheus")]);
    assert!(ingress_allows(policy, &gateway, 8000));
    assert!(
        !ingress_allows(policy, &gateway, 50101),
        "the PRIVATE monitor port"
    );
    // Nobody in the system calls kirk: no pod of its namespace may.
    assert!(!ingress_allows(
        policy,
        &service_pod("default", "scotty"),
        8000
    ));
    assert!(!ingress_allows(policy, &pod("default", &[]), 8000));
    assert!(ingress_allows(policy, &monitoring, 15020));
    assert!(ingress_allows(policy, &monitoring, 15090));
    assert!(!ingress_allows(policy, &monitoring, 8000));

    let authorization = authorization_policy_of(&manifests).expect("an AuthorizationPolicy");
    let gateway_principal = "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account";
    assert!(authorization_allows(authorization, gateway_principal, 8000));
    assert!(!authorization_allows(
        authorization,
        gateway_principal,
        50101
    ));
    assert!(!authorization_allows(
        authorization,
        "cluster.local/ns/default/sa/scotty",
        8000
    ));
}

#[test]
fn scotty_admits_only_kirk() {
    let manifests = scotty_in_system();
    let policy = network_policy_of(&manifests);
    let kirk = service_pod("default", "kirk");
    assert!(ingress_allows(policy, &kirk, 50051));
    assert!(
        !ingress_allows(policy, &kirk, 9000),
        "metrics are monitoring's"
    );
    for other in [
        service_pod("default", "uhura"),
        service_pod("bridge", "kirk"),
        pod("default", &[]),
    ] {
        assert!(!ingress_allows(policy, &other, 50051), "{other:?}");
    }
    let monitoring = pod("monitoring", &[]);
    assert!(ingress_allows(policy, &monitoring, 9000));
    assert!(!ingress_allows(policy, &monitoring, 50051));
    // scotty's server is PUBLIC: the gateway may call it too.
    assert!(ingress_allows(
        policy,
        &pod("istio-system", &[("istio", "ingressgateway")]),
        50051
    ));

    let authorization = authorization_policy_of(&manifests).unwrap();
    assert_eq!(
        authorization.spec.selector.match_labels,
        BTreeMap::from([(
            crate::kube::context::LABEL_NAME.to_owned(),
            "scotty".to_owned()
        )])
    );
    assert!(authorization_allows(
        authorization,
        "cluster.local/ns/default/sa/kirk",
        50051
    ));
    assert!(!authorization_allows(
        authorization,
        "cluster.local/ns/default/sa/kirk",
        9000
    ));
    assert!(!authorization_allows(
        authorization,
        "cluster.local/ns/default/sa/uhura",
        50051
    ));
    assert!(!authorization_allows(
        authorization,
        "cluster.local/ns/bridge/sa/kirk",
        50051
    ));
    assert!(authorization_allows(
        authorization,
        "cluster.local/ns/monitoring/sa/prometheus",
        9000
    ));
    // Its PostgreSQL is LOCALHOST: no egress but DNS and istiod.
    let spec = policy.spec.as_ref().unwrap();
    assert_eq!(spec.egress.as_ref().unwrap().len(), 2, "{:#?}", spec.egress);
}

#[test]
fn callers_from_other_namespaces_and_instances_are_selected_by_both() {
    let checked = check("scotty.proto", "scotty.yaml", None, None);
    let caller = Peer {
        instance: Some("blue".to_owned()),
        ..peer("kirk", "bridge", vec![grpc(50051)])
    };
    let manifests = generate_for(
        &checked,
        &in_system(Peers {
            callers: vec![caller],
            ..Peers::default()
        }),
    )
    .unwrap();
    let policy = network_policy_of(&manifests);
    let blue = pod(
        "bridge",
        &[
            (crate::kube::context::LABEL_NAME, "kirk"),
            (crate::kube::context::LABEL_INSTANCE, "blue"),
        ],
    );
    assert!(ingress_allows(policy, &blue, 50051));
    assert!(
        !ingress_allows(policy, &service_pod("bridge", "kirk"), 50051),
        "another instance"
    );
    assert!(!ingress_allows(
        policy,
        &pod(
            "default",
            &[
                (crate::kube::context::LABEL_NAME, "kirk"),
                (crate::kube::context::LABEL_INSTANCE, "blue"),
            ],
        ),
        50051
    ));
    let authorization = authorization_policy_of(&manifests).unwrap();
    assert!(authorization_allows(
        authorization,
        "cluster.local/ns/bridge/sa/kirk-blue",
        50051
    ));
    assert!(!authorization_allows(
        authorization,
        "cluster.local/ns/bridge/sa/kirk",
        50051
    ));
}

#[test]
fn a_lone_service_reaches_the_namespaces_of_its_inputs_and_admits_its_namespace() {
    let checked = check("kirk.proto", "kirk.yaml", None, None);
    let options = Options {
        namespace: "bridge".to_owned(),
        ..Options::new("v1")
    };
    let manifests = generate_for(&checked, &options).unwrap();
    assert!(service_account_of(&manifests).is_none());
    assert!(authorization_policy_of(&manifests).is_none());
    let policy = network_policy_of(&manifests);
    // `scotty` is a Service of kirk's namespace, whose pods and port are unknown alone.
    assert!(egress_allows(
        policy,
        &service_pod("bridge", "scotty"),
        50051,
        "TCP"
    ));
    assert!(egress_allows(policy, &pod("bridge", &[]), 8080, "TCP"));
    assert!(!egress_allows(
        policy,
        &service_pod("default", "scotty"),
        50051,
        "TCP"
    ));
    assert!(egress_allows(
        policy,
        &Endpoint::Outside(DB_HOST_ADDRESS.parse().unwrap()),
        5432,
        "TCP"
    ));
    assert!(!egress_allows(
        policy,
        &Endpoint::Outside(DB_HOST_ADDRESS.parse().unwrap()),
        5433,
        "TCP"
    ));
    // Its PUBLIC server: from its namespace and the gateway.
    assert!(ingress_allows(policy, &pod("bridge", &[]), 8000));
    assert!(ingress_allows(
        policy,
        &pod("istio-system", &[("istio", "ingressgateway")]),
        8000
    ));
    assert!(!ingress_allows(policy, &pod("default", &[]), 8000));
    assert!(!ingress_allows(policy, &pod("bridge", &[]), 50101));
}

#[test]
fn external_ip_inputs_get_an_ip_block_and_datagram_wires_udp() {
    let fields = r#"harness.logging.Syslog syslog = 1 [
    (harness.wire).input.type = "harness_wires::logging::Syslog",
    (harness.wire).input.reach = EXTERNAL
];
harness.redis.Connection cache = 2 [
    (harness.wire).input.type = "harness_wires::redis::Connection",
    (harness.wire).input.reach = CLUSTER
];"#;
    let yaml = "syslog: {address: {host: 198.51.100.4, port: 514}}\n\
                cache: {address: {host: redis.data, port: 6379}}\n";
    let checked = scratch_service(NAMED, fields, yaml);
    let manifests = generate_for(&checked, &Options::new("v1")).unwrap();
    let policy = network_policy_of(&manifests);
    let syslog = Endpoint::Outside("198.51.100.4".parse().unwrap());
    assert!(egress_allows(policy, &syslog, 514, "UDP"));
    assert!(!egress_allows(policy, &syslog, 514, "TCP"));
    assert!(!egress_allows(
        policy,
        &Endpoint::Outside("198.51.100.5".parse().unwrap()),
        514,
        "UDP"
    ));
    // A CLUSTER input in another namespace: that namespace's pods.
    assert!(egress_allows(
        policy,
        &pod("data", &[("app", "redis")]),
        6379,
        "TCP"
    ));
    assert!(!egress_allows(
        policy,
        &pod("default", &[("app", "redis")]),
        6379,
        "TCP"
    ));
    // No exposed output: only monitoring may connect, to the sidecar's telemetry.
    assert!(!ingress_allows(policy, &pod("default", &[]), 8080));
    assert!(ingress_allows(policy, &pod("monitoring", &[]), 15090));
}

#[test]
fn system_services_run_as_their_own_service_account_without_a_token() {
    let manifests = kirk_in_system();
    let names: Vec<_> = kinds(&manifests);
    let account = names
        .iter()
        .position(|(k, _)| *k == "ServiceAccount")
        .unwrap();
    let deployment = names.iter().position(|(k, _)| *k == "Deployment").unwrap();
    assert!(account < deployment, "{names:?}");
    assert_eq!(
        names.last().unwrap(),
        &("AuthorizationPolicy", "kirk".to_owned())
    );
    let account = service_account_of(&manifests).unwrap();
    assert_eq!(account.metadata.name.as_deref(), Some("kirk"));
    assert_eq!(account.automount_service_account_token, Some(false));
    let Some(Object::Deployment(deployment)) =
        manifests.objects.iter().find(|o| o.kind() == "Deployment")
    else {
        panic!()
    };
    let pod = deployment.spec.template.spec.as_ref().unwrap();
    assert_eq!(pod.service_account_name.as_deref(), Some("kirk"));
    assert_eq!(pod.automount_service_account_token, Some(false));

    let lone = generate_for(
        &check("kirk.proto", "kirk.yaml", None, None),
        &Options::new("v1"),
    )
    .unwrap();
    let Some(Object::Deployment(deployment)) =
        lone.objects.iter().find(|o| o.kind() == "Deployment")
    else {
        panic!()
    };
    let pod = deployment.spec.template.spec.as_ref().unwrap();
    assert_eq!(pod.service_account_name, None);
}

#[test]
fn knative_pods_get_the_service_account_and_an_egress_policy() {
    let checked = check("scotty.proto", "scotty.yaml", None, None);
    let options = Options {
        target: Target::Knative,
        ..in_system(Peers {
            callers: vec![peer("kirk", "default", vec![grpc(50051)])],
            ..Peers::default()
        })
    };
    let manifests = generate_for(&checked, &options).unwrap();
    assert!(service_account_of(&manifests).is_some());
    assert!(authorization_policy_of(&manifests).is_none());
    let Some(Object::KnativeService(service)) = manifests
        .objects
        .iter()
        .find(|o| matches!(o, Object::KnativeService(_)))
    else {
        panic!()
    };
    assert_eq!(
        service
            .spec
            .template
            .spec
            .pod
            .service_account_name
            .as_deref(),
        Some("scotty")
    );
    let policy = network_policy_of(&manifests);
    assert_eq!(
        policy.spec.as_ref().unwrap().policy_types,
        Some(vec!["Egress".to_owned()])
    );
    assert!(!egress_allows(
        policy,
        &service_pod("default", "kirk"),
        50051,
        "TCP"
    ));
}

#[test]
fn the_gateway_api_router_admits_the_gateway_istio_deploys() {
    let checked = check("kirk.proto", "kirk.yaml", None, None);
    let options = Options {
        router: crate::kube::Router::GatewayApi,
        gateway: "infra/edge".to_owned(),
        ..in_system(Peers::default())
    };
    let manifests = generate_for(&checked, &options).unwrap();
    let policy = network_policy_of(&manifests);
    let edge = pod("infra", &[(GATEWAY_NAME_LABEL, "edge")]);
    assert!(ingress_allows(policy, &edge, 8000));
    assert!(!ingress_allows(
        policy,
        &pod("istio-system", &[("istio", "ingressgateway")]),
        8000
    ));
    let authorization = authorization_policy_of(&manifests).unwrap();
    assert!(authorization_allows(
        authorization,
        "cluster.local/ns/infra/sa/edge-istio",
        8000
    ));

    let overridden = Options {
        ingress: IngressOverrides {
            namespace: Some("edge".to_owned()),
            labels: Some(parse_labels("app=gw,tier=edge").unwrap()),
            service_account: Some("gw".to_owned()),
        },
        monitoring_namespace: "observability".to_owned(),
        ..options
    };
    let manifests = generate_for(&checked, &overridden).unwrap();
    let policy = network_policy_of(&manifests);
    assert!(ingress_allows(
        policy,
        &pod("edge", &[("app", "gw"), ("tier", "edge")]),
        8000
    ));
    assert!(!ingress_allows(
        policy,
        &pod("edge", &[("app", "gw")]),
        8000
    ));
    assert!(ingress_allows(policy, &pod("observability", &[]), 15020));
    assert!(!ingress_allows(policy, &pod("monitoring", &[]), 15020));
    let authorization = authorization_policy_of(&manifests).unwrap();
    assert!(authorization_allows(
        authorization,
        "cluster.local/ns/edge/sa/gw",
        8000
    ));
}

#[test]
fn refuses_invalid_policy_options() {
    let checked = check("kirk.proto", "kirk.yaml", None, None);
    for (options, named) in [
        (
            Options {
                monitoring_namespace: "Monitoring".to_owned(),
                ..Options::new("v1")
            },
            "--monitoring-namespace",
        ),
        (
            Options {
                ingress: IngressOverrides {
                    namespace: Some("istio_system".to_owned()),
                    ..IngressOverrides::default()
                },
                ..Options::new("v1")
            },
            "--ingress-namespace",
        ),
        (
            Options {
                ingress: IngressOverrides {
                    service_account: Some("Gateway SA".to_owned()),
                    ..IngressOverrides::default()
                },
                ..Options::new("v1")
            },
            "--ingress-service-account",
        ),
    ] {
        let err = generate_for(&checked, &options).unwrap_err().to_string();
        assert!(err.starts_with(named), "{err}");
    }
    for bad in ["istio", "=x", "app=in gress", "a/b/c=d", "app=x,"] {
        assert!(parse_labels(bad).is_err(), "{bad}");
    }
    assert_eq!(
        parse_labels("istio=ingressgateway,app.kubernetes.io/name=gw").unwrap(),
        BTreeMap::from([
            ("istio".to_owned(), "ingressgateway".to_owned()),
            ("app.kubernetes.io/name".to_owned(), "gw".to_owned()),
        ])
    );
}

#[test]
fn peer_authentication_makes_mutual_tls_strict_in_a_namespace() {
    let policy = peer_authentication("bridge");
    assert_eq!(policy.metadata.name.as_deref(), Some("default"));
    assert_eq!(policy.metadata.namespace.as_deref(), Some("bridge"));
    assert_eq!(policy.spec.mtls.mode, "STRICT");
    let yaml = crate::kube::render::to_yaml(&[Object::PeerAuthentication(policy)]).unwrap();
    assert!(
        yaml.starts_with("---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"),
        "{yaml}"
    );
}

#[test]
fn replicas_reach_each_other_on_headless_outputs_only() {
    let checked = check("spock.proto", "spock.yaml", Some("spock-merge.yaml"), None);
    let options = Options {
        namespace: "bridge".to_owned(),
        ..in_system(Peers::default())
    };
    let manifests = generate_for(&checked, &options).unwrap();
    let policy = network_policy_of(&manifests);
    let replica = service_pod("bridge", "spock");
    // raft is spock's HEADLESS output on 7000.
    assert!(ingress_allows(policy, &replica, 7000));
    assert!(egress_allows(policy, &replica, 7000, "TCP"));
    assert!(
        !ingress_allows(policy, &replica, 50051),
        "rpc is INTERNAL: callers only"
    );
    assert!(!egress_allows(policy, &replica, 50051, "TCP"));
    assert!(!ingress_allows(
        policy,
        &service_pod("bridge", "kirk"),
        7000
    ));
    let authorization = authorization_policy_of(&manifests).unwrap();
    assert!(authorization_allows(
        authorization,
        "cluster.local/ns/bridge/sa/spock",
        7000
    ));
    assert!(!authorization_allows(
        authorization,
        "cluster.local/ns/bridge/sa/spock",
        50051
    ));
    assert!(!authorization_allows(
        authorization,
        "cluster.local/ns/bridge/sa/kirk",
        7000
    ));
}
