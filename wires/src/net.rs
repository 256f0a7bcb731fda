//! Binding server sockets.

use harness::proto::harness::net::Socket;
use harness::runtime::WireError;
use harness::socket::SocketAddress;
use tokio::net::TcpListener;

/// Binds `bind`, with an error that names the address (`127.0.0.1:8080: Address already in use`).
pub(crate) async fn bind(bind: Option<&Socket>) -> Result<TcpListener, WireError> {
    let address = SocketAddress::from_socket("bind", bind).map_err(WireError::config)?;
    TcpListener::bind((address.host.as_str(), address.port))
        .await
        .map_err(|error| WireError::other(format!("cannot listen on {address}: {error}")))
}

/// Whether a request names the server by address, as harness decides: no host,
/// `localhost`, or an IP literal (a probe, a sidecar); a name is public: it was routed by
/// a gateway or an ingress.
#[cfg(any(feature = "http", test))]
pub(crate) fn is_internal_host(host: Option<&str>) -> bool {
    let Some(host) = host else { return true };
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [::1]:8080
        rest.split(']').next().unwrap_or_default()
    } else {
        match host.rsplit_once(':') {
            Some((name, port))
                if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) =>
            {
                name
            }
            _ => host,
        }
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok()
}

/// The process's open-file limit (the soft `RLIMIT_NOFILE`); `None` when unlimited or
/// unknown.
#[cfg(feature = "http")]
pub(crate) fn open_file_limit() -> Option<usize> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct it is given and reads nothing else.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0
            || limit.rlim_cur == libc::RLIM_INFINITY
        {
            return None;
        }
        usize::try_from(limit.rlim_cur).ok()
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::is_internal_host;

    #[test]
    fn internal_hosts_are_ips_and_localhost() {
        for host in [
            None,
            Some("localhost"),
            Some("localhost:80"),
            Some("10.0.0.7:8080"),
            Some("127.0.0.1"),
            Some("[::1]:8080"),
            Some("::1"),
        ] {
            assert!(is_internal_host(host), "{host:?}");
        }
        for host in [
            Some("kirk.acme.dev"),
            Some("kirk.acme.dev:443"),
            Some("kirk"),
        ] {
            assert!(!is_internal_host(host), "{host:?}");
        }
    }
}
