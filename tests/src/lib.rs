//! Helpers for the end-to-end tests: build the examples once, run them as processes,
//! talk to them over plain HTTP/1.1.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

mod helpers;

pub use helpers::{eventually, free_port, unique};

/// PostgreSQL the tests use: the machine's, with trust auth.
pub const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Builds the example services (once per test binary, always the same set, so that the
/// next test binary's build finds them built) and returns the path of `name`.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<Vec<(String, PathBuf)>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let output = Command::new(cargo)
            .current_dir(workspace())
            .args([
                "build",
                "--message-format=json",
                "-p",
                "hello",
                "-p",
                "scotty",
                "-p",
                "kirk",
                "-p",
                "uhura",
                "-p",
                "chekov",
            ])
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo runs");
        assert!(output.status.success(), "building the examples failed");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter_map(|message| {
                let executable = message.get("executable")?.as_str()?.to_owned();
                let name = message.get("target")?.get("name")?.as_str()?.to_owned();
                Some((name, PathBuf::from(executable)))
            })
            .collect()
    });
    built
        .iter()
        .find(|(built, _)| built == name)
        .map(|(_, path)| path.clone())
        .unwrap_or_else(|| panic!("no binary {name} among {built:?}"))
}

/// A running service; killed when dropped.
pub struct Service {
    pub name: String,
    child: Option<Child>,
    stderr: tempfile::NamedTempFile,
    /// The directory of the files [`Service::start`] wrote, removed with the service.
    _dir: Option<tempfile::TempDir>,
}

/// What a finished service left.
#[derive(Debug)]
pub struct Exit {
    pub status: ExitStatus,
    pub stderr: String,
}

impl Exit {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// The last non-empty line of stderr: the one-line error of a failed start.
    pub fn last_line(&self) -> &str {
        self.stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
    }
}

impl Service {
    /// Starts `binary` with YAML files written from `files` (name, text); `args` name
    /// them by file name.
    pub fn start(binary: &str, files: &[(&str, &str)], args: &[&str]) -> Service {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let mut service = Service::spawn(binary, &self::binary(binary), dir.path(), args);
        service._dir = Some(dir);
        service
    }

    /// Starts the program at `path` in `dir` with `args`, logging at info to a file.
    pub fn spawn(name: &str, path: &Path, dir: &Path, args: &[&str]) -> Service {
        let stderr = tempfile::NamedTempFile::new().unwrap();
        let child = Command::new(path)
            .current_dir(dir)
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr.reopen().unwrap())
            .spawn()
            .unwrap();
        Service {
            name: name.to_owned(),
            child: Some(child),
            stderr,
            _dir: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.stderr.path()).unwrap_or_default()
    }

    /// Waits until `port` accepts connections; panics (with the service's stderr) if the
    /// service exits first or never listens.
    pub fn wait_listening(&mut self, port: u16) {
        for _ in 0..600 {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "{} exited with {status} before listening:\n{}",
                    self.name,
                    self.stderr()
                );
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!("{} never listened on {port}:\n{}", self.name, self.stderr());
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// SIGTERM, then [`Service::wait`].
    pub fn stop(self) -> Exit {
        self.signal("TERM");
        self.wait()
    }

    /// Waits for the process to exit (a generous bound guards against a hang; it is not
    /// a timing assertion) and returns its status and stderr.
    pub fn wait(mut self) -> Exit {
        let mut child = self.child.take().unwrap();
        for _ in 0..1200 {
            if let Some(status) = child.try_wait().unwrap() {
                return Exit {
                    status,
                    stderr: self.stderr(),
                };
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("{} did not exit:\n{}", self.name, self.stderr());
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A plain HTTP/1.1 GET; returns the status code and the body.
pub fn http_get(port: u16, path: &str, host: &str) -> std::io::Result<(u16, String)> {
    http_get_with(port, path, host, &[])
}

/// A plain HTTP/1.1 GET with extra `headers`; returns the status code and the body.
pub fn http_get_with(
    port: u16,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {response:?}")))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body)
        .unwrap_or_default();
    // Small bodies only: chunked encoding is undone by dropping the size lines.
    let body = if response
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body.split("\r\n")
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, part)| part)
            .collect()
    } else {
        body.to_owned()
    };
    Ok((status, body))
}

/// scotty's YAML: its database at `db_port`, serving gRPC on `port`.
pub fn scotty_yaml(port: u16, db_port: u16) -> String {
    format!(
        "db:\n  address:\n    host: 127.0.0.1\n    port: {db_port}\n  username: postgres\n  database: test\n  min_size: 1\n  max_size: 16\nserver:\n  bind:\n    host: 127.0.0.1\n    port: {port}\n"
    )
}

/// kirk's YAML, without its database (that comes from `kirk_secrets`).
pub fn kirk_yaml(port: u16, scotty_port: u16) -> String {
    format!(
        "scotty:\n  address:\n    host: 127.0.0.1\n    port: {scotty_port}\nserver:\n  bind:\n    host: 127.0.0.1\n    port: {port}\n"
    )
}

/// kirk's secrets: the database URL with a password (trust auth ignores it).
pub fn kirk_secrets(password: &str, db_port: u16) -> String {
    format!(
        "db:\n  value: postgres://postgres:{password}@127.0.0.1:{db_port}/test\n  min_size: 1\n  max_size: 16\n"
    )
}

/// Waits until at least `count` queries sleep in PostgreSQL (scotty's `pg_sleep`, i.e.
/// requests in flight end to end); false if they never do.
pub async fn wait_sleeping_at_database(count: i64) -> bool {
    let db = sqlx::PgPool::connect(POSTGRES_URL).await.unwrap();
    for _ in 0..600 {
        let sleeping: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND pid <> pg_backend_pid()",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        if sleeping >= count {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}
