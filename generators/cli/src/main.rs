//! `harness`: check a service's configuration, generate its manifests, export the protos.

// Compiling protos and building descriptor pools is mostly allocation: on a thousand
// services, glibc's malloc took half again the CPU time of a faster allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    harness_cli::main()
}
