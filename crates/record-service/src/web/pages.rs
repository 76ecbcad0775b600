//! The pages: login, search and a recording, and the access log as CSV.

use std::sync::Arc;

use axum::Form;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use record_backup::chrono_tz::Tz;
use record_backup::{Access, BackupError, Catalog, CatalogEntry, SearchQuery, Status};
use serde::Deserialize;
use telphin_records::{ExtensionId, Period, Scope};

use super::auth::Login;
use super::error::{For, WebError};
use super::layout::{self, page, time_in, word};
use super::{FileViewer, Lang, PageViewer, Peer, Web, url_encode};
use crate::pbx::Pbx;

/// Results per page of a search.
const RESULTS_PER_PAGE: usize = 50;
/// A search counts its matches up to this many.
const COUNT_UP_TO: u64 = 10_000;
/// The access log lines a recording's page shows (the CSV has all).
const ACCESS_SHOWN: usize = 100;

/// Runs `work` on `pbx`'s catalog off the async threads (SQLite blocks).
pub(crate) async fn on_catalog<R: Send + 'static>(
    pbx: &Arc<Pbx>,
    work: impl FnOnce(&Catalog) -> Result<R, BackupError> + Send + 'static,
) -> Result<R, BackupError> {
    let pbx = Arc::clone(pbx);
    tokio::task::spawn_blocking(move || work(pbx.archive.catalog()))
        .await
        .map_err(|error| {
            BackupError::InvalidOption(format!("the catalog's worker failed: {error}"))
        })?
}

/// A page saying what is wrong, with its status.
pub(crate) fn problem(
    status: StatusCode,
    lang: Lang,
    viewer: Option<&super::Viewer>,
    message: &str,
) -> Response {
    let title = lang.t("error.title");
    let body = html! {
        h1 { (title) }
        p.message { (message) }
    };
    (status, page(lang, viewer, &title, "/search", body)).into_response()
}

#[derive(Deserialize, Default)]
pub(crate) struct Next {
    next: Option<String>,
    refused: Option<String>,
}

/// A local path to go back to after the login (never another site).
fn local_path(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\"))
        .unwrap_or_else(|| "/search".to_owned())
}

fn login_page(lang: Lang, next: &str, refused: bool) -> Markup {
    let title = lang.t("login.title");
    let here = format!("/login?next={}", url_encode(next));
    page(
        lang,
        None,
        &title,
        &here,
        html! {
            h1 { (title) }
            @if refused {
                p.message.refused role="alert" { (lang.t("login.refused")) }
            }
            form.login method="post" action={ "/login?next=" (url_encode(next)) } {
                label { (lang.t("login.name")) input name="name" autocomplete="username" required autofocus; }
                label { (lang.t("login.password")) input name="password" type="password" autocomplete="current-password" required; }
                button type="submit" { (lang.t("login.submit")) }
            }
        },
    )
}

/// `GET /login`.
pub(crate) async fn login_form(parts: Parts, Query(next): Query<Next>) -> Response {
    let lang = Lang::of(&parts);
    let refused = next.refused.is_some();
    login_page(lang, &local_path(next.next), refused).into_response()
}

#[derive(Deserialize)]
pub(crate) struct Credentials {
    name: String,
    password: String,
}

/// `POST /login`: a session cookie and back to the page asked for, or the form again
/// (after a delay that grows with each failure).
pub(crate) async fn login(
    State(web): State<Arc<Web>>,
    Peer(address): Peer,
    Query(next): Query<Next>,
    Form(credentials): Form<Credentials>,
) -> Response {
    let next = local_path(next.next);
    match web
        .gate
        .login(&credentials.name, &credentials.password, &address)
        .await
    {
        Login::Opened(token) => {
            web.metrics
                .web_logins
                .get_or_create(&crate::metrics::Kind {
                    kind: "ok".to_owned(),
                })
                .inc();
            tracing::info!(user = %credentials.name, %address, "web login");
            (
                [(header::SET_COOKIE, web.gate.session_cookie(&token))],
                Redirect::to(&next),
            )
                .into_response()
        }
        Login::Refused => {
            web.metrics
                .web_logins
                .get_or_create(&crate::metrics::Kind {
                    kind: "refused".to_owned(),
                })
                .inc();
            tracing::warn!(%address, "a web login was refused");
            Redirect::to(&format!("/login?refused=1&next={}", url_encode(&next))).into_response()
        }
    }
}

/// `POST /logout`.
pub(crate) async fn logout(State(web): State<Arc<Web>>, parts: Parts) -> Response {
    if let Some(token) = super::cookie_of(&parts, super::auth::SESSION_COOKIE) {
        web.gate.logout(&token);
    }
    (
        [(header::SET_COOKIE, web.gate.cleared_cookie())],
        Redirect::to("/login"),
    )
        .into_response()
}

/// The search form's fields, as the browser sends them (empty when not filled).
#[derive(Deserialize, Default, Clone)]
pub(crate) struct SearchForm {
    #[serde(default)]
    pbx: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    extension: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    flow: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    min_duration: String,
    #[serde(default)]
    order: String,
    #[serde(default)]
    after: String,
}

impl SearchForm {
    /// The form as a query string, without the page's cursor, with `order` as given.
    fn query_string(&self, order: &str) -> String {
        let pairs = [
            ("pbx", self.pbx.as_str()),
            ("number", &self.number),
            ("extension", &self.extension),
            ("from", &self.from),
            ("until", &self.until),
            ("flow", &self.flow),
            ("result", &self.result),
            ("min_duration", &self.min_duration),
            ("order", order),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", url_encode(v.trim())))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn oldest_first(&self) -> bool {
        self.order == "oldest"
    }

    /// The catalog's query, or what is wrong with the form.
    fn query(&self, tz: Tz, lang: Lang) -> Result<SearchQuery, String> {
        let mut query = SearchQuery::default()
            .page_size(RESULTS_PER_PAGE)
            .limit(RESULTS_PER_PAGE);
        if !self.oldest_first() {
            query = query.newest_first();
        }
        let number = self.number.trim();
        if !number.is_empty() {
            if !number.chars().any(|c| c.is_ascii_digit()) {
                return Err(format!("{number:?}: {}", lang.t("search.number")));
            }
            query = query.number(number);
        }
        let extension = self.extension.trim();
        if !extension.is_empty() {
            let id = extension
                .parse::<ExtensionId>()
                .map_err(|error| format!("{extension:?}: {error}"))?;
            query = query.scope(Scope::Extension(id));
        }
        // A day of the form: its midnight in `tz`, `after` days on (the until day is
        // inclusive: the next day's midnight ends it).
        let day = |text: &str, after: u64| -> Result<Option<DateTime<Utc>>, String> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            let date = layout::parse_day(text)
                .ok_or_else(|| format!("{text:?} is not a date such as 2026-03-01"))?;
            date.checked_add_days(chrono::Days::new(after))
                .and_then(|date| layout::start_of(date, tz))
                .map(Some)
                .ok_or_else(|| format!("{text} has no midnight in {tz}"))
        };
        let from = day(&self.from, 0)?;
        let until = day(&self.until, 1)?;
        match (from, until) {
            (Some(from), Some(until)) => {
                let period = Period::between(from, until).map_err(|error| error.to_string())?;
                query = query.period(period);
            }
            (Some(from), None) => {
                let period = Period::between(from, Utc::now() + chrono::Duration::days(1))
                    .map_err(|e| e.to_string())?;
                query = query.period(period);
            }
            (None, Some(until)) => query = query.before(until),
            (None, None) => {}
        }
        if !self.flow.trim().is_empty() {
            query = query.flow(self.flow.trim());
        }
        if !self.result.trim().is_empty() {
            query = query.result(self.result.trim());
        }
        let min = self.min_duration.trim();
        if !min.is_empty() {
            let seconds = min
                .parse::<u64>()
                .map_err(|_| format!("{min:?}: {}", lang.t("search.min_duration")))?;
            query = query.min_duration(seconds);
        }
        if let Some((micros, uuid)) = self.after.split_once('.') {
            let at = micros
                .parse::<i64>()
                .ok()
                .and_then(DateTime::<Utc>::from_timestamp_micros)
                .ok_or("a page cursor of another kind")?;
            query = query.resume_after((at, uuid.to_owned()));
        }
        Ok(query)
    }
}

/// What a search found: a page, how many match (up to a bound), and where the next page starts.
struct Found {
    entries: Vec<CatalogEntry>,
    total: u64,
    next: Option<String>,
}

/// `GET /search`.
pub(crate) async fn search(
    State(web): State<Arc<Web>>,
    PageViewer { viewer, lang }: PageViewer,
    Query(form): Query<SearchForm>,
) -> Result<Response, WebError> {
    let mut form = form;
    let to = For::Page(lang, viewer.clone());
    let pbx = web.pbx_for(&form.pbx, &to)?;
    form.pbx = pbx.name.clone();
    let here = format!("/search?{}", form.query_string(&form.order));
    let query = match form.query(viewer.tz, lang) {
        Ok(query) => query,
        Err(reason) => {
            let message = rust_i18n::t!("error.bad_request", locale = lang.code(), reason = reason);
            let body = html! { (search_form(&web, &form, lang)) p.message { (message) } };
            let title = lang.t("search.title");
            return Ok((
                StatusCode::BAD_REQUEST,
                page(lang, Some(&viewer), &title, &here, body),
            )
                .into_response());
        }
    };
    let found = on_catalog(pbx, move |catalog| {
        let mut search = catalog.search(&query)?;
        let total = search.count_up_to(COUNT_UP_TO + 1)?;
        let entries = search.next_page()?.unwrap_or_default();
        let next = (entries.len() == RESULTS_PER_PAGE)
            .then(|| search.cursor())
            .flatten()
            .map(|(at, uuid)| format!("{}.{uuid}", at.timestamp_micros()));
        Ok(Found {
            entries,
            total,
            next,
        })
    })
    .await;
    let found = found.map_err(|error| match error {
        BackupError::InvalidOption(reason) => WebError::bad_request(&to, &reason),
        error => WebError::archive(&to, &pbx.name, &error),
    })?;
    let title = lang.t("search.title");
    let body = html! {
        h1 { (title) }
        (search_form(&web, &form, lang))
        (results(&form, &found, &pbx.name, viewer.tz, lang))
    };
    Ok(page(lang, Some(&viewer), &title, &here, body).into_response())
}

fn search_form(web: &Web, form: &SearchForm, lang: Lang) -> Markup {
    let flows = ["in", "out", "transfer"];
    let results = [
        "answered",
        "not answered",
        "busy",
        "answered elsewhere",
        "failed",
        "rejected",
        "voicemail",
    ];
    html! {
        form.search method="get" action="/search" {
            @if web.pbxs.len() > 1 {
                label { (lang.t("search.pbx"))
                    select name="pbx" {
                        @for pbx in &web.pbxs {
                            option value=(pbx.name) selected[pbx.name == form.pbx] { (pbx.name) }
                        }
                    }
                }
            } @else {
                input type="hidden" name="pbx" value=(form.pbx);
            }
            label { (lang.t("search.number")) input name="number" inputmode="tel" value=(form.number); }
            label { (lang.t("search.extension")) input name="extension" inputmode="numeric" value=(form.extension); }
            label { (lang.t("search.from")) input name="from" type="date" value=(form.from); }
            label { (lang.t("search.until")) input name="until" type="date" value=(form.until); }
            label { (lang.t("search.flow"))
                select name="flow" {
                    option value="" { (lang.t("search.any")) }
                    @for flow in flows {
                        option value=(flow) selected[form.flow == flow] { (word(lang, "flow", flow)) }
                    }
                }
            }
            label { (lang.t("search.result"))
                select name="result" {
                    option value="" { (lang.t("search.any")) }
                    @for result in results {
                        option value=(result) selected[form.result == result] { (word(lang, "result", result)) }
                    }
                }
            }
            label { (lang.t("search.min_duration")) input name="min_duration" inputmode="numeric" value=(form.min_duration); }
            label { (lang.t("search.order"))
                select name="order" {
                    option value="newest" selected[!form.oldest_first()] { (lang.t("search.newest")) }
                    option value="oldest" selected[form.oldest_first()] { (lang.t("search.oldest")) }
                }
            }
            button type="submit" { (lang.t("search.submit")) }
        }
    }
}

/// The state of a record in the page's words.
fn state_word(lang: Lang, status: Status) -> String {
    let key = match status {
        Status::Pending => "state.pending",
        Status::Failed => "state.failed",
        Status::Kept => "state.kept",
        Status::Verified => "state.verified",
        Status::OffPbx => "state.off_pbx",
        _ => "state.lost",
    };
    lang.t(key)
}

fn results(form: &SearchForm, found: &Found, pbx: &str, tz: Tz, lang: Lang) -> Markup {
    let total = if found.total > COUNT_UP_TO {
        rust_i18n::t!(
            "search.found_more",
            locale = lang.code(),
            count = layout::count(COUNT_UP_TO)
        )
    } else {
        rust_i18n::t!(
            "search.found",
            locale = lang.code(),
            count = layout::count(found.total)
        )
    };
    let other_order = if form.oldest_first() {
        "newest"
    } else {
        "oldest"
    };
    let arrow = if form.oldest_first() { "▲" } else { "▼" };
    html! {
        p.summary data-total=(found.total) { (total) }
        @if found.entries.is_empty() {
            p.message { (lang.t("search.none")) }
        } @else {
            table.results {
                thead { tr {
                    th { a href={ "/search?" (form.query_string(other_order)) } { (lang.t("col.time")) " " (arrow) } }
                    th { (lang.t("col.flow")) }
                    th { (lang.t("col.from")) }
                    th { (lang.t("col.to")) }
                    th.num { (lang.t("col.duration")) }
                    th.num { (lang.t("col.size")) }
                    th { (lang.t("col.extension")) }
                    th { (lang.t("col.state")) }
                    th {}
                } }
                tbody {
                    @for entry in &found.entries {
                        @let record = &entry.record;
                        @let uuid = record.record_uuid.to_string();
                        @let link = format!("/recordings/{}/{}", url_encode(pbx), url_encode(&uuid));
                        tr data-uuid=(uuid) {
                            td { a href=(link) { (time_in(record.init_time_gmt.instant(), tz)) } }
                            td { (word(lang, "flow", &record.flow.to_string())) }
                            td { (caller(record)) }
                            td { (callee(record)) }
                            td.num { (layout::duration(record.duration)) }
                            td.num { (layout::size(entry.state.size.unwrap_or(record.record_file_size))) }
                            td { (record.extension_name) " (" (record.extension_id.get()) ")" }
                            td { (state_word(lang, entry.state.status())) }
                            td {
                                a href=(link) { (lang.t("col.listen")) }
                                @if entry.state.is_kept() {
                                    " · " a href={ (link) "/audio?download=1" } { (lang.t("col.download")) }
                                }
                            }
                        }
                    }
                }
            }
            div.pages {
                @if !form.after.is_empty() {
                    a href={ "/search?" (form.query_string(&form.order)) } { (lang.t("search.first")) }
                }
                @if let Some(next) = &found.next {
                    a.next href={ "/search?" (form.query_string(&form.order)) "&after=" (url_encode(next)) } { (lang.t("search.next")) }
                }
            }
        }
    }
}

/// Who called ([`Record::caller`](telphin_records::Record::caller)), or a dash.
fn caller(record: &telphin_records::Record) -> &str {
    record.caller().unwrap_or("—")
}

/// Who was called ([`Record::callee`](telphin_records::Record::callee)), or a dash.
fn callee(record: &telphin_records::Record) -> &str {
    record.callee().unwrap_or("—")
}

/// `GET /recordings/{pbx}/{uuid}`.
pub(crate) async fn recording(
    State(web): State<Arc<Web>>,
    PageViewer { viewer, lang }: PageViewer,
    Path((name, uuid)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let to = For::Page(lang, viewer.clone());
    let pbx = web.pbx_for(&name, &to)?;
    let wanted = uuid.clone();
    let (entry, accesses) = on_catalog(pbx, move |catalog| {
        let entry = catalog.entry(&wanted)?;
        let accesses = catalog.accesses_of(&wanted, ACCESS_SHOWN)?;
        Ok((entry, accesses))
    })
    .await
    .map_err(|error| WebError::archive(&to, &pbx.name, &error))?;
    let entry = entry.ok_or_else(|| WebError::not_found(&to, "recording.not_found", ""))?;
    let tz = viewer.tz;
    let record = &entry.record;
    let state = &entry.state;
    let base = format!("/recordings/{}/{}", url_encode(&name), url_encode(&uuid));
    let title = format!(
        "{} {}",
        lang.t("recording.title"),
        time_in(record.init_time_gmt.instant(), tz)
    );
    let when = |at: Option<DateTime<Utc>>| at.map_or_else(|| "—".to_owned(), |at| time_in(at, tz));
    let body = html! {
        h1 { (title) }
        @if state.is_kept() {
            h2 { (lang.t("recording.player")) }
            audio #player controls preload="metadata" src={ (base) "/audio" } {}
            p { a href={ (base) "/audio?download=1" } download { (lang.t("col.download")) } }
        } @else {
            p.message { (lang.t("recording.not_kept")) }
        }
        h2 { (lang.t("recording.fields")) }
        dl.fields {
            dt { (lang.t("col.time")) } dd { (time_in(record.init_time_gmt.instant(), tz)) " (" (tz) ")" }
            dt { (lang.t("col.flow")) } dd { (word(lang, "flow", &record.flow.to_string())) }
            dt { (lang.t("col.result")) } dd { (word(lang, "result", &record.result.to_string())) }
            dt { (lang.t("col.from")) } dd { (caller(record)) }
            dt { (lang.t("col.to")) } dd { (callee(record)) }
            dt { (lang.t("recording.did")) } dd { (record.did_number.clone().unwrap_or_else(|| "—".to_owned())) }
            dt { (lang.t("col.extension")) } dd { (record.extension_name) " (" (record.extension_id.get()) ")" }
            dt { (lang.t("col.duration")) } dd { (layout::duration(record.duration)) }
            dt { (lang.t("col.size")) } dd { (layout::size(state.size.unwrap_or(record.record_file_size))) }
            dt { (lang.t("recording.file")) } dd { (record.file_name().unwrap_or("—")) }
            dt { (lang.t("col.state")) } dd { (state_word(lang, state.status())) }
            dt { (lang.t("recording.sha256")) } dd { code { (state.sha256.clone().unwrap_or_else(|| "—".to_owned())) } }
            dt { (lang.t("recording.stored_at")) } dd { (when(state.stored_at)) }
            dt { (lang.t("recording.verified_at")) } dd { (when(state.verified_at)) }
            dt { (lang.t("recording.deleted_at")) } dd { (when(state.deleted_from_pbx_at)) }
        }
        h2 { (lang.t("recording.access")) }
        @if accesses.is_empty() {
            p #access-none { (lang.t("recording.access_none")) }
        } @else {
            table #access {
                thead { tr {
                    th { (lang.t("access.when")) } th { (lang.t("access.who")) }
                    th { (lang.t("access.action")) } th { (lang.t("access.address")) }
                } }
                tbody {
                    @for access in &accesses {
                        tr data-user=(access.user) data-action=(access.action.as_str()) {
                            td { (time_in(access.at, tz)) }
                            td { (access.user) }
                            td { (lang.t(&format!("access.{}", access.action.as_str()))) }
                            td { (access.address) }
                        }
                    }
                }
            }
        }
        p { a href={ (base) "/access.csv" } { (lang.t("recording.access_csv")) } }
    };
    Ok(page(lang, Some(&viewer), &title, &base, body).into_response())
}

/// The CSV header of the access log.
const CSV_HEADER: &str = "time_utc,user,action,recording,address\n";

/// One CSV line (quoted where needed, with a formula's first character defused).
fn csv_line(access: &Access) -> String {
    let field = |text: &str| {
        let text = if text.starts_with(['=', '+', '-', '@']) {
            format!("'{text}")
        } else {
            text.to_owned()
        };
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text
        }
    };
    format!(
        "{},{},{},{},{}\n",
        access.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        field(&access.user),
        access.action.as_str(),
        field(&access.record_uuid),
        field(&access.address)
    )
}

fn csv_response(name: &str, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// `GET /recordings/{pbx}/{uuid}/access.csv`: every line of the recording's access log.
pub(crate) async fn recording_access_csv(
    State(web): State<Arc<Web>>,
    FileViewer(_viewer): FileViewer,
    Path((name, uuid)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let pbx = web.pbx_for(&name, &For::File)?;
    let wanted = uuid.clone();
    let lines = on_catalog(pbx, move |catalog| catalog.accesses_of(&wanted, usize::MAX))
        .await
        .map_err(|error| WebError::archive(&For::File, &pbx.name, &error))?;
    let mut text = CSV_HEADER.to_owned();
    for access in lines.iter().rev() {
        text.push_str(&csv_line(access));
    }
    let safe: String = uuid
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    Ok(csv_response(
        &format!("access-{safe}.csv"),
        Body::from(text),
    ))
}

#[derive(Deserialize)]
pub(crate) struct AccessPeriod {
    pbx: Option<String>,
    from: Option<String>,
    until: Option<String>,
}

/// `GET /access.csv?pbx=&from=YYYY-MM-DD&until=YYYY-MM-DD`: the access log of a period (the
/// viewer's days, `until` inclusive; default the last 30 days), streamed page by page.
pub(crate) async fn access_csv(
    State(web): State<Arc<Web>>,
    FileViewer(viewer): FileViewer,
    Query(period): Query<AccessPeriod>,
) -> Result<Response, WebError> {
    let pbx = web.pbx_for(period.pbx.as_deref().unwrap_or_default(), &For::File)?;
    let tz = viewer.tz;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let from = match period.from.as_deref().filter(|f| !f.is_empty()) {
        Some(text) => match layout::parse_day(text).and_then(|d| layout::start_of(d, tz)) {
            Some(at) => at,
            None => {
                return Err(WebError::bad_request(
                    &For::File,
                    "from: a date such as 2026-03-01",
                ));
            }
        },
        None => layout::start_of(today - chrono::Duration::days(30), tz).unwrap_or_default(),
    };
    let until = match period.until.as_deref().filter(|u| !u.is_empty()) {
        Some(text) => match layout::parse_day(text)
            .and_then(|d| d.succ_opt())
            .and_then(|d| layout::start_of(d, tz))
        {
            Some(at) => at,
            None => {
                return Err(WebError::bad_request(
                    &For::File,
                    "until: a date such as 2026-03-31",
                ));
            }
        },
        None => Utc::now() + chrono::Duration::seconds(1),
    };
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(8);
    let name = pbx.name.clone();
    let pbx = Arc::clone(pbx);
    tokio::task::spawn_blocking(move || {
        if sender
            .blocking_send(Ok(bytes::Bytes::from_static(CSV_HEADER.as_bytes())))
            .is_err()
        {
            return;
        }
        let mut chunk = String::new();
        let result = pbx.archive.catalog().export_access(from, until, |access| {
            chunk.push_str(&csv_line(&access));
            if chunk.len() >= 64 * 1024 {
                let full = std::mem::take(&mut chunk);
                sender
                    .blocking_send(Ok(bytes::Bytes::from(full)))
                    .map_err(|_| {
                        BackupError::InvalidOption("the download was abandoned".to_owned())
                    })?;
            }
            Ok(())
        });
        match result {
            Ok(_) => {
                let _ = sender.blocking_send(Ok(bytes::Bytes::from(chunk)));
            }
            Err(error) => {
                tracing::warn!(pbx = %name, %error, "the access log's export failed");
                let _ = sender
                    .blocking_send(Err(std::io::Error::other("the access log's export failed")));
            }
        }
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    Ok(csv_response("access.csv", Body::from_stream(stream)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_quote_and_defuse_formulas() {
        let mut access = Access::now("r1", "=cmd", "127.0.0.1", record_backup::AccessAction::Play);
        access.at = DateTime::<Utc>::from_timestamp(0, 0).unwrap_or_default();
        assert_eq!(
            csv_line(&access),
            "1970-01-01T00:00:00Z,'=cmd,play,r1,127.0.0.1\n"
        );
        access.user = "a, \"b\"".to_owned();
        assert!(csv_line(&access).contains("\"a, \"\"b\"\"\""));
    }

    #[test]
    fn the_forms_days_are_the_viewers_whole_days() {
        let tz = record_backup::chrono_tz::Europe::Moscow;
        let form = SearchForm {
            from: "2026-03-01".to_owned(),
            until: " 2026-03-31 ".to_owned(),
            ..SearchForm::default()
        };
        let period = form.query(tz, Lang::En).unwrap().period.unwrap();
        assert_eq!(period.start().to_rfc3339(), "2026-02-28T21:00:00+00:00");
        assert_eq!(period.end().to_rfc3339(), "2026-03-31T21:00:00+00:00");
        let until_only = SearchForm {
            until: "2026-03-31".to_owned(),
            ..SearchForm::default()
        };
        let before = until_only.query(tz, Lang::En).unwrap().before.unwrap();
        assert_eq!(before.to_rfc3339(), "2026-03-31T21:00:00+00:00");
        let wrong = SearchForm {
            from: "31.03.2026".to_owned(),
            ..SearchForm::default()
        };
        assert!(
            wrong
                .query(tz, Lang::En)
                .unwrap_err()
                .contains("is not a date")
        );
    }

    #[test]
    fn only_local_paths_are_followed_after_a_login() {
        assert_eq!(
            local_path(Some("/search?number=1".to_owned())),
            "/search?number=1"
        );
        assert_eq!(local_path(Some("//evil.example".to_owned())), "/search");
        assert_eq!(
            local_path(Some("https://evil.example".to_owned())),
            "/search"
        );
        assert_eq!(local_path(None), "/search");
    }
}
