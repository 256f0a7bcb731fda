//! `harness up SYSTEM`: the whole system on this machine. The services are built,
//! started in dependency order ([`plan`]) with their prod-shaped configurations and a
//! generated JSON Patch that moves every bind to a free loopback port and points every
//! NAMESPACE/CLUSTER input at its peer's local address, watched ([`process`]), and
//! stopped callers first on Ctrl-C or SIGTERM.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::system::resolve::protocol_name;
use crate::system::{Problems, System};
use harness_core::contract::DEFAULT_GRACE_PERIOD;

mod cargo;
mod files;
pub mod plan;
mod process;

use files::{Files, command};
use plan::{ServicePlan, local_outputs, service_plan, start_order};
use process::{NotReady, Prefixes, Running, Signals};

/// How long a service may take to answer on all its outputs.
const START_BOUND: Duration = Duration::from_secs(60);

#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// The system file (see docs/system.md).
    #[arg(value_name = "SYSTEM")]
    system: PathBuf,
    /// Build and run the release profile.
    #[arg(long)]
    release: bool,
    /// Run the binaries in DIR (named as each package's binary) instead of building.
    #[arg(long, value_name = "DIR", conflicts_with = "release")]
    bin_dir: Option<PathBuf>,
    /// A YAML file merged into service NAME's configuration after the system file's merge
    /// file: what differs on this machine, such as the address of an EXTERNAL database
    /// (the system's check refuses a loopback host there). Repeatable.
    #[arg(long = "merge", value_name = "NAME=FILE", value_parser = parse_local_merge)]
    merges: Vec<(String, PathBuf)>,
}

fn parse_local_merge(text: &str) -> Result<(String, PathBuf), String> {
    let (name, file) = text
        .split_once('=')
        .ok_or("expected NAME=FILE, a service's name and a YAML file")?;
    Ok((name.to_owned(), PathBuf::from(file)))
}

/// Why `harness up` stops with exit status 1: its message, printed after `error: `.
#[derive(Debug)]
struct Failure(String);

pub fn run(args: UpArgs) -> ExitCode {
    let signals = match Signals::listen() {
        Ok(signals) => signals,
        Err(err) => {
            eprintln!("error: cannot handle SIGINT and SIGTERM: {err}");
            return ExitCode::FAILURE;
        }
    };
    let system = match System::load(&args.system) {
        Ok(system) => system,
        Err(problems) => return fail_loading(&problems),
    };
    for warning in system.all_warnings() {
        eprintln!("warning: {warning}");
    }
    match prepare(&system, &args)
        .and_then(|prepared| supervise(&system, prepared, &args.merges, &signals))
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn fail_loading(problems: &Problems) -> ExitCode {
    let _ = std::io::stderr().write_all(problems.report().as_bytes());
    ExitCode::from(problems.exit_code())
}

/// Everything needed to start: the plans in start order, each service's binary, and the
/// directory of the generated patch files (removed when dropped).
struct Prepared {
    plans: Vec<ServicePlan>,
    binaries: Vec<PathBuf>,
    patches: tempfile::TempDir,
}

fn prepare(system: &System, args: &UpArgs) -> Result<Prepared, Failure> {
    let failure = |err: plan::PlanError| Failure(err.to_string());
    let order = start_order(&system.graph).map_err(failure)?;
    let outputs = local_outputs(&system.graph, plan::free_port).map_err(failure)?;
    let mut plans = Vec::with_capacity(order.len());
    for id in order {
        let checked = system.members[id]
            .check()
            .map_err(|problem| Failure(problem.text.trim_end().to_owned()))?;
        plans.push(service_plan(&system.graph, &outputs, id, &checked).map_err(failure)?);
    }
    for (name, _) in &args.merges {
        if !plans.iter().any(|plan| &plan.name == name) {
            let names: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
            return Err(Failure(format!(
                "--merge {name}=…: no service {name} in the system (its services: {})",
                names.join(", ")
            )));
        }
    }
    let binaries = binaries(system, &plans, args)?;
    let patches = tempfile::Builder::new()
        .prefix("harness-up-")
        .tempdir()
        .map_err(|err| Failure(format!("cannot create a temporary directory: {err}")))?;
    Ok(Prepared {
        plans,
        binaries,
        patches,
    })
}

/// Each planned service's binary, built by cargo or found in `--bin-dir`.
fn binaries(
    system: &System,
    plans: &[ServicePlan],
    args: &UpArgs,
) -> Result<Vec<PathBuf>, Failure> {
    let mut packages = Vec::with_capacity(plans.len());
    for plan in plans {
        let proto = &system.members[plan.id].entry.proto;
        let package = cargo::package_of(proto)
            .map_err(|reason| Failure(format!("service {}: {reason}", plan.name)))?;
        packages.push(package);
    }
    let built: BTreeMap<String, PathBuf> = match &args.bin_dir {
        Some(dir) => packages
            .iter()
            .map(|p| (p.bin.clone(), dir.join(&p.bin)))
            .collect(),
        None => {
            let mode = if args.release { "release" } else { "debug" };
            let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
            eprintln!("building {} ({mode})", names.join(", "));
            cargo::build(&packages, args.release).map_err(Failure)?
        }
    };
    packages
        .iter()
        .zip(plans)
        .map(|(package, plan)| {
            built
                .get(&package.bin)
                .filter(|path| path.is_file())
                .cloned()
                .ok_or_else(|| {
                    Failure(format!(
                        "service {}: no binary `{}` was built or found",
                        plan.name, package.bin
                    ))
                })
        })
        .collect()
}

/// Starts every service in order, then watches them until a signal (exit 0) or a service
/// that exits (exit 1). Either way every started service is stopped, callers first.
fn supervise(
    system: &System,
    prepared: Prepared,
    merges: &[(String, PathBuf)],
    signals: &Signals,
) -> Result<(), Failure> {
    let prefixes = Prefixes {
        width: prepared
            .plans
            .iter()
            .map(|p| p.name.len())
            .max()
            .unwrap_or(0),
        color: std::io::stdout().is_terminal(),
    };
    let mut running: Vec<Running> = Vec::with_capacity(prepared.plans.len());
    for (index, (plan, binary)) in prepared.plans.iter().zip(&prepared.binaries).enumerate() {
        let entry = &system.members[plan.id].entry;
        let local_merge = merges.iter().find(|(name, _)| name == &plan.name);
        let files = Files {
            entry,
            local_merge: local_merge.map(|(_, file)| file.as_path()),
            dir: prepared.patches.path(),
        };
        let command = match command(&files, binary, plan) {
            Ok(command) => command,
            Err(failure) => return drain_after(running, signals, Err(failure)),
        };
        let mut service = match Running::spawn(&plan.name, index, command, prefixes) {
            Ok(service) => service,
            Err(err) => {
                let failure = Failure(format!("cannot start {}: {err}", plan.name));
                return drain_after(running, signals, Err(failure));
            }
        };
        match service.wait_ready(&plan.outputs, signals, START_BOUND) {
            Ok(()) => running.push(service),
            Err(NotReady::Stopped) => {
                running.push(service);
                return drain_after(running, signals, Ok(()));
            }
            Err(why) => {
                let failure = not_ready(service, &why, signals);
                return drain_after(running, signals, Err(failure));
            }
        }
    }
    print_table(&prepared.plans);
    watch(running, signals)
}

/// The message about a service that did not become ready, with its last lines; the
/// service is stopped first, so that all its lines are there.
fn not_ready(mut service: Running, why: &NotReady, signals: &Signals) -> Failure {
    let reason = match why {
        NotReady::Exited(status) => format!("exited ({status}) before it was ready"),
        NotReady::TimedOut(bound) => format!("was not ready after {} s", bound.as_secs()),
        NotReady::Stopped => "was stopped".to_owned(),
    };
    let _ = service.stop(DEFAULT_GRACE_PERIOD, signals);
    Failure(format!(
        "service {} {reason}{}",
        service.name,
        tail_text(&service.tail())
    ))
}

fn tail_text(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = lines.iter().map(|l| format!("  {l}")).collect();
    format!("; its last lines:\n{}", lines.join("\n"))
}

/// Watches the running services until a signal or the exit of one of them.
fn watch(mut running: Vec<Running>, signals: &Signals) -> Result<(), Failure> {
    loop {
        if signals.stop() {
            return drain_after(running, signals, Ok(()));
        }
        if let Some(index) = running.iter_mut().position(|s| s.exited().is_some()) {
            let mut service = running.remove(index);
            let status = service.stop(DEFAULT_GRACE_PERIOD, signals);
            let status = status.map_or_else(|err| err.to_string(), |s| s.to_string());
            let failure = Failure(format!(
                "service {} exited ({status}){}",
                service.name,
                tail_text(&service.tail())
            ));
            return drain_after(running, signals, Err(failure));
        }
        std::thread::sleep(process::POLL);
    }
}

/// Stops the services callers first (the reverse of the start order), each waited for,
/// then gives `outcome`.
fn drain_after(
    running: Vec<Running>,
    signals: &Signals,
    outcome: Result<(), Failure>,
) -> Result<(), Failure> {
    for mut service in running.into_iter().rev() {
        match service.stop(DEFAULT_GRACE_PERIOD, signals) {
            Ok(status) => eprintln!("stopped {} ({status})", service.name),
            Err(err) => eprintln!("cannot stop {}: {err}", service.name),
        }
    }
    outcome
}

/// What serves where, once every service is ready.
fn print_table(plans: &[ServicePlan]) {
    let mut rows = vec![[
        "service".to_owned(),
        "output".to_owned(),
        "protocol".to_owned(),
        "local URL".to_owned(),
    ]];
    for plan in plans {
        for output in &plan.outputs {
            let scheme = match output.protocol {
                harness_core::spec::Protocol::Tcp => "tcp",
                _ => "http",
            };
            rows.push([
                plan.name.clone(),
                output.output.clone(),
                protocol_name(output.protocol).to_owned(),
                format!("{scheme}://{}", output.address),
            ]);
        }
    }
    let widths: Vec<usize> = (0..4)
        .map(|column| rows.iter().map(|row| row[column].len()).max().unwrap_or(0))
        .collect();
    let mut table = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        table.push_str(cells.join("  ").trim_end());
        table.push('\n');
    }
    let _ = std::io::stdout().lock().write_all(table.as_bytes());
}
