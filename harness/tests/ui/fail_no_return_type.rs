include!("common.rs");

#[harness::main]
async fn setup(_config: Configuration, _wires: WiresIn) {}
