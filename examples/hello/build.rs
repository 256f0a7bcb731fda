fn main() -> Result<(), Box<dyn std::error::Error>> {
    harness_build::compile("proto/hello.proto")?;
    Ok(())
}
