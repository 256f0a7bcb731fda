//! Host and port of a wire's peer or bind: the one reader of `harness.net.Socket` (and of
//! the messages shaped like it, such as `harness.grpc.Endpoint`) and of connection URLs.
//! The runtime's wires and `harness kube-gen` both read sockets here, so they agree on
//! every rule: a host is never empty, a port is 1 to 65535, a URL without a port takes its
//! scheme's default.

use std::net::IpAddr;

use crate::proto::harness::net::Socket;

/// A host and port read from a configuration value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketAddress {
    pub host: String,
    pub port: u16,
}

/// Why a wire's socket could not be read. `field` is the path of the socket: inside the
/// wire's message for the runtime (`bind`), from the configuration's root for kube-gen
/// (`server.bind`). A URL is never quoted, since it may hold a password.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SocketError {
    #[error("{field} is not set")]
    NotSet { field: String },
    #[error("{field}.host is empty")]
    EmptyHost { field: String },
    #[error("{field}.port: {port} is not a TCP port (1 to 65535)")]
    BadPort { field: String, port: u32 },
    #[error("{field}: not a URL: {reason}")]
    NotUrl { field: String, reason: String },
    #[error("{field}: the URL has no host")]
    NoHost { field: String },
    #[error("{field}: the URL has no port and its scheme `{scheme}` has no default port")]
    NoPort { field: String, scheme: String },
}

impl SocketAddress {
    /// The address of the socket in field `field`; `None` (not set) is an error, for the
    /// wires that cannot run without it.
    pub fn from_socket(field: &str, socket: Option<&Socket>) -> Result<Self, SocketError> {
        let socket = socket.ok_or_else(|| SocketError::NotSet {
            field: field.to_owned(),
        })?;
        Self::from_parts(field, &socket.host, socket.port)
    }

    /// An address from a host and a port as the proto holds them (the port a `uint32`).
    pub fn from_parts(field: &str, host: &str, port: u32) -> Result<Self, SocketError> {
        if host.is_empty() {
            return Err(SocketError::EmptyHost {
                field: field.to_owned(),
            });
        }
        let port = u16::try_from(port)
            .ok()
            .filter(|port| *port != 0)
            .ok_or_else(|| SocketError::BadPort {
                field: field.to_owned(),
                port,
            })?;
        Ok(SocketAddress {
            host: host.to_owned(),
            port,
        })
    }

    /// Host and port of a connection URL such as `postgres://user:pass@db:5432/app`; a URL
    /// without a port takes its scheme's [`default_port`].
    pub fn from_url(field: &str, text: &str) -> Result<Self, SocketError> {
        let url = url::Url::parse(text).map_err(|err| SocketError::NotUrl {
            field: field.to_owned(),
            reason: err.to_string(),
        })?;
        let host = match url.host() {
            Some(url::Host::Domain(domain)) if !domain.is_empty() => domain.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => {
                return Err(SocketError::NoHost {
                    field: field.to_owned(),
                });
            }
        };
        let port = url
            .port()
            .or_else(|| default_port(url.scheme()))
            .ok_or_else(|| SocketError::NoPort {
                field: field.to_owned(),
                scheme: url.scheme().to_owned(),
            })?;
        Ok(SocketAddress { host, port })
    }

    /// The host as an IP address, when it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// `localhost` or a loopback IP: only the machine (or pod) itself reaches it.
    pub fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost") || self.ip().is_some_and(|ip| ip.is_loopback())
    }

    /// `HOST:PORT`, with brackets around an IPv6 host.
    pub fn authority(&self) -> String {
        match self.ip() {
            Some(IpAddr::V6(ip)) => format!("[{ip}]:{}", self.port),
            _ => format!("{}:{}", self.host, self.port),
        }
    }
}

impl std::fmt::Display for SocketAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.authority())
    }
}

/// Default ports of the URL schemes harness wires connect to.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" | "postgresql" => Some(5432),
        "mysql" | "mariadb" => Some(3306),
        "redis" => Some(6379),
        "rediss" => Some(6380),
        "nats" | "tls" => Some(4222),
        "amqp" => Some(5672),
        "amqps" => Some(5671),
        "mqtt" => Some(1883),
        "mqtts" => Some(8883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_needs_a_host_and_a_port_in_range() {
        let socket = |host: &str, port| Socket {
            host: host.to_owned(),
            port,
        };
        assert_eq!(
            SocketAddress::from_socket("bind", Some(&socket("0.0.0.0", 80))).unwrap(),
            SocketAddress {
                host: "0.0.0.0".into(),
                port: 80
            }
        );
        assert_eq!(
            SocketAddress::from_socket("bind", None).unwrap_err(),
            SocketError::NotSet {
                field: "bind".into()
            }
        );
        assert!(matches!(
            SocketAddress::from_socket("bind", Some(&socket("", 80))),
            Err(SocketError::EmptyHost { .. })
        ));
        for port in [0, 65536] {
            assert!(matches!(
                SocketAddress::from_socket("bind", Some(&socket("db", port))),
                Err(SocketError::BadPort { .. })
            ));
        }
    }

    #[test]
    fn a_url_gives_its_host_and_port_or_the_scheme_default() {
        let url = |text| SocketAddress::from_url("value", text);
        assert_eq!(url("postgres://u:p@db:6543/app").unwrap().port, 6543);
        assert_eq!(url("postgres://u:p@db/app").unwrap().port, 5432);
        assert_eq!(url("nats://nats.infra").unwrap().host, "nats.infra");
        assert_eq!(url("http://[::1]:8080").unwrap().authority(), "[::1]:8080");
        let error = url("weird://u:hunter2@db/x").unwrap_err();
        assert!(matches!(error, SocketError::NoPort { .. }));
        assert!(!error.to_string().contains("hunter2"));
        assert!(matches!(url("not a url"), Err(SocketError::NotUrl { .. })));
    }

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "::1", "127.1.2.3"] {
            let address = SocketAddress {
                host: host.into(),
                port: 1,
            };
            assert!(address.is_loopback(), "{host}");
        }
        for host in ["db", "10.0.0.1", "0.0.0.0"] {
            let address = SocketAddress {
                host: host.into(),
                port: 1,
            };
            assert!(!address.is_loopback(), "{host}");
        }
    }
}
