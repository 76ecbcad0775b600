//! The overview: calls per day by direction and by result, storage per month on the PBX and in
//! the archive, and the sync's state — for every PBX. Read from the catalog's per-hour and
//! per-month tables, never from its records.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate, Utc};
use maud::{Markup, PreEscaped, html};
use record_backup::chrono_tz::Tz;
use record_backup::{CallHour, MonthStorage};
use serde::Deserialize;

use super::charts::{self, Bars, Series};
use super::error::{For, WebError};
use super::layout::{self, page, word};
use super::pages::on_catalog;
use super::{Lang, PageViewer, Web};
use crate::pbx::Pbx;

/// Months of storage shown.
const MONTHS: usize = 12;

#[derive(Deserialize)]
pub(crate) struct Days {
    days: Option<u32>,
    /// The last day shown (default: today), to look back at an older period.
    end: Option<NaiveDate>,
}

/// Calls of each local day, split by one field (direction or result).
struct PerDay {
    days: Vec<NaiveDate>,
    /// Each value of the field, with its calls per day.
    series: Vec<(String, Vec<u64>)>,
}

impl PerDay {
    fn of(hours: &[CallHour], days: &[NaiveDate], tz: Tz, field: fn(&CallHour) -> &str) -> PerDay {
        let index: BTreeMap<NaiveDate, usize> =
            days.iter().enumerate().map(|(i, d)| (*d, i)).collect();
        let mut series: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for hour in hours {
            let day = hour.hour.with_timezone(&tz).date_naive();
            let Some(&at) = index.get(&day) else {
                continue;
            };
            series
                .entry(field(hour).to_owned())
                .or_insert_with(|| vec![0; days.len()])[at] += hour.calls;
        }
        // The biggest series first, at the bottom of the bars.
        let mut series: Vec<(String, Vec<u64>)> = series.into_iter().collect();
        series.sort_by_key(|(name, values)| {
            (std::cmp::Reverse(values.iter().sum::<u64>()), name.clone())
        });
        PerDay {
            days: days.to_vec(),
            series,
        }
    }

    fn total(&self, day: usize) -> u64 {
        self.series.iter().map(|(_, values)| values[day]).sum()
    }
}

/// What the overview of one PBX reads from its catalog.
struct Figures {
    hours: Vec<CallHour>,
    months: Vec<MonthStorage>,
}

/// `GET /overview?days=30|90`.
pub(crate) async fn overview(
    State(web): State<Arc<Web>>,
    PageViewer { viewer, lang }: PageViewer,
    Query(days): Query<Days>,
) -> Result<Response, WebError> {
    let to = For::Page(lang, viewer.clone());
    let end = days.end;
    let days = if days.days == Some(90) { 90 } else { 30 };
    let tz = viewer.tz;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let last = end.filter(|end| *end < today).unwrap_or(today);
    let first = last - Duration::days(i64::from(days) - 1);
    let dates: Vec<NaiveDate> = first.iter_days().take(days as usize).collect();
    let from = layout::start_of(first, tz).unwrap_or_else(Utc::now);
    let until = last
        .succ_opt()
        .and_then(|day| layout::start_of(day, tz))
        .unwrap_or_else(Utc::now);
    let end_query = if last < today {
        format!("&end={last}")
    } else {
        String::new()
    };
    let mut sections = Vec::new();
    for pbx in &web.pbxs {
        let figures = on_catalog(pbx, move |catalog| {
            Ok(Figures {
                hours: catalog.calls_by_hour(from, until)?,
                months: catalog.storage_by_month(MONTHS)?,
            })
        })
        .await;
        let figures = figures.map_err(|error| WebError::archive(&to, &pbx.name, &error))?;
        sections.push(section(pbx, &figures, &dates, tz, lang));
    }
    let title = lang.t("overview.title");
    let body = html! {
        h1 { (title) }
        p.pages {
            @for choice in [30u32, 90] {
                @if choice == days {
                    strong { (rust_i18n::t!("overview.days", locale = lang.code(), days = choice)) }
                } @else {
                    a href={ "/overview?days=" (choice) (end_query) } { (rust_i18n::t!("overview.days", locale = lang.code(), days = choice)) }
                }
            }
        }
        @for section in &sections { (section) }
    };
    Ok(page(
        lang,
        Some(&viewer),
        &title,
        &format!("/overview?days={days}{end_query}"),
        body,
    )
    .into_response())
}

fn legend(lang: Lang, kind: &str, series: &[(String, Vec<u64>)]) -> Markup {
    html! {
        div.legend {
            @for (index, (name, _)) in series.iter().enumerate() {
                span class={ "s" (index % charts::PALETTE.len()) } { (word(lang, kind, name)) }
            }
        }
    }
}

fn day_chart(lang: Lang, kind: &str, per_day: &PerDay) -> Markup {
    let labels: Vec<String> = per_day
        .days
        .iter()
        .map(|d| d.format("%m-%d").to_string())
        .collect();
    let series: Vec<Series> = per_day
        .series
        .iter()
        .map(|(_, values)| Series {
            values: values.clone(),
        })
        .collect();
    let svg = charts::bars(&labels, &series, Bars::Stacked, (960, 280), &|v| {
        v.to_string()
    });
    html! {
        (legend(lang, kind, &per_day.series))
        @match svg {
            Ok(svg) => div.chart data-chart=(kind) data-days=(per_day.days.len()) { (PreEscaped(svg)) },
            Err(error) => p.message { (error) },
        }
    }
}

fn section(pbx: &Arc<Pbx>, figures: &Figures, dates: &[NaiveDate], tz: Tz, lang: Lang) -> Markup {
    let by_flow = PerDay::of(&figures.hours, dates, tz, |h| &h.flow);
    let by_result = PerDay::of(&figures.hours, dates, tz, |h| &h.result);
    let status = pbx.status.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut months: Vec<&MonthStorage> = figures.months.iter().collect();
    months.reverse();
    let month_labels: Vec<String> = months.iter().map(|m| m.month.clone()).collect();
    let on_pbx: Vec<u64> = months
        .iter()
        .map(|m| {
            status
                .pbx_months
                .get(&m.month)
                .map_or(0, |(_, bytes)| *bytes)
        })
        .collect();
    let kept: Vec<u64> = months.iter().map(|m| m.kept_bytes).collect();
    let storage_svg = charts::bars(
        &month_labels,
        &[
            Series {
                values: on_pbx.clone(),
            },
            Series {
                values: kept.clone(),
            },
        ],
        Bars::Grouped,
        (960, 280),
        &layout::size,
    );
    let lag = pbx.metrics.lag.get_or_create(&pbx.label()).get();
    let rate_limit = pbx.archive.client().last_rate_limit();
    let ago = |at: Option<Instant>| {
        at.map_or_else(
            || lang.t("overview.never"),
            |at| {
                rust_i18n::t!(
                    "overview.ago",
                    locale = lang.code(),
                    seconds = at.elapsed().as_secs()
                )
                .into_owned()
            },
        )
    };
    html! {
        section.pbx data-pbx=(pbx.name) {
            h2 { (pbx.name) }
            h3 { (lang.t("overview.sync")) }
            dl.fields {
                @if pbx.syncs {
                    dt { (lang.t("overview.last_sync")) } dd { (ago(status.last_success)) }
                    dt { (lang.t("overview.lag")) } dd { (layout::duration(lag.max(0.0) as u64)) }
                    dt { (lang.t("overview.failures")) } dd { (status.failures) }
                    @if let Some(error) = &status.last_error {
                        dt { (lang.t("overview.last_error")) } dd { (error) }
                    }
                    dt { (lang.t("overview.rate_limit")) }
                    dd {
                        @match rate_limit.as_ref().and_then(|l| l.remaining) {
                            Some(left) => (left),
                            None => (lang.t("overview.unknown")),
                        }
                    }
                } @else {
                    dt { (lang.t("overview.sync")) } dd { (lang.t("overview.not_synced")) }
                }
            }
            h3 { (lang.t("overview.calls_by_flow")) }
            (day_chart(lang, "flow", &by_flow))
            h3 { (lang.t("overview.calls_by_result")) }
            (day_chart(lang, "result", &by_result))
            details {
                summary { (lang.t("overview.figures")) }
                table.days {
                    thead { tr {
                        th { (lang.t("overview.day")) }
                        th.num { (lang.t("overview.calls")) }
                        @for (name, _) in &by_flow.series { th.num { (word(lang, "flow", name)) } }
                    } }
                    tbody {
                        @for (index, day) in dates.iter().enumerate() {
                            tr data-day=(day) data-calls=(by_flow.total(index)) {
                                td { (day) }
                                td.num { (by_flow.total(index)) }
                                @for (_, values) in &by_flow.series { td.num { (values[index]) } }
                            }
                        }
                    }
                }
            }
            p { a href={ "/access.csv?pbx=" (super::url_encode(&pbx.name)) } { (lang.t("overview.access_csv")) } }
            h3 { (lang.t("overview.storage")) }
            div.legend {
                span.s0 { (lang.t("overview.on_pbx")) }
                span.s1 { (lang.t("overview.in_archive")) }
            }
            @match storage_svg {
                Ok(svg) => div.chart data-chart="storage" { (PreEscaped(svg)) },
                Err(error) => p.message { (error) },
            }
            table.months {
                thead { tr {
                    th { (lang.t("overview.month")) }
                    th.num { (lang.t("overview.on_pbx")) }
                    th.num { (lang.t("overview.in_archive")) }
                    th.num { (lang.t("overview.calls")) }
                } }
                tbody {
                    @for (index, month) in months.iter().enumerate() {
                        tr data-month=(month.month) data-kept-bytes=(month.kept_bytes) {
                            td { (month.month) }
                            td.num {
                                @match status.pbx_months.get(&month.month) {
                                    Some((records, _)) => { (layout::size(on_pbx[index])) " · " (layout::count(*records)) }
                                    None => "—",
                                }
                            }
                            td.num { (layout::size(kept[index])) " · " (layout::count(month.kept)) }
                            td.num { (layout::count(month.records)) }
                        }
                    }
                }
            }
        }
    }
}
