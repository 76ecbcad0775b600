//! The web page (`[web]`): search calls, listen to them, see the archive's state — for people
//! who are not at a terminal. Server-rendered HTML (maud), no script at all, assets in the
//! binary, charts drawn as SVG by plotters, Russian and English.
//!
//! Every response carries a CSP without script, `nosniff` and `frame-ancestors 'none'`. With
//! accounts, every page and recording needs a session; without, only loopback may listen
//! (the configuration refuses anything else).

mod audio;
mod auth;
mod charts;
mod error;
mod lang;
mod layout;
mod overview;
mod pages;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::config::WebSettings;
use crate::metrics::Metrics;
use crate::pbx::Pbx;

pub use auth::hash_password;
pub(crate) use auth::{Gate, Viewer};
pub(crate) use lang::Lang;

/// What the page's handlers share.
pub(crate) struct Web {
    pub(crate) gate: Arc<Gate>,
    pub(crate) pbxs: Vec<Arc<Pbx>>,
    pub(crate) metrics: Arc<Metrics>,
}

impl Web {
    pub(crate) fn new(settings: &WebSettings, pbxs: Vec<Arc<Pbx>>, metrics: Arc<Metrics>) -> Web {
        Web {
            gate: Arc::new(Gate::new(settings)),
            pbxs,
            metrics,
        }
    }

    /// The PBX named `name`.
    pub(crate) fn pbx(&self, name: &str) -> Option<&Arc<Pbx>> {
        self.pbxs.iter().find(|pbx| pbx.name == name)
    }
}

/// The page's router.
pub(crate) fn router(web: Arc<Web>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/search") }))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/lang/{code}", get(lang::switch))
        .route("/search", get(pages::search))
        .route("/recordings/{pbx}/{uuid}", get(pages::recording))
        .route("/recordings/{pbx}/{uuid}/audio", get(audio::audio))
        .route(
            "/recordings/{pbx}/{uuid}/access.csv",
            get(pages::recording_access_csv),
        )
        .route("/access.csv", get(pages::access_csv))
        .route("/overview", get(overview::overview))
        .route("/static/app.css", get(stylesheet))
        .layer(middleware::from_fn(same_origin_forms))
        .layer(middleware::from_fn(security_headers))
        .with_state(web)
}

/// The address a request came from (the TCP peer; a proxy's address behind a proxy).
#[derive(Debug, Clone)]
pub(crate) struct Peer(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string());
        Ok(Peer(address))
    }
}

/// The cookie header's value `name`, if any.
pub(crate) fn cookie_of(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| auth::cookie(value, name).map(str::to_owned))
}

/// A page's viewer: logged in (or the page needs no login), and their language. A page asked
/// for without a session is sent to the login form.
pub(crate) struct PageViewer {
    pub(crate) viewer: Viewer,
    pub(crate) lang: Lang,
}

impl FromRequestParts<Arc<Web>> for PageViewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Arc<Web>) -> Result<Self, Response> {
        let lang = Lang::of(parts);
        let token = cookie_of(parts, auth::SESSION_COOKIE);
        match web.gate.viewer(token.as_deref()) {
            Some(viewer) => Ok(PageViewer { viewer, lang }),
            None => {
                let wanted = parts.uri.path_and_query().map_or("/search", |p| p.as_str());
                let next: String = url_encode(wanted);
                Err(Redirect::to(&format!("/login?next={next}")).into_response())
            }
        }
    }
}

/// The viewer of a file (a recording, a CSV): without a session, 401 and nothing else.
pub(crate) struct FileViewer(pub(crate) Viewer);

impl FromRequestParts<Arc<Web>> for FileViewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Arc<Web>) -> Result<Self, Response> {
        let token = cookie_of(parts, auth::SESSION_COOKIE);
        web.gate
            .viewer(token.as_deref())
            .map(FileViewer)
            .ok_or_else(|| (StatusCode::UNAUTHORIZED, "log in first\n").into_response())
    }
}

/// What a path segment or a query value keeps as it is (RFC 3986's unreserved characters).
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a path segment or a query value.
pub(crate) fn url_encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}

/// A form posted from another site (a login it would force, a logout) is refused, whatever
/// cookies it carries: the browser's `Sec-Fetch-Site`, or else `Origin` against `Host`, says
/// where it came from.
async fn same_origin_forms(request: Request, next: Next) -> Response {
    if request.method() == axum::http::Method::POST && from_elsewhere(request.headers()) {
        return (
            StatusCode::FORBIDDEN,
            "a form of another site is not taken\n",
        )
            .into_response();
    }
    next.run(request).await
}

fn from_elsewhere(headers: &axum::http::HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return !matches!(site, "same-origin" | "none");
    }
    match (text(header::ORIGIN), text(header::HOST)) {
        (Some(origin), Some(host)) => {
            origin.split_once("://").map(|(_, authority)| authority) != Some(host)
        }
        _ => false,
    }
}

/// The headers every answer carries.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        include_str!("../../assets/app.css"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> axum::http::HeaderMap {
        let mut map = axum::http::HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn forms_from_other_sites_are_told_apart() {
        assert!(!from_elsewhere(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(from_elsewhere(&headers(&[(
            "sec-fetch-site",
            "cross-site"
        )])));
        assert!(from_elsewhere(&headers(&[("sec-fetch-site", "same-site")])));
        let host = ("host", "127.0.0.1:9188");
        assert!(!from_elsewhere(&headers(&[
            host,
            ("origin", "http://127.0.0.1:9188")
        ])));
        assert!(from_elsewhere(&headers(&[
            host,
            ("origin", "https://evil.example")
        ])));
        assert!(from_elsewhere(&headers(&[host, ("origin", "null")])));
        assert!(
            !from_elsewhere(&headers(&[host])),
            "a client without Origin (curl)"
        );
    }
}
