fn main() -> Result<(), Box<dyn std::error::Error>> {
    harness_generators::codegen::Builder::new().compile("proto/chekov.proto")?;
    Ok(())
}
