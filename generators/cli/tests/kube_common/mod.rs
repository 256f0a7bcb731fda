//! What the kube-gen integration tests share: the golden cases and running the binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A golden case: the name of its output file and the arguments after `kube-gen`.
pub struct Case {
    pub name: &'static str,
    pub args: &'static [&'static str],
}

/// kirk and scotty with and without instance, namespace, base domain, merge and patch
/// secrets, spock, which has every kind of wire kube-gen treats differently, and the
/// autoscaled and serverless cases.
pub const CASES: &[Case] = &[
    Case {
        name: "kirk",
        args: &["kirk.proto", "kirk.yaml", "v1"],
    },
    Case {
        name: "kirk-domain",
        args: &["kirk.proto", "kirk.yaml", "v1", "--base-domain", "acme.dev"],
    },
    Case {
        name: "kirk-blue-prod",
        args: &[
            "kirk.proto",
            "kirk.yaml",
            "v1.2.3",
            "--instance",
            "blue",
            "--namespace",
            "prod",
            "--base-domain",
            "acme.dev",
            "--secret-merge",
            "kirk-merge.yaml",
            "--secret-patch",
            "kirk-patch.yaml",
        ],
    },
    Case {
        name: "scotty",
        args: &["scotty.proto", "scotty.yaml", "v2"],
    },
    Case {
        name: "scotty-canary",
        args: &[
            "scotty.proto",
            "scotty.yaml",
            "v3-rc.1",
            "--instance",
            "canary",
            "--namespace",
            "engineering",
            "--base-domain",
            "acme.dev",
            "--secret-patch",
            "scotty-patch.yaml",
        ],
    },
    Case {
        name: "spock",
        args: &[
            "spock.proto",
            "spock.yaml",
            "2024.11.1",
            "--namespace",
            "bridge",
            "--base-domain",
            "acme.dev",
            "--secret-merge",
            "spock-merge.yaml",
        ],
    },
    // Autoscaling and the serverless targets: chapel scales on CPU (HPA, PDB) and is
    // routed by the Gateway API; mccoy, a worker, scales from zero with KEDA on its
    // stream and its cron jobs, riley on its RabbitMQ queue; rand and scotty run on
    // Knative.
    Case {
        name: "chapel",
        args: &[
            "chapel.proto",
            "chapel.yaml",
            "v1",
            "--namespace",
            "medical",
        ],
    },
    Case {
        name: "chapel-gateway-api",
        args: &[
            "chapel.proto",
            "chapel.yaml",
            "v1",
            "--namespace",
            "medical",
            "--base-domain",
            "acme.dev",
            "--router",
            "gateway-api",
            "--gateway",
            "infra/edge",
        ],
    },
    Case {
        name: "mccoy",
        args: &["mccoy.proto", "mccoy.yaml", "v1", "--namespace", "medical"],
    },
    Case {
        name: "rand-knative",
        args: &[
            "rand.proto",
            "rand.yaml",
            "v1",
            "--namespace",
            "bridge",
            "--base-domain",
            "acme.dev",
            "--target",
            "knative",
        ],
    },
    Case {
        name: "riley",
        args: &[
            "riley.proto",
            "riley.yaml",
            "v1",
            "--namespace",
            "engineering",
            "--secret-merge",
            "riley-merge.yaml",
        ],
    },
    Case {
        name: "scotty-knative",
        args: &[
            "scotty.proto",
            "scotty.yaml",
            "v2",
            "--namespace",
            "engineering",
            "--target",
            "knative",
        ],
    },
];

pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

pub fn inputs_dir() -> PathBuf {
    golden_dir().join("inputs")
}

/// `harness ARGS` run in the golden inputs directory.
pub fn harness(args: &[&str]) -> Output {
    harness_in(&inputs_dir(), args)
}

pub fn harness_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the harness binary runs")
}

/// The manifests of `case`, asserting that kube-gen succeeded quietly.
pub fn kube_gen(case: &Case) -> String {
    let mut args = vec!["kube-gen"];
    args.extend_from_slice(case.args);
    let output = harness(&args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{}: exit {:?}\n{stderr}",
        case.name,
        output.status.code()
    );
    assert!(stderr.is_empty(), "{}: stderr: {stderr}", case.name);
    String::from_utf8(output.stdout).expect("UTF-8 manifests")
}

/// Every case's manifests written to `dir`, one file per case; returns the files.
pub fn write_all(dir: &Path) -> Vec<PathBuf> {
    CASES
        .iter()
        .map(|case| {
            let path = dir.join(format!("{}.yaml", case.name));
            std::fs::write(&path, kube_gen(case)).unwrap();
            path
        })
        .collect()
}

/// kirk and scotty as a system deploys them, from the library (the system file's command
/// is built on it): kirk calls scotty on 50051, and the namespace's PeerAuthentication.
/// Written to `dir/system.yaml`; returns the file.
pub fn write_system(dir: &Path) -> PathBuf {
    use harness_cli::kube::{self, Object, Options, Peer, PeerPort, Peers};
    use harness_core::spec::Protocol;

    let peer = |service: &str| Peer {
        service: service.to_owned(),
        instance: None,
        namespace: "bridge".to_owned(),
        ports: vec![PeerPort {
            port: 50051,
            protocol: Protocol::Grpc,
        }],
    };
    let mut objects = Vec::new();
    for (name, peers) in [
        (
            "kirk",
            Peers {
                callees: vec![peer("scotty")],
                ..Peers::default()
            },
        ),
        (
            "scotty",
            Peers {
                callers: vec![peer("kirk")],
                ..Peers::default()
            },
        ),
    ] {
        let dir = inputs_dir();
        let checked = harness_core::check::check_files(
            &dir.join(format!("{name}.proto")),
            &[],
            &dir.join(format!("{name}.yaml")),
            None,
            None,
        )
        .unwrap();
        let options = Options {
            namespace: "bridge".to_owned(),
            peers: Some(peers),
            ..Options::new("v1")
        };
        let manifests =
            kube::generate(&checked.spec, &checked.config, &checked.sources, &options).unwrap();
        objects.extend(manifests.objects);
    }
    objects.push(Object::PeerAuthentication(
        kube::policy::authorization::peer_authentication("bridge"),
    ));
    let yaml = kube::Manifests {
        objects,
        warnings: Vec::new(),
    }
    .to_yaml()
    .unwrap();
    let path = dir.join("system.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}
