//! One image layer, reproducibly: a tar stream with its entries sorted by path, every
//! parent directory listed, owner root, fixed modes and one fixed modification time,
//! gzipped with no time stamp or file name in the gzip header. The same files make the
//! same bytes, so the same digests.

use std::collections::BTreeMap;
use std::io::Write;

use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};
use tar::{EntryType, Header};

use super::rootfs::ImageFile;

const DIRECTORY: u32 = 0o755;
/// gzip's "unknown" operating system, whatever the build machine.
const GZIP_OS_UNKNOWN: u8 = 255;

/// A compressed layer and what the image configuration names it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The `tar+gzip` blob.
    pub compressed: Vec<u8>,
    /// `sha256:HEX` of the uncompressed tar stream (the configuration's `rootfs.diff_ids`).
    pub diff_id: String,
}

enum Entry<'a> {
    Directory(u32),
    File(&'a ImageFile),
}

/// The layer of `files` and the extra directories `dirs` (path, mode), every entry's
/// time `mtime` (seconds since the epoch).
pub fn build(files: &[ImageFile], dirs: &[(&str, u32)], mtime: u64) -> std::io::Result<Layer> {
    let mut entries: BTreeMap<String, Entry<'_>> = BTreeMap::new();
    for (dir, mode) in dirs {
        add_parents(&mut entries, dir);
        entries.insert(relative(dir), Entry::Directory(*mode));
    }
    for file in files {
        add_parents(&mut entries, &file.path);
        entries.insert(relative(&file.path), Entry::File(file));
    }
    let mut tar = tar::Builder::new(Vec::new());
    for (path, entry) in &entries {
        let mut header = Header::new_gnu();
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        match entry {
            Entry::Directory(mode) => {
                header.set_entry_type(EntryType::Directory);
                header.set_mode(*mode);
                header.set_size(0);
                tar.append_data(&mut header, format!("{path}/"), std::io::empty())?;
            }
            Entry::File(file) => {
                header.set_entry_type(EntryType::Regular);
                header.set_mode(file.mode);
                header.set_size(file.contents.len() as u64);
                tar.append_data(&mut header, path, file.contents.as_slice())?;
            }
        }
    }
    let uncompressed = tar.into_inner()?;
    let mut gzip = GzBuilder::new()
        .mtime(0)
        .operating_system(GZIP_OS_UNKNOWN)
        .write(Vec::new(), Compression::default());
    gzip.write_all(&uncompressed)?;
    Ok(Layer {
        compressed: gzip.finish()?,
        diff_id: sha256_digest(&uncompressed),
    })
}

/// `sha256:HEX` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The path in the tar stream: no leading slash, as image layers write it.
fn relative(path: &str) -> String {
    path.trim_start_matches('/')
        .trim_end_matches('/')
        .to_owned()
}

/// Every ancestor directory of `path` as an entry of its own, so that no runtime has to
/// invent one (with whatever mode and time it likes).
fn add_parents(entries: &mut BTreeMap<String, Entry<'_>>, path: &str) {
    let path = relative(path);
    let mut end = 0;
    while let Some(slash) = path[end..].find('/') {
        end += slash;
        entries
            .entry(path[..end].to_owned())
            .or_insert(Entry::Directory(DIRECTORY));
        end += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn file(path: &str, contents: &str, mode: u32) -> ImageFile {
        ImageFile {
            path: path.to_owned(),
            contents: contents.as_bytes().to_vec(),
            mode,
        }
    }

    /// (path, type, mode, uid, gid, mtime) of every entry of a layer.
    fn listing(layer: &Layer) -> Vec<(String, EntryType, u32, u64, u64, u64)> {
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(layer.compressed.as_slice())
            .read_to_end(&mut tar)
            .unwrap();
        assert_eq!(sha256_digest(&tar), layer.diff_id);
        let mut archive = tar::Archive::new(tar.as_slice());
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let header = entry.header();
                (
                    entry.path().unwrap().to_string_lossy().into_owned(),
                    header.entry_type(),
                    header.mode().unwrap(),
                    header.uid().unwrap(),
                    header.gid().unwrap(),
                    header.mtime().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn entries_are_sorted_with_their_parents_and_fixed_metadata() {
        let files = [
            file("/usr/local/bin/app", "binary", 0o755),
            file("/etc/passwd", "root", 0o644),
        ];
        let layer = build(&files, &[("/tmp", 0o1777)], 7).unwrap();
        let entries = listing(&layer);
        let paths: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            paths,
            [
                "etc/",
                "etc/passwd",
                "tmp/",
                "usr/",
                "usr/local/",
                "usr/local/bin/",
                "usr/local/bin/app"
            ]
        );
        for (path, kind, mode, uid, gid, mtime) in &entries {
            assert_eq!((*uid, *gid, *mtime), (0, 0, 7), "{path}");
            let expected = match path.as_str() {
                "tmp/" => 0o1777,
                "etc/passwd" => 0o644,
                _ => 0o755,
            };
            assert_eq!(*mode, expected, "{path}");
            assert_eq!(kind.is_dir(), path.ends_with('/'), "{path}");
        }
    }

    #[test]
    fn the_same_files_in_any_order_make_the_same_bytes() {
        let a = file("/a/x", "1", 0o644);
        let b = file("/b/y", "2", 0o644);
        let first = build(&[a.clone(), b.clone()], &[], 0).unwrap();
        let second = build(&[b, a], &[], 0).unwrap();
        assert_eq!(first, second);
        let changed = build(&[file("/a/x", "1", 0o600)], &[], 0).unwrap();
        assert_ne!(changed.diff_id, first.diff_id);
    }

    #[test]
    fn the_gzip_header_has_no_time_stamp() {
        let layer = build(&[file("/a", "1", 0o644)], &[], 0).unwrap();
        // RFC 1952: ID1 ID2 CM FLG MTIME(4) XFL OS.
        assert_eq!(&layer.compressed[..2], &[0x1f, 0x8b]);
        assert_eq!(layer.compressed[3], 0, "no name, comment or extra field");
        assert_eq!(&layer.compressed[4..8], &[0, 0, 0, 0]);
        assert_eq!(layer.compressed[9], GZIP_OS_UNKNOWN);
    }
}
