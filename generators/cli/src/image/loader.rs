//! Where the system's dynamic loader looks for shared libraries, in its order: the
//! directories of `/etc/ld.so.conf` (what `ldconfig` puts in `/etc/ld.so.cache`), then the
//! loader's built-in directories.

use std::path::{Path, PathBuf};

/// The loader's configuration file, as `ldconfig` reads it.
pub const LD_SO_CONF: &str = "/etc/ld.so.conf";

/// Searched after the configured directories, as glibc's loader does when the cache has
/// no entry: the multilib directories of 64-bit systems, then the classic ones.
const DEFAULT_DIRS_64: &[&str] = &["/lib64", "/usr/lib64", "/lib", "/usr/lib"];
const DEFAULT_DIRS_32: &[&str] = &["/lib", "/usr/lib"];

/// `include` nesting deeper than this is taken for a loop.
const MAX_INCLUDE_DEPTH: usize = 8;

/// The system-wide library directories, in search order, without duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemDirs {
    pub configured: Vec<PathBuf>,
}

impl SystemDirs {
    /// The directories of `conf` (normally [`LD_SO_CONF`]); none when it is absent, as on a
    /// system without `ldconfig`.
    pub fn read(conf: &Path) -> Self {
        let mut configured = Vec::new();
        read_conf(conf, 0, &mut configured);
        SystemDirs { configured }
    }

    /// The configured directories, then the loader's defaults for the ELF class.
    pub fn search_order(&self, is_64: bool) -> Vec<PathBuf> {
        let defaults = if is_64 {
            DEFAULT_DIRS_64
        } else {
            DEFAULT_DIRS_32
        };
        let mut dirs = self.configured.clone();
        for dir in defaults.iter().map(PathBuf::from) {
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        dirs
    }
}

/// Adds the directories of one configuration file: one per line, `#` comments, and
/// `include GLOB` lines (relative to the file's directory) read in sorted order.
fn read_conf(conf: &Path, depth: usize, dirs: &mut Vec<PathBuf>) {
    let Ok(text) = std::fs::read_to_string(conf) else {
        return;
    };
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() || line.starts_with("hwcap ") {
            continue;
        }
        if let Some(pattern) = line.strip_prefix("include ") {
            if depth < MAX_INCLUDE_DEPTH {
                for included in included_files(conf, pattern.trim()) {
                    read_conf(&included, depth + 1, dirs);
                }
            }
            continue;
        }
        // Old ldconfig syntax: `DIR=TYPE`; the type does not change where to look.
        let dir = PathBuf::from(line.split('=').next().unwrap_or_default().trim());
        if dir.is_absolute() && !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
}

fn included_files(conf: &Path, pattern: &str) -> Vec<PathBuf> {
    let pattern = match conf.parent() {
        Some(parent) if !pattern.starts_with('/') => parent.join(pattern),
        _ => PathBuf::from(pattern),
    };
    let Ok(paths) = glob::glob(&pattern.to_string_lossy()) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_directories_includes_and_comments_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let conf_d = dir.path().join("ld.so.conf.d");
        std::fs::create_dir(&conf_d).unwrap();
        std::fs::write(conf_d.join("b.conf"), "/opt/b/lib\n").unwrap();
        std::fs::write(conf_d.join("a.conf"), "# first\n/opt/a/lib # trailing\n").unwrap();
        std::fs::write(conf_d.join("ignored.txt"), "/opt/never\n").unwrap();
        let conf = dir.path().join("ld.so.conf");
        std::fs::write(
            &conf,
            "/usr/local/lib\ninclude ld.so.conf.d/*.conf\n/usr/lib=libc6\nrelative/dir\n",
        )
        .unwrap();
        let dirs = SystemDirs::read(&conf);
        let expected: Vec<PathBuf> = ["/usr/local/lib", "/opt/a/lib", "/opt/b/lib", "/usr/lib"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(dirs.configured, expected);
        let order = dirs.search_order(true);
        assert_eq!(order[..4], expected[..]);
        assert_eq!(
            order[4..],
            ["/lib64", "/usr/lib64", "/lib"].map(PathBuf::from)[..]
        );
    }

    #[test]
    fn an_include_loop_ends() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("ld.so.conf");
        std::fs::write(&conf, "/opt/x\ninclude ld.so.conf\n").unwrap();
        assert_eq!(
            SystemDirs::read(&conf).configured,
            [PathBuf::from("/opt/x")]
        );
    }

    #[test]
    fn a_missing_configuration_leaves_the_defaults() {
        let dirs = SystemDirs::read(Path::new("/nonexistent/ld.so.conf"));
        assert!(dirs.configured.is_empty());
        assert_eq!(
            dirs.search_order(false),
            ["/lib", "/usr/lib"].map(PathBuf::from)
        );
    }
}
