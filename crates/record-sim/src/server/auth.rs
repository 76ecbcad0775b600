//! Who is calling, and what they may see.

use base64::Engine as _;
use http::StatusCode;
use http::header::AUTHORIZATION;

use super::ScopePath;
use super::reply::Reply;
use crate::state::{Level, SimState};

pub(crate) struct Principal {
    pub(crate) level: Level,
    pub(crate) call_api_only: bool,
}

fn unauthorized(message: &str) -> Reply {
    Reply::error(StatusCode::UNAUTHORIZED, None, message)
}

/// Reads `Authorization`: a live bearer token, or (on record files only) the PBX login.
pub(crate) fn authenticate(
    state: &SimState,
    headers: &http::HeaderMap,
    basic_allowed: bool,
) -> Result<Principal, Reply> {
    let header = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized("Authorization required: send a Bearer token"))?;
    let (scheme, credentials) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("bearer") {
        return match state.token_app(credentials.trim()) {
            Ok(app) => {
                let app = &state.apps[app];
                Ok(Principal {
                    level: app.level,
                    call_api_only: app.call_api_only,
                })
            }
            Err(true) => Err(unauthorized("Token is expired")),
            Err(false) => Err(unauthorized("Invalid token")),
        };
    }
    if scheme.eq_ignore_ascii_case("basic") {
        if !basic_allowed {
            return Err(unauthorized(
                "Basic authentication works for record files only; use a Bearer token",
            ));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        let (user, password) = &state.pbx_login;
        return match decoded.as_deref().and_then(|d| d.split_once(':')) {
            Some((u, p)) if u == user && p == password => Ok(Principal {
                level: Level::Client(state.client_id),
                call_api_only: false,
            }),
            _ => Err(unauthorized("Invalid login or password")),
        };
    }
    Err(unauthorized("Unsupported authorization scheme"))
}

fn denied() -> Reply {
    Reply::error(
        StatusCode::FORBIDDEN,
        Some("access_denied"),
        "Access to the resource is denied",
    )
}

/// The level a path names, if the principal may see it: each app sees only its own level and
/// what lies below it.
pub(crate) fn resolve(
    state: &SimState,
    principal: &Principal,
    scope: &ScopePath,
) -> Result<Level, Reply> {
    let number = |id: &str| -> Result<u64, Reply> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Reply::error(
                StatusCode::NOT_FOUND,
                Some("client_not_found"),
                "Not found",
            ));
        }
        id.parse().map_err(|_| denied())
    };
    let target = match scope {
        ScopePath::Client(id) if id == "@me" => match principal.level {
            Level::Client(client) => Level::Client(client),
            _ => return Err(denied()),
        },
        ScopePath::Client(id) => Level::Client(number(id)?),
        ScopePath::Group(id) => Level::Group(number(id)?),
        ScopePath::Extension(id) => Level::Extension(number(id)?),
    };
    let allowed = match (principal.level, target) {
        (Level::Client(own), Level::Client(client)) => own == client,
        (Level::Client(own), Level::Group(group)) => {
            own == state.client_id && state.groups.contains(&group)
        }
        (Level::Client(own), Level::Extension(extension)) => {
            own == state.client_id && state.extension(extension).is_some()
        }
        (Level::Group(own), Level::Group(group)) => own == group,
        (Level::Group(own), Level::Extension(extension)) => {
            state.extension(extension).and_then(|e| e.group) == Some(own)
        }
        (Level::Extension(own), Level::Extension(extension)) => own == extension,
        _ => false,
    };
    if allowed { Ok(target) } else { Err(denied()) }
}
