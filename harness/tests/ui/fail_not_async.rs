include!("common.rs");

#[harness::main]
fn setup(_config: Configuration, _wires: WiresIn) -> anyhow::Result<WiresOut> {
    Ok(WiresOut {})
}
