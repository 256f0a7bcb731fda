//! Names Kubernetes accepts, and the content hash in ConfigMap and Secret names.
//!
//! Each check returns the reason a value is refused, in words a user can act on; the
//! caller says which input the value came from.

use sha2::{Digest, Sha256};

/// Longest DNS-1123 / DNS-1035 label: Service, namespace and port-less names.
pub const LABEL_MAX: usize = 63;
/// Longest DNS-1123 subdomain: names of most objects, and domains.
pub const SUBDOMAIN_MAX: usize = 253;
/// Longest container or Service port name (an IANA service name).
pub const PORT_NAME_MAX: usize = 15;

/// The first 8 hex digits of the SHA-256 of `content`: the suffix that makes a
/// ConfigMap or Secret name change whenever its content does.
pub fn content_hash(content: &str) -> String {
    let digest = Sha256::digest(content.as_bytes());
    let mut hex = String::with_capacity(8);
    for byte in &digest[..4] {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// A DNS-1123 label: at most 63 lower-case letters, digits and `-`, starting and
/// ending with a letter or digit. Names of namespaces and instances.
pub fn check_dns1123_label(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("it is empty".into());
    }
    if value.len() > LABEL_MAX {
        return Err(format!(
            "it has {} characters, at most {LABEL_MAX} are allowed",
            value.len()
        ));
    }
    if let Some(bad) = value.chars().find(|&c| !is_lower_alnum(c) && c != '-') {
        return Err(format!(
            "it contains {bad:?}; only lower-case letters, digits and '-' are allowed"
        ));
    }
    if value.starts_with('-') || value.ends_with('-') {
        return Err("it must start and end with a lower-case letter or a digit".into());
    }
    Ok(())
}

/// A DNS-1035 label: a DNS-1123 label that starts with a letter. Service names.
pub fn check_dns1035_label(value: &str) -> Result<(), String> {
    check_dns1123_label(value)?;
    if !value.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("it must start with a lower-case letter".into());
    }
    Ok(())
}

/// A DNS-1123 subdomain: DNS-1123 labels joined by dots, at most 253 characters.
pub fn check_dns1123_subdomain(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("it is empty".into());
    }
    if value.len() > SUBDOMAIN_MAX {
        return Err(format!(
            "it has {} characters, at most {SUBDOMAIN_MAX} are allowed",
            value.len()
        ));
    }
    for label in value.split('.') {
        check_dns1123_label(label).map_err(|reason| {
            if label.is_empty() {
                "it has an empty label (a leading, trailing or doubled '.')".to_owned()
            } else {
                format!("its label {label:?} is not valid: {reason}")
            }
        })?;
    }
    Ok(())
}

/// A domain for `--base-domain`: a DNS-1123 subdomain with at least two labels, the
/// last of which is not all digits (so an IP address is refused).
pub fn check_domain(value: &str) -> Result<(), String> {
    check_dns1123_subdomain(value)?;
    let labels: Vec<&str> = value.split('.').collect();
    if labels.len() < 2 {
        return Err("it has a single label; a domain looks like acme.dev".into());
    }
    if labels
        .last()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err("its last label is a number; a domain looks like acme.dev".into());
    }
    Ok(())
}

/// A label value that is also an image tag: 1 to 63 letters, digits, `_`, `.`, `-`,
/// starting and ending with a letter or digit. The deploy VERSION.
pub fn check_version(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("it is empty".into());
    }
    if value.len() > LABEL_MAX {
        return Err(format!(
            "it has {} characters, at most {LABEL_MAX} are allowed (it is a label value)",
            value.len()
        ));
    }
    if let Some(bad) = value
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "it contains {bad:?}; only letters, digits, '_', '.' and '-' are allowed"
        ));
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !alnum(value.chars().next()) || !alnum(value.chars().last()) {
        return Err("it must start and end with a letter or a digit".into());
    }
    Ok(())
}

/// A port name (IANA service name): at most 15 lower-case letters, digits and `-`,
/// with at least one letter, no leading, trailing or doubled `-`.
pub fn check_port_name(value: &str) -> Result<(), String> {
    if value.len() > PORT_NAME_MAX {
        return Err(format!(
            "it has {} characters, at most {PORT_NAME_MAX} are allowed",
            value.len()
        ));
    }
    check_dns1123_label(value)?;
    if value.contains("--") {
        return Err("it contains \"--\"".into());
    }
    if !value.chars().any(|c| c.is_ascii_lowercase()) {
        return Err("it has no letter".into());
    }
    Ok(())
}

/// An image repository without tag or digest: `registry.acme.dev/team/kirk`.
pub fn check_repository(value: &str) -> Result<(), String> {
    match value
        .chars()
        .find(|c| c.is_whitespace() || c.is_ascii_uppercase() || *c == '@')
    {
        Some(bad) => Err(format!(
            "it contains {bad:?}; a repository is lower-case, without tag or digest"
        )),
        None => Ok(()),
    }
}

/// A wire's field name as it appears in object and port names: `user_db` -> `user-db`.
pub fn wire_slug(field: &str) -> String {
    field
        .chars()
        .map(|c| match c {
            '_' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The cluster domain of Service names: `NAME.NS.svc.cluster.local`.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// A Kubernetes Service named by a host, the way cluster DNS resolves it for a pod in
/// `namespace`: `NAME`, `NAME.NS`, `NAME.NS.svc` or `NAME.NS.svc.cluster.local`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceHost {
    pub name: String,
    pub namespace: String,
}

impl ServiceHost {
    /// The Service `host` names from a pod in `namespace`; `None` for an IP address or
    /// a name of another form (a host outside the cluster).
    pub fn parse(host: &str, namespace: &str) -> Option<ServiceHost> {
        if host.parse::<std::net::IpAddr>().is_ok() {
            return None;
        }
        let host = host.strip_suffix('.').unwrap_or(host);
        let labels: Vec<&str> = host.split('.').collect();
        let (name, namespace) = match labels.as_slice() {
            [name] => (*name, namespace),
            [name, ns] | [name, ns, "svc"] => (*name, *ns),
            [name, ns, "svc", rest @ ..] if rest.join(".") == CLUSTER_DOMAIN => (*name, *ns),
            _ => return None,
        };
        if check_dns1123_label(name).is_err() || check_dns1123_label(namespace).is_err() {
            return None;
        }
        Some(ServiceHost {
            name: name.to_owned(),
            namespace: namespace.to_owned(),
        })
    }

    /// `NAME.NS.svc.cluster.local`.
    pub fn fqdn(&self) -> String {
        format!("{}.{}.svc.{CLUSTER_DOMAIN}", self.name, self.namespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_hosts_resolve_like_cluster_dns() {
        let host = |name: &str, ns: &str| {
            Some(ServiceHost {
                name: name.into(),
                namespace: ns.into(),
            })
        };
        assert_eq!(ServiceHost::parse("scotty", "prod"), host("scotty", "prod"));
        assert_eq!(
            ServiceHost::parse("scotty.eng", "prod"),
            host("scotty", "eng")
        );
        assert_eq!(
            ServiceHost::parse("scotty.eng.svc", "prod"),
            host("scotty", "eng")
        );
        assert_eq!(
            ServiceHost::parse("scotty.eng.svc.cluster.local", "prod"),
            host("scotty", "eng")
        );
        for outside in [
            "10.0.0.7",
            "::1",
            "db.eu-1.acme.net",
            "scotty.eng.svc.other",
            "Scotty",
        ] {
            assert_eq!(ServiceHost::parse(outside, "prod"), None, "{outside}");
        }
        assert_eq!(
            host("scotty", "eng").unwrap().fqdn(),
            "scotty.eng.svc.cluster.local"
        );
    }

    #[test]
    fn hash_is_the_sha256_prefix() {
        // sha256("") = e3b0c442...
        assert_eq!(content_hash(""), "e3b0c442");
        assert_eq!(content_hash("abc"), "ba7816bf");
    }

    #[test]
    fn labels() {
        assert!(check_dns1123_label("kirk").is_ok());
        assert!(check_dns1123_label("0-a").is_ok());
        assert!(check_dns1123_label(&"a".repeat(63)).is_ok());
        assert!(check_dns1123_label(&"a".repeat(64)).is_err());
        assert!(check_dns1123_label("Blue").is_err());
        assert!(check_dns1123_label("a_b").is_err());
        assert!(check_dns1123_label("-a").is_err());
        assert!(check_dns1123_label("a-").is_err());
        assert!(check_dns1123_label("").is_err());
        assert!(check_dns1035_label("9lives").is_err());
        assert!(check_dns1035_label("lives9").is_ok());
    }

    #[test]
    fn domains() {
        assert!(check_domain("acme.dev").is_ok());
        assert!(check_domain("apps.eu-1.acme.dev").is_ok());
        for bad in [
            "acme",
            "Acme.dev",
            "acme..dev",
            ".acme.dev",
            "acme.dev.",
            "*.acme.dev",
            "10.0.0.1",
            "https://acme.dev",
            "acme.dev/x",
            "ac_me.dev",
        ] {
            assert!(check_domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions() {
        for good in ["v1", "1.2.3", "2024-01-01_rc.1", "A"] {
            assert!(check_version(good).is_ok(), "{good}");
        }
        for bad in ["", "-v1", "v1.", "1.0+build", "a/b", "v 1", &"1".repeat(64)] {
            assert!(check_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn port_names() {
        assert!(check_port_name("http-server").is_ok());
        assert!(check_port_name("http-prometheus").is_ok());
        assert!(check_port_name("grpc-admin-server").is_err());
        assert!(check_port_name("tcp--x").is_err());
        assert!(check_port_name("tcp-X").is_err());
        assert_eq!(wire_slug("user_db"), "user-db");
    }
}
