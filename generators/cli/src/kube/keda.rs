//! KEDA objects (keda.sh/v1alpha1), typed for the fields kube-gen sets: the ScaledObject
//! of a Deployment whose consumer wires give it event triggers, and the
//! TriggerAuthentication a trigger reads its credentials through (from a Secret, never
//! inline).

use std::collections::BTreeMap;

use serde::Serialize;

use super::istio::{Kind, Resource};

/// KEDA's API version, the same since KEDA 2.0.
pub const API_VERSION: &str = "keda.sh/v1alpha1";

pub type ScaledObject = Resource<ScaledObjectSpec>;
pub type TriggerAuthentication = Resource<TriggerAuthenticationSpec>;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaledObjectSpec {
    pub scale_target_ref: ScaleTarget,
    pub min_replica_count: u32,
    pub max_replica_count: u32,
    pub triggers: Vec<Trigger>,
}

impl Kind for ScaledObjectSpec {
    const KIND: &'static str = "ScaledObject";
    const API_VERSION: &'static str = API_VERSION;
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleTarget {
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

/// One scaler of a ScaledObject; its metadata is the scaler's own parameters, all strings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    #[serde(rename = "type")]
    pub type_: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_type: Option<String>,
    pub metadata: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_ref: Option<AuthenticationRef>,
}

impl Trigger {
    /// A trigger of scaler `type_` named `name`, with `metadata`.
    pub fn new(type_: &str, name: String, metadata: &[(&str, String)]) -> Self {
        Trigger {
            type_: type_.to_owned(),
            name,
            metric_type: None,
            metadata: metadata
                .iter()
                .map(|(key, value)| ((*key).to_owned(), value.clone()))
                .collect(),
            authentication_ref: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthenticationRef {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerAuthenticationSpec {
    pub secret_target_ref: Vec<SecretTargetRef>,
}

impl Kind for TriggerAuthenticationSpec {
    const KIND: &'static str = "TriggerAuthentication";
    const API_VERSION: &'static str = API_VERSION;
}

/// A scaler parameter read from a key of a Secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecretTargetRef {
    pub parameter: String,
    pub name: String,
    pub key: String,
}
