//! Record files: download, delete, storage links, archives.

use std::time::Duration;

use axum::body::Body;
use http::StatusCode;
use http::header::CONTENT_DISPOSITION;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::records::visible;
use super::reply::{Reply, ReplyBody};
use super::{Incoming, query};
use crate::file::{self, ArchiveEntry, Ending};
use crate::state::{Archive, Level, SentEmail, SimState, in_window};

/// An archive link works this long.
const ARCHIVE_LINK_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// The largest archive the simulator builds.
const ARCHIVE_MAX_BYTES: u64 = 2 << 30;

fn file_reply(seed: u64, size: u64, name: &str, ending: Ending) -> Reply {
    Reply {
        status: StatusCode::OK,
        headers: vec![(
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        )],
        body: ReplyBody::Stream {
            body: Body::from_stream(file::stream(seed, size, ending)),
            content_type: "audio/mpeg",
            length: Some(size),
        },
    }
}

pub(crate) fn download(state: &SimState, level: Level, uuid: &str, ending: Ending) -> Reply {
    let records = state.records();
    match records.iter().find(|r| r.uuid == uuid && visible(r, level)) {
        Some(record) => file_reply(record.file_seed, record.size, &record.file_name(), ending),
        None => Reply::record_not_found(),
    }
}

pub(crate) fn delete(state: &SimState, level: Level, uuid: &str) -> Reply {
    let mut records = state.records_mut();
    let before = records.len();
    records.retain(|r| !(r.uuid == uuid && visible(r, level)));
    if records.len() < before {
        Reply::empty(StatusCode::NO_CONTENT)
    } else {
        Reply::record_not_found()
    }
}

pub(crate) fn storage_url(state: &SimState, level: Level, uuid: &str) -> Reply {
    let found = state
        .records()
        .iter()
        .any(|r| r.uuid == uuid && visible(r, level));
    if !found {
        return Reply::record_not_found();
    }
    let url = format!("{}/storage/{}", state.base_url(), state.storage_token(uuid));
    Reply::json(StatusCode::OK, json!({"record_url": url}))
}

/// `GET /storage/{token}`: no authentication, as on the real storage host.
pub(crate) fn storage_file(state: &SimState, incoming: &Incoming<'_>, token: &str) -> Reply {
    if incoming.method != http::Method::GET {
        return Reply::error(StatusCode::METHOD_NOT_ALLOWED, None, "Method not allowed");
    }
    let records = state.records();
    let Some(record) = state
        .storage_uuid(token)
        .and_then(|uuid| records.iter().find(|r| r.uuid == uuid))
    else {
        return Reply::record_not_found();
    };
    match super::storage_fault(state) {
        Ok(ending) => file_reply(record.file_seed, record.size, &record.file_name(), ending),
        Err(reply) => reply,
    }
}

pub(crate) fn request_archive(state: &SimState, level: Level, incoming: &Incoming<'_>) -> Reply {
    if !matches!(level, Level::Client(_)) {
        return Reply::error(StatusCode::NOT_FOUND, None, "Not found");
    }
    let Ok(body) = serde_json::from_slice::<Value>(incoming.body) else {
        return Reply::bad_request("invalid_params", "the body must be a JSON object");
    };
    let text = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let (start_text, end_text, email) =
        (text("start_datetime"), text("end_datetime"), text("email"));
    let pairs = vec![
        ("start_datetime".to_owned(), start_text.clone()),
        ("end_datetime".to_owned(), end_text.clone()),
    ];
    let (start, end) = match query::window(&pairs) {
        Ok(window) => window,
        Err(reply) => return reply,
    };
    let to: Vec<String> = email
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    if to.is_empty() || to.iter().any(|e| !e.contains('@')) {
        return Reply::bad_request("invalid_params", "email must list one or more addresses");
    }
    let entries: Vec<ArchiveEntry> = state
        .records()
        .iter()
        .filter(|r| in_window(r, start, end))
        .map(|r| ArchiveEntry {
            name: r.file_name(),
            seed: r.file_seed,
            size: r.size,
        })
        .collect();
    let total: u64 = entries.iter().map(|e| e.size).sum();
    if total > ARCHIVE_MAX_BYTES {
        return Reply::bad_request(
            "archive_too_large",
            "The archive would exceed 2 GiB; request a shorter period",
        );
    }
    let mut archives = state.archives();
    let cooldown = state.config.archive_cooldown;
    let blocked = archives
        .iter()
        .any(|a| !a.downloaded && a.created.elapsed() < cooldown);
    if blocked {
        return Reply::error(
            StatusCode::TOO_MANY_REQUESTS,
            Some("archive_not_downloaded"),
            "The previous archive has not been downloaded; try again within the hour",
        );
    }
    let id = archives.len() as u64 + 1;
    let token = format!("{}-{id}", state.storage_token(&format!("archive-{id}")));
    let link = format!("{}/archive/{token}.zip", state.base_url());
    archives.push(Archive {
        id,
        token,
        created: Instant::now(),
        downloaded: false,
        entries,
    });
    drop(archives);
    state.outbox().push(SentEmail {
        to,
        archive_id: id,
        link,
        start_datetime: start_text.clone(),
        end_datetime: end_text.clone(),
    });
    Reply::json(
        StatusCode::CREATED,
        json!({"id": id, "start_datetime": start_text, "end_datetime": end_text, "email": email}),
    )
}

/// `GET /archive/{token}.zip`: the e-mailed link; marks the archive downloaded.
pub(crate) fn archive_file(state: &SimState, incoming: &Incoming<'_>, name: &str) -> Reply {
    if incoming.method != http::Method::GET {
        return Reply::error(StatusCode::METHOD_NOT_ALLOWED, None, "Method not allowed");
    }
    let token = name.strip_suffix(".zip").unwrap_or(name);
    let mut archives = state.archives();
    let Some(archive) = archives.iter_mut().find(|a| a.token == token) else {
        return Reply::error(StatusCode::NOT_FOUND, None, "Archive not found");
    };
    if archive.created.elapsed() > ARCHIVE_LINK_LIFETIME {
        return Reply::error(StatusCode::GONE, None, "The archive link has expired");
    }
    archive.downloaded = true;
    let entries = archive.entries.clone();
    Reply {
        status: StatusCode::OK,
        headers: vec![(
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"records-{}.zip\"", archive.id),
        )],
        body: ReplyBody::Stream {
            body: Body::from_stream(file::zip_stream(entries)),
            content_type: "application/zip",
            length: None,
        },
    }
}
