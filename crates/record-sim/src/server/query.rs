//! Query strings and form bodies, decoded by the simulator itself.

use chrono::NaiveDateTime;
use http::StatusCode;

use super::reply::Reply;
use crate::wire;

/// Decodes `a=b&c=d` with `%XX` escapes and `+` for a space.
pub(crate) fn pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            (decode(name), decode(value))
        })
        .collect()
}

pub(crate) fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Percent-decodes one component (`+` is a space).
pub(crate) fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The window of a list, delete or stats request, checked against the window rule.
pub(crate) fn window(pairs: &[(String, String)]) -> Result<(NaiveDateTime, NaiveDateTime), Reply> {
    let bound = |name: &str| -> Result<NaiveDateTime, Reply> {
        let text = get(pairs, name)
            .ok_or_else(|| Reply::bad_request("invalid_params", &format!("{name} is required")))?;
        wire::parse_bound(text).ok_or_else(|| {
            Reply::bad_request(
                "invalid_params",
                &format!("{name} must be YYYY-MM-DD HH:MM:SS, got {text:?}"),
            )
        })
    };
    let start = bound("start_datetime")?;
    let end = bound("end_datetime")?;
    if start > end {
        return Err(Reply::bad_request(
            "invalid_params",
            "start_datetime must not be later than end_datetime",
        ));
    }
    let limit = wire::window_limit(start);
    if end > limit {
        return Err(Reply::error(
            StatusCode::BAD_REQUEST,
            Some("invalid_period"),
            &format!(
                "The period is too long: end_datetime must not be later than the last day of the \
                 month following the month of start_datetime ({})",
                wire::seconds(limit)
            ),
        ));
    }
    Ok((start, end))
}
