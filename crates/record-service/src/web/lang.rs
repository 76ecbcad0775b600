//! The page's language: Russian or English, from the `lang` cookie (the switch) or else the
//! browser's `Accept-Language`. The texts are in `locales/app.yml` (rust-i18n).

use axum::extract::{Path, Query};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The cookie that keeps the switch's choice.
const LANG_COOKIE: &str = "lang";

/// A language of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    Ru,
}

impl Lang {
    /// Its code (`en`, `ru`): the locale of its texts and the page's `lang`.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// The other one, which the switch offers.
    pub(crate) fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Ru,
            Lang::Ru => Lang::En,
        }
    }

    fn parse(code: &str) -> Option<Lang> {
        let primary = code.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "ru" => Some(Lang::Ru),
            _ => None,
        }
    }

    /// The language of a request.
    pub(crate) fn of(parts: &Parts) -> Lang {
        if let Some(lang) = super::cookie_of(parts, LANG_COOKIE).and_then(|code| Lang::parse(&code))
        {
            return lang;
        }
        parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .and_then(preferred)
            .unwrap_or(Lang::En)
    }

    /// The text of `key`.
    pub(crate) fn t(self, key: &str) -> String {
        rust_i18n::t!(key, locale = self.code()).into_owned()
    }
}

/// The language `Accept-Language` prefers among ours (by quality, then order).
fn preferred(header: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let Some(lang) = parts.next().and_then(Lang::parse) else {
            continue;
        };
        let quality = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, lang));
        }
    }
    best.filter(|(q, _)| *q > 0.0).map(|(_, lang)| lang)
}

#[derive(Deserialize)]
pub(crate) struct Back {
    back: Option<String>,
}

/// `/lang/{code}?back=/path`: keeps the choice in a cookie and goes back to the page.
pub(crate) async fn switch(Path(code): Path<String>, Query(back): Query<Back>) -> Response {
    let Some(lang) = Lang::parse(&code) else {
        return (axum::http::StatusCode::NOT_FOUND, "no such language\n").into_response();
    };
    // Only a path of this site: never another site (`//host`, `/\host`).
    let back = back
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.starts_with("/\\"))
        .unwrap_or_else(|| "/search".to_owned());
    (
        [(
            header::SET_COOKIE,
            format!(
                "{LANG_COOKIE}={}; Path=/; SameSite=Strict; Max-Age=31536000",
                lang.code()
            ),
        )],
        Redirect::to(&back),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browsers_preference_picks_a_language_of_ours() {
        assert_eq!(preferred("ru-RU,ru;q=0.9,en-US;q=0.8"), Some(Lang::Ru));
        assert_eq!(preferred("de-DE,en;q=0.5,ru;q=0.4"), Some(Lang::En));
        assert_eq!(preferred("en;q=0.3, ru;q=0.7"), Some(Lang::Ru));
        assert_eq!(preferred("de, fr"), None);
        assert_eq!(preferred("ru;q=0"), None);
    }

    #[test]
    fn every_text_is_in_both_languages() {
        let yaml = include_str!("../../locales/app.yml");
        for line in yaml
            .lines()
            .filter(|l| !l.starts_with(' ') && l.ends_with(':'))
        {
            let key = line.trim_end_matches(':');
            for lang in [Lang::En, Lang::Ru] {
                let text = lang.t(key);
                assert_ne!(
                    text,
                    format!("{}.{key}", lang.code()),
                    "{key} has no {lang:?} text"
                );
                assert_ne!(text, key, "{key} has no {lang:?} text");
            }
        }
        assert_eq!(Lang::Ru.t("nav.search"), "Поиск");
    }
}
