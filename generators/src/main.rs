//! `harness`: check a service's configuration, generate its manifests, export the protos.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
