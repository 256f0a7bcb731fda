//! The image's JSON documents: its configuration (entrypoint, user, labels, the layers'
//! diff IDs) and its manifest, typed with `oci-spec` and written as canonical JSON (keys
//! sorted, no white space) so the same image is always the same bytes.

use std::collections::HashMap;
use std::str::FromStr;

use goblin::elf::header;
use oci_spec::image::{
    Arch, ConfigBuilder, Descriptor, Digest, ImageConfigurationBuilder, ImageManifestBuilder,
    MediaType, Os, RootFsBuilder, Sha256Digest,
};
use serde::Serialize;

use super::elf::Machine;
use super::layer::{Layer, sha256_digest};

/// Why the image's documents could not be made.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("the binary is built for ELF machine {0}, which has no OCI architecture name here")]
    Architecture(u16),
    #[error("cannot build the image's {what}: {source}")]
    Spec {
        what: &'static str,
        source: oci_spec::OciSpecError,
    },
    #[error("cannot write the image's {what} as JSON: {source}")]
    Json {
        what: &'static str,
        source: serde_json::Error,
    },
}

/// A content-addressed blob of the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub media_type: MediaType,
    pub bytes: Vec<u8>,
    /// `sha256:HEX` of `bytes`.
    pub digest: String,
}

impl Blob {
    pub fn new(media_type: MediaType, bytes: Vec<u8>) -> Self {
        let digest = sha256_digest(&bytes);
        Blob {
            media_type,
            bytes,
            digest,
        }
    }

    /// The hexadecimal part of the digest: the blob's file name in a layout.
    pub fn hex(&self) -> &str {
        self.digest.trim_start_matches("sha256:")
    }

    pub fn descriptor(&self) -> Descriptor {
        let digest = Sha256Digest::from_str(self.hex()).expect("a SHA-256 digest is 64 hex digits");
        Descriptor::new(
            self.media_type.clone(),
            self.bytes.len() as u64,
            Digest::from(digest),
        )
    }
}

/// What the image's configuration says beyond its layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The absolute path of the service binary.
    pub entrypoint: String,
    /// `UID:GID`.
    pub user: String,
    pub env: Vec<String>,
    pub labels: HashMap<String, String>,
    /// RFC 3339; fixed, so that rebuilding does not change the digest.
    pub created: String,
}

/// An image: its layers, configuration and manifest, each a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub layers: Vec<Blob>,
    pub config: Blob,
    pub manifest: Blob,
}

impl Image {
    /// Every blob, the manifest last.
    pub fn blobs(&self) -> impl Iterator<Item = &Blob> {
        self.layers.iter().chain([&self.config, &self.manifest])
    }
}

/// The OCI architecture name of an ELF machine.
pub fn architecture(machine: Machine) -> Result<Arch, OciError> {
    let name = match (machine.e_machine, machine.is_64) {
        (header::EM_X86_64, true) => "amd64",
        (header::EM_AARCH64, true) => "arm64",
        (header::EM_386, false) => "386",
        (header::EM_ARM, false) => "arm",
        (header::EM_RISCV, true) => "riscv64",
        (header::EM_PPC64, true) => "ppc64le",
        (header::EM_S390, true) => "s390x",
        (other, _) => return Err(OciError::Architecture(other)),
    };
    Ok(Arch::from(name))
}

/// The image of `layers` (bottom first) for `machine`, configured by `settings`.
pub fn image(layers: &[Layer], machine: Machine, settings: &Settings) -> Result<Image, OciError> {
    let spec = |what| move |source| OciError::Spec { what, source };
    let config = ConfigBuilder::default()
        .entrypoint(vec![settings.entrypoint.clone()])
        .user(settings.user.clone())
        .env(settings.env.clone())
        .working_dir("/")
        .labels(settings.labels.clone())
        .build()
        .map_err(spec("configuration"))?;
    let rootfs = RootFsBuilder::default()
        .typ("layers")
        .diff_ids(layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>())
        .build()
        .map_err(spec("root file system"))?;
    let configuration = ImageConfigurationBuilder::default()
        .created(settings.created.clone())
        .architecture(architecture(machine)?)
        .os(Os::Linux)
        .config(config)
        .rootfs(rootfs)
        .build()
        .map_err(spec("configuration"))?;
    let config = Blob::new(
        MediaType::ImageConfig,
        canonical_json(&configuration, "configuration")?,
    );
    let layers: Vec<Blob> = layers
        .iter()
        .map(|l| Blob::new(MediaType::ImageLayerGzip, l.compressed.clone()))
        .collect();
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(config.descriptor())
        .layers(layers.iter().map(Blob::descriptor).collect::<Vec<_>>())
        .build()
        .map_err(spec("manifest"))?;
    let manifest = Blob::new(
        MediaType::ImageManifest,
        canonical_json(&manifest, "manifest")?,
    );
    Ok(Image {
        layers,
        config,
        manifest,
    })
}

/// `value` as canonical JSON: object keys sorted (the specification's types hold maps in
/// hash order), no insignificant white space.
pub fn canonical_json<T: Serialize>(value: &T, what: &'static str) -> Result<Vec<u8>, OciError> {
    let mut bytes = Vec::new();
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut bytes, olpc_cjson::CanonicalFormatter::new());
    value
        .serialize(&mut serializer)
        .map_err(|source| OciError::Json { what, source })?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::layer;
    use crate::image::rootfs::ImageFile;

    const AMD64: Machine = Machine {
        e_machine: header::EM_X86_64,
        is_64: true,
    };

    fn settings(labels: &[(&str, &str)]) -> Settings {
        Settings {
            entrypoint: "/usr/local/bin/app".to_owned(),
            user: "65532:65532".to_owned(),
            env: vec!["PATH=/usr/local/bin".to_owned()],
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            created: "1970-01-01T00:00:00Z".to_owned(),
        }
    }

    fn one_layer() -> Layer {
        let file = ImageFile {
            path: "/usr/local/bin/app".to_owned(),
            contents: b"app".to_vec(),
            mode: 0o755,
        };
        layer::build(&[file], &[], 0).unwrap()
    }

    #[test]
    fn the_manifest_points_at_the_configuration_and_layers_by_digest() {
        let image = image(&[one_layer()], AMD64, &settings(&[("a", "1")])).unwrap();
        let manifest: serde_json::Value = serde_json::from_slice(&image.manifest.bytes).unwrap();
        assert_eq!(manifest["schemaVersion"], 2);
        assert_eq!(manifest["config"]["digest"], image.config.digest.as_str());
        assert_eq!(manifest["config"]["size"], image.config.bytes.len());
        assert_eq!(
            manifest["layers"][0]["digest"],
            image.layers[0].digest.as_str()
        );
        assert_eq!(
            manifest["layers"][0]["mediaType"],
            "application/vnd.oci.image.layer.v1.tar+gzip"
        );
        let config: serde_json::Value = serde_json::from_slice(&image.config.bytes).unwrap();
        assert_eq!(config["architecture"], "amd64");
        assert_eq!(config["config"]["User"], "65532:65532");
        assert_eq!(config["config"]["Entrypoint"][0], "/usr/local/bin/app");
        assert_eq!(
            config["rootfs"]["diff_ids"][0],
            one_layer().diff_id.as_str()
        );
    }

    #[test]
    fn labels_in_any_order_make_the_same_digest() {
        let pairs: Vec<(String, String)> = (0..32)
            .map(|i| (format!("label.{i}"), i.to_string()))
            .collect();
        let forward: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut backward = forward.clone();
        backward.reverse();
        let first = image(&[one_layer()], AMD64, &settings(&forward)).unwrap();
        let second = image(&[one_layer()], AMD64, &settings(&backward)).unwrap();
        assert_eq!(first.manifest.digest, second.manifest.digest);
        let text = String::from_utf8(first.config.bytes).unwrap();
        assert!(text.find("label.0").unwrap() < text.find("label.1\"").unwrap());
    }

    #[test]
    fn an_unknown_machine_is_an_error() {
        let machine = Machine {
            e_machine: 0xfffe,
            is_64: true,
        };
        let err = image(&[one_layer()], machine, &settings(&[])).unwrap_err();
        assert!(err.to_string().contains("65534"), "{err}");
    }
}
