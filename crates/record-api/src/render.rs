//! The one bridge from a request description to an `http::Request`.

use std::fmt;

use http::header::{ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::{ApiRequest, AuthKind, Body, Error, ResponseKind, Root, Secret};

/// The `User-Agent` sent unless the caller sets another: the crate and its version.
pub const DEFAULT_USER_AGENT: &str = concat!("telphin-records/", env!("CARGO_PKG_VERSION"));

/// The API's host, possibly with a path prefix (a reseller behind a proxy).
///
/// ```
/// use record_api::BaseUrl;
/// let base = BaseUrl::parse("https://pbx.example.org/telphin")?;
/// assert_eq!(base.as_str(), "https://pbx.example.org/telphin");
/// assert_eq!(BaseUrl::parse("HTTPS://API.Example.org:443/")?.as_str(), "https://api.example.org");
/// assert!(BaseUrl::parse("ftp://example.org").is_err());
/// # Ok::<(), record_api::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl {
    /// `scheme://host[:port][/prefix]`, normalised, without a trailing slash.
    text: String,
    https: bool,
    /// The host as written in the URL (an IPv6 address in brackets), lower-cased.
    host: String,
}

/// The bytes a path segment carries percent-encoded (as a WHATWG URL writes them).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%')
    .add(b'\\');

/// The bytes a query name or value carries percent-encoded: all but `A-Z a-z 0-9 * - . _`.
const QUERY_PART: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

impl BaseUrl {
    /// The production host of Telphin.
    pub const TELPHIN: &'static str = "https://apiproxy.telphin.ru";

    /// Parses an `http` or `https` URL without query, fragment or credentials. Errors never
    /// quote a password written into the URL. A host name outside ASCII is written in its
    /// `xn--` form.
    pub fn parse(text: &str) -> Result<Self, Error> {
        // Messages quote the URL without its user info (and cut when long).
        let shown = without_userinfo(text);
        let fail = |why: &str| Error::Config(format!("the base URL {shown:?} {why}"));
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(fail("is not a URL: it has no scheme"));
        };
        let scheme = scheme.to_ascii_lowercase();
        let https = match scheme.as_str() {
            "https" => true,
            "http" => false,
            _ => {
                return Err(fail(
                    "must start with https:// (or http:// for a local test server)",
                ));
            }
        };
        if rest.contains(['?', '#']) {
            return Err(fail("must not have a query or fragment"));
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.contains('@') {
            return Err(Error::Config(
                "the base URL must not carry credentials; pass them as credentials instead"
                    .to_owned(),
            ));
        }
        if authority.is_empty() {
            return Err(fail("has no host"));
        }
        if !authority.is_ascii() {
            return Err(fail(
                "has a host outside ASCII: write an internationalised name in its xn-- form",
            ));
        }
        let parsed: http::uri::Authority = authority
            .parse()
            .map_err(|e| fail(&format!("is not a URL: {e}")))?;
        let host = parsed.host().to_ascii_lowercase();
        if host.is_empty() || host == "[]" {
            return Err(fail("has no host"));
        }
        let default_port = if https { 443 } else { 80 };
        let port = match parsed.port_u16() {
            Some(port) if port != default_port => format!(":{port}"),
            _ => String::new(),
        };
        let prefix: String = path
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(|segment| format!("/{}", utf8_percent_encode(segment, PATH_PART)))
            .collect();
        let text = format!("{scheme}://{host}{port}{prefix}");
        // Whatever passed the checks above must be a URI the HTTP layer takes.
        text.parse::<http::Uri>()
            .map_err(|e| fail(&format!("is not a URL: {e}")))?;
        Ok(BaseUrl { text, https, host })
    }

    /// The URL as text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the host is a loopback address (`127.0.0.0/8`, `::1`, `localhost`).
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }

    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The URL of a request: the API prefix (unless the route is at the host root), the path
    /// segments percent-encoded one by one, the trailing slash, and the query.
    pub fn url_for(&self, request: &ApiRequest) -> String {
        let mut url = self.text.clone();
        if request.root == Root::Api {
            url.push_str("/api/ver1.0");
        }
        for segment in &request.path {
            url.push('/');
            url.extend(utf8_percent_encode(segment, SEGMENT));
        }
        if request.trailing_slash {
            url.push('/');
        }
        if !request.query.is_empty() {
            url.push('?');
            url.push_str(&encode_pairs(
                request.query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            ));
        }
        url
    }
}

/// The bytes a base URL's path prefix carries percent-encoded (its `/` are separators).
const PATH_PART: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\');

/// Whether `host` (a URL's host: a name, an IPv4 address, or an IPv6 address in brackets) is a
/// loopback address however it is spelled — the one rule for "loopback" in every crate: an
/// address in `127.0.0.0/8`, `::1`, an IPv4-mapped loopback (`::ffff:127.0.0.1`), the
/// unspecified address (`0.0.0.0`, `::`, which connects to this machine), or the name
/// `localhost` (with or without its final dot). An IPv4 address counts in every form the
/// system's resolver reads (`127.1`, `2130706433`, `0x7f.0.0.1`), see [`host_address`].
/// Names are never compared as text: `localhost.example.org`, `127.example.org` and
/// `127.0.0.1.nip.io` are names of other hosts.
///
/// ```
/// use record_api::is_loopback_host;
/// assert!(is_loopback_host("127.0.0.1") && is_loopback_host("[::1]") && is_loopback_host("LocalHost"));
/// assert!(is_loopback_host("127.1") && is_loopback_host("2130706433") && is_loopback_host("localhost."));
/// assert!(is_loopback_host("[::ffff:127.0.0.1]") && is_loopback_host("0.0.0.0"));
/// assert!(!is_loopback_host("127.0.0.1.nip.io") && !is_loopback_host("localhost.example.org"));
/// ```
pub fn is_loopback_host(host: &str) -> bool {
    match host_address(host) {
        Some(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_unspecified(),
        Some(std::net::IpAddr::V6(ip)) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4.is_loopback() || v4.is_unspecified())
        }
        None => {
            let name = host.strip_suffix('.').unwrap_or(host);
            name.eq_ignore_ascii_case("localhost")
        }
    }
}

/// The IP address `host` spells, if it is one: an IPv6 address in brackets, or an IPv4 address
/// in any form the system's resolver reads (`inet_aton`: one to four parts, each decimal,
/// octal with a leading `0`, or hexadecimal with `0x`; the last part fills the remaining
/// bytes). `None` for a name.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// let loopback = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
/// assert_eq!(record_api::host_address("127.1"), loopback);
/// assert_eq!(record_api::host_address("0x7f.0.0.01"), loopback);
/// assert_eq!(record_api::host_address("api.example.org"), None);
/// ```
pub fn host_address(host: &str) -> Option<std::net::IpAddr> {
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.strip_suffix(']')?;
        return inner.parse::<std::net::Ipv6Addr>().ok().map(Into::into);
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    let parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut numbers = Vec::with_capacity(4);
    for part in &parts {
        let (digits, radix) =
            if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
                (hex, 16)
            } else if part.len() > 1 && part.starts_with('0') {
                (&part[1..], 8)
            } else {
                (*part, 10)
            };
        if digits.is_empty() && radix != 16 || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        let value = if digits.is_empty() {
            0
        } else {
            u64::from_str_radix(digits, radix).ok()?
        };
        numbers.push(value);
    }
    let (last, leading) = numbers.split_last()?;
    if leading.iter().any(|&byte| byte > 255) {
        return None;
    }
    let last_bytes = 4 - leading.len() as u32;
    if *last >= 1u64 << (8 * last_bytes) {
        return None;
    }
    let value =
        leading.iter().fold(0u64, |value, &byte| value << 8 | byte) << (8 * last_bytes) | last;
    let value = u32::try_from(value).ok()?;
    Some(std::net::IpAddr::V4(value.into()))
}

/// The host of `uri` when its authority is exactly `[userinfo@]host[:port]`, read the way a
/// connection reads it: a bracketed IPv6 address must be the whole host, a port only digits.
/// The one parse that both a check of the host and the connection to it use, so that they
/// cannot disagree (`http://[::1].evil.example/` has no host here).
///
/// ```
/// let uri: http::Uri = "http://[::1].evil.example/k".parse()?;
/// assert_eq!(record_api::authority_host(&uri), None);
/// let uri: http::Uri = "http://[::1]:8080/k".parse()?;
/// assert_eq!(record_api::authority_host(&uri), Some("[::1]"));
/// # Ok::<(), http::uri::InvalidUri>(())
/// ```
pub fn authority_host(uri: &http::Uri) -> Option<&str> {
    let authority = uri.authority()?.as_str();
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, rest)| rest);
    split_host_port(host_port).map(|(host, _)| host)
}

/// `host[:port]` split as a connection reads it: a host in brackets must be an IPv6 address and
/// the whole host; any other host has no bracket; a port is decimal digits (maybe none: the
/// caller decides what an empty or out-of-range port means).
///
/// ```
/// use record_api::split_host_port;
/// assert_eq!(split_host_port("[::1]:8080"), Some(("[::1]", Some("8080"))));
/// assert_eq!(split_host_port("proxy.example"), Some(("proxy.example", None)));
/// assert_eq!(split_host_port("[::1].evil.example"), None);
/// assert_eq!(split_host_port("h:0x50"), None);
/// ```
pub fn split_host_port(text: &str) -> Option<(&str, Option<&str>)> {
    let (host, port) = if text.starts_with('[') {
        let end = text.find(']')?;
        text[1..end].parse::<std::net::Ipv6Addr>().ok()?;
        let (host, rest) = text.split_at(end + 1);
        match rest {
            "" => (host, None),
            _ => (host, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port_ok = port.is_none_or(|port| port.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = !host.is_empty() && (host.starts_with('[') || !host.contains([']', '[']));
    (port_ok && host_ok).then_some((host, port))
}

/// `text` with any `user:password@` of a URL replaced by `[redacted]@`, cut to a short prefix:
/// a URL as it may be shown in a message or a `Debug` form.
///
/// ```
/// assert_eq!(
///     record_api::without_userinfo("https://me:pw@api.example.org/x"),
///     "https://[redacted]@api.example.org/x"
/// );
/// ```
pub fn without_userinfo(text: &str) -> String {
    let shown = match text.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}://{}{}", crate::REDACTED, &rest[at..]),
                None => text.to_owned(),
            }
        }
        None => text.to_owned(),
    };
    record_model::quote_prefix(&shown)
}

/// A `GET` of a storage link (spec §4.5): no `Authorization` header, to the link's own host.
///
/// The link must be `https`, or plain `http` to a loopback host (or anywhere when
/// `allow_insecure_http`). The link is a bearer secret, so no error quotes it.
///
/// ```
/// use record_api::storage_link_request;
/// use record_model::StorageLink;
///
/// let link: StorageLink = serde_json::from_str(r#"{"record_url": "http://127.0.0.1.nip.io/k"}"#)?;
/// assert!(storage_link_request(&link, None, false).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn storage_link_request(
    link: &record_model::StorageLink,
    user_agent: Option<&str>,
    allow_insecure_http: bool,
) -> Result<http::Request<Vec<u8>>, Error> {
    let refused = |why: &str| Error::Config(format!("cannot fetch the storage link: {why}"));
    let uri: http::Uri = link
        .expose_url()
        .parse()
        .map_err(|_| refused("it is not a URL"))?;
    let host = authority_host(&uri).ok_or_else(|| refused("it has no valid host"))?;
    match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        Some("https") => {}
        Some("http") if allow_insecure_http || is_loopback_host(host) => {}
        Some("http") => return Err(refused("it uses plain http to a host that is not loopback")),
        _ => return Err(refused("its scheme is neither https nor http")),
    }
    if uri
        .authority()
        .is_some_and(|authority| authority.as_str().contains('@'))
    {
        return Err(refused("it carries credentials"));
    }
    http::Request::get(uri)
        .header(ACCEPT, "audio/mpeg, */*")
        .header(ACCEPT_ENCODING, "gzip")
        .header(USER_AGENT, user_agent.unwrap_or(DEFAULT_USER_AGENT))
        .body(Vec::new())
        .map_err(|_| refused("it is not a valid URI"))
}

/// Percent-encodes `name=value&...`; a space becomes `%20`, never `+`.
fn encode_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let encode = |text: &str| utf8_percent_encode(text, QUERY_PART).to_string();
    pairs
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The credentials a single request is sent with.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Authorization {
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic ...` with the PBX login; record files only.
    Basic {
        /// The PBX user name.
        username: String,
        /// The PBX password.
        password: Secret,
    },
    /// No `Authorization` header.
    None,
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Authorization::Bearer(_) => f.write_str("Bearer([redacted])"),
            Authorization::Basic { username, .. } => {
                write!(f, "Basic({username:?}, [redacted])")
            }
            Authorization::None => f.write_str("None"),
        }
    }
}

impl Authorization {
    fn header(&self) -> Result<Option<HeaderValue>, Error> {
        let text = match self {
            Authorization::Bearer(token) => format!("Bearer {}", token.expose()),
            Authorization::Basic { username, password } => {
                basic_credentials(username, password.expose())
            }
            Authorization::None => return Ok(None),
        };
        let mut value = HeaderValue::from_str(&text).map_err(|_| {
            Error::Config("the credentials contain characters not allowed in a header".to_owned())
        })?;
        value.set_sensitive(true);
        Ok(Some(value))
    }
}

/// The value of a Basic `Authorization` (or `Proxy-Authorization`) header: `Basic ` and the
/// base64 of `username:password` (RFC 7617).
///
/// ```
/// assert_eq!(record_api::basic_credentials("me", "p@ss"), "Basic bWU6cEBzcw==");
/// ```
pub fn basic_credentials(username: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64(format!("{username}:{password}").as_bytes())
    )
}

/// Standard base64 with padding, for the Basic header (too small a need for a dependency).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Renders a request description into an HTTP request for `base`, sent with `authorization`.
///
/// It adds the API prefix (not for `/oauth/token`), percent-encodes each path segment (`@me`
/// stays readable), writes the query with `%20` for spaces, and sets `Accept-Encoding: gzip`,
/// `Accept`, `Content-Type` for a body and `User-Agent`.
///
/// ```
/// use record_api::{render, Authorization, BaseUrl, Endpoint, ListRecords, Scope, Secret};
/// use record_model::{ClientId, QueryWindow};
///
/// let window = QueryWindow::parse("2024-01-01 00:00:00", "2024-01-31 23:59:59")?;
/// let list = ListRecords::new(Scope::client(ClientId::Me), window);
/// let base = BaseUrl::parse("https://apiproxy.telphin.ru")?;
/// let http = render(&list.request(), &base, &Authorization::Bearer(Secret::new("t")), None)?;
/// assert_eq!(
///     http.uri(),
///     "https://apiproxy.telphin.ru/api/ver1.0/client/@me/record/?start_datetime=2024-01-01%2000%3A00%3A00&end_datetime=2024-01-31%2023%3A59%3A59"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn render(
    request: &ApiRequest,
    base: &BaseUrl,
    authorization: &Authorization,
    user_agent: Option<&str>,
) -> Result<http::Request<Vec<u8>>, Error> {
    let url = base.url_for(request);
    let accept = match request.response {
        ResponseKind::Bytes => "audio/mpeg, */*",
        ResponseKind::Json | ResponseKind::Empty => "application/json",
    };
    let mut builder = http::Request::builder()
        .method(request.method.to_http())
        .uri(url)
        .header(ACCEPT, accept)
        .header(ACCEPT_ENCODING, "gzip")
        .header(USER_AGENT, user_agent.unwrap_or(DEFAULT_USER_AGENT));
    let effective = match request.auth {
        AuthKind::None => &Authorization::None,
        AuthKind::Bearer if matches!(authorization, Authorization::Basic { .. }) => {
            return Err(Error::Config(format!(
                "{} needs a bearer token: the PBX login (Basic) works for record files only",
                request.operation
            )));
        }
        AuthKind::Bearer | AuthKind::BearerOrBasic => authorization,
    };
    if let Some(value) = effective.header()? {
        builder = builder.header(AUTHORIZATION, value);
    }
    let body = match &request.body {
        Body::None => Vec::new(),
        Body::Json(value) => {
            builder = builder.header(CONTENT_TYPE, "application/json");
            value.to_string().into_bytes()
        }
        Body::Form(fields) => {
            builder = builder.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
            let pairs = fields.iter().map(|(k, v)| (k.as_str(), v.expose()));
            // `%20` for a space is as valid in a form body as `+`.
            encode_pairs(pairs).into_bytes()
        }
    };
    builder
        .body(body)
        .map_err(|e| Error::Config(format!("could not build the request: {e}")))
}
