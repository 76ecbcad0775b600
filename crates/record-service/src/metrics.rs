//! The service's metrics, in the Prometheus text format (`prometheus-client`). Every series
//! has the label `pbx`; names start with `telphin_records_`.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A PBX.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Pbx {
    pub(crate) pbx: String,
}

/// A PBX and a word: an outcome, a kind of failure.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PbxKind {
    pub(crate) pbx: String,
    pub(crate) kind: String,
}

/// A PBX and a month (`2026-12`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PbxMonth {
    pub(crate) pbx: String,
    pub(crate) month: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// Every metric of the service.
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) last_success: Family<Pbx, FloatGauge>,
    pub(crate) lag: Family<Pbx, FloatGauge>,
    pub(crate) syncs: Family<PbxKind, Counter>,
    pub(crate) sync_duration: Family<Pbx, Histogram, fn() -> Histogram>,
    pub(crate) records_stored: Family<Pbx, Counter>,
    pub(crate) bytes_stored: Family<Pbx, Counter>,
    pub(crate) records_listed: Family<Pbx, Counter>,
    pub(crate) failures: Family<PbxKind, Counter>,
    pub(crate) pending: Family<Pbx, Gauge>,
    pub(crate) rate_limit_remaining: Family<Pbx, Gauge>,
    pub(crate) rate_limit: Family<Pbx, Gauge>,
    pub(crate) events: Family<Pbx, Counter>,
    pub(crate) events_refused: Counter,
    pub(crate) pbx_month_records: Family<PbxMonth, Gauge>,
    pub(crate) pbx_month_bytes: Family<PbxMonth, Gauge>,
    pub(crate) catalog_month_records: Family<PbxMonth, Gauge>,
    pub(crate) catalog_month_kept: Family<PbxMonth, Gauge>,
    pub(crate) ready: Family<Pbx, Gauge>,
    pub(crate) retention: Family<PbxKind, Counter>,
    pub(crate) held: Family<Pbx, Gauge>,
    pub(crate) web_audio: Family<PbxKind, Counter>,
    pub(crate) web_audio_bytes: Family<Pbx, Counter>,
    pub(crate) web_logins: Family<Kind, Counter>,
}

/// A word alone: an outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Kind {
    pub(crate) kind: String,
}

fn sync_buckets() -> Histogram {
    // 0.05 s … about 7 min.
    Histogram::new(exponential_buckets(0.05, 2.0, 14))
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("telphin_records");
        let metrics = Metrics {
            last_success: Family::default(),
            lag: Family::default(),
            syncs: Family::default(),
            sync_duration: Family::new_with_constructor(sync_buckets),
            records_stored: Family::default(),
            bytes_stored: Family::default(),
            records_listed: Family::default(),
            failures: Family::default(),
            pending: Family::default(),
            rate_limit_remaining: Family::default(),
            rate_limit: Family::default(),
            events: Family::default(),
            events_refused: Counter::default(),
            pbx_month_records: Family::default(),
            pbx_month_bytes: Family::default(),
            catalog_month_records: Family::default(),
            catalog_month_kept: Family::default(),
            ready: Family::default(),
            retention: Family::default(),
            held: Family::default(),
            web_audio: Family::default(),
            web_audio_bytes: Family::default(),
            web_logins: Family::default(),
            registry: Registry::default(),
        };
        let m = &metrics;
        registry.register(
            "last_successful_sync_timestamp_seconds",
            "When the last complete sync ended (Unix time)",
            m.last_success.clone(),
        );
        registry.register(
            "lag_seconds",
            "Now minus the start of the oldest record not known kept",
            m.lag.clone(),
        );
        registry.register("syncs", "Syncs run, by outcome", m.syncs.clone());
        registry.register(
            "sync_duration_seconds",
            "How long syncs take",
            m.sync_duration.clone(),
        );
        registry.register(
            "records_stored",
            "Recordings stored and verified by this process",
            m.records_stored.clone(),
        );
        registry.register(
            "bytes_stored",
            "Bytes of the recordings stored by this process",
            m.bytes_stored.clone(),
        );
        registry.register(
            "records_listed",
            "Records listed by syncs (a record listed twice counts twice)",
            m.records_listed.clone(),
        );
        registry.register(
            "failures",
            "Failures, by kind: file, list, auth, rate_limit, catalog, target",
            m.failures.clone(),
        );
        registry.register(
            "records_pending",
            "Records listed and not kept yet",
            m.pending.clone(),
        );
        registry.register(
            "rate_limit_remaining",
            "Requests left in the API's hourly limit, as last answered",
            m.rate_limit_remaining.clone(),
        );
        registry.register(
            "rate_limit",
            "The API's hourly limit, as last answered",
            m.rate_limit.clone(),
        );
        registry.register(
            "retention_deleted",
            "Records the retention policy deleted, by kind: purged (from the PBX), expired (everywhere)",
            m.retention.clone(),
        );
        registry.register(
            "records_held",
            "Records past a retention period that a legal hold keeps, at the last application",
            m.held.clone(),
        );
        registry.register(
            "events",
            "Event callbacks accepted (each only wakes the sync)",
            m.events.clone(),
        );
        registry.register(
            "events_refused",
            "Event callbacks refused (unknown PBX or wrong secret)",
            m.events_refused.clone(),
        );
        registry.register(
            "pbx_month_records",
            "The PBX's own count of a month's recordings (its statistics)",
            m.pbx_month_records.clone(),
        );
        registry.register(
            "pbx_month_bytes",
            "The PBX's own size of a month's recordings (its statistics)",
            m.pbx_month_bytes.clone(),
        );
        registry.register(
            "catalog_month_records",
            "The catalog's count of a month's records still on the PBX",
            m.catalog_month_records.clone(),
        );
        registry.register(
            "catalog_month_kept",
            "The catalog's count of a month's records kept",
            m.catalog_month_kept.clone(),
        );
        registry.register(
            "ready",
            "1 when the PBX's catalog, target and last sync are as /readyz wants",
            m.ready.clone(),
        );
        registry.register(
            "web_audio_responses",
            "Answers of the web page's audio (playback and download), by HTTP status: 200, 206, 416",
            m.web_audio.clone(),
        );
        registry.register(
            "web_audio_read_bytes",
            "Bytes of recordings read from the target for the web page (ranged reads only read their range)",
            m.web_audio_bytes.clone(),
        );
        registry.register(
            "web_logins",
            "Logins to the web page, by outcome: ok, refused",
            m.web_logins.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// The text format.
    pub(crate) fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// The label of a PBX.
pub(crate) fn pbx(name: &str) -> Pbx {
    Pbx {
        pbx: name.to_owned(),
    }
}

/// The labels of a PBX and a word.
pub(crate) fn pbx_kind(name: &str, kind: &str) -> PbxKind {
    PbxKind {
        pbx: name.to_owned(),
        kind: kind.to_owned(),
    }
}
