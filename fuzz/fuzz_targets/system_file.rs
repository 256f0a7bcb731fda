//! A system file through `SystemFile::parse`, the reader `harness graph`, `kube-gen
//! --system` and `harness up` start with: no panic, no hang, bounded memory, and every
//! error renders (the files it names are not read: paths stay paths until a service is
//! checked).

#![no_main]

use harness_cli::system::file::SystemFile;
use harness_core::config::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    if let Err(err) = SystemFile::parse(Source::new("system.yaml", text)) {
        let _ = err.to_string();
    }
});
