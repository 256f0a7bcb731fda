//! What an ELF executable needs from the file system to start: its interpreter (the
//! dynamic loader) and the shared libraries of its `DT_NEEDED` entries, transitively,
//! found where the loader would find them. A static executable needs nothing.

use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use goblin::elf::Elf;

use super::loader::SystemDirs;

/// Why the run-time files of an executable could not be found.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not an ELF file: {source}", path.display())]
    Parse {
        path: PathBuf,
        source: goblin::error::Error,
    },
    #[error(
        "{library}, which {} needs, is in none of {}",
        needed_by.display(),
        searched.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NotFound {
        library: String,
        needed_by: PathBuf,
        searched: Vec<PathBuf>,
    },
}

/// The machine an ELF file is built for: what a library must match to be loaded with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    pub e_machine: u16,
    pub is_64: bool,
}

/// An executable and the files it needs at run time, at the paths where the loader
/// finds them (the same paths in the image).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeFiles {
    pub machine: Machine,
    /// `PT_INTERP`; `None` for a static executable.
    pub interpreter: Option<PathBuf>,
    /// Every shared library, transitively, sorted.
    pub libraries: BTreeSet<PathBuf>,
}

/// One parsed ELF file: what it is built for and what it asks the loader for.
struct Object {
    machine: Machine,
    interpreter: Option<String>,
    needed: Vec<String>,
    /// `DT_RUNPATH`, or `DT_RPATH` when there is no runpath (the loader ignores RPATH then).
    search: Vec<PathBuf>,
}

impl Object {
    fn read(path: &Path) -> Result<Self, ElfError> {
        let bytes = std::fs::read(path).map_err(|source| ElfError::Read {
            path: path.to_owned(),
            source,
        })?;
        let elf = Elf::parse(&bytes).map_err(|source| ElfError::Parse {
            path: path.to_owned(),
            source,
        })?;
        let origin = path.parent().unwrap_or(Path::new("/"));
        let paths = if elf.runpaths.is_empty() {
            &elf.rpaths
        } else {
            &elf.runpaths
        };
        let search = paths
            .iter()
            .flat_map(|list| list.split(':'))
            .filter(|dir| !dir.is_empty())
            .map(|dir| PathBuf::from(dir.replace("$ORIGIN", &origin.to_string_lossy())))
            .collect();
        Ok(Object {
            machine: Machine {
                e_machine: elf.header.e_machine,
                is_64: elf.is_64,
            },
            interpreter: elf.interpreter.map(str::to_owned),
            needed: elf.libraries.iter().map(|l| (*l).to_owned()).collect(),
            search,
        })
    }
}

/// The interpreter and libraries `executable` needs, found in its own runpath and then in
/// `system`'s directories, as the loader does.
pub fn runtime_files(executable: &Path, system: &SystemDirs) -> Result<RuntimeFiles, ElfError> {
    let root = Object::read(executable)?;
    let system_dirs = system.search_order(root.machine.is_64);
    // libc names the loader in DT_NEEDED; the loader is already mapped under that name.
    let interpreter_name = root
        .interpreter
        .as_deref()
        .and_then(|path| Path::new(path).file_name())
        .map(|name| name.to_string_lossy().into_owned());
    let mut libraries = BTreeSet::new();
    let mut queue = VecDeque::from([(executable.to_owned(), root.needed.clone(), root.search)]);
    while let Some((needed_by, needed, own_dirs)) = queue.pop_front() {
        for name in needed {
            if interpreter_name.as_deref() == Some(name.as_str()) {
                continue;
            }
            let dirs: Vec<PathBuf> = own_dirs.iter().chain(&system_dirs).cloned().collect();
            let found =
                find_library(&name, &dirs, root.machine).ok_or_else(|| ElfError::NotFound {
                    library: name.clone(),
                    needed_by: needed_by.clone(),
                    searched: dirs.clone(),
                })?;
            if libraries.insert(found.clone()) {
                let library = Object::read(&found)?;
                queue.push_back((found, library.needed, library.search));
            }
        }
    }
    Ok(RuntimeFiles {
        machine: root.machine,
        interpreter: root.interpreter.map(PathBuf::from),
        libraries,
    })
}

/// The first file named `name` in `dirs` built for `machine` (the loader skips libraries
/// of another class or architecture). A name with a slash is a path already.
fn find_library(name: &str, dirs: &[PathBuf], machine: Machine) -> Option<PathBuf> {
    if name.contains('/') {
        return Some(PathBuf::from(name));
    }
    dirs.iter().map(|dir| dir.join(name)).find(|candidate| {
        candidate.is_file() && Object::read(candidate).is_ok_and(|object| object.machine == machine)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::loader::LD_SO_CONF;

    /// This test's own executable: a dynamically linked binary of this machine.
    fn this_executable() -> PathBuf {
        std::env::current_exe().unwrap()
    }

    #[test]
    fn finds_the_loader_and_libc_of_a_dynamic_executable() {
        let files =
            runtime_files(&this_executable(), &SystemDirs::read(Path::new(LD_SO_CONF))).unwrap();
        let interpreter = files
            .interpreter
            .expect("a dynamic executable has a loader");
        assert!(interpreter.is_absolute() && interpreter.exists());
        assert!(
            files
                .libraries
                .iter()
                .any(|l| l.file_name().is_some_and(|n| n == "libc.so.6")),
            "{:?}",
            files.libraries
        );
        assert!(files.libraries.iter().all(|l| l.is_file()));
        // libc needs the loader by name: it is the interpreter, not a second copy.
        assert!(
            !files
                .libraries
                .iter()
                .any(|l| l.file_name() == interpreter.file_name()),
            "{:?}",
            files.libraries
        );
    }

    #[test]
    fn a_library_is_found_only_in_the_searched_directories_and_for_the_machine() {
        let machine = Object::read(&this_executable()).unwrap().machine;
        let dirs = [PathBuf::from("/nonexistent")];
        assert_eq!(find_library("libc.so.6", &dirs, machine), None);
        // A library built for another machine is skipped, as the loader skips it.
        let other = Machine {
            e_machine: machine.e_machine.wrapping_add(1),
            ..machine
        };
        let system = SystemDirs::read(Path::new(LD_SO_CONF)).search_order(machine.is_64);
        assert_eq!(find_library("libc.so.6", &system, other), None);
    }

    #[test]
    fn a_file_that_is_not_elf_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("script");
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        let err = runtime_files(&path, &SystemDirs::read(Path::new(LD_SO_CONF))).unwrap_err();
        assert!(matches!(err, ElfError::Parse { .. }), "{err}");
        assert!(err.to_string().contains("script"), "{err}");
    }
}
