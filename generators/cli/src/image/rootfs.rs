//! The files of a service's image: the base layer (the loader and libraries the binary
//! needs, CA certificates, the user database of the `nonroot` user) and the binary's own.

use std::path::{Path, PathBuf};

use super::elf::RuntimeFiles;
use crate::kube::deployment::RUN_AS_USER;

/// Where the service binary goes; the image's entrypoint is `BINARY_DIR/NAME`.
pub const BINARY_DIR: &str = "/usr/local/bin";
/// The CA bundle: Debian's path, which OpenSSL, rustls-native-certs and Go also look at.
pub const CA_CERTIFICATES: &str = "/etc/ssl/certs/ca-certificates.crt";

const EXECUTABLE: u32 = 0o755;
const READ_ONLY: u32 = 0o644;
/// World-writable with the sticky bit, as /tmp always is.
pub const TMP: (&str, u32) = ("/tmp", 0o1777);

/// A regular file of the image, at an absolute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFile {
    pub path: String,
    pub contents: Vec<u8>,
    pub mode: u32,
}

/// Why a file of the image could not be read from the build machine.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {} for the image{hint}: {source}", path.display())]
pub struct ReadError {
    path: PathBuf,
    hint: &'static str,
    source: std::io::Error,
}

fn read(path: &Path, hint: &'static str) -> Result<Vec<u8>, ReadError> {
    std::fs::read(path).map_err(|source| ReadError {
        path: path.to_owned(),
        hint,
        source,
    })
}

/// The base layer: the loader and libraries at the paths the loader finds them (read
/// through symbolic links, so each is a regular file), the CA bundle, and /etc/passwd,
/// /etc/group and /etc/nsswitch.conf.
pub fn base_files(runtime: &RuntimeFiles, ca_bundle: &Path) -> Result<Vec<ImageFile>, ReadError> {
    let mut files = Vec::new();
    for path in runtime.interpreter.iter().chain(&runtime.libraries) {
        files.push(ImageFile {
            path: path.to_string_lossy().into_owned(),
            contents: read(path, "")?,
            mode: EXECUTABLE,
        });
    }
    files.push(ImageFile {
        path: CA_CERTIFICATES.to_owned(),
        contents: read(
            ca_bundle,
            " (install Debian's ca-certificates, or give --ca-certificates FILE)",
        )?,
        mode: READ_ONLY,
    });
    files.extend(user_database());
    Ok(files)
}

/// /etc/passwd and /etc/group with `root` and `nonroot` (the Deployment's user and group,
/// 65532, as in distroless images), so tools and libraries that look the user up find it;
/// /etc/nsswitch.conf so that glibc reads them, and /etc/hosts before DNS.
fn user_database() -> [ImageFile; 3] {
    let id = RUN_AS_USER;
    let text = |path: &str, contents: String| ImageFile {
        path: path.to_owned(),
        contents: contents.into_bytes(),
        mode: READ_ONLY,
    };
    [
        text(
            "/etc/passwd",
            format!(
                "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:{id}:{id}:nonroot:/home/nonroot:/sbin/nologin\n"
            ),
        ),
        text("/etc/group", format!("root:x:0:\nnonroot:x:{id}:\n")),
        text(
            "/etc/nsswitch.conf",
            "passwd: files\ngroup: files\nhosts: files dns\n".to_owned(),
        ),
    ]
}

/// The service binary at `BINARY_DIR/NAME`.
pub fn binary_file(name: &str, binary: &Path) -> Result<ImageFile, ReadError> {
    Ok(ImageFile {
        path: format!("{BINARY_DIR}/{name}"),
        contents: read(binary, "")?,
        mode: EXECUTABLE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_database_names_the_deployments_user() {
        let [passwd, group, _] = user_database();
        let passwd = String::from_utf8(passwd.contents).unwrap();
        let nonroot = passwd.lines().find(|l| l.starts_with("nonroot:")).unwrap();
        let fields: Vec<&str> = nonroot.split(':').collect();
        assert_eq!(fields.len(), 7, "{nonroot}");
        assert_eq!(fields[2], RUN_AS_USER.to_string());
        assert_eq!(fields[3], RUN_AS_USER.to_string());
        let group = String::from_utf8(group.contents).unwrap();
        assert!(
            group.contains(&format!("nonroot:x:{RUN_AS_USER}:")),
            "{group}"
        );
    }

    #[test]
    fn a_missing_ca_bundle_says_how_to_get_one() {
        let runtime = RuntimeFiles {
            machine: super::super::elf::Machine {
                e_machine: 62,
                is_64: true,
            },
            interpreter: None,
            libraries: Default::default(),
        };
        let err = base_files(&runtime, Path::new("/nonexistent/ca.crt")).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("/nonexistent/ca.crt"), "{message}");
        assert!(message.contains("ca-certificates"), "{message}");
    }
}
