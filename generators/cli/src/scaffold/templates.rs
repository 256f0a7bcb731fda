//! The project's files, rendered from the templates in `templates/` (askama, compiled
//! into the command).

use askama::Template;

use super::{Service, source::Source};

/// Versions of the crates a project names besides the harness ones: the same major
/// versions harness-wires uses, so that their types are the wires' types.
pub struct Versions {
    pub axum: &'static str,
    pub tonic: &'static str,
}

pub const VERSIONS: Versions = Versions {
    axum: "0.8",
    tonic: "0.14",
};

#[derive(Template)]
#[template(path = "Cargo.toml.j2", escape = "none")]
pub struct CargoToml<'a> {
    pub s: &'a Service,
    pub harness: String,
    pub wires: String,
    pub build: String,
    pub versions: Versions,
}

impl<'a> CargoToml<'a> {
    pub fn new(s: &'a Service, source: &Source) -> Self {
        CargoToml {
            s,
            harness: source.dependency("harness", &[]),
            wires: source.dependency("harness-wires", &s.wires.features()),
            build: source.dependency("harness-build", &[]),
            versions: VERSIONS,
        }
    }
}

#[derive(Template)]
#[template(path = "build.rs.j2", escape = "none")]
pub struct BuildRs<'a> {
    pub s: &'a Service,
}

#[derive(Template)]
#[template(path = "service.proto.j2", escape = "none")]
pub struct Proto<'a> {
    pub s: &'a Service,
}

/// The local configuration (`prod: false`) or the production one.
#[derive(Template)]
#[template(path = "config.yaml.j2", escape = "none")]
pub struct Config<'a> {
    pub s: &'a Service,
    pub prod: bool,
}

#[derive(Template)]
#[template(path = "secrets.yaml.j2", escape = "none")]
pub struct Secrets<'a> {
    pub s: &'a Service,
}

#[derive(Template)]
#[template(path = "main.rs.j2", escape = "none")]
pub struct MainRs<'a> {
    pub s: &'a Service,
}

#[derive(Template)]
#[template(path = "README.md.j2", escape = "none")]
pub struct Readme<'a> {
    pub s: &'a Service,
}

#[derive(Template)]
#[template(path = "gitignore.j2", escape = "none")]
pub struct GitIgnore;

#[derive(Template)]
#[template(path = "containerignore.j2", escape = "none")]
pub struct ContainerIgnore<'a> {
    pub s: &'a Service,
}

#[derive(Template)]
#[template(path = "Containerfile.j2", escape = "none")]
pub struct Containerfile<'a> {
    pub s: &'a Service,
}
