//! A configuration, a merge file and a patch file through `config::load` on kirk's
//! descriptors: no panic, no hang, bounded memory, and the secret planted in the merge
//! and patch files never appears in an error.
//!
//! Input: `CONFIG`, then optionally `0xFF MERGE`, then optionally `0xFF PATCH`.

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use harness_core::config::{self, Source, Sources};
use harness_core::protos;
use harness_core::spec::ConfigSpec;
use libfuzzer_sys::fuzz_target;

/// Planted as a value in the merge and patch files; printing it is a finding.
const SECRET: &str = "Pl4nted-s3cret-9q";

fn spec() -> &'static ConfigSpec {
    static SPEC: OnceLock<ConfigSpec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let proto =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/kirk/proto/kirk.proto");
        let compiled = protos::compile(&proto, &[]).expect("kirk.proto compiles");
        ConfigSpec::from_file(&compiled.pool, &compiled.file_name).expect("kirk has a spec")
    })
}

fuzz_target!(|data: &[u8]| {
    // An input that holds the secret itself (the fuzzer learns strings the target
    // compares) could print it as a key, which is shown by design.
    if data.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()) {
        return;
    }
    let mut parts = data.splitn(3, |&b| b == 0xff).map(String::from_utf8_lossy);
    let config = parts.next().unwrap_or_default().into_owned();
    let merge = parts
        .next()
        .map(|merge| format!("{merge}\ndb:\n  value: postgres://kirk:{SECRET}@db/kirk\n"));
    let patch = parts.next().map(|patch| {
        format!("{patch}\n- {{op: add, path: /db/url, value: 'postgres://kirk:{SECRET}@db/kirk'}}\n")
    });
    let sources = Sources {
        config: Source::new("kirk.yaml", config),
        merge: merge.map(|text| Source::new("secret.yaml", text)),
        patch: patch.map(|text| Source::new("patch.yaml", text)),
    };
    if let Err(err) = config::load(&spec().message, &sources) {
        let text = err.to_string();
        assert!(!text.contains(SECRET), "the planted secret was printed: {text}");
    }
});
