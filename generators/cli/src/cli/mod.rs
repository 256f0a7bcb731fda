//! Command-line interface, compatible with the Python harness's verbs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod check;
mod graph;
mod image;
mod kube_gen;
mod new;
mod proto_path;
mod schema;

/// Configuration-driven services: check configs, generate Kubernetes manifests.
#[derive(Debug, Parser)]
#[command(name = "harness", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a configuration against its service's proto; prints OK.
    ///
    /// Exit status: 0 valid, 1 parse or validation error, 2 usage, I/O or proto error.
    Check(CheckArgs),
    /// Print the Kubernetes and Istio manifests of a service as multi-document YAML.
    #[command(name = "kube-gen")]
    KubeGen(Box<KubeGenArgs>),
    /// Check every connection between the services of a system file and print the graph.
    ///
    /// Exit status: 0 the graph, 1 one line per problem, 2 usage, I/O or proto error.
    Graph(GraphArgs),
    /// Run every service of a system file on this machine, each pointed at the others.
    ///
    /// Exit status: 0 stopped by Ctrl-C or SIGTERM, 1 a service failed, 2 usage, I/O or
    /// proto error.
    Up(crate::up::UpArgs),
    /// Write the bundled protos to a directory and print its path, for protoc, buf or an IDE.
    #[command(name = "proto-path")]
    ProtoPath(ProtoPathArgs),
    /// Create a service project: proto, configs, main.rs, Containerfile, README.
    ///
    /// Exit status: 0 created, 2 invalid name, non-empty directory or I/O error (nothing
    /// is written).
    New(NewArgs),
    /// Print a JSON Schema (draft 2020-12) of the service's configuration, for editors.
    Schema(ProtoArgs),
    /// Build the service's OCI image, with no container daemon: write a layout or push it.
    Image(image::ImageArgs),
}

/// The proto of a service and where its imports are.
#[derive(Debug, Args)]
struct ProtoArgs {
    /// Add a directory to search for imports (the proto's own directory and the bundled
    /// harness, validate and google protos are always searched).
    #[arg(short = 'I', long = "proto-path", value_name = "DIR")]
    includes: Vec<PathBuf>,
    /// The service's proto, whose `Configuration` message describes the config.
    #[arg(value_name = "PROTO")]
    proto: PathBuf,
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    proto: ProtoArgs,
    /// The configuration, a YAML file.
    #[arg(value_name = "CONFIG")]
    config: PathBuf,
    /// A YAML file merged into the configuration (RFC 7386 JSON Merge Patch), e.g. secrets.
    #[arg(long, value_name = "FILE")]
    merge: Option<PathBuf>,
    /// A YAML file of JSON Patch operations (RFC 6902) applied after --merge.
    #[arg(long, value_name = "FILE")]
    patch: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(
    override_usage = "harness kube-gen [OPTIONS] PROTO CONFIG VERSION\n       harness kube-gen --system SYSTEM"
)]
#[command(
    after_help = "PROTO is the service's proto; CONFIG its configuration, a YAML file that \
becomes a ConfigMap; VERSION the image tag and the app.kubernetes.io/version label.\n\
The Python harness's form, with its runtime word first (`kube-gen python PROTO CONFIG VERSION`), \
is accepted: the word is ignored, since a harness image's entrypoint is the service itself."
)]
struct KubeGenArgs {
    /// Add a directory to search for imports (the proto's own directory and the bundled
    /// harness, validate and google protos are always searched).
    #[arg(short = 'I', long = "proto-path", value_name = "DIR")]
    includes: Vec<PathBuf>,
    /// The service's proto, its configuration (YAML) and the version to deploy
    #[arg(
        value_names = ["PROTO", "CONFIG", "VERSION"],
        num_args = 3..=4,
        required_unless_present = "system"
    )]
    positionals: Vec<String>,
    /// Every service of a system file (see `harness graph`), its connections checked, in
    /// one stream; the services' options come from the file.
    #[arg(long, value_name = "SYSTEM", conflicts_with_all = ["positionals", "includes", "instance", "namespace", "secret_merge", "secret_patch", "base_domain", "router", "gateway", "target", "image_digest", "image_layout"])]
    system: Option<PathBuf>,
    /// Deploy a named instance: objects are named NAME-INSTANCE.
    #[arg(long, value_name = "NAME")]
    instance: Option<String>,
    /// Namespace of every object.
    #[arg(long, value_name = "NS", default_value = "default")]
    namespace: String,
    /// A YAML file merged into the configuration, shipped as a Secret and passed as --merge.
    #[arg(long, value_name = "FILE")]
    secret_merge: Option<PathBuf>,
    /// A JSON Patch YAML file, shipped as a Secret and passed as --patch.
    #[arg(long, value_name = "FILE")]
    secret_patch: Option<PathBuf>,
    /// Serve PUBLIC outputs at NAME[-INSTANCE].DOMAIN through an Istio Gateway.
    #[arg(long, value_name = "DOMAIN")]
    base_domain: Option<String>,
    /// What routes requests to the Services: Istio's Gateway and VirtualService, or
    /// Gateway API routes (HTTPRoute, GRPCRoute).
    #[arg(long, value_enum, default_value_t = crate::kube::Router::Istio)]
    router: crate::kube::Router,
    /// The Gateway (NS/NAME, or NAME in --namespace) that PUBLIC routes attach to with
    /// --router gateway-api.
    #[arg(long, value_name = "NS/NAME", default_value = crate::kube::DEFAULT_GATEWAY)]
    gateway: String,
    /// What runs the service: a Deployment with its Services and autoscaler, or a Knative
    /// Service.
    #[arg(long, value_enum, default_value_t = crate::kube::Target::Deployment)]
    target: crate::kube::Target,
    /// Pin the image by digest: REPOSITORY@DIGEST, DIGEST as `harness image` prints it
    /// (sha256:…); VERSION stays the version label.
    #[arg(long, value_name = "DIGEST", conflicts_with = "image_layout")]
    image_digest: Option<String>,
    /// Pin the image by the digest of the one image in the OCI layout DIR.
    #[arg(long, value_name = "DIR")]
    image_layout: Option<PathBuf>,
    #[command(flatten)]
    policy: kube_gen::PolicyArgs,
}

#[derive(Debug, Args)]
struct GraphArgs {
    /// The system file: the services of one environment (see docs/system.md).
    #[arg(value_name = "SYSTEM")]
    system: PathBuf,
    /// How to print the graph.
    #[arg(long, value_enum, default_value_t = crate::system::Format::Text)]
    format: crate::system::Format,
}

#[derive(Debug, Args)]
struct ProtoPathArgs {
    /// Directory to write to; a new temporary directory when omitted.
    #[arg(value_name = "DIR")]
    dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct NewArgs {
    /// The service's name, a DNS-1123 label starting with a letter: its directory, cargo
    /// package, proto package and Kubernetes name.
    #[arg(value_name = "NAME")]
    name: String,
    /// An HTTP server: `GET /` answers (the default when no server is chosen).
    #[arg(long)]
    http: bool,
    /// A gRPC server, with health checks and reflection.
    #[arg(long)]
    grpc: bool,
    /// A PostgreSQL pool.
    #[arg(long)]
    postgres: bool,
    /// A Redis connection.
    #[arg(long)]
    redis: bool,
    /// A NATS publisher and subscriber.
    #[arg(long)]
    nats: bool,
    /// A scheduler running a job.
    #[arg(long)]
    schedule: bool,
    /// The project's directory, new or empty; ./NAME by default.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Take the harness crates from this checkout by path (default: the checkout this
    /// command was built from, when it still exists; else crates.io by version).
    #[arg(long, value_name = "DIR")]
    harness_path: Option<PathBuf>,
}

/// Exit status of a failed command; 1 is for invalid configurations.
const EXIT_USAGE: u8 = 2;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::KubeGen(args) => kube_gen::run(*args),
        Command::Graph(args) => graph::run(args),
        Command::Up(args) => crate::up::run(args),
        Command::ProtoPath(args) => proto_path::run(args),
        Command::New(args) => new::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Image(args) => image::run(args),
    }
}
