//! An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/…`), as
//! skopeo, podman, umoci and crane read it: written whole or not at all, and read back for
//! the digest of its image.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use oci_spec::image::{
    ANNOTATION_REF_NAME, ImageIndex, ImageIndexBuilder, MediaType, OciLayoutBuilder,
};

use super::oci::{Image, OciError, canonical_json};

const OCI_LAYOUT_FILE: &str = "oci-layout";
const INDEX_FILE: &str = "index.json";
const LAYOUT_VERSION: &str = "1.0.0";

/// Why a layout could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} exists and is not an OCI image layout; give --output a new or empty directory, or an earlier image's",
        path.display()
    )]
    NotALayout { path: PathBuf },
    #[error("{}: no index.json, so not an OCI image layout", path.display())]
    NoIndex { path: PathBuf },
    #[error("{}: not an OCI image index: {source}", path.display())]
    Index {
        path: PathBuf,
        source: oci_spec::OciSpecError,
    },
    #[error("{}: the layout holds {count} images; pin one by its digest with --image-digest", path.display())]
    NotOneImage { path: PathBuf, count: usize },
    #[error(transparent)]
    Oci(#[from] OciError),
    #[error("cannot build the layout's {what}: {source}")]
    Spec {
        what: &'static str,
        source: oci_spec::OciSpecError,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LayoutError + '_ {
    move |source| LayoutError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `image` as the only image of the layout `dir`, its manifest annotated with the
/// reference name `tag`. The layout is made in a sibling directory and renamed into place,
/// so a failure leaves `dir` as it was; an earlier layout there is replaced.
pub fn write(dir: &Path, image: &Image, tag: &str) -> Result<(), LayoutError> {
    if dir.exists() && !is_layout(dir) && !is_empty_dir(dir) {
        return Err(LayoutError::NotALayout {
            path: dir.to_owned(),
        });
    }
    let parent = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".harness-image-")
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    write_contents(staging.path(), image, tag)?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, dir).map_err(io(dir))?;
    Ok(())
}

fn write_contents(dir: &Path, image: &Image, tag: &str) -> Result<(), LayoutError> {
    let spec = |what| move |source| LayoutError::Spec { what, source };
    let blobs = dir.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs).map_err(io(&blobs))?;
    for blob in image.blobs() {
        let path = blobs.join(blob.hex());
        std::fs::write(&path, &blob.bytes).map_err(io(&path))?;
    }
    let layout = OciLayoutBuilder::default()
        .image_layout_version(LAYOUT_VERSION)
        .build()
        .map_err(spec("oci-layout"))?;
    let mut manifest = image.manifest.descriptor();
    manifest.set_annotations(Some(HashMap::from([(
        ANNOTATION_REF_NAME.to_owned(),
        tag.to_owned(),
    )])));
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![manifest])
        .build()
        .map_err(spec("index"))?;
    for (name, bytes) in [
        (OCI_LAYOUT_FILE, canonical_json(&layout, "oci-layout")?),
        (INDEX_FILE, canonical_json(&index, "index")?),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(io(&path))?;
    }
    Ok(())
}

fn is_layout(dir: &Path) -> bool {
    dir.join(OCI_LAYOUT_FILE).is_file()
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none())
}

/// The manifest digest (`sha256:HEX`) of the one image in the layout `dir`.
pub fn manifest_digest(dir: &Path) -> Result<String, LayoutError> {
    let path = dir.join(INDEX_FILE);
    if !path.is_file() {
        return Err(LayoutError::NoIndex {
            path: dir.to_owned(),
        });
    }
    let index = ImageIndex::from_file(&path).map_err(|source| LayoutError::Index {
        path: path.clone(),
        source,
    })?;
    match index.manifests().as_slice() {
        [manifest] => Ok(manifest.digest().to_string()),
        manifests => Err(LayoutError::NotOneImage {
            path,
            count: manifests.len(),
        }),
    }
}
