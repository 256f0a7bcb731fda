//! `harness new NAME`: a new service project (see [`crate::scaffold`]). Errors exit 2
//! and write nothing.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::scaffold::{self, ScaffoldError, Service, Source, Wires};

use super::NewArgs;

pub fn run(args: NewArgs) -> ExitCode {
    match create(&args) {
        Ok((service, dir)) => {
            println!("{}", next_steps(&service, &dir));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(super::EXIT_USAGE)
        }
    }
}

/// Renders and writes the project; returns the service and its directory.
fn create(args: &NewArgs) -> Result<(Service, PathBuf), ScaffoldError> {
    let wires = Wires {
        http: args.http,
        grpc: args.grpc,
        postgres: args.postgres,
        redis: args.redis,
        nats: args.nats,
        schedule: args.schedule,
    };
    let service = Service::new(&args.name, wires)?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    scaffold::write::check_target(&dir)?;
    let source = Source::choose(args.harness_path.as_deref())?;
    let files = scaffold::render(&service, &source)?;
    scaffold::write_project(&dir, &files)?;
    Ok((service, dir))
}

/// What to type next.
fn next_steps(service: &Service, dir: &std::path::Path) -> String {
    let mut text = format!(
        "Created {} ({}) in {}. Next:\n  cd {} && cargo run -- {}\n",
        service.name,
        service.wires.summary(),
        dir.display(),
        dir.display(),
        service.local_config(),
    );
    if service.wires.http {
        text.push_str("  curl http://127.0.0.1:8080/\n");
    }
    text.push_str("README.md there has the check, image and kube-gen commands.");
    text
}
