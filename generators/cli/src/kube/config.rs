//! The ConfigMap holding the configuration and a Secret for each secret file.
//!
//! Names end with the hash of the content, so a changed file is a new object and the
//! Deployment that mounts it rolls; the objects are immutable, which also spares the
//! API server from watching them.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};

use super::context::Context;

/// The key of the configuration file in the ConfigMap and in each Secret.
pub const CONFIG_KEY: &str = "config.yaml";

pub fn config_map(ctx: &Context<'_>) -> ConfigMap {
    ConfigMap {
        metadata: ctx.metadata(ctx.config_map_name()),
        data: Some(BTreeMap::from([(
            CONFIG_KEY.to_owned(),
            ctx.config_text.to_owned(),
        )])),
        immutable: Some(true),
        ..Default::default()
    }
}

/// The Secrets of `--secret-merge` and `--secret-patch`, in that order.
pub fn secrets(ctx: &Context<'_>) -> Vec<Secret> {
    let secret = |name: String, text: &str| Secret {
        metadata: ctx.metadata(name),
        type_: Some("Opaque".to_owned()),
        data: Some(BTreeMap::from([(
            CONFIG_KEY.to_owned(),
            ByteString(text.as_bytes().to_vec()),
        )])),
        immutable: Some(true),
        ..Default::default()
    };
    let mut secrets = Vec::new();
    if let (Some((text, _)), Some(name)) = (&ctx.merge, ctx.merge_secret_name()) {
        secrets.push(secret(name, text));
    }
    if let (Some((text, _)), Some(name)) = (&ctx.patch, ctx.patch_secret_name()) {
        secrets.push(secret(name, text));
    }
    secrets
}
