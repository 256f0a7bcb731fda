include!("common.rs");

#[harness::main]
async fn setup(_config: Configuration) -> anyhow::Result<WiresOut> {
    Ok(WiresOut {})
}
