//! `harness new`: a service project from templates, written whole or not at all.
//!
//! ```text
//! NAME/
//!   Cargo.toml                       harness crates by path or version, one feature per wire
//!   Cargo.lock                       the checkout's, when the crates come from one
//!   build.rs                         harness_build compiles the proto
//!   proto/NAME.proto                 Configuration with the chosen wires (and the gRPC API)
//!   NAME.yaml                        this machine: loopback and its services
//!   NAME.prod.yaml                   production: 0.0.0.0, services by name
//!   NAME.prod-secrets.example.yaml   what --merge / --secret-merge adds
//!   src/main.rs                      setup and a handler per output
//!   NAME.schema.json                 the configuration's JSON Schema, for editors
//!   README.md  .gitignore  Containerfile  .containerignore
//! ```

mod name;
mod source;
mod templates;
pub mod write;

use std::path::PathBuf;

use askama::DynTemplate;

pub use name::check_service_name;
pub use source::Source;
pub use write::write_project;

/// What `harness new` can fail on; none of it writes anything.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("{0}")]
    Name(String),
    #[error("{}: {reason}", path.display())]
    Target { path: PathBuf, reason: String },
    #[error("--harness-path {}: not a harness checkout: {reason}", path.display())]
    HarnessPath { path: PathBuf, reason: String },
    #[error("cannot render {file}: {source}")]
    Render { file: String, source: askama::Error },
    #[error("cannot write the JSON Schema of {file}: {reason}")]
    Schema { file: String, reason: String },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The wires a new service is made with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wires {
    pub http: bool,
    pub grpc: bool,
    pub postgres: bool,
    pub redis: bool,
    pub nats: bool,
    pub schedule: bool,
}

impl Wires {
    /// Every combination, for tests: 2⁶ of them.
    pub fn every_combination() -> impl Iterator<Item = Wires> {
        (0u8..64).map(|bits| Wires {
            http: bits & 1 != 0,
            grpc: bits & 2 != 0,
            postgres: bits & 4 != 0,
            redis: bits & 8 != 0,
            nats: bits & 16 != 0,
            schedule: bits & 32 != 0,
        })
    }

    /// These wires, with an HTTP server when there is no server: `GET /` is how a new
    /// service shows that it runs.
    pub fn with_a_server(self) -> Wires {
        Wires {
            http: self.http || !self.grpc,
            ..self
        }
    }

    /// harness-wires' cargo features for these wires (wires/src/features.rs names them).
    pub fn features(&self) -> Vec<&'static str> {
        self.chosen().map(|(feature, _)| feature).collect()
    }

    /// "HTTP, PostgreSQL", for people.
    pub fn summary(&self) -> String {
        self.chosen()
            .map(|(_, name)| name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The chosen wires' features and names.
    fn chosen(&self) -> impl Iterator<Item = (&'static str, &'static str)> {
        [
            (self.http, "http", "HTTP"),
            (self.grpc, "grpc-server", "gRPC"),
            (self.postgres, "postgres", "PostgreSQL"),
            (self.redis, "redis", "Redis"),
            (self.nats, "nats", "NATS"),
            (self.schedule, "schedule", "scheduler"),
        ]
        .into_iter()
        .filter_map(|(on, feature, name)| on.then_some((feature, name)))
    }
}

/// The service a project is generated for: its names and wires.
#[derive(Debug, Clone)]
pub struct Service {
    /// The directory, cargo package, binary and Kubernetes name: `my-svc`.
    pub name: String,
    /// The proto package and Rust module: `my_svc`.
    pub module: String,
    /// The gRPC service: `MySvcApi`.
    pub api: String,
    /// Its tonic module's prefix: `my_svc_api`.
    pub api_module: String,
    pub wires: Wires,
}

impl Service {
    /// The service `name` (checked) with `wires` (and a server when they have none).
    pub fn new(name: &str, wires: Wires) -> Result<Service, ScaffoldError> {
        check_service_name(name).map_err(ScaffoldError::Name)?;
        let module = name::snake_case(name);
        Ok(Service {
            name: name.to_owned(),
            api: format!("{}Api", name::camel_case(name)),
            api_module: format!("{module}_api"),
            module,
            wires: wires.with_a_server(),
        })
    }

    /// Whether `setup` receives input wires.
    pub fn has_inputs(&self) -> bool {
        self.wires.postgres || self.wires.redis || self.wires.nats
    }

    /// The local configuration's file name.
    pub fn local_config(&self) -> String {
        format!("{}.yaml", self.name)
    }

    /// The production configuration's file name.
    pub fn prod_config(&self) -> String {
        format!("{}.prod.yaml", self.name)
    }

    /// The example of the production secrets' file name.
    pub fn secrets_example(&self) -> String {
        format!("{}.prod-secrets.example.yaml", self.name)
    }

    /// The proto's path in the project.
    pub fn proto(&self) -> String {
        format!("proto/{}.proto", self.name)
    }
}

/// A file of the project: its path relative to the project's directory and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub text: String,
}

/// Every file of `service`'s project, taking the harness crates from `source`.
pub fn render(service: &Service, source: &Source) -> Result<Vec<File>, ScaffoldError> {
    use templates::*;
    let s = service;
    let mut files = vec![
        file("Cargo.toml", &CargoToml::new(s, source))?,
        file("build.rs", &BuildRs { s })?,
        file(&s.proto(), &Proto { s })?,
        file(&s.local_config(), &Config { s, prod: false })?,
        file(&s.prod_config(), &Config { s, prod: true })?,
        file(&s.secrets_example(), &Secrets { s })?,
        file("src/main.rs", &MainRs { s })?,
        file("README.md", &Readme { s })?,
        file(".gitignore", &GitIgnore)?,
        file("Containerfile", &Containerfile { s })?,
        file(".containerignore", &ContainerIgnore { s })?,
    ];
    if let Some(text) = source.lockfile()? {
        files.push(File {
            path: "Cargo.lock".into(),
            text,
        });
    }
    files.push(schema_file(s, &files)?);
    Ok(files)
}

/// `NAME.schema.json`: the JSON Schema (`harness schema`) of the proto among `files`, which
/// the configurations' first line names for editors.
fn schema_file(service: &Service, files: &[File]) -> Result<File, ScaffoldError> {
    let proto = files
        .iter()
        .find(|f| f.path == service.proto())
        .expect("the proto is rendered before its schema");
    let failed = |reason: String| ScaffoldError::Schema {
        file: proto.path.clone(),
        reason,
    };
    let dir = tempfile::tempdir().map_err(|e| failed(e.to_string()))?;
    let path = dir.path().join(format!("{}.proto", service.name));
    std::fs::write(&path, &proto.text).map_err(|e| failed(e.to_string()))?;
    let schema = crate::schema::json_schema_of_proto(&path, &[]).map_err(|e| failed(e.report()))?;
    Ok(File {
        path: format!("{}.schema.json", service.name),
        text: crate::schema::to_text(&schema),
    })
}

/// The file at `path` rendered from `template`, ending with one newline.
fn file(path: &str, template: &dyn DynTemplate) -> Result<File, ScaffoldError> {
    let text = template
        .dyn_render()
        .map_err(|source| ScaffoldError::Render {
            file: path.to_owned(),
            source,
        })?;
    Ok(File {
        path: path.to_owned(),
        text: format!("{}\n", text.trim_end()),
    })
}

#[cfg(test)]
mod tests;
