use std::process::ExitCode;

use super::KubeGenArgs;

pub fn run(_args: KubeGenArgs) -> ExitCode {
    eprintln!("kube-gen: not implemented yet");
    ExitCode::from(super::EXIT_USAGE)
}
