//! An HTTP proxy: `CONNECT` tunnels for `https`, absolute-form requests for `http`.

use record_api::{TransportError, TransportErrorKind, http};

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
        let uri: http::uri::Authority = host_port
            .parse()
            .map_err(|_| refused("the proxy address is not host[:port]"))?;
        if uri.host().is_empty() {
            return Err(refused("the proxy address has no host"));
        }
        let authorization = userinfo.map(|userinfo| {
            let decoded = percent_decode(userinfo);
            let (username, password) = decoded.split_once(':').unwrap_or((&decoded, ""));
            record_api::basic_credentials(username, password)
        });
        Ok(Proxy {
            host: uri.host().to_ascii_lowercase(),
            port: uri.port_u16().unwrap_or(80),
            authorization,
        })
    }

    /// The proxy the environment names for `key`, as curl reads it: `HTTPS_PROXY` for `https`,
    /// `HTTP_PROXY` for `http`, else `ALL_PROXY` (lower case too); none for hosts in `NO_PROXY`
    /// (`*`, names, `.suffix`es) and never for loopback hosts.
    pub(crate) fn from_env_for(key: &Key) -> Option<Proxy> {
        let var = |name: &str| {
            std::env::var(name)
                .or_else(|_| std::env::var(name.to_ascii_lowercase()))
                .ok()
                .filter(|v| !v.trim().is_empty())
        };
        if is_loopback(&key.host) || var("NO_PROXY").is_some_and(|list| excluded(&list, &key.host))
        {
            return None;
        }
        let scheme = if key.secure {
            "HTTPS_PROXY"
        } else {
            "HTTP_PROXY"
        };
        let text = var(scheme).or_else(|| var("ALL_PROXY"))?;
        Proxy::parse(&text).ok()
    }

    /// The `Proxy-Authorization` header line, if any.
    pub(crate) fn authorization_line(&self) -> String {
        match &self.authorization {
            Some(value) => format!("proxy-authorization: {value}\r\n"),
            None => String::new(),
        }
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn excluded(list: &str, host: &str) -> bool {
    list.split(',').map(str::trim).any(|entry| {
        entry == "*"
            || entry.eq_ignore_ascii_case(host)
            || (entry.starts_with('.') && host.ends_with(&entry.to_ascii_lowercase()))
            || host.ends_with(&format!(".{}", entry.to_ascii_lowercase()))
    })
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
        assert!(excluded("example.org, .internal", "api.example.org"));
        assert!(excluded(".internal", "db.internal"));
        assert!(excluded("*", "anything"));
        assert!(!excluded("example.org", "example.com"));
        assert!(is_loopback("127.0.0.1") && is_loopback("[::1]") && is_loopback("localhost"));
        assert!(Proxy::from_env_for(&key("127.0.0.1", true)).is_none());
    }
}
