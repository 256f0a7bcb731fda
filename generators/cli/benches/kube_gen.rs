//! Manifests for 1,000 generated service configurations, in-process.
//!
//! - `generate_1000`: `kube::generate` + YAML for 1,000 kirk configurations that differ
//!   in instance, hosts and ports; checked (parsed, validated) beforehand, as
//!   `harness kube-gen` hands them over. Time per iteration = 1,000 services.
//! - `check_and_generate_kirk`: the whole kube-gen pipeline for one kirk, in-process:
//!   compile the proto, load and validate the YAML, generate, write YAML.
//!
//! `cargo bench -p harness-cli --bench kube_gen`

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use harness_cli::kube::{self, Options};
use harness_core::check::check_files;
use harness_core::config::{self, Source, Sources};
use harness_core::protos;
use harness_core::spec::ConfigSpec;
use prost_reflect::DynamicMessage;

const SERVICES: usize = 1000;

fn inputs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/inputs")
}

/// kirk's configuration, varied by `i`.
fn kirk_yaml(i: usize) -> String {
    format!(
        "db:\n  address:\n    host: db-{i}.acme.dev\n    port: {}\n  username: kirk\n  password: pw-{i}\n  database: kirk\n  min_size: 1\n\
         scotty:\n  address:\n    host: scotty-{i}\n    port: 50051\n\
         server:\n  bind:\n    host: 0.0.0.0\n    port: {}\n\
         monitor:\n  bind:\n    host: 127.0.0.1\n    port: 50101\n\
         console:\n  level: INFO\n\
         tracing:\n  service_name: kirk-{i}\n  address:\n    host: localhost\n    port: 6831\n",
        5432 + i % 100,
        8000 + i % 1000,
    )
}

struct Service {
    sources: Sources,
    config: DynamicMessage,
    options: Options,
}

fn prepare() -> (ConfigSpec, Vec<Service>) {
    let compiled = protos::compile(&inputs().join("kirk.proto"), &[]).unwrap();
    let spec = ConfigSpec::from_file(&compiled.pool, &compiled.file_name).unwrap();
    let services = (0..SERVICES)
        .map(|i| {
            let text = kirk_yaml(i);
            let sources = Sources {
                config: Source {
                    path: PathBuf::from(format!("kirk-{i}.yaml")),
                    text,
                },
                merge: None,
                patch: None,
            };
            let config = config::load(&spec.message, &sources).unwrap();
            let options = Options {
                instance: Some(format!("i{i}")),
                namespace: format!("team-{}", i % 10),
                base_domain: Some("acme.dev".to_owned()),
                ..Options::new(format!("v{i}"))
            };
            Service {
                sources,
                config,
                options,
            }
        })
        .collect();
    (spec, services)
}

/// Manifests and YAML for every service; returns the bytes written.
fn generate_all(spec: &ConfigSpec, services: &[Service]) -> usize {
    let mut bytes = 0;
    for service in services {
        let manifests =
            kube::generate(spec, &service.config, &service.sources, &service.options).unwrap();
        bytes += manifests.to_yaml().unwrap().len();
    }
    bytes
}

/// CPU time (user + system) of this thread so far, from /proc: unlike wall time, it
/// does not grow when other processes compete for the cores.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn generate_1000(c: &mut Criterion) {
    let (spec, services) = prepare();
    // CPU time per pass, over enough passes for /proc's 10 ms ticks.
    if let Some(before) = thread_cpu_seconds() {
        let passes = 10;
        for _ in 0..passes {
            std::hint::black_box(generate_all(&spec, &services));
        }
        if let Some(after) = thread_cpu_seconds() {
            println!(
                "generate_1000: {:.1} ms CPU per pass of {SERVICES} services ({passes} passes)",
                (after - before) * 1e3 / f64::from(passes)
            );
        }
    }
    c.bench_function("generate_1000", |b| {
        b.iter(|| generate_all(&spec, &services))
    });
}

fn generate_1000_parts(c: &mut Criterion) {
    let (spec, services) = prepare();
    let all: Vec<kube::Manifests> = services
        .iter()
        .map(|service| {
            kube::generate(&spec, &service.config, &service.sources, &service.options).unwrap()
        })
        .collect();
    c.bench_function("generate_1000_objects_only", |b| {
        b.iter(|| {
            services
                .iter()
                .map(|service| {
                    kube::generate(&spec, &service.config, &service.sources, &service.options)
                        .unwrap()
                        .objects
                        .len()
                })
                .sum::<usize>()
        })
    });
    c.bench_function("generate_1000_yaml_only", |b| {
        b.iter(|| {
            all.iter()
                .map(|m| m.to_yaml().unwrap().len())
                .sum::<usize>()
        })
    });
}

fn check_kirk(c: &mut Criterion) {
    let dir = inputs();
    c.bench_function("check_kirk", |b| {
        b.iter(|| {
            check_files(
                &dir.join("kirk.proto"),
                &[],
                &dir.join("kirk.yaml"),
                None,
                None,
            )
            .unwrap()
        })
    });
}

fn check_and_generate_kirk(c: &mut Criterion) {
    let dir = inputs();
    c.bench_function("check_and_generate_kirk", |b| {
        b.iter(|| {
            let checked = check_files(
                &dir.join("kirk.proto"),
                &[],
                &dir.join("kirk.yaml"),
                None,
                None,
            )
            .unwrap();
            let manifests = kube::generate(
                &checked.spec,
                &checked.config,
                &checked.sources,
                &Options::new("v1"),
            )
            .unwrap();
            manifests.to_yaml().unwrap().len()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = generate_1000, generate_1000_parts, check_kirk, check_and_generate_kirk
}
criterion_main!(benches);
