//! The OCI image of a service, built without a container daemon, for `harness image`.
//!
//! Two layers: a base layer with exactly what the binary needs at run time (its ELF
//! loader and shared libraries, found as the loader finds them, or nothing for a static
//! binary), the CA certificates and the `nonroot` user, and a layer with the binary at
//! `/usr/local/bin/NAME`, the entrypoint. The image runs as 65532:65532, the Deployment's
//! user, and is reproducible: the same binary and options give the same digest.
//!
//! ```text
//! binary --elf--> loader, libraries --rootfs--> files --layer--> tar+gzip --oci--> config, manifest
//!                                                             --layout--> OCI layout directory
//!                                                             --push----> registry
//! ```

use std::collections::HashMap;
use std::path::Path;

use oci_spec::image::{ANNOTATION_TITLE, ANNOTATION_VERSION};

pub mod cargo;
pub mod elf;
pub mod layer;
pub mod layout;
pub mod loader;
pub mod oci;
pub mod push;
pub mod rootfs;

pub use oci::Image;

use crate::kube::deployment::RUN_AS_USER;

/// The reproducible-builds variable: the time of every file and of the image, in seconds
/// since the epoch; the epoch itself when unset.
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

/// The labels naming the service, from `(harness.service)`.
pub const LABEL_SERVICE_NAME: &str = "harness.service.name";
pub const LABEL_SERVICE_REPOSITORY: &str = "harness.service.container.repository";

/// Why an image could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    Elf(#[from] elf::ElfError),
    #[error(transparent)]
    Read(#[from] rootfs::ReadError),
    #[error("cannot write a layer: {0}")]
    Layer(std::io::Error),
    #[error(transparent)]
    Oci(#[from] oci::OciError),
    #[error("{SOURCE_DATE_EPOCH} `{0}` is not a number of seconds")]
    Epoch(String),
}

/// What an image is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// `(harness.service).name`: the binary's name in the image and the title label.
    pub name: &'a str,
    /// The tag's version: the version label.
    pub version: &'a str,
    /// `(harness.service).container.repository`, when set.
    pub repository: Option<&'a str>,
    pub binary: &'a Path,
    pub ca_bundle: &'a Path,
    /// Seconds since the epoch: every file's time and the image's creation time.
    pub epoch: u64,
}

/// The epoch of [`SOURCE_DATE_EPOCH`], or 0.
pub fn epoch_from_env() -> Result<u64, ImageError> {
    match std::env::var(SOURCE_DATE_EPOCH) {
        Ok(value) => value.trim().parse().map_err(|_| ImageError::Epoch(value)),
        Err(_) => Ok(0),
    }
}

/// Builds the image of `request`, in memory.
pub fn build(request: &Request<'_>) -> Result<Image, ImageError> {
    let runtime = elf::runtime_files(
        request.binary,
        &loader::SystemDirs::read(Path::new(loader::LD_SO_CONF)),
    )?;
    let base = rootfs::base_files(&runtime, request.ca_bundle)?;
    let binary = rootfs::binary_file(request.name, request.binary)?;
    let entrypoint = binary.path.clone();
    let layers = [
        layer::build(&base, &[rootfs::TMP], request.epoch),
        layer::build(&[binary], &[], request.epoch),
    ]
    .into_iter()
    .collect::<Result<Vec<_>, _>>()
    .map_err(ImageError::Layer)?;
    let settings = oci::Settings {
        entrypoint,
        user: format!("{RUN_AS_USER}:{RUN_AS_USER}"),
        env: vec![
            format!("PATH={}", rootfs::BINARY_DIR),
            format!("SSL_CERT_FILE={}", rootfs::CA_CERTIFICATES),
        ],
        labels: labels(request),
        created: rfc3339(request.epoch)?,
    };
    Ok(oci::image(&layers, runtime.machine, &settings)?)
}

fn labels(request: &Request<'_>) -> HashMap<String, String> {
    let mut labels = HashMap::from([
        (ANNOTATION_TITLE.to_owned(), request.name.to_owned()),
        (ANNOTATION_VERSION.to_owned(), request.version.to_owned()),
        (LABEL_SERVICE_NAME.to_owned(), request.name.to_owned()),
    ]);
    if let Some(repository) = request.repository {
        labels.insert(LABEL_SERVICE_REPOSITORY.to_owned(), repository.to_owned());
    }
    labels
}

fn rfc3339(epoch: u64) -> Result<String, ImageError> {
    i64::try_from(epoch)
        .ok()
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .ok_or_else(|| ImageError::Epoch(epoch.to_string()))
}

#[cfg(test)]
mod tests;
