//! Compiles the bundled protos once, at build time, into an encoded descriptor set:
//! a service's proto is then checked against descriptors instead of re-parsing
//! `harness/*.proto`, `validate/validate.proto` and the well-known types every run.

use std::path::PathBuf;

use prost::Message as _;

const WELL_KNOWN: &[&str] = &[
    "google/protobuf/any.proto",
    "google/protobuf/api.proto",
    "google/protobuf/descriptor.proto",
    "google/protobuf/duration.proto",
    "google/protobuf/empty.proto",
    "google/protobuf/field_mask.proto",
    "google/protobuf/source_context.proto",
    "google/protobuf/struct.proto",
    "google/protobuf/timestamp.proto",
    "google/protobuf/type.proto",
    "google/protobuf/wrappers.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../proto");
    println!("cargo:rerun-if-changed={}", protos.display());

    let mut bundled = Vec::new();
    for dir in ["harness", "validate"] {
        for entry in std::fs::read_dir(protos.join(dir))? {
            let path = entry?.path();
            if path.extension().is_some_and(|ext| ext == "proto") {
                println!("cargo:rerun-if-changed={}", path.display());
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .ok_or("file name")?;
                bundled.push(format!("{dir}/{name}"));
            }
        }
    }
    bundled.sort();

    let mut compiler = protox::Compiler::new([&protos])?;
    compiler.include_imports(true);
    compiler.open_files(
        WELL_KNOWN
            .iter()
            .copied()
            .chain(bundled.iter().map(String::as_str)),
    )?;
    // The index gives each file's byte range in the set: the entries of a file and its
    // imports, concatenated, are again a valid set.
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let set = compiler.encode_file_descriptor_set();
    let mut index = String::from("&[\n");
    let mut rest = set.as_slice();
    while !rest.is_empty() {
        let start = set.len() - rest.len();
        let (tag, wire_type) = prost::encoding::decode_key(&mut rest)?;
        if tag != 1 || wire_type != prost::encoding::WireType::LengthDelimited {
            return Err("unexpected field in the descriptor set".into());
        }
        let len = usize::try_from(prost::encoding::decode_varint(&mut rest)?)?;
        let file = prost_types::FileDescriptorProto::decode(&rest[..len])?;
        rest = &rest[len..];
        index.push_str(&format!(
            "    BundledFile {{ name: {:?}, imports: &{:?}, entry: {start}..{} }},\n",
            file.name(),
            file.dependency,
            set.len() - rest.len()
        ));
    }
    index.push_str("]\n");
    std::fs::write(out.join("bundled.binpb"), set)?;
    std::fs::write(out.join("bundled_index.rs"), index)?;
    Ok(())
}
