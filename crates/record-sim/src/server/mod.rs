//! The HTTP front: one handler that classifies the path, authenticates, applies limits and
//! faults, and hands the request to the route's handler.

mod auth;
mod files;
mod query;
mod records;
mod reply;
mod token;

use std::io::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, VARY};
use http::{HeaderValue, Method, StatusCode};

use crate::file::Ending;
use crate::state::SimState;
use reply::{Reply, ReplyBody};

pub(crate) fn router(state: Arc<SimState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// The `{scope}` of a path, ids still as text.
#[derive(Debug, Clone)]
pub(crate) enum ScopePath {
    Client(String),
    Group(String),
    Extension(String),
}

#[derive(Debug, Clone)]
pub(crate) enum Action {
    Records,
    Stats,
    Archive,
    File(String),
    StorageUrl(String),
    MonthlyStats,
}

#[derive(Debug, Clone)]
pub(crate) enum Route {
    Token,
    Api(ScopePath, Action),
    StorageFile(String),
    ArchiveFile(String),
    Unknown,
}

impl Route {
    fn classify(path: &str) -> Route {
        if path == "/oauth/token" {
            return Route::Token;
        }
        if let Some(token) = path.strip_prefix("/storage/") {
            return Route::StorageFile(token.to_owned());
        }
        if let Some(name) = path.strip_prefix("/archive/") {
            return Route::ArchiveFile(name.to_owned());
        }
        let Some(rest) = path.strip_prefix("/api/ver1.0/") else {
            return Route::Unknown;
        };
        let segments: Vec<String> = rest.split('/').map(query::decode).collect();
        let parts: Vec<&str> = segments.iter().map(String::as_str).collect();
        let scope = |level: &str, id: &str| match level {
            "client" => Some(ScopePath::Client(id.to_owned())),
            "extension_group" => Some(ScopePath::Group(id.to_owned())),
            "extension" => Some(ScopePath::Extension(id.to_owned())),
            _ => None,
        };
        let (level, id, tail) = match parts.as_slice() {
            [level, id, tail @ ..] => (*level, *id, tail),
            _ => return Route::Unknown,
        };
        let Some(scope) = scope(level, id) else {
            return Route::Unknown;
        };
        let action = match tail {
            ["record", ""] => Action::Records,
            ["record", "stats", ""] => Action::Stats,
            ["record", "archive", ""] => Action::Archive,
            ["record", uuid] if !uuid.is_empty() => Action::File((*uuid).to_owned()),
            ["record", uuid, "storage_url", ""] => Action::StorageUrl((*uuid).to_owned()),
            ["records_stats", ""] => Action::MonthlyStats,
            _ => return Route::Unknown,
        };
        Route::Api(scope, action)
    }

    /// The counter name of the route for `method`.
    fn name(&self, method: &Method) -> &'static str {
        let delete = method == Method::DELETE;
        match self {
            Route::Token => "token",
            Route::StorageFile(_) => "storage_file",
            Route::ArchiveFile(_) => "archive_file",
            Route::Unknown => "unknown",
            Route::Api(_, action) => match action {
                Action::Records if delete => "delete_records",
                Action::Records => "list_records",
                Action::Stats => "record_stats",
                Action::Archive => "request_archive",
                Action::File(_) if delete => "delete_record",
                Action::File(_) => "download_record",
                Action::StorageUrl(_) => "storage_url",
                Action::MonthlyStats => "monthly_stats",
            },
        }
    }
}

/// What a request carries, for the handlers.
pub(crate) struct Incoming<'a> {
    pub(crate) method: &'a Method,
    pub(crate) headers: &'a http::HeaderMap,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: &'a [u8],
}

async fn handle(State(state): State<Arc<SimState>>, request: Request) -> Response {
    let latency = state.config.faults.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let route = Route::classify(parts.uri.path());
    let name = route.name(&parts.method);
    let incoming = Incoming {
        method: &parts.method,
        headers: &parts.headers,
        query: query::pairs(parts.uri.query().unwrap_or("")),
        body: &body,
    };
    let mut grant = None;
    let reply = match &route {
        Route::Token => {
            let (reply, used) = token::handle(&state, &incoming);
            grant = used;
            reply
        }
        Route::StorageFile(token) => files::storage_file(&state, &incoming, token),
        Route::ArchiveFile(name) => files::archive_file(&state, &incoming, name),
        Route::Unknown => Reply::error(StatusCode::NOT_FOUND, None, "Not found"),
        Route::Api(scope, action) => api(&state, name, scope, action, &incoming).await,
    };
    let gzip = accepts_gzip(&parts.headers);
    let status = reply.status.as_u16();
    let response = finish(&state, reply, gzip);
    state.count(name, status, grant.as_deref());
    response
}

async fn api(
    state: &SimState,
    name: &'static str,
    scope: &ScopePath,
    action: &Action,
    incoming: &Incoming<'_>,
) -> Reply {
    let principal = match auth::authenticate(state, incoming.headers, name == "download_record") {
        Ok(principal) => principal,
        Err(reply) => return reply,
    };
    if !state.count_request(state.client_id) {
        return Reply::error(
            StatusCode::TOO_MANY_REQUESTS,
            Some("rate_limit_exceeded"),
            "Rate limit exceeded, try again in the next period",
        );
    }
    let ending = match faults(state, name) {
        Ok(ending) => ending,
        Err(reply) => return reply,
    };
    if principal.call_api_only {
        return Reply::error(
            StatusCode::FORBIDDEN,
            Some("app_access_type_deny"),
            "The application has \"Call API\" access; records need \"All\"",
        );
    }
    let level = match auth::resolve(state, &principal, scope) {
        Ok(level) => level,
        Err(reply) => return reply,
    };
    let method = incoming.method;
    let reply = match (action, method.as_str()) {
        (Action::Records, "GET") => records::list(state, level, incoming),
        (Action::Records, "DELETE") => records::delete_window(state, level, incoming),
        (Action::Stats, "GET") => records::stats(state, level, incoming).await,
        (Action::MonthlyStats, "GET") => records::monthly(state, level, incoming),
        (Action::Archive, "POST") => files::request_archive(state, level, incoming),
        (Action::File(uuid), "GET") => files::download(state, level, uuid, ending),
        (Action::File(uuid), "DELETE") => files::delete(state, level, uuid),
        (Action::StorageUrl(uuid), "GET") => files::storage_url(state, level, uuid),
        _ => Reply::error(StatusCode::METHOD_NOT_ALLOWED, None, "Method not allowed"),
    };
    if ending == Ending::StallAnswer {
        // Done, and then hung for good: the client's read timeout ends the exchange. The
        // request is counted now, with status 0, as no answer will ever be counted.
        state.count(name, 0, None);
        std::future::pending::<()>().await;
    }
    if ending == Ending::LoseAnswer {
        // Done, but the answer never arrives whole.
        return Reply {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: ReplyBody::Stream {
                body: Body::from_stream(crate::file::stream(0, 1, Ending::LoseAnswer)),
                content_type: "application/json",
                length: Some(1),
            },
        };
    }
    reply
}

/// Applies scheduled and random faults to an API request of route `name`.
fn faults(state: &SimState, name: &str) -> Result<Ending, Reply> {
    let config = &state.config.faults;
    let mut faults = state.faults();
    faults.api_requests += 1;
    if let Some(every) = config.expire_tokens_every
        && faults.api_requests.is_multiple_of(every)
    {
        state.expire_tokens();
    }
    if let Some(fault) = take_injection(&mut faults, name) {
        return apply(fault);
    }
    if faults.burst_left > 0 {
        faults.burst_left -= 1;
        return Err(rate_limited_burst(1));
    }
    if let Some(every) = config.burst_429_every
        && faults.api_requests.is_multiple_of(every)
        && config.burst_429_length > 0
    {
        faults.burst_left = config.burst_429_length - 1;
        return Err(rate_limited_burst(1));
    }
    if config.server_error_percent > 0 && faults.rng.chance(u64::from(config.server_error_percent))
    {
        let status = *faults.rng.pick(&[500u16, 502, 503]);
        return Err(server_error(status));
    }
    let download = name == "download_record";
    if download && config.drop_percent > 0 && faults.rng.chance(u64::from(config.drop_percent)) {
        return Ok(Ending::Drop(1024));
    }
    if download
        && config.truncate_percent > 0
        && faults.rng.chance(u64::from(config.truncate_percent))
    {
        return Ok(Ending::Truncate(1024));
    }
    Ok(Ending::Complete)
}

/// Takes the next scheduled fault for route `name`, if any.
fn take_injection(
    faults: &mut crate::state::FaultState,
    name: &str,
) -> Option<crate::config::Fault> {
    use crate::config::Fault;
    let position = faults.injections.iter().position(|i| {
        i.route.as_deref().is_none_or(|r| r == name) && i.fault != Fault::TokenError
    })?;
    let fault = faults.injections[position].fault.clone();
    faults.injections[position].times -= 1;
    if faults.injections[position].times == 0 {
        faults.injections.remove(position);
    }
    Some(fault)
}

/// What a scheduled fault does to a request: an error answer, or a broken body.
fn apply(fault: crate::config::Fault) -> Result<Ending, Reply> {
    use crate::config::Fault;
    match fault {
        Fault::Status(status) => Err(server_error(status)),
        Fault::Unauthorized => Err(Reply::error(
            StatusCode::UNAUTHORIZED,
            None,
            "Token is expired",
        )),
        Fault::RateLimited { reset_secs } => Err(rate_limited_burst(reset_secs)),
        Fault::DropAfter(at) => Ok(Ending::Drop(at)),
        Fault::TruncateAfter(at) => Ok(Ending::Truncate(at)),
        Fault::TokenError | Fault::Pass => Ok(Ending::Complete),
        Fault::LoseAnswer => Ok(Ending::LoseAnswer),
        Fault::StallAnswer => Ok(Ending::StallAnswer),
    }
}

/// The fault of a storage-link download: a scheduled one, or a broken body at the configured
/// rates (the storage host drops connections as the API does; it has no 5xx or 429 faults).
pub(crate) fn storage_fault(state: &SimState) -> Result<Ending, Reply> {
    let config = &state.config.faults;
    let mut faults = state.faults();
    if let Some(fault) = take_injection(&mut faults, "storage_file") {
        return apply(fault);
    }
    if config.drop_percent > 0 && faults.rng.chance(u64::from(config.drop_percent)) {
        return Ok(Ending::Drop(1024));
    }
    if config.truncate_percent > 0 && faults.rng.chance(u64::from(config.truncate_percent)) {
        return Ok(Ending::Truncate(1024));
    }
    Ok(Ending::Complete)
}

fn server_error(status: u16) -> Reply {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::BAD_GATEWAY {
        // A proxy in front of the API answers with HTML.
        let body = Body::from("<html><body><h1>502 Bad Gateway</h1></body></html>");
        return Reply {
            status,
            headers: Vec::new(),
            body: ReplyBody::Stream {
                body,
                content_type: "text/html",
                length: None,
            },
        };
    }
    Reply::error(status, Some("internal_error"), "Simulated server error")
}

fn rate_limited_burst(reset_secs: u64) -> Reply {
    Reply::error(
        StatusCode::TOO_MANY_REQUESTS,
        Some("rate_limit_exceeded"),
        "Rate limit exceeded",
    )
    .with_header(
        http::HeaderName::from_static("x-ratelimit-reset"),
        reset_secs.to_string(),
    )
}

fn accepts_gzip(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(http::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| coding.trim().split(';').next() == Some("gzip"))
}

/// Builds the HTTP answer: rate-limit headers on every answer, JSON gzip-compressed when asked.
fn finish(state: &SimState, reply: Reply, gzip: bool) -> Response {
    let (limit, remaining, reset) = state.rate_headers(state.client_id);
    let mut builder = Response::builder()
        .status(reply.status)
        .header("x-ratelimit-limit", limit)
        .header("x-ratelimit-remaining", remaining);
    let has_reset = reply.headers.iter().any(|(n, _)| n == "x-ratelimit-reset");
    if !has_reset {
        builder = builder.header("x-ratelimit-reset", reset);
    }
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            builder = builder.header(name, value);
        }
    }
    let built = match reply.body {
        ReplyBody::Empty => builder.body(Body::empty()),
        ReplyBody::Json(value) => {
            let text = bytes::Bytes::from(value.to_string());
            let body = if gzip { compressed(&text) } else { text };
            json_body(builder, gzip, body)
        }
        ReplyBody::Cached(list) => {
            let body = if gzip {
                list.gzip.get_or_init(|| compressed(&list.json)).clone()
            } else {
                list.json.clone()
            };
            json_body(builder, gzip, body)
        }
        ReplyBody::JsonStream(chunks) => {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .header(VARY, "Accept-Encoding");
            if gzip {
                builder
                    .header(CONTENT_ENCODING, "gzip")
                    .body(Body::from_stream(gzip_stream(chunks)))
            } else {
                builder.body(Body::from_stream(futures_util::StreamExt::map(
                    chunks,
                    Ok::<_, std::convert::Infallible>,
                )))
            }
        }
        ReplyBody::Stream {
            body,
            content_type,
            length,
        } => {
            builder = builder.header(CONTENT_TYPE, content_type);
            if let Some(length) = length {
                builder = builder.header(CONTENT_LENGTH, length);
            }
            builder.body(body)
        }
    };
    built.unwrap_or_else(|_| {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        response
    })
}

/// `chunks` compressed with gzip as they are sent.
fn gzip_stream(
    chunks: futures_util::stream::BoxStream<'static, bytes::Bytes>,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    futures_util::stream::unfold(
        (chunks, Some(encoder)),
        |(mut chunks, encoder)| async move {
            let mut encoder = encoder?;
            match futures_util::StreamExt::next(&mut chunks).await {
                Some(bytes) => {
                    let written = encoder.write_all(&bytes);
                    let out = bytes::Bytes::from(std::mem::take(encoder.get_mut()));
                    Some((written.map(|()| out), (chunks, Some(encoder))))
                }
                None => {
                    let out = encoder.finish().map(bytes::Bytes::from);
                    Some((out, (chunks, None)))
                }
            }
        },
    )
}

/// A whole JSON body with its headers (`gzip`: the body is compressed already).
fn json_body(
    builder: http::response::Builder,
    gzip: bool,
    body: bytes::Bytes,
) -> Result<Response, http::Error> {
    let mut builder = builder
        .header(CONTENT_TYPE, "application/json")
        .header(VARY, "Accept-Encoding")
        .header(CONTENT_LENGTH, body.len());
    if gzip {
        builder = builder.header(CONTENT_ENCODING, "gzip");
    }
    builder.body(Body::from(body))
}

/// `bytes` compressed with gzip (fast level).
fn compressed(bytes: &[u8]) -> bytes::Bytes {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let written = encoder.write_all(bytes).and_then(|()| encoder.finish());
    bytes::Bytes::from(written.unwrap_or_default())
}
