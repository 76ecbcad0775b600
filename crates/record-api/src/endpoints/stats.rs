//! `GET /{scope}/record/stats/` and `GET /client/{id}/records_stats/`.

use record_model::chrono::NaiveDate;
use record_model::{ClientId, MonthStats, QueryWindow, WindowStats, WireTime, YearMonth};

use super::{Endpoint, check_status, record_path, window_query};
use crate::response::decode_json;
use crate::{ApiRequest, Error, Method, Scope};

/// The count and total size of the record files of a window (spec §2 #3, §4.2).
///
/// The API runs one statistics request per client at a time; a second one gets a 429
/// ([`crate::RateLimitKind::ConcurrentStats`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordStats {
    scope: Scope,
    window: QueryWindow,
}

impl RecordStats {
    /// The statistics of `scope` in `window`.
    pub fn new(scope: Scope, window: QueryWindow) -> Self {
        RecordStats { scope, window }
    }
}

impl Endpoint for RecordStats {
    type Output = WindowStats;

    fn request(&self) -> ApiRequest {
        let mut path = record_path(&self.scope);
        path.push("stats".to_owned());
        let mut request = ApiRequest::api("record_stats", Method::Get, path);
        request.query = window_query(&self.window);
        request
    }

    fn decode(&self, response: &http::Response<Vec<u8>>) -> Result<WindowStats, Error> {
        check_status(response)?;
        decode_json("record statistics", response.body(), false)
    }
}

/// The optional `end_datetime` of the monthly statistics: an instant, a day or a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MonthlyStatsEnd {
    /// Up to this instant, `YYYY-MM-DD HH:MM:SS` (any fraction is dropped).
    Instant(WireTime),
    /// Up to this day, `YYYY-MM-DD`.
    Day(NaiveDate),
    /// Up to this month, `YYYY-MM`.
    Month(YearMonth),
}

impl MonthlyStatsEnd {
    fn query_value(&self) -> String {
        match self {
            MonthlyStatsEnd::Instant(instant) => record_model::format_query_time(instant.instant()),
            MonthlyStatsEnd::Day(day) => day.format("%Y-%m-%d").to_string(),
            MonthlyStatsEnd::Month(month) => month.to_string(),
        }
    }
}

/// Storage statistics per month of a client (spec §2 #8, §4.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MonthlyRecordStats {
    client: ClientId,
    end: Option<MonthlyStatsEnd>,
}

impl MonthlyRecordStats {
    /// Every month of `client`.
    pub fn new(client: ClientId) -> Self {
        MonthlyRecordStats { client, end: None }
    }

    /// Only up to `end`.
    pub fn until(mut self, end: MonthlyStatsEnd) -> Self {
        self.end = Some(end);
        self
    }

    /// Only the months up to `end`, when there is one.
    pub fn until_optional(mut self, end: Option<MonthlyStatsEnd>) -> Self {
        self.end = end;
        self
    }
}

impl Endpoint for MonthlyRecordStats {
    type Output = Vec<MonthStats>;

    fn request(&self) -> ApiRequest {
        let mut path = Scope::Client(self.client).path_segments().to_vec();
        path.push("records_stats".to_owned());
        let mut request = ApiRequest::api("monthly_record_stats", Method::Get, path);
        if let Some(end) = &self.end {
            request.query = vec![("end_datetime".to_owned(), end.query_value())];
        }
        request
    }

    fn decode(&self, response: &http::Response<Vec<u8>>) -> Result<Vec<MonthStats>, Error> {
        check_status(response)?;
        decode_json("monthly statistics", response.body(), false)
    }
}
