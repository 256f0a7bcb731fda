include!("common.rs");

pub struct OtherWires {}

#[harness::main]
async fn setup(_config: Configuration, _wires: OtherWires) -> anyhow::Result<WiresOut> {
    Ok(WiresOut {})
}
