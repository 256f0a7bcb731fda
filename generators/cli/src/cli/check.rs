//! `harness check`: the verdict (`OK`, `Parse error: …`, `Validation error: …`) goes to
//! stdout as in the Python harness; errors that are not about the configuration
//! (unreadable files, a proto that does not compile) go to stderr with exit status 2.

use std::io::Write;
use std::process::ExitCode;

use harness_core::check::{CheckError, check_files};

use super::CheckArgs;

pub fn run(args: CheckArgs) -> ExitCode {
    let result = check_files(
        &args.proto.proto,
        &args.proto.includes,
        &args.config,
        args.merge.as_deref(),
        args.patch.as_deref(),
    );
    match result {
        Ok(_) => {
            println!("OK");
            ExitCode::SUCCESS
        }
        Err(err) => report(&err),
    }
}

/// Prints a failed check where it belongs and returns its exit status.
pub fn report(err: &CheckError) -> ExitCode {
    let code = err.exit_code();
    let text = err.report();
    // A closed pipe is no reason to panic; the exit status still tells.
    let _ = if code == 1 {
        std::io::stdout().write_all(text.as_bytes())
    } else {
        std::io::stderr().write_all(text.as_bytes())
    };
    ExitCode::from(code)
}
