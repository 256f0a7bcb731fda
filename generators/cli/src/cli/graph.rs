//! `harness graph SYSTEM` and `harness kube-gen --system SYSTEM`: load the system (every
//! service checked, every connection resolved), then print the graph or the manifests in
//! one write. Problems go to stderr, one or more lines each: exit 1 for a system or
//! configuration that is wrong, 2 for I/O and proto errors.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::system::{Problems, System, manifests, render};

use super::GraphArgs;

pub fn run(args: GraphArgs) -> ExitCode {
    let system = match System::load(&args.system) {
        Ok(system) => system,
        Err(problems) => return fail(&problems),
    };
    warn(system.all_warnings());
    write_stdout(&render::render(&system.graph, args.format), "graph")
}

/// `kube-gen --system`; the policy options apply to every service.
pub fn kube_gen_system(path: &Path, policy: &super::kube_gen::PolicyArgs) -> ExitCode {
    let mut system = match System::load(path) {
        Ok(system) => system,
        Err(problems) => return fail(&problems),
    };
    for member in &mut system.members {
        policy.clone().apply(&mut member.options);
    }
    let stream = match manifests::stream(&system) {
        Ok(stream) => stream,
        Err(problems) => return fail(&problems),
    };
    warn(stream.warnings);
    write_stdout(&stream.yaml, "manifests")
}

fn fail(problems: &Problems) -> ExitCode {
    let _ = std::io::stderr().write_all(problems.report().as_bytes());
    ExitCode::from(problems.exit_code())
}

fn warn(warnings: Vec<String>) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}

/// Writes the whole output at once; a reader that went away (`| head`) is not a failure.
pub(super) fn write_stdout(text: &str, what: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: cannot write the {what}: {err}");
            ExitCode::from(super::EXIT_USAGE)
        }
    }
}
