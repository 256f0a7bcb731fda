fn main() -> Result<(), Box<dyn std::error::Error>> {
    harness_build::Builder::new()
        .service_generator(
            tonic_prost_build::configure()
                .build_client(false)
                .service_generator(),
        )
        .compile("proto/scotty.proto")?;
    Ok(())
}
