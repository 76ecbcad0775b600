//! `POST /oauth/token`: the three grants, with OAuth-shaped errors.

use http::{Method, StatusCode};
use serde_json::json;

use super::reply::Reply;
use super::{Incoming, query};
use crate::config::Fault;
use crate::state::SimState;

/// Answers a token request; the second value is the grant type, for the counters.
pub(crate) fn handle(state: &SimState, incoming: &Incoming<'_>) -> (Reply, Option<String>) {
    if incoming.method != Method::POST {
        return (
            Reply::oauth_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request",
                "use POST",
            ),
            None,
        );
    }
    let form = query::pairs(&String::from_utf8_lossy(incoming.body));
    let grant = query::get(&form, "grant_type").unwrap_or("").to_owned();
    if injected_error(state) {
        let reply = Reply::oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Simulated token endpoint failure",
        );
        return (reply, Some(grant));
    }
    (answer(state, &form, &grant), Some(grant))
}

fn injected_error(state: &SimState) -> bool {
    let mut faults = state.faults();
    let position = faults.injections.iter().position(|i| {
        i.fault == Fault::TokenError
            || (i.route.as_deref() == Some("token") && matches!(i.fault, Fault::Status(_)))
    });
    let Some(position) = position else {
        return false;
    };
    faults.injections[position].times -= 1;
    if faults.injections[position].times == 0 {
        faults.injections.remove(position);
    }
    true
}

fn answer(state: &SimState, form: &[(String, String)], grant: &str) -> Reply {
    let client_id = query::get(form, "client_id").unwrap_or("");
    let secret = query::get(form, "client_secret").unwrap_or("");
    let Some(app) = state
        .apps
        .iter()
        .position(|a| a.client_id == client_id && a.client_secret == secret)
    else {
        return Reply::oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    };
    let with_refresh = match grant {
        "client_credentials" => false,
        "password" => {
            let (user, password) = &state.pbx_login;
            let given = (query::get(form, "username"), query::get(form, "password"));
            if given != (Some(user.as_str()), Some(password.as_str())) {
                return Reply::oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid username or password",
                );
            }
            true
        }
        "refresh_token" => {
            let given = query::get(form, "refresh_token").unwrap_or("");
            if state.take_refresh_token(given) != Some(app) {
                return Reply::oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid refresh token",
                );
            }
            true
        }
        "" => {
            return Reply::oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is required",
            );
        }
        _ => {
            return Reply::oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Unsupported grant type",
            );
        }
    };
    let (access, refresh) = state.issue_token(app, with_refresh);
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": state.config.token_lifetime.as_secs(),
    });
    if let (Some(refresh), Some(map)) = (refresh, body.as_object_mut()) {
        map.insert("refresh_token".to_owned(), json!(refresh));
    }
    Reply::json(StatusCode::OK, body)
}
