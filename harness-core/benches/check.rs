//! In-process cost of `harness check` on the kirk fixture: compiling the proto with
//! protox, and loading (YAML, merge, patch, proto3 JSON mapping, validation).

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use harness_core::config::{self, Sources};
use harness_core::protos;
use harness_core::spec::ConfigSpec;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../generators/cli/tests/fixtures")
}

fn bench_check(c: &mut Criterion) {
    let dir = fixtures();
    let proto = dir.join("kirk.proto");
    let sources = Sources::read(
        &dir.join("kirk.yaml"),
        Some(&dir.join("secret-merge.yaml")),
        Some(&dir.join("secret-patch.yaml")),
    )
    .unwrap();
    let compiled = protos::compile(&proto, &[]).unwrap();
    let spec = ConfigSpec::from_file(&compiled.pool, &compiled.file_name).unwrap();

    c.bench_function("compile kirk.proto (protox)", |b| {
        b.iter(|| protos::compile(&proto, &[]).unwrap())
    });
    c.bench_function("load + merge + patch + validate kirk.yaml", |b| {
        b.iter(|| config::load(&spec.message, &sources).unwrap())
    });
    c.bench_function("validate kirk config", |b| {
        let message = config::load(&spec.message, &sources).unwrap();
        b.iter(|| harness_core::validate::validate(&message).unwrap())
    });
}

criterion_group!(benches, bench_check);
criterion_main!(benches);
