//! A recording's audio, streamed from the target: `Range` requests answered with 206 from one
//! ranged read of the object (never the file from its start, never buffered whole), so that the
//! browser's player can seek. Every playback and download is written to the access log first.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use record_backup::{Access, AccessAction};
use serde::Deserialize;

use super::error::{For, WebError};
use super::pages::on_catalog;
use super::{FileViewer, Peer, Web};
use crate::metrics;

#[derive(Deserialize)]
pub(crate) struct AudioQuery {
    download: Option<String>,
}

/// The media type of an object, by its name's extension.
fn content_type(key: &str) -> &'static str {
    let extension = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("mp3") => "audio/mpeg",
        Some("wav") => "audio/wav",
        Some("ogg" | "oga" | "opus") => "audio/ogg",
        Some("m4a" | "mp4") => "audio/mp4",
        Some("webm") => "audio/webm",
        _ => "application/octet-stream",
    }
}

/// What part of the object to send.
#[derive(Debug, PartialEq, Eq)]
enum Part {
    Whole,
    /// `[start, end]`, inclusive.
    Range(u64, u64),
    Unsatisfiable,
}

/// The part a request asks for. A `Range` that is not well-formed is ignored (the whole
/// object, as RFC 9110 says); several ranges get the whole object too; an `If-Range` that does
/// not name this object's tag asks for the whole.
fn part_of(headers: &HeaderMap, size: u64, etag: &str) -> Part {
    let Some(range) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Part::Whole;
    };
    if let Some(if_range) = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok())
        && if_range != etag
    {
        return Part::Whole;
    }
    let Ok(parsed) = http_range_header::parse_range_header(range) else {
        return Part::Whole;
    };
    match parsed.validate(size) {
        Ok(ranges) if ranges.len() == 1 => {
            let range = &ranges[0];
            Part::Range(*range.start(), *range.end())
        }
        Ok(_) => Part::Whole,
        Err(_) => Part::Unsatisfiable,
    }
}

/// A file name for `Content-Disposition`: the record's, in plain characters.
fn download_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() {
        "recording".to_owned()
    } else {
        safe
    }
}

/// `GET /recordings/{pbx}/{uuid}/audio[?download=1]`.
pub(crate) async fn audio(
    State(web): State<Arc<Web>>,
    FileViewer(viewer): FileViewer,
    Peer(address): Peer,
    Path((name, uuid)): Path<(String, String)>,
    Query(query): Query<AudioQuery>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let pbx = web.pbx_for(&name, &For::File)?;
    let wanted = uuid.clone();
    let entry = on_catalog(pbx, move |catalog| catalog.entry(&wanted))
        .await
        .map_err(|error| WebError::archive(&For::File, &pbx.name, &error))?;
    let Some((entry, key, size)) = entry.and_then(|entry| {
        let key = entry
            .state
            .object_key
            .clone()
            .filter(|_| entry.state.is_kept())?;
        let size = entry.state.size?;
        Some((entry, key, size))
    }) else {
        return Err(WebError::not_found(
            &For::File,
            "",
            "the archive does not hold this recording",
        ));
    };
    let etag = format!("\"{}\"", entry.state.sha256.as_deref().unwrap_or("unknown"));
    let part = part_of(&headers, size, &etag);
    let label = metrics::pbx_kind(&name, "");
    let answered = |status: StatusCode| {
        web.metrics
            .web_audio
            .get_or_create(&metrics::PbxKind {
                kind: status.as_u16().to_string(),
                ..label.clone()
            })
            .inc();
    };
    if part == Part::Unsatisfiable {
        answered(StatusCode::RANGE_NOT_SATISFIABLE);
        return Ok((
            StatusCode::RANGE_NOT_SATISFIABLE,
            [(header::CONTENT_RANGE, format!("bytes */{size}"))],
        )
            .into_response());
    }
    let download = query.download.is_some();
    let (status, start, end) = match part {
        Part::Range(start, end) => (StatusCode::PARTIAL_CONTENT, start, end + 1),
        _ => (StatusCode::OK, 0, size),
    };
    let file = entry
        .record
        .file_name()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{uuid}.mp3"));
    let media = match content_type(&key) {
        "application/octet-stream" => content_type(&file),
        known => known,
    };
    let head = |status: StatusCode| {
        let mut response = status.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=3600"),
        );
        if let Ok(tag) = HeaderValue::from_str(&etag) {
            headers.insert(header::ETAG, tag);
        }
        if status == StatusCode::PARTIAL_CONTENT
            && let Ok(range) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", end - 1))
        {
            headers.insert(header::CONTENT_RANGE, range);
        }
        let disposition = format!(
            "{}; filename=\"{}\"",
            if download { "attachment" } else { "inline" },
            download_name(&file)
        );
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
        response
    };
    // A HEAD reads nothing and is no playback.
    if method == Method::HEAD {
        return Ok(head(status));
    }
    // The log first: a playback the log cannot hold is not served.
    let access = Access::now(
        uuid.clone(),
        viewer.name.clone(),
        address,
        if download {
            AccessAction::Download
        } else {
            AccessAction::Play
        },
    );
    if let Err(error) = on_catalog(pbx, move |catalog| catalog.log_access(&access)).await {
        tracing::warn!(pbx = %name, %error, "the access log could not be written: the recording is not served");
        return Err(WebError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            &For::File,
            "the access log cannot be written now",
        ));
    }
    let stream = if start == end {
        None
    } else {
        match pbx.archive.target().read_range(&key, start..end).await {
            Ok(Some(stream)) => Some(stream),
            Ok(None) => {
                tracing::warn!(pbx = %name, record = %uuid, "the catalog's object is missing from the target");
                return Err(WebError::new(
                    StatusCode::NOT_FOUND,
                    &For::File,
                    "the recording's file is missing from the archive",
                ));
            }
            Err(error) => {
                tracing::warn!(pbx = %name, %error, "the target could not be read for a recording");
                return Err(WebError::new(
                    StatusCode::BAD_GATEWAY,
                    &For::File,
                    "the archive's storage cannot be read now",
                ));
            }
        }
    };
    answered(status);
    let counter = web
        .metrics
        .web_audio_bytes
        .get_or_create(&metrics::pbx(&name))
        .clone();
    let body = match stream {
        Some(stream) => Body::from_stream(stream.map(move |chunk| {
            if let Ok(bytes) = &chunk {
                counter.inc_by(bytes.len() as u64);
            }
            chunk.map_err(std::io::Error::other)
        })),
        None => Body::empty(),
    };
    let mut response = head(status);
    *response.body_mut() = body;
    Ok(response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn asking(range: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, range.parse().unwrap());
        headers
    }

    #[test]
    fn ranges_are_read_as_browsers_send_them() {
        let tag = "\"abc\"";
        assert_eq!(part_of(&HeaderMap::new(), 1000, tag), Part::Whole);
        assert_eq!(part_of(&asking("bytes=0-"), 1000, tag), Part::Range(0, 999));
        assert_eq!(
            part_of(&asking("bytes=500-599"), 1000, tag),
            Part::Range(500, 599)
        );
        assert_eq!(
            part_of(&asking("bytes=-100"), 1000, tag),
            Part::Range(900, 999)
        );
        assert_eq!(
            part_of(&asking("bytes=900-5000"), 1000, tag),
            Part::Range(900, 999)
        );
        assert_eq!(
            part_of(&asking("bytes=1000-"), 1000, tag),
            Part::Unsatisfiable
        );
        assert_eq!(part_of(&asking("pages=1-2"), 1000, tag), Part::Whole);
        assert_eq!(part_of(&asking("bytes=0-1,5-6"), 1000, tag), Part::Whole);
        let mut changed = asking("bytes=10-20");
        changed.insert(header::IF_RANGE, "\"other\"".parse().unwrap());
        assert_eq!(part_of(&changed, 1000, tag), Part::Whole);
    }

    #[test]
    fn names_and_types_are_plain() {
        assert_eq!(content_type("2026/12/01/x.MP3"), "audio/mpeg");
        assert_eq!(content_type("x.wav"), "audio/wav");
        assert_eq!(content_type("x"), "application/octet-stream");
        assert_eq!(download_name("a b\"c.mp3"), "a_b_c.mp3");
    }
}
