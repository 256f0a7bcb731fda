include!("common.rs");

#[harness::main]
async fn setup(_config: String, _wires: WiresIn) -> anyhow::Result<WiresOut> {
    Ok(WiresOut {})
}
