//! `harness`: check a service's configuration, generate its manifests, export the protos.

fn main() -> std::process::ExitCode {
    harness_cli::main()
}
