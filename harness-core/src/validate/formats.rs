//! The well-known formats of strings and bytes: email, hostname, IP, URI, UUID, HTTP
//! headers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use prost_reflect::DynamicMessage;
use url::Url;

use super::rule_fields::{field, flag};

/// One of `StringRules.well_known`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Email,
    Hostname,
    Ip,
    Ipv4,
    Ipv6,
    Uri,
    UriRef,
    Address,
    Uuid,
    HeaderName,
    HeaderValue,
    /// `well_known_regex` with `strict: false`, for names and values alike.
    HeaderText,
}

impl Format {
    pub fn compile(rules: &DynamicMessage) -> Option<Self> {
        let flags = [
            ("email", Format::Email),
            ("hostname", Format::Hostname),
            ("ip", Format::Ip),
            ("ipv4", Format::Ipv4),
            ("ipv6", Format::Ipv6),
            ("uri", Format::Uri),
            ("uri_ref", Format::UriRef),
            ("address", Format::Address),
            ("uuid", Format::Uuid),
        ];
        if let Some((_, format)) = flags.into_iter().find(|(name, _)| flag(rules, name)) {
            return Some(format);
        }
        let strict = rules
            .get_field_by_name("strict")
            .and_then(|strict| strict.as_bool())
            .unwrap_or(true);
        // KnownRegex: 1 is HTTP_HEADER_NAME, 2 HTTP_HEADER_VALUE; UNKNOWN checks nothing.
        match field(rules, "well_known_regex").and_then(|known| known.as_enum_number()) {
            Some(1 | 2) if !strict => Some(Format::HeaderText),
            Some(1) => Some(Format::HeaderName),
            Some(2) => Some(Format::HeaderValue),
            _ => None,
        }
    }

    pub fn rule(self) -> &'static str {
        match self {
            Format::Email => "string.email",
            Format::Hostname => "string.hostname",
            Format::Ip => "string.ip",
            Format::Ipv4 => "string.ipv4",
            Format::Ipv6 => "string.ipv6",
            Format::Uri => "string.uri",
            Format::UriRef => "string.uri_ref",
            Format::Address => "string.address",
            Format::Uuid => "string.uuid",
            Format::HeaderName | Format::HeaderValue | Format::HeaderText => {
                "string.well_known_regex"
            }
        }
    }

    pub fn expected(self) -> &'static str {
        match self {
            Format::Email => "must be a valid email address",
            Format::Hostname => "must be a valid hostname",
            Format::Ip => "must be a valid IP address",
            Format::Ipv4 => "must be a valid IPv4 address",
            Format::Ipv6 => "must be a valid IPv6 address",
            Format::Uri => "must be an absolute URI",
            Format::UriRef => "must be a valid URI reference",
            Format::Address => "must be a valid hostname or IP address",
            Format::Uuid => "must be a valid UUID",
            Format::HeaderName => "must be a valid HTTP header name",
            Format::HeaderValue => {
                "must be a valid HTTP header value, without control characters other than tab"
            }
            Format::HeaderText => "must not contain NUL, CR or LF characters",
        }
    }

    pub fn accepts(self, text: &str) -> bool {
        match self {
            Format::Email => is_email(text),
            Format::Hostname => is_hostname(text),
            Format::Ip => text.parse::<IpAddr>().is_ok(),
            Format::Ipv4 => text.parse::<Ipv4Addr>().is_ok(),
            Format::Ipv6 => text.parse::<Ipv6Addr>().is_ok(),
            Format::Uri => is_uri(text),
            Format::UriRef => is_uri_ref(text),
            Format::Address => is_hostname(text) || text.parse::<IpAddr>().is_ok(),
            Format::Uuid => is_uuid(text),
            Format::HeaderName => is_header_name(text),
            Format::HeaderValue => !text
                .chars()
                .any(|c| matches!(c, '\0'..='\x08' | '\x0A'..='\x1F' | '\x7F')),
            Format::HeaderText => !text.contains(['\0', '\r', '\n']),
        }
    }
}

/// One of `BytesRules.well_known`: an address in network order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpBytes {
    Ip,
    Ipv4,
    Ipv6,
}

impl IpBytes {
    pub fn compile(rules: &DynamicMessage) -> Option<Self> {
        [
            ("ip", IpBytes::Ip),
            ("ipv4", IpBytes::Ipv4),
            ("ipv6", IpBytes::Ipv6),
        ]
        .into_iter()
        .find(|(name, _)| flag(rules, name))
        .map(|(_, ip)| ip)
    }

    pub fn rule(self) -> &'static str {
        match self {
            IpBytes::Ip => "bytes.ip",
            IpBytes::Ipv4 => "bytes.ipv4",
            IpBytes::Ipv6 => "bytes.ipv6",
        }
    }

    pub fn expected(self) -> &'static str {
        match self {
            IpBytes::Ip => "must be an IP address of 4 or 16 bytes",
            IpBytes::Ipv4 => "must be an IPv4 address of 4 bytes",
            IpBytes::Ipv6 => "must be an IPv6 address of 16 bytes",
        }
    }

    pub fn accepts(self, bytes: &[u8]) -> bool {
        match self {
            IpBytes::Ip => matches!(bytes.len(), 4 | 16),
            IpBytes::Ipv4 => bytes.len() == 4,
            IpBytes::Ipv6 => bytes.len() == 16,
        }
    }
}

/// PGV's hostname: at most 253 characters, an optional final dot, labels of 1 to 63
/// letters, digits and inner hyphens. All-numeric labels are accepted, as in PGV.
pub(crate) fn is_hostname(host: &str) -> bool {
    if host.len() > 253 {
        return false;
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    host.split('.').all(|label| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
    })
}

/// An email address as Go's `net/mail.ParseAddress` reads it, then PGV's limits: the
/// address at most 254 bytes, the local part at most 64, the domain a hostname.
pub(crate) fn is_email(text: &str) -> bool {
    let Some(address) = angle_address(text.trim()) else {
        return false;
    };
    let Some((local, domain)) = split_address(address) else {
        return false;
    };
    local.len() <= 64
        && local.len() + 1 + domain.len() <= 254
        && is_dot_atom(domain)
        && is_hostname(domain)
}

/// The `addr-spec` of `Name <addr-spec>` or `<addr-spec>`, or `text` itself.
fn angle_address(text: &str) -> Option<&str> {
    let Some(inner) = text.strip_suffix('>') else {
        return Some(text);
    };
    let open = inner.rfind('<')?;
    is_phrase(inner[..open].trim()).then(|| inner[open + 1..].trim())
}

/// A display name: words that are atoms (dots allowed, as Go does) or quoted strings.
fn is_phrase(mut text: &str) -> bool {
    loop {
        text = text.trim_start();
        if text.is_empty() {
            return true;
        }
        if text.starts_with('"') {
            match quoted_end(text) {
                Some(end) => text = &text[end..],
                None => return false,
            }
        } else {
            let end = text
                .find(|c: char| !(is_atext(c) || c == '.'))
                .unwrap_or(text.len());
            if end == 0 {
                return false;
            }
            text = &text[end..];
        }
    }
}

/// The byte just past the quoted string `text` starts with.
fn quoted_end(text: &str) -> Option<usize> {
    let mut chars = text.char_indices().skip(1);
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return Some(index + 1),
            '\\' => {
                chars.next()?;
            }
            c if c.is_control() && c != '\t' => return None,
            _ => {}
        }
    }
    None
}

/// The local part (unquoted, as Go's `Address` holds it) and the domain of an `addr-spec`.
fn split_address(address: &str) -> Option<(String, &str)> {
    if address.starts_with('"') {
        let end = quoted_end(address)?;
        let domain = address[end..].strip_prefix('@')?;
        let quoted = &address[1..end - 1];
        let mut local = String::with_capacity(quoted.len());
        let mut chars = quoted.chars();
        while let Some(c) = chars.next() {
            local.push(if c == '\\' { chars.next()? } else { c });
        }
        Some((local, domain))
    } else {
        let (local, domain) = address.rsplit_once('@')?;
        is_dot_atom(local).then(|| (local.to_owned(), domain))
    }
}

/// RFC 5322 `atext`: printable characters but specials, non-ASCII included as in Go.
fn is_atext(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_graphic() && !"()<>[]:;@\\,.\"".contains(c)
    } else {
        !c.is_control() && !c.is_whitespace()
    }
}

fn is_dot_atom(text: &str) -> bool {
    text.split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

/// What Go's `net/url.Parse` refuses before parsing: control characters, and `%` not
/// followed by two hex digits outside the query. The `url` crate would strip or accept
/// them. Surrounding spaces, which the `url` crate trims, are refused too.
fn is_url_text(text: &str) -> bool {
    if text.bytes().any(|byte| byte < 0x20 || byte == 0x7F) || text.trim() != text {
        return false;
    }
    let (before_fragment, fragment) = text.split_once('#').unwrap_or((text, ""));
    let (path, _query) = before_fragment
        .split_once('?')
        .unwrap_or((before_fragment, ""));
    has_valid_escapes(path) && has_valid_escapes(fragment)
}

fn has_valid_escapes(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().all(|(index, byte)| {
        *byte != b'%'
            || bytes
                .get(index + 1..index + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    })
}

/// An absolute URI: with a scheme.
fn is_uri(text: &str) -> bool {
    is_url_text(text) && Url::parse(text).is_ok()
}

/// A URI or a relative reference, resolved against a base to check it.
fn is_uri_ref(text: &str) -> bool {
    static BASE: LazyLock<Url> =
        LazyLock::new(|| Url::parse("http://example.invalid/").expect("a valid base"));
    if !is_url_text(text) || text.starts_with(':') {
        return false;
    }
    match Url::parse(text) {
        Ok(_) => true,
        Err(url::ParseError::RelativeUrlWithoutBase) => BASE.join(text).is_ok(),
        Err(_) => false,
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex digits of either case, any version.
fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
}

/// An RFC 7230 token, with an optional leading `:` for HTTP/2 pseudo-headers. PGV's
/// pattern writes `+-.` in its class, a range that lets `,` in as well: kept.
fn is_header_name(text: &str) -> bool {
    let name = text.strip_prefix(':').unwrap_or(text);
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+,-.^_|~`".contains(&byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_follow_pgv() {
        for good in [
            "example.com",
            "example.com.",
            "a-b.c0",
            "localhost",
            "1.2.3.4",
        ] {
            assert!(is_hostname(good), "{good}");
        }
        let long_label = "a".repeat(64);
        let long_host = vec!["a".repeat(63); 5].join(".");
        for bad in [
            "",
            ".",
            "a..b",
            "-a.com",
            "a-.com",
            "a_b.com",
            "é.com",
            long_label.as_str(),
            long_host.as_str(),
        ] {
            assert!(!is_hostname(bad), "{bad}");
        }
    }

    #[test]
    fn emails_follow_go_net_mail_and_pgv() {
        for good in [
            "a@example.com",
            "first.last+tag@example.com",
            "Jane Doe <jane@example.com>",
            "\"Doe, Jane\" <jane@example.com>",
            "<jane@example.com>",
            "\"john doe\"@example.com",
        ] {
            assert!(is_email(good), "{good}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        for bad in [
            "",
            "a",
            "a@",
            "@example.com",
            "a@@example.com",
            "a..b@example.com",
            ".a@example.com",
            "a@exa_mple.com",
            "a@[127.0.0.1]",
            "a@example.com.",
            "Jane <jane@example.com",
            "Ja<ne <jane@example.com>",
            "a b@example.com",
            long_local.as_str(),
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn uris_and_references() {
        for good in [
            "http://example.com/a?b#c",
            "mailto:a@b.c",
            "urn:isbn:0451450523",
        ] {
            assert!(is_uri(good), "{good}");
            assert!(is_uri_ref(good), "{good}");
        }
        for relative in ["/a/b", "a/b?c", "//host/p", "#frag", "", "?q=%zz"] {
            assert!(!is_uri(relative), "{relative}");
            assert!(is_uri_ref(relative), "{relative}");
        }
        for bad in [
            "http://a b/",
            " http://a/",
            "http://a/\n",
            "http://a/%zz",
            "http://[::1",
        ] {
            assert!(!is_uri(bad), "{bad}");
            assert!(!is_uri_ref(bad), "{bad}");
        }
        assert!(!is_uri_ref("://a"));
    }

    #[test]
    fn uuids_and_header_names() {
        assert!(is_uuid("123e4567-e89b-12d3-A456-426614174000"));
        assert!(!is_uuid("123e4567e89b12d3a456426614174000"));
        assert!(!is_uuid("123e4567-e89b-12d3-a456-42661417400g"));
        assert!(is_header_name("content-type"));
        assert!(is_header_name(":authority"));
        assert!(is_header_name("a,b"), "PGV's class lets a comma in");
        assert!(!is_header_name(":"));
        assert!(!is_header_name("a b"));
        assert!(!is_header_name("a:b"));
    }
}
