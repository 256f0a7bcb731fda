fn main() -> Result<(), Box<dyn std::error::Error>> {
    harness_build::Builder::new()
        .service_generator(
            tonic_prost_build::configure()
                .build_server(false)
                .service_generator(),
        )
        // scotty's API, for its client.
        .proto("../scotty/proto/scotty.proto")
        .compile("proto/kirk.proto")?;
    Ok(())
}
