//! The frame of every page, and the formats of times, sizes and durations.

use chrono::{DateTime, NaiveDate, Utc};
use maud::{DOCTYPE, Markup, html};
use record_backup::chrono_tz::Tz;

use super::{Lang, Viewer, url_encode};

/// A whole page: `title`, the navigation, the language switch (back to `here`), `body`.
pub(crate) fn page(
    lang: Lang,
    viewer: Option<&Viewer>,
    title: &str,
    here: &str,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (lang.t("app.title")) }
                link rel="stylesheet" href="/static/app.css";
            }
            body {
                header {
                    span.brand { (lang.t("app.title")) }
                    @if viewer.is_some() {
                        nav {
                            a href="/search" { (lang.t("nav.search")) }
                            a href="/overview" { (lang.t("nav.overview")) }
                        }
                    }
                    span.spacer {}
                    a.lang href={ "/lang/" (lang.other().code()) "?back=" (url_encode(here)) } {
                        (lang.t("lang.switch"))
                    }
                    @if let Some(viewer) = viewer.filter(|v| v.logged_in) {
                        span.who { (rust_i18n::t!("nav.signed_in", locale = lang.code(), name = viewer.name)) }
                        form.logout method="post" action="/logout" {
                            button type="submit" { (lang.t("nav.logout")) }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// An instant in `tz`, to the second.
pub(crate) fn time_in(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The instant that starts `day` in `tz`, by the one rule for local days
/// ([`Period::local_day_start`](telphin_records::Period::local_day_start)).
pub(crate) fn start_of(day: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
    telphin_records::Period::local_day_start(day, &tz)
}

/// A day as forms write it: `2026-03-01`.
pub(crate) fn parse_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// Seconds as `h:mm:ss` or `m:ss`.
pub(crate) fn duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Bytes in KiB, MiB, GiB, TiB.
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A count with thin groups: `2 500 000`.
pub(crate) fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// A direction's or a result's word in `lang` (the API's own word when it is new to us).
pub(crate) fn word(lang: Lang, kind: &str, value: &str) -> String {
    if value.is_empty() {
        return "—".to_owned();
    }
    let key = format!("{kind}.{value}");
    let text = lang.t(&key);
    if text == key || text.ends_with(&key) {
        value.to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(duration(59), "0:59");
        assert_eq!(duration(3725), "1:02:05");
        assert_eq!(size(512), "512 B");
        assert_eq!(size(50 << 20), "50.0 MiB");
        assert_eq!(count(2_500_000), "2\u{202f}500\u{202f}000");
        assert_eq!(count(999), "999");
        assert_eq!(word(Lang::Ru, "result", "not answered"), "не отвечен");
        assert_eq!(word(Lang::En, "flow", "sideways"), "sideways");
    }
}
