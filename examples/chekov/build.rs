fn main() -> Result<(), Box<dyn std::error::Error>> {
    harness_build::compile("proto/chekov.proto")?;
    Ok(())
}
