//! The page's one error type: what a handler cannot do, as the answer it gets — a page in the
//! viewer's language, or a line of text for files (audio, CSV). Handlers return
//! `Result<Response, WebError>` and use `?`.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use record_backup::BackupError;

use super::lang::Lang;
use super::{Viewer, Web};
use crate::pbx::Pbx;

/// Who the answer is for: a page's viewer (a page is drawn), or a file's (a line of text).
#[derive(Clone)]
pub(crate) enum For {
    Page(Lang, Viewer),
    File,
}

/// Why a request cannot be answered.
pub(crate) struct WebError {
    status: StatusCode,
    to: For,
    message: String,
}

impl WebError {
    /// `status`, saying `message`.
    pub(crate) fn new(status: StatusCode, to: &For, message: impl Into<String>) -> WebError {
        WebError {
            status,
            to: to.clone(),
            message: message.into(),
        }
    }

    /// A request that cannot be read, with why.
    pub(crate) fn bad_request(to: &For, reason: &str) -> WebError {
        let message = match to {
            For::Page(lang, _) => {
                rust_i18n::t!("error.bad_request", locale = lang.code(), reason = reason)
                    .into_owned()
            }
            For::File => reason.to_owned(),
        };
        WebError::new(StatusCode::BAD_REQUEST, to, message)
    }

    /// Nothing there: `key` of the page's texts, or `file_text` for a file.
    pub(crate) fn not_found(to: &For, key: &str, file_text: &str) -> WebError {
        let message = match to {
            For::Page(lang, _) => lang.t(key),
            For::File => file_text.to_owned(),
        };
        WebError::new(StatusCode::NOT_FOUND, to, message)
    }

    /// An archive that cannot answer: logged here, said plainly there.
    pub(crate) fn archive(to: &For, pbx: &str, error: &BackupError) -> WebError {
        tracing::warn!(%pbx, %error, "the web page's read of the catalog failed");
        let message = match to {
            For::Page(lang, _) => lang.t("error.internal"),
            For::File => "the archive cannot answer now".to_owned(),
        };
        WebError::new(StatusCode::INTERNAL_SERVER_ERROR, to, message)
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self.to {
            For::Page(lang, viewer) => {
                super::pages::problem(self.status, lang, Some(&viewer), &self.message)
            }
            For::File => (self.status, format!("{}\n", self.message)).into_response(),
        }
    }
}

impl Web {
    /// The PBX named `name` (the first when `name` is empty), or the answer that there is none.
    pub(crate) fn pbx_for(&self, name: &str, to: &For) -> Result<&Arc<Pbx>, WebError> {
        let found = if name.is_empty() {
            self.pbxs.first()
        } else {
            self.pbx(name)
        };
        found.ok_or_else(|| WebError::not_found(to, "error.unknown_pbx", "no such PBX"))
    }
}
