//! [`Builder`]: the one call a service's `build.rs` makes.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use prost::Message as _;
use prost_build::{Module, ServiceGenerator};
use prost_types::{FileDescriptorProto, FileDescriptorSet};

use harness_core::protos;
use harness_core::spec::ConfigSpec;

use super::error::Error;
use super::wiring;
use super::{DESCRIPTOR_FILE, SERVICE_FILE};

/// Generates a service's configuration types and wiring from its proto, for `build.rs`:
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     harness_build::Builder::new().compile("proto/status.proto")?;
///     Ok(())
/// }
/// ```
///
/// writes `$OUT_DIR/harness_service.rs`, which `harness::include_service!()` includes:
/// the prost types of the proto's packages (the bundled `harness.*`, `validate.*` and
/// `google.protobuf.*` types are shared from `harness::proto` and `harness::prost_types`),
/// `WiresIn` and `WiresOut`, and the `harness::runtime::Wiring` implementation that ties them
/// to the runner. It prints `cargo:rerun-if-changed` for every proto read from disk and
/// rewrites nothing when the output is unchanged.
pub struct Builder {
    includes: Vec<PathBuf>,
    extra: Vec<PathBuf>,
    out_dir: Option<PathBuf>,
    service_generator: Option<Box<dyn ServiceGenerator>>,
    type_attributes: Vec<(String, String)>,
    emit_rerun: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    pub fn new() -> Self {
        Builder {
            includes: Vec::new(),
            extra: Vec::new(),
            out_dir: None,
            service_generator: None,
            type_attributes: Vec::new(),
            emit_rerun: true,
        }
    }

    /// Adds a directory to search for imports (the proto's own directory and the bundled
    /// protos are always searched).
    pub fn include(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.includes.push(dir.as_ref().to_path_buf());
        self
    }

    /// Also generates the types (and, with a service generator, the gRPC code) of another
    /// proto, e.g. the API of a service this one calls.
    pub fn proto(&mut self, proto: impl AsRef<Path>) -> &mut Self {
        self.extra.push(proto.as_ref().to_path_buf());
        self
    }

    /// Generates code for the proto's `service`s, as prost-build's
    /// `Config::service_generator`: e.g.
    /// `tonic_prost_build::configure().service_generator()`.
    pub fn service_generator(&mut self, generator: Box<dyn ServiceGenerator>) -> &mut Self {
        self.service_generator = Some(generator);
        self
    }

    /// Adds an attribute to matching generated types, as prost-build's
    /// `Config::type_attribute`.
    pub fn type_attribute(
        &mut self,
        path: impl Into<String>,
        attribute: impl Into<String>,
    ) -> &mut Self {
        self.type_attributes.push((path.into(), attribute.into()));
        self
    }

    /// Writes into `dir` instead of `$OUT_DIR`.
    pub fn out_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Whether to print `cargo:rerun-if-changed` lines (on by default).
    pub fn emit_rerun_if_changed(&mut self, enabled: bool) -> &mut Self {
        self.emit_rerun = enabled;
        self
    }

    /// Compiles the service's proto (holding its `Configuration`) and writes the code.
    pub fn compile(&mut self, proto: impl AsRef<Path>) -> Result<(), Error> {
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::NoOutDir)?,
        };
        let generated = self.generate(proto.as_ref())?;
        if self.emit_rerun {
            for file in &generated.read {
                println!("cargo:rerun-if-changed={}", file.display());
            }
        }
        fs::create_dir_all(&out_dir).map_err(|source| Error::Write {
            path: out_dir.clone(),
            source,
        })?;
        write_if_changed(&out_dir.join(DESCRIPTOR_FILE), &generated.descriptor_set)?;
        write_if_changed(&out_dir.join(SERVICE_FILE), generated.code.as_bytes())?;
        Ok(())
    }

    /// The code and descriptor set for `proto`, without writing anything.
    pub fn generate(&mut self, proto: &Path) -> Result<Generated, Error> {
        let proto_name = proto.display().to_string();
        let compiled = protos::compile(proto, &self.includes)?;
        let spec = ConfigSpec::from_file(&compiled.pool, &compiled.file_name)?;
        let mut protos = Protos::default();
        protos.add(proto, &compiled);
        for extra in &self.extra {
            protos.add(extra, &protos::compile(extra, &self.includes)?);
        }
        let packages = protos.packages(&proto_name)?;
        let types = self.prost_types(&protos, &packages, &proto_name)?;
        let config_module: Vec<String> = module_parts(spec.message.package_name());
        let wiring = wiring::generate(&spec, proto, &config_module)?;

        let source = format!("{types}\n{wiring}");
        let file: syn::File = syn::parse_str(&source).map_err(|source| Error::Unparsable {
            proto: proto_name.clone(),
            source,
        })?;
        let code = format!(
            "// @generated by harness-build from {proto_name}; do not edit.\n{}",
            prettyplease::unparse(&file)
        );
        Ok(Generated {
            code,
            descriptor_set: FileDescriptorSet {
                file: protos.files.into_values().collect(),
            }
            .encode_to_vec(),
            read: protos.read.into_iter().collect(),
        })
    }

    /// The prost types of the user's packages, nested in modules; the bundled packages'
    /// types come from `harness`.
    fn prost_types(
        &mut self,
        protos: &Protos,
        packages: &Packages,
        proto_name: &str,
    ) -> Result<String, Error> {
        // prost-build sees every file: it needs every message to decide derives.
        let requests: Vec<(Module, FileDescriptorProto)> = protos
            .files
            .values()
            .map(|file| {
                (
                    Module::from_protobuf_package_name(file.package()),
                    file.clone(),
                )
            })
            .collect();
        let mut config = prost_build::Config::new();
        config
            .prost_path("::harness::prost")
            .prost_types_path("::harness::prost_types")
            .extern_path(".harness", "::harness::proto::harness")
            .extern_path(".validate", "::harness::proto::validate");
        for (path, attribute) in &self.type_attributes {
            config.type_attribute(path, attribute);
        }
        if let Some(generator) = self.service_generator.take() {
            config.service_generator(generator);
        }
        let modules = config.generate(requests).map_err(|source| Error::Prost {
            proto: proto_name.to_owned(),
            source,
        })?;
        let user_modules: BTreeSet<Vec<String>> =
            packages.user.iter().map(|p| module_parts(p)).collect();
        let modules: BTreeMap<Vec<String>, String> = modules
            .into_iter()
            .map(|(module, code)| (module.parts().map(str::to_owned).collect(), code))
            .filter(|(parts, _)| user_modules.contains(parts))
            .collect();
        // A service uses some of its proto's types; the rest must not warn.
        Ok(super::tree::nest(&modules, "#[allow(dead_code)]\n"))
    }
}

/// Every file of the service's proto and the extra protos, imports included, and the
/// files read from disk.
#[derive(Default)]
struct Protos {
    files: BTreeMap<String, FileDescriptorProto>,
    read: BTreeSet<PathBuf>,
}

/// The packages of the user's files, and of the bundled files they import.
struct Packages {
    user: BTreeSet<String>,
}

impl Protos {
    fn add(&mut self, path: &Path, compiled: &protos::Compiled) {
        self.read.extend(compiled.disk_files.iter().cloned());
        self.read.insert(path.to_path_buf());
        for file in compiled.pool.file_descriptor_protos() {
            self.files
                .entry(file.name().to_owned())
                .or_insert_with(|| file.clone());
        }
    }

    /// The user's packages, none of which may be a bundled one.
    fn packages(&self, proto_name: &str) -> Result<Packages, Error> {
        let (shared, user): (Vec<_>, Vec<_>) = self
            .files
            .values()
            .partition(|file| protos::is_bundled(file.name()));
        let shared: BTreeSet<String> = shared.iter().map(|f| f.package().to_owned()).collect();
        let user: BTreeSet<String> = user.iter().map(|f| f.package().to_owned()).collect();
        if let Some(package) = user.intersection(&shared).next() {
            return Err(Error::ReservedPackage {
                proto: proto_name.to_owned(),
                package: package.clone(),
            });
        }
        Ok(Packages { user })
    }
}

/// A proto package as a module path: `acme.status` → `["acme", "status"]`.
fn module_parts(package: &str) -> Vec<String> {
    Module::from_protobuf_package_name(package)
        .parts()
        .map(str::to_owned)
        .collect()
}

/// What [`Builder::generate`] produces.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The Rust source of `harness_service.rs`.
    pub code: String,
    /// The encoded `FileDescriptorSet` of the protos and their imports.
    pub descriptor_set: Vec<u8>,
    /// Files read from disk.
    pub read: Vec<PathBuf>,
}

fn write_if_changed(path: &Path, content: &[u8]) -> Result<(), Error> {
    if fs::read(path).is_ok_and(|current| current == content) {
        return Ok(());
    }
    fs::write(path, content).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate(configuration: &str) -> Result<Generated, Error> {
        let dir = tempfile::tempdir().unwrap();
        let proto = dir.path().join("svc.proto");
        let text = format!(
            "syntax = \"proto3\";\npackage svc;\nimport \"validate/validate.proto\";\nimport \"harness/wire.proto\";\nimport \"harness/http.proto\";\nimport \"harness/postgres.proto\";\n{configuration}\n"
        );
        fs::write(&proto, text).unwrap();
        Builder::new().generate(&proto)
    }

    #[test]
    fn wires_are_typed_by_their_type_strings() {
        let generated = generate(
            r#"message Configuration {
                string name = 1;
                harness.postgres.Pool db = 2 [(validate.rules).message.required = true,
                    (harness.wire).input.type = "harness_wires::postgres::Pool"];
                harness.postgres.DSN cache = 3 [(harness.wire).input.type = "my_crate::wires::Cache<u8>"];
                harness.http.Server server = 4 [(harness.wire).output.type = "harness_wires::http::Server"];
            }"#,
        )
        .unwrap();
        let code = &generated.code;
        assert!(
            code.contains("pub db: harness_wires::postgres::Pool,"),
            "{code}"
        );
        assert!(
            code.contains("pub cache: ::core::option::Option<my_crate::wires::Cache<u8>>,"),
            "{code}"
        );
        assert!(
            code.contains("pub server: harness_wires::http::Server,"),
            "{code}"
        );
        assert!(code.contains("pub use self::svc::Configuration;"), "{code}");
        assert!(
            code.contains(
                "pub db: ::core::option::Option<::harness::proto::harness::postgres::Pool>"
            ),
            "{code}"
        );
        assert!(
            code.contains("const MESSAGE: &'static str = \"svc.Configuration\";"),
            "{code}"
        );
        // Inputs are connected in declaration order, which is also their closing order.
        let db = code.find(r#"wire(0usize, "db""#).expect(code);
        let cache = code.find(r#"wire(1usize, "cache""#).expect(code);
        assert!(db < cache);
        assert!(generated.read.iter().any(|p| p.ends_with("svc.proto")));
        // The descriptor set decodes and holds the configuration.
        let pool =
            prost_reflect::DescriptorPool::decode(generated.descriptor_set.as_slice()).unwrap();
        assert!(pool.get_message_by_name("svc.Configuration").is_some());
    }

    #[test]
    fn no_wires_still_generates_the_wiring() {
        let code = generate("message Configuration { string name = 1; }")
            .unwrap()
            .code;
        assert!(code.contains("pub struct WiresIn {}"), "{code}");
        assert!(code.contains("pub struct WiresOut {}"), "{code}");
    }

    #[test]
    fn a_type_string_that_is_not_a_rust_path_names_file_and_field() {
        let error = generate(
            r#"message Configuration {
                harness.http.Server server = 1 [(harness.wire).output.type = "harness wires::http::Server"];
            }"#,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("svc.proto"), "{error}");
        assert!(error.contains("Configuration.server"), "{error}");
        assert!(error.contains("is not a Rust path"), "{error}");
    }

    #[test]
    fn a_wire_on_a_non_message_field_names_file_and_field() {
        let error = generate(
            r#"message Configuration {
                string server = 1 [(harness.wire).output.type = "harness_wires::http::Server"];
            }"#,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("svc.proto"), "{error}");
        assert!(error.contains("Configuration.server"), "{error}");
        assert!(error.contains("must be a message"), "{error}");
    }

    #[test]
    fn output_is_written_only_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let proto = dir.path().join("svc.proto");
        fs::write(
            &proto,
            "syntax = \"proto3\";\npackage svc;\nmessage Configuration { string name = 1; }\n",
        )
        .unwrap();
        let out = dir.path().join("out");
        let build = || {
            Builder::new()
                .out_dir(&out)
                .emit_rerun_if_changed(false)
                .compile(&proto)
                .unwrap()
        };
        build();
        let written = fs::metadata(out.join(SERVICE_FILE))
            .unwrap()
            .modified()
            .unwrap();
        build();
        let again = fs::metadata(out.join(SERVICE_FILE))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(written, again);
    }
}
