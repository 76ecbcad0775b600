//! A request described as plain data: what to send, not how.

use serde::Serialize;

use crate::Secret;

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The method as the `http` crate names it.
    pub fn to_http(self) -> http::Method {
        match self {
            Method::Get => http::Method::GET,
            Method::Post => http::Method::POST,
            Method::Delete => http::Method::DELETE,
        }
    }
}

/// Where a path starts: under the API prefix `/api/ver1.0`, or at the host root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Root {
    /// `{base}/api/ver1.0/...`: every record route.
    Api,
    /// `{base}/...`: the token route `/oauth/token`.
    Host,
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthKind {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// A bearer token, or HTTP Basic with the PBX login: only record files accept the latter.
    BearerOrBasic,
    /// No `Authorization` header: the token route (credentials go in the form body).
    None,
}

/// What a successful response carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResponseKind {
    /// A JSON document.
    Json,
    /// Nothing of interest (a `204`, or a `200` whose body is ignored).
    Empty,
    /// A byte stream (a record file), to be streamed rather than buffered.
    Bytes,
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "fields")]
#[non_exhaustive]
pub enum Body {
    /// No body.
    None,
    /// A JSON document (`Content-Type: application/json`).
    Json(serde_json::Value),
    /// A form (`Content-Type: application/x-www-form-urlencoded`); values may be secret.
    Form(Vec<(String, FormValue)>),
}

/// A form value: plain, or a secret that prints as `[redacted]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum FormValue {
    /// A value that may be shown.
    Plain(String),
    /// A secret value.
    Secret(Secret),
}

impl FormValue {
    /// The value to put on the wire.
    pub fn expose(&self) -> &str {
        match self {
            FormValue::Plain(value) => value,
            FormValue::Secret(secret) => secret.expose(),
        }
    }
}

/// Everything about a request except the host and the credentials: comparable, serialisable,
/// free of secrets in its `Debug` and `Serialize` forms.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ApiRequest {
    /// A short name of the operation, e.g. `list_records`, for logs and metrics.
    pub operation: &'static str,
    /// The method.
    pub method: Method,
    /// Where the path starts.
    pub root: Root,
    /// The path segments after the root, unencoded.
    pub path: Vec<String>,
    /// Whether the path ends with `/` (collections and sub-resources do; record files do not).
    pub trailing_slash: bool,
    /// The query parameters, in order, unencoded.
    pub query: Vec<(String, String)>,
    /// The body.
    pub body: Body,
    /// How the request authenticates.
    pub auth: AuthKind,
    /// Whether sending it twice has the same effect as sending it once.
    pub idempotent: bool,
    /// What a successful response carries.
    pub response: ResponseKind,
    /// Whether the success body holds a secret (a token, a storage link), so that no part of it
    /// may appear in an error message.
    pub sensitive_response: bool,
}

impl ApiRequest {
    /// A `GET` under the API prefix that expects JSON; the other fields take their usual values.
    pub(crate) fn api(operation: &'static str, method: Method, path: Vec<String>) -> Self {
        ApiRequest {
            operation,
            method,
            root: Root::Api,
            path,
            trailing_slash: true,
            query: Vec::new(),
            body: Body::None,
            auth: AuthKind::Bearer,
            idempotent: !matches!(method, Method::Post),
            response: ResponseKind::Json,
            sensitive_response: false,
        }
    }

    /// The path as it will be requested, e.g. `/api/ver1.0/client/@me/record/`, unencoded;
    /// for logs and route tables.
    pub fn path_display(&self) -> String {
        let prefix = match self.root {
            Root::Api => "/api/ver1.0",
            Root::Host => "",
        };
        let slash = if self.trailing_slash { "/" } else { "" };
        format!("{prefix}/{}{slash}", self.path.join("/"))
    }
}
