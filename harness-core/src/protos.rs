//! The protos bundled with harness, and compiling a user's proto against them.
//!
//! `harness/*.proto`, `validate/validate.proto` and `google/protobuf/*` are compiled into
//! the binaries, so a service proto imports all of them with no `-I` and no protoc on
//! the machine.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use prost_reflect::DescriptorPool;
use protox::file::{ChainFileResolver, DescriptorSetFileResolver, IncludeFileResolver};

/// Every bundled proto, by import name.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "harness/wire.proto",
        include_str!("../../proto/harness/wire.proto"),
    ),
    (
        "harness/net.proto",
        include_str!("../../proto/harness/net.proto"),
    ),
    (
        "harness/postgres.proto",
        include_str!("../../proto/harness/postgres.proto"),
    ),
    (
        "harness/grpc.proto",
        include_str!("../../proto/harness/grpc.proto"),
    ),
    (
        "harness/http.proto",
        include_str!("../../proto/harness/http.proto"),
    ),
    (
        "harness/redis.proto",
        include_str!("../../proto/harness/redis.proto"),
    ),
    (
        "harness/logging.proto",
        include_str!("../../proto/harness/logging.proto"),
    ),
    (
        "harness/metrics.proto",
        include_str!("../../proto/harness/metrics.proto"),
    ),
    (
        "harness/tracing.proto",
        include_str!("../../proto/harness/tracing.proto"),
    ),
    (
        "harness/nats.proto",
        include_str!("../../proto/harness/nats.proto"),
    ),
    (
        "harness/schedule.proto",
        include_str!("../../proto/harness/schedule.proto"),
    ),
    (
        "validate/validate.proto",
        include_str!("../../proto/validate/validate.proto"),
    ),
];

/// The bundled protos and the well-known types, compiled by `build.rs`.
const BUNDLED_DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bundled.binpb"));

/// Serves the bundled protos and the well-known types to protox, as descriptors
/// compiled at build time: nothing bundled is parsed at run time.
fn bundled_resolver() -> DescriptorSetFileResolver {
    DescriptorSetFileResolver::decode(BUNDLED_DESCRIPTORS)
        .expect("build.rs writes a valid descriptor set")
}

/// A proto that does not compile, located as `file:line:column: message` when the
/// compiler says where.
#[derive(Debug, thiserror::Error)]
#[error("{}", located(.0))]
pub struct CompileError(#[source] pub protox::Error);

fn located(err: &protox::Error) -> String {
    use miette::Diagnostic;
    let message = err.to_string();
    let Some(file) = err.file() else {
        return message;
    };
    let position = err
        .labels()
        .and_then(|mut labels| labels.next())
        .zip(err.source_code())
        .and_then(|(label, source)| source.read_span(label.inner(), 0, 0).ok())
        .map(|span| format!(":{}:{}", span.line() + 1, span.column() + 1));
    let help = err
        .help()
        .map(|help| format!(" ({help})"))
        .unwrap_or_default();
    format!("{file}{}: {message}{help}", position.unwrap_or_default())
}

/// A compiled user proto.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// Every file the proto needs, its imports included.
    pub pool: DescriptorPool,
    /// The proto's name inside the pool, e.g. `kirk.proto`.
    pub file_name: String,
    /// Files read from disk, for `cargo:rerun-if-changed`.
    pub disk_files: Vec<PathBuf>,
}

/// Compiles `proto` with the bundled protos, the directory holding `proto`, and `includes`.
///
/// Bundled files come first, so `harness/wire.proto` always means the one this build
/// enforces; then the `includes` in order, then the proto's own directory.
pub fn compile(proto: &Path, includes: &[PathBuf]) -> Result<Compiled, CompileError> {
    let mut resolver = ChainFileResolver::new();
    resolver.add(bundled_resolver());
    for include in includes {
        resolver.add(IncludeFileResolver::new(include.clone()));
    }
    let parent = match proto.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    resolver.add(IncludeFileResolver::new(parent));

    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true);
    compiler.open_file(proto).map_err(CompileError)?;
    let file_name = compiler
        .files()
        .find(|file| !file.is_import())
        .map(|file| file.name().to_owned())
        .unwrap_or_default();
    let disk_files = compiler
        .files()
        .filter_map(|file| file.path().map(Path::to_path_buf))
        .collect();
    Ok(Compiled {
        pool: compiler.descriptor_pool(),
        file_name,
        disk_files,
    })
}

/// Writes the bundled protos under `dir`, as an include path for protoc, buf or an IDE.
///
/// `google/protobuf/*` is not written: protoc and buf ship those files themselves.
pub fn write_bundled(dir: &Path) -> io::Result<()> {
    for (name, source) in BUNDLED {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, source)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_proto_compiles() {
        let dir = tempfile::tempdir().unwrap();
        let imports: String = BUNDLED
            .iter()
            .map(|(name, _)| format!("import \"{name}\";\n"))
            .collect();
        let proto = dir.path().join("all.proto");
        fs::write(&proto, format!("syntax = \"proto3\";\n{imports}")).unwrap();
        let compiled = compile(&proto, &[]).unwrap();
        assert_eq!(compiled.file_name, "all.proto");
        assert!(
            compiled
                .pool
                .get_message_by_name("harness.postgres.DSN")
                .is_some()
        );
        assert!(
            compiled
                .pool
                .get_extension_by_name("validate.rules")
                .is_some()
        );
        assert_eq!(compiled.disk_files, vec![proto]);
    }

    #[test]
    fn bundled_sources_and_descriptors_agree() {
        use prost::Message;
        let set = prost_types::FileDescriptorSet::decode(BUNDLED_DESCRIPTORS).unwrap();
        let mut compiled: Vec<&str> = set
            .file
            .iter()
            .map(|file| file.name())
            .filter(|name| !name.starts_with("google/"))
            .collect();
        compiled.sort();
        let mut sources: Vec<&str> = BUNDLED.iter().map(|(name, _)| *name).collect();
        sources.sort();
        assert_eq!(compiled, sources);
    }

    #[test]
    fn compile_errors_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let proto = dir.path().join("bad.proto");
        fs::write(
            &proto,
            "syntax = \"proto3\";\nmessage M {\n  bool b = ;\n}\n",
        )
        .unwrap();
        let err = compile(&proto, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "bad.proto:3:12: expected an integer, but found ';'"
        );

        fs::write(&proto, "syntax = \"proto3\";\nimport \"nope.proto\";\n").unwrap();
        let err = compile(&proto, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "bad.proto:2:1: import 'nope.proto' not found"
        );
    }

    #[test]
    fn written_protos_compile_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        write_bundled(dir.path()).unwrap();
        let mut compiler = protox::Compiler::new([dir.path()]).unwrap();
        compiler
            .open_files(BUNDLED.iter().map(|(name, _)| name))
            .unwrap();
        let opened = compiler.files().filter(|file| !file.is_import()).count();
        assert_eq!(opened, BUNDLED.len());
    }
}
