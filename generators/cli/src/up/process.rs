//! One service's process: spawned with its output and errors prefixed line by line onto
//! `harness up`'s stdout, waited on until its outputs answer, stopped with SIGTERM.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anstyle::{AnsiColor, Style};
use harness_core::contract::HEALTH_PATH;

use super::plan::LocalOutput;

/// The configuration message of the HTTP server wire, which answers [`HEALTH_PATH`]; other
/// outputs (gRPC, metrics, plain TCP) are ready when they accept a connection.
const HTTP_SERVER_TYPE: &str = "harness.http.Server";
/// The lines of a service kept to explain why it failed.
const TAIL_LINES: usize = 20;
/// How often a starting service is asked again, and a running one looked at.
pub const POLL: Duration = Duration::from_millis(100);
/// One readiness probe: a connection, or an HTTP request and its answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
const PALETTE: [AnsiColor; 6] = [
    AnsiColor::Cyan,
    AnsiColor::Magenta,
    AnsiColor::Yellow,
    AnsiColor::Green,
    AnsiColor::Blue,
    AnsiColor::Red,
];

/// The SIGINT and SIGTERM `harness up` has received: the first stops the services in
/// order, a second kills those still running.
#[derive(Debug, Clone, Default)]
pub struct Signals(Arc<AtomicUsize>);

impl Signals {
    /// Counts the signals from now on, in a thread of its own.
    pub fn listen() -> io::Result<Self> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let signals = Signals::default();
        let mut received = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        let count = signals.0.clone();
        thread::spawn(move || {
            for _ in received.forever() {
                count.fetch_add(1, Ordering::SeqCst);
            }
        });
        Ok(signals)
    }

    pub fn stop(&self) -> bool {
        self.0.load(Ordering::SeqCst) >= 1
    }

    pub fn kill(&self) -> bool {
        self.0.load(Ordering::SeqCst) >= 2
    }
}

/// How lines are prefixed: the service's name padded to `width`, coloured when stdout is
/// a terminal.
#[derive(Debug, Clone, Copy)]
pub struct Prefixes {
    pub width: usize,
    pub color: bool,
}

impl Prefixes {
    fn prefix(&self, name: &str, index: usize) -> String {
        let style = if self.color {
            Style::new().fg_color(Some(PALETTE[index % PALETTE.len()].into()))
        } else {
            Style::new()
        };
        format!("{style}{name:width$} |{style:#} ", width = self.width)
    }
}

/// A running service.
pub struct Running {
    pub name: String,
    child: Child,
    tail: Arc<Mutex<VecDeque<String>>>,
    pumps: Vec<JoinHandle<()>>,
}

/// Why a service did not become ready.
#[derive(Debug)]
pub enum NotReady {
    Exited(ExitStatus),
    TimedOut(Duration),
    /// `harness up` was asked to stop meanwhile.
    Stopped,
}

impl Running {
    /// Starts `command` in its own process group (a Ctrl-C on the terminal reaches
    /// `harness up` alone, which stops the services in order), its stdout and stderr
    /// copied to stdout line by line behind the service's prefix.
    pub fn spawn(
        name: &str,
        index: usize,
        mut command: Command,
        prefixes: Prefixes,
    ) -> io::Result<Self> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()?;
        let tail = Arc::new(Mutex::new(VecDeque::with_capacity(TAIL_LINES)));
        let prefix = prefixes.prefix(name, index);
        let mut pumps = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            pumps.push(pump(stdout, prefix.clone(), tail.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            pumps.push(pump(stderr, prefix, tail.clone()));
        }
        Ok(Running {
            name: name.to_owned(),
            child,
            tail,
            pumps,
        })
    }

    /// Its exit status, once it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits until every output answers: `GET /_/health` is 200 on an HTTP server wire,
    /// a connection is accepted on any other. Fails when the process exits, when a signal
    /// asks `harness up` to stop, or after `bound`.
    pub fn wait_ready(
        &mut self,
        outputs: &[LocalOutput],
        signals: &Signals,
        bound: Duration,
    ) -> Result<(), NotReady> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                return Err(NotReady::Exited(status));
            }
            if signals.stop() {
                return Err(NotReady::Stopped);
            }
            if outputs.iter().all(is_ready) {
                return Ok(());
            }
            if started.elapsed() > bound {
                return Err(NotReady::TimedOut(bound));
            }
            thread::sleep(POLL);
        }
    }

    /// Sends SIGTERM (the service drains and exits), waits for it to exit, and SIGKILLs
    /// it after `grace` or on a second signal. Its last lines are all printed when this
    /// returns.
    pub fn stop(&mut self, grace: Duration, signals: &Signals) -> io::Result<ExitStatus> {
        if self.exited().is_none() {
            let pid = rustix::process::Pid::from_child(&self.child);
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            let asked = Instant::now();
            while self.exited().is_none() && asked.elapsed() < grace && !signals.kill() {
                thread::sleep(POLL);
            }
            if self.exited().is_none() {
                self.child.kill()?;
            }
        }
        let status = self.child.wait()?;
        for pump in self.pumps.drain(..) {
            let _ = pump.join();
        }
        Ok(status)
    }

    /// Its last lines of output, oldest first (all of them once it has stopped).
    pub fn tail(&self) -> Vec<String> {
        let tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        tail.iter().cloned().collect()
    }
}

/// Copies `pipe` to stdout line by line behind `prefix`, keeping the last lines.
fn pump(
    pipe: impl Read + Send + 'static,
    prefix: String,
    tail: Arc<Mutex<VecDeque<String>>>,
) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut bytes = Vec::new();
        while matches!(reader.read_until(b'\n', &mut bytes), Ok(n) if n > 0) {
            let line = String::from_utf8_lossy(&bytes).trim_end().to_owned();
            bytes.clear();
            // One write per line under the lock: lines of two services never mix.
            let _ = writeln!(io::stdout().lock(), "{prefix}{line}");
            let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
            if tail.len() == TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    })
}

fn is_ready(output: &LocalOutput) -> bool {
    let Some(address) = output
        .address
        .to_string()
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
    else {
        return false;
    };
    if output.config_type == HTTP_SERVER_TYPE {
        health_status(address) == Some(200)
    } else {
        TcpStream::connect_timeout(&address, PROBE_TIMEOUT).is_ok()
    }
}

/// The status code of `GET /_/health` on `address`, `None` when nothing answers in time.
fn health_status(address: SocketAddr) -> Option<u16> {
    // One client for every probe, on a runtime of its own: `harness up` runs on threads.
    static PROBE: LazyLock<Option<(tokio::runtime::Runtime, reqwest::Client)>> =
        LazyLock::new(|| {
            crate::install_tls_provider();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            // The client's connector takes the runtime it is built in.
            let _runtime = runtime.enter();
            // The services are on this machine: never through a proxy of the environment.
            let client = reqwest::Client::builder()
                .no_proxy()
                .timeout(PROBE_TIMEOUT)
                .build()
                .ok()?;
            Some((runtime, client))
        });
    let (runtime, client) = PROBE.as_ref()?;
    let url = format!("http://{address}{HEALTH_PATH}");
    let response = runtime.block_on(async { client.get(url).send().await });
    response.ok().map(|response| response.status().as_u16())
}

#[cfg(test)]
mod probe_tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;

    use super::*;

    /// A server that answers one request with `status`, and the request it received.
    fn answer_once(status: &'static str) -> (SocketAddr, thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = vec![0u8; 4096];
            let n = stream.read(&mut request).unwrap();
            write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
            .unwrap();
            String::from_utf8_lossy(&request[..n]).into_owned()
        });
        (address, server)
    }

    #[test]
    fn the_probe_reads_the_status_of_the_health_path() {
        for (status, code) in [("200 OK", 200), ("503 Service Unavailable", 503)] {
            let (address, server) = answer_once(status);
            assert_eq!(health_status(address), Some(code));
            let request = server.join().unwrap();
            assert!(
                request.starts_with(&format!("GET {HEALTH_PATH} HTTP/1.1\r\n")),
                "{request}"
            );
        }
    }

    #[test]
    fn nothing_listening_is_no_status() {
        let address = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        assert_eq!(health_status(address), None);
    }
}
