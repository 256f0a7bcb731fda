//! The protos bundled with harness, and compiling a user's proto against them.
//!
//! `harness/*.proto`, `validate/validate.proto` and `google/protobuf/*` are compiled into
//! the binaries, so a service proto imports all of them with no `-I` and no protoc on
//! the machine.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use prost_reflect::DescriptorPool;
use protox::file::{
    ChainFileResolver, DescriptorSetFileResolver, File, FileResolver, IncludeFileResolver,
};

mod option_depth;

pub use option_depth::{MAX_OPTION_DEPTH, OptionTooDeep};

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
        "harness/cloudevents.proto",
        include_str!("../../proto/harness/cloudevents.proto"),
    ),
    (
        "harness/amqp.proto",
        include_str!("../../proto/harness/amqp.proto"),
    ),
    (
        "harness/mqtt.proto",
        include_str!("../../proto/harness/mqtt.proto"),
    ),
    (
        "harness/mysql.proto",
        include_str!("../../proto/harness/mysql.proto"),
    ),
    (
        "validate/validate.proto",
        include_str!("../../proto/validate/validate.proto"),
    ),
];

/// The bundled protos and the well-known types, compiled by `build.rs`.
const BUNDLED_DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bundled.binpb"));

/// One file of [`BUNDLED_DESCRIPTORS`]: its import name, its direct imports, and the
/// byte range of its entry in the set.
struct BundledFile {
    name: &'static str,
    imports: &'static [&'static str],
    entry: std::ops::Range<usize>,
}

/// Every file of [`BUNDLED_DESCRIPTORS`], in set order (imports before importers).
const BUNDLED_INDEX: &[BundledFile] = include!(concat!(env!("OUT_DIR"), "/bundled_index.rs"));

fn bundled_index(name: &str) -> Option<usize> {
    BUNDLED_INDEX.iter().position(|file| file.name == name)
}

/// Whether `name` is an import name harness serves itself: a bundled proto or a
/// well-known type (`google/protobuf/*`).
pub fn is_bundled(name: &str) -> bool {
    bundled_index(name).is_some()
}

/// Serves the bundled protos and the well-known types to protox, as descriptors
/// compiled at build time: nothing bundled is parsed at run time.
fn bundled_resolver() -> DescriptorSetFileResolver {
    DescriptorSetFileResolver::decode(BUNDLED_DESCRIPTORS)
        .expect("build.rs writes a valid descriptor set")
}

/// A proto that does not compile, located as `file:line:column: message` when the
/// compiler says where, the file named as the user gave it.
#[derive(Debug, thiserror::Error)]
#[error("{located}")]
pub struct CompileError {
    located: String,
    #[source]
    source: protox::Error,
}

impl CompileError {
    /// The compiler's own error.
    pub fn protox(&self) -> &protox::Error {
        &self.source
    }
}

fn located(err: &protox::Error, file: Option<String>) -> String {
    use miette::Diagnostic;
    let message = err.to_string();
    let Some(file) = file else {
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

/// How the user knows the file protox names `name`: the proto as given on the command
/// line, a file found on disk by its path, or a bundled file by its import name.
fn user_name(name: &str, proto: &Path, includes: &[PathBuf]) -> String {
    let resolver = disk_resolver(proto, includes);
    if resolver
        .resolve_path(proto)
        .or_else(|| relative_name(proto))
        .as_deref()
        == Some(name)
    {
        return proto.display().to_string();
    }
    if bundled_index(name).is_some() {
        return name.to_owned();
    }
    // Found as protox finds it, without parsing it again (it may be what failed).
    search_dirs(proto, includes)
        .into_iter()
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .map_or_else(|| name.to_owned(), |path| path.display().to_string())
}

/// The disk files of a compile, each checked for options nested too deeply before protox
/// resolves its options.
struct Checked {
    disk: ChainFileResolver,
    proto: PathBuf,
}

impl FileResolver for Checked {
    fn resolve_path(&self, path: &Path) -> Option<String> {
        self.disk.resolve_path(path)
    }

    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        let file = self.disk.open_file(name)?;
        let shown = match file.path() {
            Some(path) if same_path(path, &self.proto) => self.proto.display().to_string(),
            Some(path) => path.display().to_string(),
            None => name.to_owned(),
        };
        option_depth::check(file.file_descriptor_proto(), &shown).map_err(protox::Error::new)?;
        Ok(file)
    }
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
    match compile_on_bundled(proto, includes) {
        Some(compiled) => Ok(compiled),
        None => compile_with_protox(proto, includes),
    }
}

/// The directories a proto's own name and disk imports are looked up in: `includes` in
/// order, then the proto's own directory.
fn search_dirs(proto: &Path, includes: &[PathBuf]) -> Vec<PathBuf> {
    let parent = match proto.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    includes.iter().cloned().chain([parent]).collect()
}

/// Resolves names in [`search_dirs`].
fn disk_resolver(proto: &Path, includes: &[PathBuf]) -> ChainFileResolver {
    let mut resolver = ChainFileResolver::new();
    for dir in search_dirs(proto, includes) {
        resolver.add(IncludeFileResolver::new(dir));
    }
    resolver
}

/// Every proto that parses and links, several times cheaper than protox: the proto and
/// its imports from disk are parsed, and one pool is built from them and the embedded
/// entries of the bundled files they import, in the order protox adds them. protox would
/// decode the whole embedded set and add the files one by one. `None` for anything else
/// (a parse or link error, a missing or circular import, a shadowed name): protox then
/// compiles it, with its diagnostics.
fn compile_on_bundled(proto: &Path, includes: &[PathBuf]) -> Option<Compiled> {
    let resolver = disk_resolver(proto, includes);
    let name = resolver
        .resolve_path(proto)
        .or_else(|| relative_name(proto))?;
    if bundled_index(&name).is_some() {
        return None;
    }
    let file = resolver.open_file(&name).ok()?;
    if !same_path(file.path()?, proto) {
        return None;
    }
    let mut order = ImportOrder {
        resolver: &resolver,
        files: Vec::new(),
        stack: Vec::new(),
    };
    order.add_disk(name.clone(), file)?;

    // The bundled files the order starts with come decoded from a pool built once per
    // process (a system checks a thousand services with the same imports); the rest is
    // decoded onto a copy of it.
    let bundled: Vec<usize> = (order.files.iter())
        .map_while(|file| match file {
            Ordered::Bundled(i) => Some(*i),
            Ordered::Disk { .. } => None,
        })
        .collect();
    let mut pool = bundled_pool(&bundled)?;
    let mut set = Vec::new();
    let mut disk_files = Vec::new();
    for file in order.files.into_iter().skip(bundled.len()) {
        match file {
            Ordered::Bundled(i) => {
                set.extend_from_slice(&BUNDLED_DESCRIPTORS[BUNDLED_INDEX[i].entry.clone()]);
            }
            Ordered::Disk { descriptor, path } => {
                // Field 1 of FileDescriptorSet, as the embedded entries are.
                prost::encoding::message::encode(1, &*descriptor, &mut set);
                disk_files.push(path);
            }
        }
    }
    pool.decode_file_descriptor_set(set.as_slice()).ok()?;
    Some(Compiled {
        pool,
        file_name: name,
        disk_files,
    })
}

/// A pool of the bundled files `files` (in that order), built from their embedded entries
/// on first use and then shared.
fn bundled_pool(files: &[usize]) -> Option<DescriptorPool> {
    static POOLS: std::sync::Mutex<Vec<(Vec<usize>, DescriptorPool)>> =
        std::sync::Mutex::new(Vec::new());
    let mut pools = POOLS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, pool)) = pools.iter().find(|(key, _)| key == files) {
        return Some(pool.clone());
    }
    let mut set = Vec::new();
    for &i in files {
        set.extend_from_slice(&BUNDLED_DESCRIPTORS[BUNDLED_INDEX[i].entry.clone()]);
    }
    let pool = DescriptorPool::decode(set.as_slice()).ok()?;
    pools.push((files.to_vec(), pool.clone()));
    Some(pool)
}

/// A file of a compile: an embedded bundled entry, or a file parsed from disk.
enum Ordered {
    Bundled(usize),
    Disk {
        descriptor: Box<prost_types::FileDescriptorProto>,
        path: PathBuf,
    },
}

/// The files of a compile in protox's order: depth first, each after its imports in
/// declaration order, each once; bundled names before the disk.
struct ImportOrder<'a> {
    resolver: &'a ChainFileResolver,
    files: Vec<Ordered>,
    /// Disk files being added, to refuse a cycle.
    stack: Vec<String>,
}

impl ImportOrder<'_> {
    fn contains(&self, name: &str) -> bool {
        self.files.iter().any(|file| match file {
            Ordered::Bundled(i) => BUNDLED_INDEX[*i].name == name,
            Ordered::Disk { descriptor, .. } => descriptor.name() == name,
        })
    }

    fn add_disk(&mut self, name: String, file: File) -> Option<()> {
        // protox reports it, with the same check.
        option_depth::check(file.file_descriptor_proto(), "").ok()?;
        let path = file.path()?.to_path_buf();
        let descriptor = Box::new(prost_types::FileDescriptorProto::from(file));
        self.stack.push(name);
        for (i, import) in descriptor.dependency.iter().enumerate() {
            if descriptor.dependency[..i].contains(import) || self.stack.contains(import) {
                return None;
            }
            if self.contains(import) {
                continue;
            }
            match bundled_index(import) {
                Some(index) => self.add_bundled(index),
                None => {
                    let file = self.resolver.open_file(import).ok()?;
                    self.add_disk(import.clone(), file)?;
                }
            }
        }
        self.stack.pop();
        self.files.push(Ordered::Disk { descriptor, path });
        Some(())
    }

    fn add_bundled(&mut self, index: usize) {
        let file = &BUNDLED_INDEX[index];
        if self.contains(file.name) {
            return;
        }
        for import in file.imports {
            if let Some(import) = bundled_index(import) {
                self.add_bundled(import);
            }
        }
        self.files.push(Ordered::Bundled(index));
    }
}

/// A relative path of plain components as an import name (`protos/kirk.proto`).
fn relative_name(path: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            std::path::Component::Normal(part) => parts.push(part.to_str()?),
            std::path::Component::CurDir => {}
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// Path equality up to `.` components, as protox compares them.
fn same_path(a: &Path, b: &Path) -> bool {
    fn plain(path: &Path) -> impl Iterator<Item = std::path::Component<'_>> {
        path.components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
    }
    plain(a).eq(plain(b))
}

/// Compiles with protox: every case, and the diagnostics of a proto that does not compile.
fn compile_with_protox(proto: &Path, includes: &[PathBuf]) -> Result<Compiled, CompileError> {
    let mut resolver = ChainFileResolver::new();
    resolver.add(bundled_resolver());
    resolver.add(Checked {
        disk: disk_resolver(proto, includes),
        proto: proto.to_owned(),
    });

    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true);
    compiler.open_file(proto).map_err(|source| CompileError {
        located: located(
            &source,
            source.file().map(|name| user_name(name, proto, includes)),
        ),
        source,
    })?;
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

/// `LINE:COLUMN` (1-based) of the definition at `path` (a descriptor's path, e.g.
/// [`prost_reflect::FieldDescriptor::path`]) in the proto file at `file`. For error
/// messages only: the file is read and parsed again, with its source info, so that the
/// common path carries none.
pub fn definition_position(file: &Path, path: &[i32]) -> Option<(usize, usize)> {
    let source = fs::read_to_string(file).ok()?;
    let parsed = protox::file::File::from_source(&file.to_string_lossy(), &source).ok()?;
    let info = parsed.file_descriptor_proto().source_code_info.as_ref()?;
    let location = info.location.iter().find(|l| l.path == path)?;
    let line = usize::try_from(*location.span.first()?).ok()?;
    let column = usize::try_from(*location.span.get(1)?).ok()?;
    Some((line + 1, column + 1))
}

/// The comments of the definitions of `file`, by descriptor path (e.g.
/// [`prost_reflect::FieldDescriptor::path`]): the leading comment, or else the trailing
/// one, each line trimmed. From the source info the compiled file carries; a bundled file,
/// compiled without it to keep the binaries small, is parsed again from its source.
pub fn comments(file: &prost_reflect::FileDescriptor) -> HashMap<Vec<i32>, String> {
    let reparsed;
    let info = match &file.file_descriptor_proto().source_code_info {
        Some(info) => info,
        None => {
            let Some((name, source)) = BUNDLED.iter().find(|(name, _)| *name == file.name()) else {
                return HashMap::new();
            };
            let Ok(parsed) = protox::file::File::from_source(name, source) else {
                return HashMap::new();
            };
            reparsed = parsed.file_descriptor_proto().source_code_info.clone();
            match &reparsed {
                Some(info) => info,
                None => return HashMap::new(),
            }
        }
    };
    info.location
        .iter()
        .filter_map(|location| {
            let text = location
                .leading_comments
                .as_deref()
                .or(location.trailing_comments.as_deref())?;
            let lines: Vec<&str> = text.lines().map(str::trim).collect();
            let text = lines.join("\n").trim().to_owned();
            (!text.is_empty()).then(|| (location.path.clone(), text))
        })
        .collect()
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

    /// Every service proto of the repository (all import bundled files only).
    fn repository_protos() -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut protos = Vec::new();
        for dir in [
            "generators/cli/tests/fixtures",
            "generators/cli/tests/golden/inputs",
        ] {
            for entry in fs::read_dir(root.join(dir)).unwrap() {
                protos.push(entry.unwrap().path());
            }
        }
        for entry in fs::read_dir(root.join("examples")).unwrap() {
            let dir = entry.unwrap().path().join("proto");
            if dir.is_dir() {
                for entry in fs::read_dir(dir).unwrap() {
                    protos.push(entry.unwrap().path());
                }
            }
        }
        protos.retain(|path| path.extension().is_some_and(|ext| ext == "proto"));
        assert!(protos.len() >= 8, "{protos:?}");
        protos
    }

    #[test]
    fn the_bundled_path_builds_what_protox_builds() {
        for proto in repository_protos() {
            let protox = compile_with_protox(&proto, &[]).unwrap();
            let fast = compile_on_bundled(&proto, &[])
                .unwrap_or_else(|| panic!("{} took the protox path", proto.display()));
            assert_eq!(
                fast.pool.encode_to_vec(),
                protox.pool.encode_to_vec(),
                "{}",
                proto.display()
            );
            assert_eq!(fast.file_name, protox.file_name);
            assert_eq!(fast.disk_files, protox.disk_files);
        }
    }

    #[test]
    fn imports_from_disk_build_what_protox_builds() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| fs::write(dir.path().join(name), text).unwrap();
        // A diamond over disk and bundled files: service -> {api, common}, api -> common.
        write(
            "common.proto",
            "syntax = \"proto3\";\npackage common;\nimport \"google/protobuf/duration.proto\";\n\
             message Greeting { string text = 1; google.protobuf.Duration after = 2; }\n",
        );
        write(
            "api.proto",
            "syntax = \"proto3\";\npackage api;\nimport \"common.proto\";\n\
             service Api { rpc Greet(common.Greeting) returns (common.Greeting); }\n",
        );
        write(
            "service.proto",
            "syntax = \"proto3\";\nimport \"harness/wire.proto\";\nimport \"api.proto\";\n\
             import \"common.proto\";\nmessage Configuration { common.Greeting greeting = 1; }\n",
        );
        let service = dir.path().join("service.proto");
        let fast = compile_on_bundled(&service, &[]).unwrap();
        let protox = compile_with_protox(&service, &[]).unwrap();
        assert_eq!(fast.pool.encode_to_vec(), protox.pool.encode_to_vec());
        assert_eq!(fast.disk_files, protox.disk_files);
        assert_eq!(fast.disk_files.len(), 3);

        // A cycle: protox reports it.
        write(
            "common.proto",
            "syntax = \"proto3\";\npackage common;\nimport \"api.proto\";\n",
        );
        assert!(compile_on_bundled(&service, &[]).is_none());
        let err = compile(&service, &[]).unwrap_err().to_string();
        assert!(
            err.contains("api.proto -> common.proto -> api.proto"),
            "{err}"
        );
    }

    #[test]
    fn protos_beyond_the_bundled_path_still_compile() {
        let dir = tempfile::tempdir().unwrap();
        let service = dir.path().join("service.proto");
        // An import that is nowhere.
        fs::write(
            &service,
            "syntax = \"proto3\";\nimport \"common.proto\";\nimport \"harness/wire.proto\";\n",
        )
        .unwrap();
        assert!(compile_on_bundled(&service, &[]).is_none());
        let err = compile(&service, &[]).unwrap_err().to_string();
        assert!(err.contains("import 'common.proto' not found"), "{err}");

        // A proto that parses but does not link: protox reports it.
        fs::write(
            &service,
            "syntax = \"proto3\";\nimport \"harness/wire.proto\";\n\
             message Configuration {\n  harness.nope.Thing thing = 1;\n}\n",
        )
        .unwrap();
        assert!(compile_on_bundled(&service, &[]).is_none());
        let err = compile(&service, &[]).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}:4:3: ", service.display())),
            "{err}"
        );
        assert!(err.contains("harness.nope.Thing"), "{err}");

        // A name shadowed by an include that comes first: the bundled path steps aside.
        let first = dir.path().join("first");
        fs::create_dir(&first).unwrap();
        fs::write(first.join("service.proto"), "syntax = \"proto3\";\n").unwrap();
        fs::write(&service, "syntax = \"proto3\";\n").unwrap();
        assert!(compile_on_bundled(&service, std::slice::from_ref(&first)).is_none());
        let err = compile(&service, &[first]).unwrap_err().to_string();
        assert!(err.contains("shadowed"), "{err}");
    }

    #[test]
    fn relative_paths_are_named_like_protox_names_them() {
        assert_eq!(
            relative_name(Path::new("kirk.proto")).unwrap(),
            "kirk.proto"
        );
        assert_eq!(
            relative_name(Path::new("./proto/kirk.proto")).unwrap(),
            "proto/kirk.proto"
        );
        assert!(relative_name(Path::new("../kirk.proto")).is_none());
        assert!(relative_name(Path::new("/abs/kirk.proto")).is_none());
        assert!(same_path(
            Path::new("./a/b.proto"),
            Path::new("a/./b.proto")
        ));
        assert!(!same_path(Path::new("a/b.proto"), Path::new("b.proto")));
    }

    #[test]
    fn comments_come_from_the_compiled_proto_and_the_bundled_sources() {
        let dir = tempfile::tempdir().unwrap();
        let proto = dir.path().join("a.proto");
        fs::write(
            &proto,
            "syntax = \"proto3\";\nimport \"harness/net.proto\";\nimport \"c.proto\";\n\
             // The settings.\nmessage Configuration {\n  // Where to listen.\n  \
             harness.net.Socket bind = 1; // after\n  C c = 2; // Only after.\n}\n",
        )
        .unwrap();
        // An import from disk.
        fs::write(
            dir.path().join("c.proto"),
            "syntax = \"proto3\";\n// A C.\nmessage C {}\n",
        )
        .unwrap();
        let compiled = compile(&proto, &[]).unwrap();
        let comment = |name: &str, field: Option<&str>| {
            let message = compiled.pool.get_message_by_name(name).unwrap();
            let path = match field {
                Some(field) => message.get_field_by_name(field).unwrap().path().to_vec(),
                None => message.path().to_vec(),
            };
            comments(&message.parent_file()).get(&path).cloned()
        };
        assert_eq!(
            comment("Configuration", None).as_deref(),
            Some("The settings.")
        );
        assert_eq!(
            comment("Configuration", Some("bind")).as_deref(),
            Some("Where to listen.")
        );
        assert_eq!(
            comment("Configuration", Some("c")).as_deref(),
            Some("Only after.")
        );
        assert_eq!(comment("C", None).as_deref(), Some("A C."));
        assert_eq!(
            comment("harness.net.Socket", None).as_deref(),
            Some("A TCP endpoint.")
        );
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
            format!(
                "{}:3:12: expected an integer, but found ';'",
                proto.display()
            )
        );

        fs::write(&proto, "syntax = \"proto3\";\nimport \"nope.proto\";\n").unwrap();
        let err = compile(&proto, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{}:2:1: import 'nope.proto' not found", proto.display())
        );
    }

    #[test]
    fn an_error_in_an_imported_file_names_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let common = dir.path().join("common.proto");
        fs::write(
            &common,
            "syntax = \"proto3\";\nmessage M {\n  bool b = ;\n}\n",
        )
        .unwrap();
        let proto = dir.path().join("svc.proto");
        fs::write(&proto, "syntax = \"proto3\";\nimport \"common.proto\";\n").unwrap();
        let err = compile(&proto, &[]).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}:3:12: ", common.display())),
            "{err}"
        );
    }

    /// A proto whose field option's value nests `depth` messages deep.
    fn deep_option(depth: usize) -> String {
        format!(
            "syntax = \"proto2\";\npackage d;\nimport \"google/protobuf/descriptor.proto\";\n\
             message O {{ optional O o = 1; }}\n\
             extend google.protobuf.FieldOptions {{ optional O deep = 50000; }}\n\
             message Configuration {{ optional int32 x = 1 [(deep) = {}{{}}{}]; }}\n",
            "{o: ".repeat(depth),
            "}".repeat(depth)
        )
    }

    #[test]
    fn deeply_nested_option_values_are_an_error() {
        // 100 deep panicked when the spec read the option; 5,000 overflowed the stack
        // while the pool resolved it.
        let dir = tempfile::tempdir().unwrap();
        let proto = dir.path().join("deep.proto");
        for depth in [100, 5_000, 100_000] {
            fs::write(&proto, deep_option(depth)).unwrap();
            let err = compile(&proto, &[]).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "{}:6:47: option `(deep)` nests {} levels deep; at most 32 are allowed",
                    proto.display(),
                    depth + 1
                )
            );
        }
        fs::write(&proto, deep_option(MAX_OPTION_DEPTH - 2)).unwrap();
        let compiled = compile(&proto, &[]).unwrap();
        crate::spec::ConfigSpec::from_file(&compiled.pool, &compiled.file_name).unwrap();
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
