//! Helpers shared by the wire tests (each test binary includes what it uses).
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// A TCP proxy in front of a server of the machine, that the test can cut.
pub struct Proxy {
    pub port: u16,
    open: Arc<AtomicBool>,
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `127.0.0.1:target`.
    pub async fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        tokio::spawn(forward(listener, target, open.clone()));
        Proxy { port, open }
    }

    /// Cuts every connection and refuses new ones (false), or forwards again (true).
    pub fn set_open(&self, open: bool) {
        self.open.store(open, Ordering::SeqCst);
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

/// A name no other test run uses: `name_PID_N`.
pub fn unique(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{name}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Polls `ready` every 50 ms until it holds, at most `tries` times; false if it never does.
pub async fn eventually<F, Fut>(tries: usize, mut ready: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..tries {
        if ready().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
