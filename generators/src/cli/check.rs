use std::process::ExitCode;

use super::CheckArgs;

pub fn run(_args: CheckArgs) -> ExitCode {
    eprintln!("check: not implemented yet");
    ExitCode::from(super::EXIT_USAGE)
}
