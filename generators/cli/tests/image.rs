//! `harness image` end to end, checked with the tools a user has: the image of
//! examples/hello is read by skopeo, rebuilt to the same digest, run by podman exactly as
//! kube-gen's Deployment runs it (its arguments, its user, a read-only root file system,
//! the ConfigMap's config.yaml at /etc/config) and answers `/_/health`; pushed to a local
//! registry, it is pulled back with the same digest. kirk's image runs with its production
//! Deployment's arguments (config and merged secrets) and answers too.
//!
//! The tools are Debian's podman, runc, skopeo and docker-registry, which
//! scripts/image-tools.sh installs. podman keeps its storage and state in a directory of
//! the test's own (vfs storage, cgroupfs, events in a file), so nothing of the machine's
//! containers is touched.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use harness_tests::{free_port, http_get};
use serde_json::Value;

const HELLO_PROTO: &str = "examples/hello/proto/hello.proto";
const TAG: &str = "localhost/hello:v1";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh directory for one test's files under cargo's temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("image")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `program` and asserts it succeeded, naming the tool to install if it is missing.
fn run(command: &mut Command) -> Output {
    let output = command.output().unwrap_or_else(|err| {
        panic!("cannot run {command:?} ({err}): run scripts/image-tools.sh to install it")
    });
    assert!(
        output.status.success(),
        "{command:?}: {}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn harness(args: &[&str]) -> Output {
    run(Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .current_dir(workspace())
        .stderr(Stdio::inherit()))
}

/// `harness image` of hello into `layout` (cargo builds the binary); its digest.
fn build_hello(layout: &Path) -> String {
    let output = harness(&[
        "image",
        HELLO_PROTO,
        "--tag",
        TAG,
        "--output",
        layout.to_str().unwrap(),
    ]);
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

struct Built {
    layout: PathBuf,
    digest: String,
}

/// hello's image, built once for all the tests of this file.
fn hello_image() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let layout = scratch("built").join("hello.oci");
        let digest = build_hello(&layout);
        assert!(
            digest.starts_with("sha256:") && digest.len() == 71,
            "{digest}"
        );
        Built { layout, digest }
    })
}

fn skopeo_inspect(args: &[&str]) -> Value {
    let output = run(Command::new("skopeo").arg("inspect").args(args));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Every file of a directory tree with its contents, by relative path.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let contents = std::fs::read(&path).unwrap();
                files.push((path.strip_prefix(dir).unwrap().to_owned(), contents));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn skopeo_reads_the_layout_and_a_rebuild_is_byte_identical() {
    let built = hello_image();
    let inspected = skopeo_inspect(&[&format!("oci:{}", built.layout.display())]);
    assert_eq!(inspected["Digest"], built.digest.as_str());
    assert_eq!(
        inspected["Labels"]["org.opencontainers.image.title"],
        "hello"
    );
    assert_eq!(
        inspected["Labels"]["org.opencontainers.image.version"],
        "v1"
    );
    assert_eq!(
        inspected["Labels"]["harness.service.container.repository"],
        "registry.acme.dev/hello"
    );
    assert_eq!(inspected["Layers"].as_array().map(Vec::len), Some(2));
    let config = skopeo_inspect(&["--config", &format!("oci:{}", built.layout.display())]);
    assert_eq!(config["config"]["User"], "65532:65532");
    assert_eq!(
        config["config"]["Entrypoint"],
        serde_json::json!(["/usr/local/bin/hello"])
    );

    let again = scratch("rebuilt").join("hello.oci");
    assert_eq!(build_hello(&again), built.digest);
    assert!(
        tree(&built.layout) == tree(&again),
        "the two layouts differ"
    );
}

/// podman with its storage, state and configuration in `dir`.
struct Podman {
    dir: PathBuf,
}

impl Podman {
    fn new(dir: PathBuf) -> Self {
        let storage = format!(
            "[storage]\ndriver = \"vfs\"\nrunroot = \"{0}/run\"\ngraphroot = \"{0}/graph\"\n",
            dir.display()
        );
        // crun fails on this machine's cgroups, hence runc; no systemd, hence cgroupfs
        // and events in a file.
        let containers = format!(
            "[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\nevents_logfile_path = \"{0}/events.log\"\ntmp_dir = \"{0}/tmp\"\n",
            dir.display()
        );
        std::fs::write(dir.join("storage.conf"), storage).unwrap();
        std::fs::write(dir.join("containers.conf"), containers).unwrap();
        Podman { dir }
    }

    /// `program` (podman or skopeo) with this storage.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("CONTAINERS_STORAGE_CONF", self.dir.join("storage.conf"))
            .env("CONTAINERS_CONF", self.dir.join("containers.conf"));
        command
    }
}

/// The Deployment's container (image, args, and the pod's runAsUser as `runAsUser`) and
/// the ConfigMap's config.yaml, from `kube-gen ARGS`.
fn deployment_of(args: &[&str]) -> (Value, String) {
    let mut command = vec!["kube-gen"];
    command.extend_from_slice(args);
    let output = harness(&command);
    let objects: Vec<Value> =
        serde_saphyr::from_multiple(&String::from_utf8(output.stdout).unwrap()).unwrap();
    let of_kind = |kind: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
    };
    let pod = &of_kind("Deployment")["spec"]["template"]["spec"];
    let mut container = pod["containers"][0].clone();
    container["runAsUser"] = pod["securityContext"]["runAsUser"].clone();
    let config_yaml = of_kind("ConfigMap")["data"]["config.yaml"]
        .as_str()
        .unwrap()
        .to_owned();
    (container, config_yaml)
}

/// The image of `layout` running under podman as the Deployment's `container` runs:
/// its args, its user, a read-only root, each of `files` (path in the container,
/// contents) in a read-only directory mounted where the args name it.
struct Running {
    podman: Podman,
    name: String,
}

impl Running {
    fn start(dir: &Path, layout: &Path, container: &Value, files: &[(&str, String)]) -> Self {
        let podman_dir = dir.join("podman");
        std::fs::create_dir_all(&podman_dir).unwrap();
        let podman = Podman::new(podman_dir);
        let image = "localhost/harness-image-test:latest";
        run(podman.command("skopeo").args([
            "copy",
            "--quiet",
            &format!("oci:{}", layout.display()),
            &format!("containers-storage:{image}"),
        ]));
        let name = format!("harness-image-test-{}", free_port());
        let running = Running { podman, name };
        let mut command = running.podman.command("podman");
        command
            .args([
                "--runtime",
                "runc",
                "run",
                "--detach",
                "--name",
                &running.name,
            ])
            .args(["--network", "host", "--read-only"])
            .args(["--user", &container["runAsUser"].to_string()])
            .args([
                "--ulimit",
                "nofile=1024:1024",
                "--ulimit",
                "nproc=1024:1024",
            ]);
        for (index, (path, contents)) in files.iter().enumerate() {
            let (mount, file) = path.rsplit_once('/').unwrap();
            let host = dir.join(format!("mount-{index}"));
            std::fs::create_dir_all(&host).unwrap();
            std::fs::write(host.join(file), contents).unwrap();
            command.args(["-v", &format!("{}:{mount}:ro", host.display())]);
        }
        command.arg(image);
        for arg in container["args"].as_array().unwrap() {
            command.arg(arg.as_str().unwrap());
        }
        run(&mut command);
        running
    }

    /// SIGTERM, as Kubernetes stops a pod; the container's exit status.
    fn stop(&self) -> String {
        run(self
            .podman
            .command("podman")
            .args(["stop", "--time", "30", &self.name]));
        let exit = run(self.podman.command("podman").args([
            "inspect",
            "--format",
            "{{.State.ExitCode}}",
            &self.name,
        ]));
        String::from_utf8_lossy(&exit.stdout).trim().to_owned()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self
            .podman
            .command("podman")
            .args(["rm", "--force", "--time", "0", &self.name])
            .output();
        // The vfs storage holds a full copy of every layer: not worth keeping.
        let _ = std::fs::remove_dir_all(&self.podman.dir);
    }
}

#[test]
fn podman_runs_the_image_as_the_deployment_does() {
    let built = hello_image();
    let dir = scratch("podman");
    let port = free_port();
    let config = dir.join("hello.yaml");
    std::fs::write(
        &config,
        format!("greeting: Hello from the image\nserver:\n  bind:\n    host: 127.0.0.1\n    port: {port}\n"),
    )
    .unwrap();
    let (container, config_yaml) = deployment_of(&[
        HELLO_PROTO,
        config.to_str().unwrap(),
        "v1",
        "--image-layout",
        built.layout.to_str().unwrap(),
    ]);
    assert_eq!(
        container["image"],
        format!("registry.acme.dev/hello@{}", built.digest).as_str()
    );
    assert_eq!(
        container["args"],
        serde_json::json!(["/etc/config/config.yaml"])
    );
    let running = Running::start(
        &dir,
        &built.layout,
        &container,
        &[("/etc/config/config.yaml", config_yaml)],
    );

    let health = wait_for_http(&running, port, "/_/health");
    assert_eq!(health.0, 200, "{health:?}");
    let (status, body) = http_get(port, "/", "localhost").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("Hello from the image"), "{body}");
    // A graceful shutdown.
    assert_eq!(running.stop(), "0");
}

/// kirk's image runs with the arguments of its production Deployment (config and merged
/// secrets), the files being local ones: its database is the machine's PostgreSQL, its
/// callee a scotty process on the host.
#[test]
fn kirk_runs_with_its_production_deployments_arguments() {
    let dir = scratch("kirk");
    let layout = dir.join("kirk.oci");
    let digest = String::from_utf8(
        harness(&[
            "image",
            "examples/kirk/proto/kirk.proto",
            "--tag",
            "localhost/kirk:v1",
            "--output",
            layout.to_str().unwrap(),
        ])
        .stdout,
    )
    .unwrap();
    let (container, _) = deployment_of(&[
        "examples/kirk/proto/kirk.proto",
        "examples/kirk/kirk.prod.yaml",
        "v1",
        "--secret-merge",
        "examples/kirk/kirk.prod-secrets.yaml",
        "--image-digest",
        digest.trim(),
    ]);
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let [config, "--merge", merge] = args[..] else {
        panic!("kirk's Deployment args: {args:?}")
    };
    // kirk is ready only while its required gRPC callee answers: a real scotty, on the host.
    let (port, scotty_port) = (free_port(), free_port());
    let mut scotty = harness_tests::Service::start(
        "scotty",
        &[(
            "scotty.yaml",
            &harness_tests::scotty_yaml(scotty_port, 5432),
        )],
        &["scotty.yaml"],
    );
    scotty.wait_listening(scotty_port);
    let running = Running::start(
        &dir,
        &layout,
        &container,
        &[
            (config, harness_tests::kirk_yaml(port, scotty_port)),
            (merge, harness_tests::kirk_secrets("unused", 5432)),
        ],
    );
    // Readiness follows scotty's health checks, which the channel makes once a second.
    let mut health = wait_for_http(&running, port, "/_/health");
    for _ in 0..100 {
        if health.0 == 200 {
            break;
        }
        thread::sleep(Duration::from_millis(100));
        health = wait_for_http(&running, port, "/_/health");
    }
    assert_eq!(health.0, 200, "{health:?}");
    assert_eq!(running.stop(), "0");
    scotty.stop();
}

/// The first answer of `path` on `port`, waiting for the container to start (a bounded
/// number of tries); the container's log in the panic when it never answers.
fn wait_for_http(running: &Running, port: u16, path: &str) -> (u16, String) {
    for _ in 0..200 {
        if let Ok(answer) = http_get(port, path, "localhost") {
            return answer;
        }
        thread::sleep(Duration::from_millis(100));
    }
    let name = &running.name;
    let logs = running
        .podman
        .command("podman")
        .args(["logs", name])
        .output();
    panic!("{name} never answered {path} on {port}: {logs:?}");
}

/// Debian's docker-registry on a free loopback port with its own storage; stopped when
/// dropped.
struct Registry {
    child: Child,
    port: u16,
}

impl Registry {
    fn start(dir: &Path) -> Self {
        let port = free_port();
        let config = dir.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.join("storage").display()
            ),
        )
        .unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry runs: run scripts/image-tools.sh to install it");
        let registry = Registry { child, port };
        for _ in 0..200 {
            if http_get(port, "/v2/", "localhost").is_ok_and(|(status, _)| status == 200) {
                return registry;
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!("docker-registry did not answer on 127.0.0.1:{port}");
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_pushed_image_is_pulled_back_with_the_same_digest() {
    let built = hello_image();
    let dir = scratch("registry");
    let registry = Registry::start(&dir);
    let reference = format!("127.0.0.1:{}/team/hello:v1", registry.port);
    let output = harness(&["image", HELLO_PROTO, "--tag", &reference, "--push"]);
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), built.digest);

    let remote = skopeo_inspect(&["--tls-verify=false", &format!("docker://{reference}")]);
    assert_eq!(remote["Digest"], built.digest.as_str());
    let pulled = dir.join("pulled");
    run(Command::new("skopeo").args([
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        &format!("docker://{reference}"),
        &format!("oci:{}:v1", pulled.display()),
    ]));
    let local = skopeo_inspect(&[&format!("oci:{}:v1", pulled.display())]);
    assert_eq!(local["Digest"], built.digest.as_str());
    let manifest = |layout: &Path| {
        std::fs::read(
            layout
                .join("blobs/sha256")
                .join(&built.digest["sha256:".len()..]),
        )
        .unwrap()
    };
    assert_eq!(manifest(&pulled), manifest(&built.layout));
}
