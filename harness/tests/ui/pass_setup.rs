// Compiles; the generated `main` is referenced, not run (it would need a config file).
mod service {
    include!("common.rs");

    #[harness::main]
    async fn setup(_config: Configuration, _wires: WiresIn) -> anyhow::Result<WiresOut> {
        Ok(WiresOut {})
    }

    pub fn entry() -> fn() -> std::process::ExitCode {
        main
    }
}

fn main() {
    let _ = service::entry();
}
