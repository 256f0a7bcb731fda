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

/// Whether a request's host is internal, as harness decides: no host, `localhost`, or an
/// IP address (a name is public: it came through a load balancer or an ingress).
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
