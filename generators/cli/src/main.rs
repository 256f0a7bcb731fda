//! `harness`: check a service's configuration, generate its manifests, export the protos.

// Compiling protos and building descriptor pools is mostly allocation: a thousand services
// take about half the CPU time with mimalloc than with glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    harness_cli::main()
}
