//! Services: one for INTERNAL and PUBLIC outputs, a headless one for HEADLESS outputs.
//! PRIVATE outputs get none.

use harness_core::spec::Protocol;
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::KubeGenError;
use super::context::{Context, Exposed};
use super::names::{LABEL_MAX, check_dns1035_label};

/// Suffix of the headless Service's name.
pub const HEADLESS_SUFFIX: &str = "headless";

pub fn services(ctx: &Context<'_>) -> Result<Vec<Service>, KubeGenError> {
    let mut services = Vec::new();
    if !ctx.service_outputs.is_empty() {
        services.push(service(
            ctx,
            ctx.full_name.clone(),
            &ctx.service_outputs,
            false,
        ));
    }
    if !ctx.headless_outputs.is_empty() {
        let name = ctx.object_name(&[HEADLESS_SUFFIX]);
        check_dns1035_label(&name).map_err(|reason| KubeGenError::Invalid {
            what: "the headless Service's name".into(),
            value: name.clone(),
            rule: "a DNS-1035 label",
            reason: format!("{reason} (NAME-INSTANCE-headless must fit in {LABEL_MAX})"),
        })?;
        services.push(service(ctx, name, &ctx.headless_outputs, true));
    }
    Ok(services)
}

fn service(ctx: &Context<'_>, name: String, outputs: &[Exposed<'_>], headless: bool) -> Service {
    let ports = outputs
        .iter()
        .map(|output| ServicePort {
            name: Some(output.port_name.clone()),
            // Clients of a headless Service connect to the pods themselves.
            port: i32::from(if headless {
                output.container_port
            } else {
                output.service_port
            }),
            target_port: Some(IntOrString::String(output.port_name.clone())),
            protocol: Some("TCP".to_owned()),
            app_protocol: Some(app_protocol(output.protocol).to_owned()),
            ..Default::default()
        })
        .collect();
    Service {
        metadata: ctx.metadata(name),
        spec: Some(ServiceSpec {
            cluster_ip: headless.then(|| "None".to_owned()),
            ports: Some(ports),
            selector: Some(ctx.selector_labels()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The Service port's appProtocol, which Istio reads to pick its protocol handling.
pub fn app_protocol(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Http => "http",
        Protocol::Grpc => "grpc",
        Protocol::Tcp => "tcp",
    }
}
