include!("common.rs");

#[harness::main(grace = 3)]
async fn setup(_config: Configuration, _wires: WiresIn) -> anyhow::Result<WiresOut> {
    Ok(WiresOut {})
}
