//! Helpers shared by the wire tests (each test binary includes what it uses).
#![allow(dead_code)]

// One definition for both test crates, included as a file: neither depends on the other.
#[path = "../../../tests/src/helpers.rs"]
mod helpers;

#[allow(unused_imports)] // each test binary uses some of them
pub use helpers::{eventually, free_port, unique};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// A TCP proxy in front of a server of the machine, that the test can cut.
pub struct Proxy {
    pub port: u16,
    open: Arc<AtomicBool>,
    listening: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `127.0.0.1:target`.
    pub async fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let (listening, watch) = tokio::sync::watch::channel(true);
        tokio::spawn(listen(listener, port, target, open.clone(), watch));
        Proxy {
            port,
            open,
            listening,
        }
    }

    /// Cuts every connection and refuses new ones (false), or forwards again (true).
    pub fn set_open(&self, open: bool) {
        self.open.store(open, Ordering::SeqCst);
    }

    /// Cuts every connection and stops listening, so that connecting is refused as by a
    /// stopped server (false); listens on the same port again (true).
    pub fn set_listening(&self, listening: bool) {
        self.set_open(listening);
        self.listening.send_replace(listening);
    }
}

/// Forwards while the proxy listens; closes its socket while it does not.
async fn listen(
    listener: TcpListener,
    port: u16,
    target: u16,
    open: Arc<AtomicBool>,
    mut listening: tokio::sync::watch::Receiver<bool>,
) {
    let mut listener = Some(listener);
    loop {
        match listener.take() {
            Some(bound) => {
                tokio::select! {
                    _ = forward(bound, target, open.clone()) => return,
                    _ = listening.wait_for(|listening| !*listening) => {}
                }
            }
            None => {
                if listening.wait_for(|listening| *listening).await.is_err() {
                    return;
                }
                listener = Some(TcpListener::bind(("127.0.0.1", port)).await.unwrap());
            }
        }
    }
}

/// Forwards connections to `target` while `open`; when closed, cuts them and refuses new
/// ones.
async fn forward(listener: TcpListener, target: u16, open: Arc<AtomicBool>) {
    loop {
        let Ok((mut client, _)) = listener.accept().await else {
            return;
        };
        if !open.load(Ordering::SeqCst) {
            continue; // dropped: refused
        }
        let open = open.clone();
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(("127.0.0.1", target)).await else {
                return;
            };
            let (mut a, mut b) = (vec![0u8; 16384], vec![0u8; 16384]);
            loop {
                if !open.load(Ordering::SeqCst) {
                    return;
                }
                tokio::select! {
                    n = client.read(&mut a) => match n {
                        Ok(n) if n > 0 => { if server.write_all(&a[..n]).await.is_err() { return } }
                        _ => return,
                    },
                    n = server.read(&mut b) => match n {
                        Ok(n) if n > 0 => { if client.write_all(&b[..n]).await.is_err() { return } }
                        _ => return,
                    },
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        });
    }
}

/// Whether a server on 127.0.0.1:`port` accepts a connection within `tries` looks (50 ms
/// apart): a broker a test started is listening.
pub async fn listening(port: u16, tries: usize) -> bool {
    eventually(tries, || async move {
        TcpStream::connect(("127.0.0.1", port)).await.is_ok()
    })
    .await
}

/// Reads off a keep-alive connection until the response ends with `body` (at most 10 s a
/// read); the response as text.
pub async fn read_response(stream: &mut TcpStream, body: &[u8]) -> String {
    let mut response = Vec::new();
    let mut chunk = [0u8; 1024];
    while !response.ends_with(body) {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("no answer")
            .unwrap();
        assert!(
            n > 0,
            "closed before the response ended: {}",
            String::from_utf8_lossy(&response)
        );
        response.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8(response).unwrap()
}

/// The status and body of `GET path` with `Host: host` on a new connection; `None` while
/// nothing answers.
pub async fn http_get(port: u16, path: &str, host: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}
