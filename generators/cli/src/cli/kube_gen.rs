//! `harness kube-gen`: the configuration is checked exactly as `harness check` does, then
//! the manifests are built in memory and printed in one write, so an error leaves
//! stdout empty (a half stream piped into `kubectl apply -f -` would deploy half a
//! service). Errors go to stderr: exit 1 for an invalid configuration or a service
//! kube-gen cannot deploy, 2 for usage, I/O and proto errors.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;

use crate::kube::{self, IngressOverrides, Options, policy};
use harness_core::check::check_files;

use super::KubeGenArgs;

/// Who may reach the service's pods from outside its callers: the monitoring namespace
/// and the ingress gateway (its NetworkPolicy and AuthorizationPolicy).
#[derive(Debug, Clone, Args)]
pub(super) struct PolicyArgs {
    /// The namespace whose pods may scrape the metrics outputs and the sidecar's telemetry.
    #[arg(long, value_name = "NS", default_value = policy::DEFAULT_MONITORING_NAMESPACE)]
    monitoring_namespace: String,
    /// The ingress gateway's namespace, whose pods may call PUBLIC outputs [default:
    /// istio-system, or --gateway's namespace with --router gateway-api].
    #[arg(long, value_name = "NS")]
    ingress_namespace: Option<String>,
    /// The ingress gateway pods' labels [default: istio=ingressgateway, or
    /// gateway.networking.k8s.io/gateway-name=--gateway's name with --router gateway-api].
    #[arg(long, value_name = "KEY=VALUE[,KEY=VALUE]", value_parser = policy::parse_labels)]
    ingress_labels: Option<BTreeMap<String, String>>,
    /// The ingress gateway's ServiceAccount, whose identity may call PUBLIC outputs
    /// [default: istio-ingressgateway-service-account, or NAME-istio with --router gateway-api].
    #[arg(long, value_name = "NAME")]
    ingress_service_account: Option<String>,
}

impl PolicyArgs {
    /// Sets the options these arguments give.
    pub(super) fn apply(self, options: &mut Options) {
        options.monitoring_namespace = self.monitoring_namespace;
        options.ingress = IngressOverrides {
            namespace: self.ingress_namespace,
            labels: self.ingress_labels,
            service_account: self.ingress_service_account,
        };
    }
}

/// Exit status of a service that is valid but cannot be deployed as asked.
const EXIT_KUBE_GEN: u8 = 1;

/// Runtime words of the Python harness's `kube-gen RUNTIME PROTO CONFIG VERSION`.
const PYTHON_RUNTIMES: &[&str] = &["python"];

/// PROTO, CONFIG and VERSION, after the Python harness's runtime word when there is one.
fn positionals(args: &[String]) -> Result<(&Path, &Path, &str), String> {
    match args {
        [proto, config, version] => Ok((Path::new(proto), Path::new(config), version)),
        [runtime, proto, config, version] if PYTHON_RUNTIMES.contains(&runtime.as_str()) => {
            Ok((Path::new(proto), Path::new(config), version))
        }
        [runtime, ..] => Err(format!(
            "four arguments are PYTHON-RUNTIME PROTO CONFIG VERSION, and `{runtime}` is not a runtime of the Python harness ({}); the usual form is PROTO CONFIG VERSION",
            PYTHON_RUNTIMES.join(", ")
        )),
        _ => Err("expected PROTO CONFIG VERSION".to_owned()),
    }
}

pub fn run(args: KubeGenArgs) -> ExitCode {
    if let Some(system) = &args.system {
        return super::graph::kube_gen_system(system, &args.policy);
    }
    let (proto, config, version) = match positionals(&args.positionals) {
        Ok(positionals) => positionals,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    let checked = match check_files(
        proto,
        &args.includes,
        config,
        args.secret_merge.as_deref(),
        args.secret_patch.as_deref(),
    ) {
        Ok(checked) => checked,
        Err(err) => {
            let _ = std::io::stderr().write_all(err.report().as_bytes());
            return ExitCode::from(err.exit_code());
        }
    };
    let mut options = Options {
        instance: args.instance,
        namespace: args.namespace,
        base_domain: args.base_domain,
        router: args.router,
        gateway: args.gateway,
        target: args.target,
        ..Options::new(version)
    };
    args.policy.apply(&mut options);
    let manifests = match kube::generate(&checked.spec, &checked.config, &checked.sources, &options)
    {
        Ok(manifests) => manifests,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_KUBE_GEN);
        }
    };
    let yaml = match manifests.to_yaml() {
        Ok(yaml) => yaml,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    for warning in &manifests.warnings {
        eprintln!("warning: {warning}");
    }
    super::graph::write_stdout(&yaml, "manifests")
}
