//! Pushing an image to a registry over the OCI distribution API with `oci-client`: the
//! blobs the registry lacks, then the manifest's exact bytes, so the registry's digest is
//! the layout's.

use std::net::IpAddr;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use super::oci::Image;

/// The registry credentials, when the registry needs any.
pub const USERNAME_VAR: &str = "HARNESS_REGISTRY_USERNAME";
pub const PASSWORD_VAR: &str = "HARNESS_REGISTRY_PASSWORD";

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("cannot start the push: {0}")]
    Runtime(std::io::Error),
    #[error("cannot push {what} to {reference}: {source}")]
    Registry {
        what: String,
        reference: String,
        source: oci_client::errors::OciDistributionError,
    },
}

/// Pushes `image` to `reference` (REGISTRY/REPOSITORY:TAG) and returns the manifest's URL.
///
/// A registry on a loopback address is spoken to over plain HTTP, as Docker and podman
/// do for `localhost`; every other one over HTTPS, verified with the system's roots.
pub fn push(image: &Image, reference: &Reference) -> Result<String, PushError> {
    crate::install_tls_provider();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(PushError::Runtime)?;
    runtime.block_on(push_blobs_then_manifest(image, reference))
}

async fn push_blobs_then_manifest(
    image: &Image,
    reference: &Reference,
) -> Result<String, PushError> {
    let registry = reference.resolve_registry().to_owned();
    let protocol = if is_loopback(&registry) {
        ClientProtocol::HttpsExcept(vec![registry.clone()])
    } else {
        ClientProtocol::Https
    };
    let client = Client::new(ClientConfig {
        protocol,
        ..Default::default()
    });
    client.store_auth_if_needed(&registry, &credentials()).await;
    let failed = |what: String| {
        let reference = reference.whole();
        move |source| PushError::Registry {
            what,
            reference,
            source,
        }
    };
    for blob in image.layers.iter().chain([&image.config]) {
        let what = format!("blob {}", blob.digest);
        let present = client
            .blob_exists(reference, &blob.digest)
            .await
            .map_err(failed(what.clone()))?;
        if !present {
            client
                .push_blob(reference, blob.bytes.clone(), &blob.digest)
                .await
                .map_err(failed(what))?;
        }
    }
    let content_type = image
        .manifest
        .media_type
        .to_string()
        .parse()
        .expect("a media type is a valid header value");
    client
        .push_manifest_raw(reference, image.manifest.bytes.clone(), content_type)
        .await
        .map_err(failed(format!("manifest {}", image.manifest.digest)))
}

/// Basic credentials from the environment, or none.
fn credentials() -> RegistryAuth {
    match (std::env::var(USERNAME_VAR), std::env::var(PASSWORD_VAR)) {
        (Ok(user), Ok(password)) => RegistryAuth::Basic(user, password),
        _ => RegistryAuth::Anonymous,
    }
}

/// `localhost[:PORT]`, `127.x.y.z[:PORT]` or `[::1][:PORT]`.
fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        registry.split(':').next().unwrap_or_default()
    };
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_are_recognised() {
        for registry in [
            "localhost:5000",
            "127.0.0.1:41234",
            "127.1.2.3",
            "[::1]:5000",
            "localhost",
        ] {
            assert!(is_loopback(registry), "{registry}");
        }
        for registry in [
            "registry.acme.dev",
            "10.0.0.1:5000",
            "localhost.acme.dev",
            "[2001:db8::1]:5000",
        ] {
            assert!(!is_loopback(registry), "{registry}");
        }
    }
}
