//! `harness up` on the example services (kirk → scotty → the machine's PostgreSQL), with
//! their prod-shaped configurations and local secret files, run from the example
//! binaries the end-to-end tests build (`--bin-dir`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use harness_tests::{binary, free_port, http_get};

/// The longest a test waits for a line (a guard against a hang, not a timing assertion).
const PATIENCE: Duration = Duration::from_secs(120);

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .canonicalize()
        .unwrap()
}

/// The example system: its prod-shaped configurations and secret files.
fn system() -> PathBuf {
    examples().join("system.yaml")
}

/// The `--merge` arguments that point scotty and kirk at PostgreSQL on `db_port`: the
/// examples' local files, or for another port, files written in `dir`.
fn local_merges(dir: &Path, db_port: u16) -> Vec<String> {
    let examples = examples();
    if db_port == 5432 {
        return vec![
            format!(
                "scotty={}",
                examples.join("scotty/scotty.local.yaml").display()
            ),
            format!("kirk={}", examples.join("kirk/kirk.local.yaml").display()),
        ];
    }
    let scotty = dir.join("scotty.yaml");
    let text = format!(
        "db:\n  address: {{host: 127.0.0.1, port: {db_port}}}\n  username: postgres\n  database: test\n"
    );
    std::fs::write(&scotty, text).unwrap();
    let kirk = dir.join("kirk.yaml");
    let text = format!("db:\n  value: postgres://postgres@127.0.0.1:{db_port}/test\n");
    std::fs::write(&kirk, text).unwrap();
    vec![
        format!("scotty={}", scotty.display()),
        format!("kirk={}", kirk.display()),
    ]
}

/// `harness up SYSTEM` on the prebuilt example binaries, its stdout lines on a channel.
fn up(system: &Path, merges: &[String]) -> (Child, Receiver<String>) {
    let bin_dir = binary("kirk").parent().unwrap().to_path_buf();
    assert!(bin_dir.join("scotty").is_file());
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["up", "--bin-dir"])
        .arg(&bin_dir)
        .args(merges.iter().flat_map(|merge| ["--merge", merge]))
        .arg(system)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, receiver) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (child, receiver)
}

/// Lines until one that `wanted` accepts; all of them (panics if up's stdout ends first).
fn read_until(lines: &Receiver<String>, wanted: impl Fn(&str) -> bool) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let line = lines
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("stdout ended or stalled; so far:\n{}", seen.join("\n")));
        let done = wanted(&line);
        seen.push(line);
        if done {
            return seen;
        }
    }
}

/// The local URL's port of `output` of `service` in the table.
fn table_port(lines: &[String], service: &str, output: &str) -> u16 {
    lines
        .iter()
        .find_map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            match cells.as_slice() {
                [s, o, _, url] if *s == service && *o == output => {
                    url.rsplit(':').next()?.parse().ok()
                }
                _ => None,
            }
        })
        .unwrap_or_else(|| panic!("no row {service} {output} in:\n{}", lines.join("\n")))
}

/// The processes `harness up` started (its children, as Linux lists them).
fn children(pid: u32) -> Vec<u32> {
    let path = format!("/proc/{pid}/task/{pid}/children");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[test]
fn the_system_serves_a_request_through_kirk_and_scotty_then_drains_on_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let (mut up, lines) = up(&system(), &local_merges(dir.path(), 5432));
    // The table's last row: uhura's metrics.
    let seen = read_until(&lines, |line| {
        line.split_whitespace().take(2).eq(["uhura", "metrics"])
    });
    assert!(
        seen.iter().any(|l| l.starts_with("scotty |")),
        "scotty's lines are prefixed:\n{}",
        seen.join("\n")
    );
    let header = seen.iter().position(|l| l.starts_with("service")).unwrap();
    let table = &seen[header..];
    let kirk_port = table_port(table, "kirk", "server");
    let scotty_port = table_port(table, "scotty", "server");
    assert_ne!(kirk_port, 8080, "the bind moved to a free port");

    let (status, body) = http_get(kirk_port, "/beam/Uhura", "kirk.acme.dev").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Aye, Uhura is aboard (test)"), "{body}");

    let services = children(up.id());
    assert_eq!(
        services.len(),
        3,
        "scotty, kirk and uhura run: {services:?}"
    );
    let pid = rustix::process::Pid::from_raw(up.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let status = up.wait().unwrap();
    let stderr = stderr_of(&mut up);
    assert_eq!(status.code(), Some(0), "{stderr}");
    // Callers first: kirk stops before scotty, each with status 0.
    let kirk = stderr.find("stopped kirk (exit status: 0)");
    let scotty = stderr.find("stopped scotty (exit status: 0)");
    assert!(
        kirk.is_some() && scotty.is_some() && kirk < scotty,
        "{stderr}"
    );
    for service in services {
        assert!(
            !Path::new(&format!("/proc/{service}")).exists(),
            "process {service} still exists"
        );
    }
    for port in [kirk_port, scotty_port] {
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    }
}

#[test]
fn a_service_that_cannot_start_stops_up_with_status_1_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens there: scotty cannot reach its database and exits.
    let (mut up, lines) = up(&system(), &local_merges(dir.path(), free_port()));
    let status = up.wait().unwrap();
    let stderr = stderr_of(&mut up);
    let stdout: Vec<String> = lines.iter().collect();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: service scotty exited"), "{stderr}");
    // Its own last words come with it.
    let (_, tail) = stderr.split_once("its last lines:").expect(&stderr);
    assert!(tail.contains("cannot connect to PostgreSQL"), "{stderr}");
    // kirk, its caller, never started.
    assert!(!stdout.iter().any(|l| l.starts_with("kirk")), "{stdout:?}");
}

#[test]
fn a_missing_binary_is_reported_before_anything_starts() {
    let empty = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["up", "--bin-dir"])
        .arg(empty.path())
        .arg(system())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: service scotty: no binary `scotty` was built or found"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}
