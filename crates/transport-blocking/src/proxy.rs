//! An HTTP proxy: `CONNECT` tunnels for `https`, absolute-form requests for `http`.

use record_api::{TransportError, TransportErrorKind};

use crate::pool::Key;

/// An HTTP proxy, e.g. from `HTTPS_PROXY=http://user:password@proxy.example:3128`.
///
/// Its password is sent as `Proxy-Authorization: Basic …` and never shown: not in `Debug`, not
/// in an error.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    pub(crate) host: String,
    pub(crate) port: u16,
    authorization: Option<String>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl Proxy {
    /// Parses `http://[user[:password]@]host[:port]` (port 80 when absent). Only plain-HTTP
    /// proxies are supported; the error never quotes the text (it may hold a password).
    pub fn parse(text: &str) -> Result<Proxy, TransportError> {
        let refused = |why: &'static str| {
            TransportError::new(TransportErrorKind::Request, false).with_source(why)
        };
        let rest = match text.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some(_) => return Err(refused("only http:// proxies are supported")),
            None => text,
        };
        let authority = rest.split('/').next().unwrap_or("");
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority),
        };
        let (host, port) = host_and_port(host_port).ok_or_else(|| {
            refused("the proxy address is not host[:port] with a port from 1 to 65535")
        })?;
        let authorization = userinfo.map(|userinfo| {
            let decoded = percent_decode(userinfo);
            let (username, password) = decoded.split_once(':').unwrap_or((&decoded, ""));
            record_api::basic_credentials(username, password)
        });
        Ok(Proxy {
            host: host.to_ascii_lowercase(),
            port,
            authorization,
        })
    }

    /// The proxy the environment names for `key`, as curl reads it: `https_proxy` for `https`,
    /// `http_proxy` for `http`, else `all_proxy` (lower case first, then upper case); none for
    /// hosts in `no_proxy` and never for loopback hosts, however spelled. Upper-case
    /// `HTTP_PROXY` is ignored in a CGI program (`REQUEST_METHOD` set), where a request's
    /// `Proxy:` header would set it ("httpoxy"). A proxy that is named but cannot be used is an
    /// error, never a silent direct connection.
    pub(crate) fn from_env_for(key: &Key) -> Result<Option<Proxy>, TransportError> {
        Proxy::from_lookup(key, |name| std::env::var(name).ok())
    }

    /// [`from_env_for`](Self::from_env_for) with the environment read through `env`.
    fn from_lookup(
        key: &Key,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Proxy>, TransportError> {
        let cgi = env("REQUEST_METHOD").is_some();
        let var = |name: &str| {
            let lower = env(&name.to_ascii_lowercase());
            let upper = || match name {
                "HTTP_PROXY" if cgi => None,
                _ => env(name),
            };
            lower
                .or_else(upper)
                .filter(|value| !value.trim().is_empty())
        };
        if record_api::is_loopback_host(&key.host)
            || var("NO_PROXY").is_some_and(|list| excluded(&list, &key.host, key.port))
        {
            return Ok(None);
        }
        let scheme = if key.secure {
            "HTTPS_PROXY"
        } else {
            "HTTP_PROXY"
        };
        let Some(text) = var(scheme).or_else(|| var("ALL_PROXY")) else {
            return Ok(None);
        };
        Proxy::parse(&text).map(Some).map_err(|error| {
            TransportError::new(TransportErrorKind::Connect, false).with_source(format!(
                "the proxy the environment names cannot be used ({})",
                std::error::Error::source(&error).map_or(String::new(), ToString::to_string)
            ))
        })
    }

    /// The `Proxy-Authorization` header line, if any.
    pub(crate) fn authorization_line(&self) -> String {
        match &self.authorization {
            Some(value) => format!("proxy-authorization: {value}\r\n"),
            None => String::new(),
        }
    }
}

/// The host and port of `host[:port]` (port 80 when absent): a name, an IPv4 address or an
/// IPv6 address in brackets, and a decimal port from 1 to 65535.
fn host_and_port(text: &str) -> Option<(&str, u16)> {
    let (host, port) = record_api::split_host_port(text)?;
    let name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
    if !host.starts_with('[') && !host.bytes().all(name) {
        return None;
    }
    let port = match port {
        None => 80,
        Some(digits) => digits.parse::<u16>().ok().filter(|&port| port != 0)?,
    };
    Some((host, port))
}

/// Whether `host` (port `port`) is in a `no_proxy` list, as curl reads it: `*` for every host;
/// a name for itself and its subdomains (a leading `.` changes nothing); an IP address or a
/// CIDR range for the addresses in it, never by text; an entry with `:port` only for that
/// port.
fn excluded(list: &str, host: &str, port: u16) -> bool {
    // An address in any spelling is matched as an address, never by its text.
    let address = record_api::host_address(host);
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    list.split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let (entry, entry_port) = split_port(entry);
            if entry_port.is_some_and(|entry_port| entry_port != port) {
                return false;
            }
            match (address, parse_range(entry)) {
                (Some(address), Some((network, bits))) => in_range(address, network, bits),
                (None, None) => {
                    let name = entry.trim_start_matches('.');
                    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
                    !name.is_empty()
                        && (host == name
                            || host
                                .strip_suffix(name.as_str())
                                .is_some_and(|rest| rest.ends_with('.')))
                }
                _ => false,
            }
        })
}

/// An entry's port, when it has one: `name:port`, `1.2.3.4:port`, `[::1]:port`.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(inner) = entry.strip_prefix('[') {
        return match inner.split_once("]:") {
            Some((address, port)) => (address, port.parse().ok()),
            None => (inner.trim_end_matches(']'), None),
        };
    }
    match entry.rsplit_once(':') {
        // An IPv6 address without brackets has several colons and no port.
        Some((name, port)) if !name.contains(':') => (name, port.parse().ok()),
        _ => (entry, None),
    }
}

/// An IP address or a CIDR range: the network and its prefix length.
fn parse_range(entry: &str) -> Option<(std::net::IpAddr, u32)> {
    let (address, bits) = match entry.split_once('/') {
        Some((address, bits)) => (address, Some(bits.parse::<u32>().ok()?)),
        None => (entry, None),
    };
    let address = address.parse::<std::net::IpAddr>().ok()?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((address, bits))
}

fn in_range(address: std::net::IpAddr, network: std::net::IpAddr, bits: u32) -> bool {
    use std::net::IpAddr;
    let prefix = |value: u128, width: u32| match width - bits {
        shift if shift >= 128 => 0,
        shift => value >> shift,
    };
    match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            prefix(u32::from(a).into(), 32) == prefix(u32::from(n).into(), 32)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => prefix(u128::from(a), 128) == prefix(u128::from(n), 128),
        _ => false,
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(host: &str, secure: bool) -> Key {
        Key {
            secure,
            host: host.to_owned(),
            port: 443,
        }
    }

    #[test]
    fn proxies_parse_and_hide_their_password() {
        let proxy = Proxy::parse("http://me:p%40ss@Proxy.Example:3128/").unwrap();
        assert_eq!((proxy.host.as_str(), proxy.port), ("proxy.example", 3128));
        assert_eq!(
            proxy.authorization_line(),
            "proxy-authorization: Basic bWU6cEBzcw==\r\n"
        );
        assert!(!format!("{proxy:?}").contains("bWU6"));
        assert_eq!(Proxy::parse("proxy.example").unwrap().port, 80);
        for bad in [
            "socks5://h:1",
            "https://h:1",
            "http://:1",
            "http://user:secret@",
        ] {
            let error = Proxy::parse(bad).unwrap_err();
            assert!(!format!("{error:?}").contains("secret"));
        }
    }

    #[test]
    fn no_proxy_and_loopback_are_never_proxied() {
        assert!(excluded("example.org, .internal", "api.example.org", 443));
        assert!(excluded(".internal", "db.internal", 443));
        assert!(excluded("*", "anything", 443));
        assert!(!excluded("example.org", "example.com", 443));
        assert!(
            !excluded("ample.org", "example.org", 443),
            "suffixes end at a dot"
        );
        assert!(
            Proxy::from_env_for(&key("127.0.0.1", true))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn no_proxy_reads_ranges_ports_and_addresses_as_curl_does() {
        assert!(excluded("10.0.0.0/8", "10.20.30.40", 443));
        assert!(!excluded("10.0.0.0/8", "11.0.0.1", 443));
        assert!(excluded("fd00::/8", "[fd12::1]", 443));
        assert!(excluded("api.example.org:8443", "api.example.org", 8443));
        assert!(!excluded("api.example.org:8443", "api.example.org", 443));
        assert!(excluded("192.168.1.5:8080", "192.168.1.5", 8080));
        assert!(excluded("[::1]:8080", "[::1]", 8080));
        // Addresses never match by text: "1" and ".1" are names, 127.1 an address.
        assert!(!excluded("1, .1", "127.1", 443));
        assert!(!excluded("1, .1", "2130706433", 443));
        assert!(!excluded("1, .1", "10.0.0.1", 443));
    }

    fn proxy_for(
        host: &str,
        secure: bool,
        env: &[(&str, &str)],
    ) -> Result<Option<Proxy>, TransportError> {
        let key = Key {
            secure,
            host: host.to_owned(),
            port: if secure { 443 } else { 80 },
        };
        Proxy::from_lookup(&key, |name| {
            env.iter()
                .find(|(set, _)| *set == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn a_proxy_that_cannot_be_used_is_an_error_never_a_direct_connection() {
        for bad in [
            "socks5://proxy:1080",
            "https://proxy:3128",
            "http://proxy:99999",
            "http://proxy:65536",
            "http://proxy:0x50",
            "::::",
        ] {
            let error = proxy_for("api.example.org", true, &[("HTTPS_PROXY", bad)]).unwrap_err();
            assert_eq!(error.kind(), TransportErrorKind::Connect, "{bad}");
            assert!(!error.may_have_been_sent());
        }
        let proxy = proxy_for(
            "api.example.org",
            true,
            &[("https_proxy", "http://proxy:3128")],
        );
        assert_eq!(proxy.unwrap().unwrap().port, 3128);
    }

    #[test]
    fn loopback_in_any_spelling_goes_direct() {
        let env = [
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("HTTP_PROXY", "http://proxy:3128"),
        ];
        for host in [
            "127.0.0.1",
            "127.1",
            "2130706433",
            "0x7f.0.0.1",
            "[::ffff:127.0.0.1]",
            "[::1]",
            "localhost",
            "localhost.",
            "LOCALHOST",
            "0.0.0.0",
            "[::]",
        ] {
            assert!(proxy_for(host, false, &env).unwrap().is_none(), "{host}");
            assert!(proxy_for(host, true, &env).unwrap().is_none(), "{host}");
        }
        assert!(
            proxy_for("localhost.evil.example", true, &env)
                .unwrap()
                .is_some()
        );
        assert!(proxy_for("127.0.0.1.nip.io", true, &env).unwrap().is_some());
    }

    #[test]
    fn upper_case_http_proxy_is_ignored_in_a_cgi_program() {
        let set = [("HTTP_PROXY", "http://attacker:80")];
        assert!(proxy_for("api.example.org", false, &set).unwrap().is_some());
        let cgi = [
            ("HTTP_PROXY", "http://attacker:80"),
            ("REQUEST_METHOD", "GET"),
        ];
        assert!(proxy_for("api.example.org", false, &cgi).unwrap().is_none());
        let chosen = [
            ("http_proxy", "http://mine:3128"),
            ("REQUEST_METHOD", "GET"),
        ];
        assert_eq!(
            proxy_for("api.example.org", false, &chosen)
                .unwrap()
                .unwrap()
                .host,
            "mine"
        );
    }

    #[test]
    fn no_proxy_from_the_environment_exempts_ranges_and_ports() {
        let env = [
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("NO_PROXY", "10.0.0.0/8, api.example.org:443"),
        ];
        assert!(proxy_for("10.1.2.3", true, &env).unwrap().is_none());
        assert!(proxy_for("api.example.org", true, &env).unwrap().is_none());
        assert!(
            proxy_for("other.example.org", true, &env)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn unusable_ports_are_refused() {
        for bad in [
            "http://h:99999",
            "http://h:65536",
            "http://h:0x50",
            "http://h:0",
            "http://h:",
            "http://h:-1",
            "http://[::1",
            "http://h h:80",
        ] {
            assert!(Proxy::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Proxy::parse("http://[::1]:3128").unwrap().port, 3128);
        assert_eq!(Proxy::parse("http://h:65535").unwrap().port, 65535);
    }
}
