//! `harness kube-gen`: the configuration is checked exactly as `harness check` does, then
//! the manifests are built in memory and printed in one write, so an error leaves
//! stdout empty (a half stream piped into `kubectl apply -f -` would deploy half a
//! service). Errors go to stderr: exit 1 for an invalid configuration or a service
//! kube-gen cannot deploy, 2 for usage, I/O and proto errors.

use std::io::Write;
use std::process::ExitCode;

use crate::kube::{self, Options, Sources};
use harness_core::check::check_files;

use super::KubeGenArgs;

/// Exit status of a service that is valid but cannot be deployed as asked.
const EXIT_KUBE_GEN: u8 = 1;

pub fn run(args: KubeGenArgs) -> ExitCode {
    let checked = match check_files(
        &args.proto.proto,
        &args.proto.includes,
        &args.config,
        args.secret_merge.as_deref(),
        args.secret_patch.as_deref(),
    ) {
        Ok(checked) => checked,
        Err(err) => {
            let _ = std::io::stderr().write_all(err.report().as_bytes());
            return ExitCode::from(err.exit_code());
        }
    };
    let sources = Sources {
        config: &checked.sources.config.text,
        merge: checked.sources.merge.as_ref().map(|s| s.text.as_str()),
        patch: checked.sources.patch.as_ref().map(|s| s.text.as_str()),
    };
    let options = Options {
        version: args.version,
        instance: args.instance,
        namespace: args.namespace,
        base_domain: args.base_domain,
    };
    let manifests = match kube::generate(&checked.spec, &checked.config, sources, &options) {
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
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(yaml.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that went away (`| head`) is not our failure to report loudly.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: cannot write the manifests: {err}");
            ExitCode::from(super::EXIT_USAGE)
        }
    }
}
