use std::process::ExitCode;

use super::ProtoPathArgs;

pub fn run(args: ProtoPathArgs) -> ExitCode {
    let dir = match args.dir {
        Some(dir) => dir,
        None => std::env::temp_dir().join(format!("harness-protos-{}", env!("CARGO_PKG_VERSION"))),
    };
    match harness_core::protos::write_bundled(&dir) {
        Ok(()) => {
            println!("{}", dir.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: cannot write protos to {}: {err}", dir.display());
            ExitCode::from(super::EXIT_USAGE)
        }
    }
}
