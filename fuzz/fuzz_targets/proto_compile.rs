//! A proto through `protos::compile` (both of its paths), `ConfigSpec::from_file` and the
//! loading of an empty configuration (which reads every validation rule): no panic, no
//! stack overflow, no hang.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use harness_core::config::{self, Source, Sources};
use harness_core::protos;
use harness_core::spec::ConfigSpec;
use libfuzzer_sys::fuzz_target;

/// A directory of this process, holding the one proto under test.
fn proto_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("harness-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        dir.join("fuzz.proto")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let proto = proto_path();
    std::fs::write(proto, text).expect("the proto is written");
    let Ok(compiled) = protos::compile(proto, &[]) else {
        return;
    };
    let Ok(spec) = ConfigSpec::from_file(&compiled.pool, &compiled.file_name) else {
        return;
    };
    let empty = Sources {
        config: Source::new("empty.yaml", ""),
        merge: None,
        patch: None,
    };
    let _ = config::load(&spec.message, &empty);
});
