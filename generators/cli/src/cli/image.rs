//! `harness image`: the OCI image of a service, with no container daemon. The proto names
//! the service (binary, labels, repository); the binary is built with cargo unless given.
//! The image is written as an OCI layout or pushed; stdout gets its manifest digest alone,
//! for `harness kube-gen --image-digest`, and stderr a summary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use harness_core::protos;
use harness_core::spec::ConfigSpec;
use oci_client::Reference;

use crate::image::{self, Image, cargo, layout, push, rootfs};

/// The version of an image tagged with a repository alone.
const DEFAULT_VERSION: &str = "latest";

#[derive(Debug, Args)]
#[command(
    after_help = "Without --binary, runs `cargo build [--release] --bin NAME` in the package that holds \
PROTO (the nearest directory above it with a Cargo.toml), NAME being --bin or (harness.service).name.\n\
Prints the image's manifest digest (sha256:…) on stdout, for `harness kube-gen --image-digest`.\n\
Registry credentials, when needed: HARNESS_REGISTRY_USERNAME and HARNESS_REGISTRY_PASSWORD; a registry \
on a loopback address is spoken to over plain HTTP.\n\
SOURCE_DATE_EPOCH, when set, is the time of every file and of the image (the epoch otherwise)."
)]
pub struct ImageArgs {
    /// Add a directory to search for imports (the proto's own directory and the bundled
    /// harness, validate and google protos are always searched).
    #[arg(short = 'I', long = "proto-path", value_name = "DIR")]
    includes: Vec<PathBuf>,
    /// The service's proto, whose `Configuration` message names the service.
    #[arg(value_name = "PROTO")]
    proto: PathBuf,
    /// Build the binary with cargo's release profile.
    #[arg(long, conflicts_with = "binary")]
    release: bool,
    /// The service binary to put in the image, instead of building it.
    #[arg(long, value_name = "PATH")]
    binary: Option<PathBuf>,
    /// The cargo binary target to build; (harness.service).name when omitted.
    #[arg(long, value_name = "NAME", conflicts_with = "binary")]
    bin: Option<String>,
    /// The image's name; (harness.service).container.repository and `latest` when omitted.
    #[arg(long, value_name = "REPOSITORY:VERSION")]
    tag: Option<String>,
    /// Write an OCI image layout to DIR (default: NAME.oci beside the binary).
    #[arg(long, value_name = "DIR", conflicts_with = "push")]
    output: Option<PathBuf>,
    /// Push the image to the registry of its tag instead of writing a layout.
    #[arg(long)]
    push: bool,
    /// The CA certificates bundle to put in the image.
    #[arg(long, value_name = "FILE", default_value = rootfs::CA_CERTIFICATES)]
    ca_certificates: PathBuf,
}

pub fn run(args: ImageArgs) -> ExitCode {
    match build_and_ship(&args) {
        Ok(digest) => {
            println!("{digest}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(super::EXIT_USAGE)
        }
    }
}

/// The service's name and repository, from its proto.
struct Service {
    name: String,
    repository: Option<String>,
}

fn service(args: &ImageArgs) -> Result<Service, String> {
    let compiled = protos::compile(&args.proto, &args.includes).map_err(|e| e.to_string())?;
    let spec =
        ConfigSpec::from_file(&compiled.pool, &compiled.file_name).map_err(|e| e.to_string())?;
    let non_empty = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
    let name = non_empty(spec.service.name).ok_or_else(|| {
        format!(
            "{}: (harness.service).name is not set; the image's binary and labels are named after the service",
            args.proto.display()
        )
    })?;
    Ok(Service {
        name,
        repository: non_empty(spec.service.repository),
    })
}

/// The image's reference: `--tag`, or the proto's repository at `latest`.
fn reference(args: &ImageArgs, service: &Service) -> Result<Option<Reference>, String> {
    let text = match (&args.tag, &service.repository) {
        (Some(tag), _) => tag.clone(),
        (None, Some(repository)) => format!("{repository}:{DEFAULT_VERSION}"),
        (None, None) => return Ok(None),
    };
    let reference: Reference = text
        .parse()
        .map_err(|e| format!("--tag `{text}` is not an image reference REPOSITORY:VERSION: {e}"))?;
    if reference.digest().is_some() {
        return Err(format!(
            "--tag `{text}` has a digest; the digest is the image's own, give REPOSITORY:VERSION"
        ));
    }
    Ok(Some(reference))
}

/// Builds the image, writes or pushes it, and returns its manifest digest.
fn build_and_ship(args: &ImageArgs) -> Result<String, String> {
    let service = service(args)?;
    let reference = reference(args, &service)?;
    if args.push && reference.is_none() {
        return Err(format!(
            "--push needs a registry: give --tag REPOSITORY:VERSION or set (harness.service).container.repository in {}",
            args.proto.display()
        ));
    }
    let binary = binary(args, &service.name)?;
    let version = reference
        .as_ref()
        .and_then(|r| r.tag())
        .unwrap_or(DEFAULT_VERSION)
        .to_owned();
    let image = image::build(&image::Request {
        name: &service.name,
        version: &version,
        repository: service.repository.as_deref(),
        binary: &binary,
        ca_bundle: &args.ca_certificates,
        epoch: image::epoch_from_env().map_err(|e| e.to_string())?,
    })
    .map_err(|e| e.to_string())?;
    match (&reference, args.push) {
        (Some(reference), true) => {
            let url = push::push(&image, reference).map_err(|e| e.to_string())?;
            eprintln!(
                "pushed {}@{} ({url})",
                reference.whole(),
                image.manifest.digest
            );
        }
        _ => {
            let dir = args
                .output
                .clone()
                .unwrap_or_else(|| binary.with_file_name(format!("{}.oci", service.name)));
            layout::write(&dir, &image, &version).map_err(|e| e.to_string())?;
            eprintln!("wrote {} (tag {version})", dir.display());
        }
    }
    eprint!("{}", summary(&image, &binary));
    Ok(image.manifest.digest)
}

fn binary(args: &ImageArgs, name: &str) -> Result<PathBuf, String> {
    if let Some(binary) = &args.binary {
        return Ok(binary.clone());
    }
    let dir = cargo::package_dir(&args.proto).map_err(|e| e.to_string())?;
    let bin = args.bin.as_deref().unwrap_or(name);
    cargo::build(&dir, bin, args.release).map_err(|e| e.to_string())
}

/// The layers' compressed sizes, for stderr.
fn summary(image: &Image, binary: &Path) -> String {
    let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    let total: usize = image.blobs().map(|b| b.bytes.len()).sum();
    let [base, service] = [0, 1].map(|i| mib(image.layers[i].bytes.len()));
    format!(
        "image {:.1} MiB compressed: base layer {base:.1} MiB, binary layer {service:.1} MiB ({})\n",
        mib(total),
        binary.display()
    )
}
