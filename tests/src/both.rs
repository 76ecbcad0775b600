//! One scenario, both clients: [`both_clients`] runs a test body on the blocking client and on
//! the async one, so that a behaviour is tested on each by default.

use futures_util::TryStreamExt as _;
use telphin_records::layers::transport_async::ReqwestTransport;
use telphin_records::layers::transport_blocking::HttpTransport;
use telphin_records::{
    BlockingClient, Client, ClientBuilder, ClientId, Deletion, Error, ListOptions, MonthStats,
    Order, Period, QueryWindow, Record, RecordUuid, Scope, StorageLink, WindowStats,
};

use crate::{App, Env};

/// Which client a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// [`BlockingClient`].
    Blocking,
    /// The async [`Client`], run on a multi-threaded tokio runtime.
    Async,
}

/// A client of either kind, with the operations as blocking calls.
pub struct AnyClient {
    /// Which kind this is.
    pub kind: Kind,
    blocking: BlockingClient<HttpTransport>,
    asynchronous: Client<ReqwestTransport>,
    runtime: tokio::runtime::Runtime,
}

impl AnyClient {
    /// A client of `kind` built from `builder`.
    pub fn new(kind: Kind, builder: ClientBuilder) -> Self {
        AnyClient {
            kind,
            blocking: builder.clone().build_blocking().unwrap(),
            asynchronous: builder.build_async().unwrap(),
            runtime: crate::runtime(),
        }
    }

    fn run<O>(
        &self,
        blocking: impl FnOnce(&BlockingClient<HttpTransport>) -> O,
        asynchronous: impl AsyncFnOnce(&Client<ReqwestTransport>) -> O,
    ) -> O {
        match self.kind {
            Kind::Blocking => blocking(&self.blocking),
            Kind::Async => self.runtime.block_on(asynchronous(&self.asynchronous)),
        }
    }

    /// [`BlockingClient::list_window`] / [`Client::list_window`].
    pub fn list_window(&self, scope: Scope, window: QueryWindow) -> Result<Vec<Record>, Error> {
        self.run(
            |c| c.list_window(scope, window, Order::Asc),
            async |c| c.list_window(scope, window, Order::Asc).await,
        )
    }

    /// The record stream of either client, collected.
    pub fn records(
        &self,
        scope: Scope,
        period: Period,
        options: ListOptions,
    ) -> Result<Vec<Record>, Error> {
        let (a, b) = (options.clone(), options);
        self.run(
            |c| c.records(scope, period, a).collect(),
            async |c| c.records(scope, period, b).try_collect().await,
        )
    }

    /// `stats`.
    pub fn stats(&self, scope: Scope, period: Period) -> Result<WindowStats, Error> {
        self.run(
            |c| c.stats(scope, period),
            async |c| c.stats(scope, period).await,
        )
    }

    /// `delete_record`.
    pub fn delete_record(&self, scope: Scope, uuid: &RecordUuid) -> Result<Deletion, Error> {
        self.run(
            |c| c.delete_record(scope, uuid),
            async |c| c.delete_record(scope, uuid).await,
        )
    }

    /// `storage_link`.
    pub fn storage_link(&self, scope: Scope, uuid: &RecordUuid) -> Result<StorageLink, Error> {
        self.run(
            |c| c.storage_link(scope, uuid),
            async |c| c.storage_link(scope, uuid).await,
        )
    }

    /// `monthly_stats` of the whole PBX.
    pub fn monthly_stats(&self) -> Result<Vec<MonthStats>, Error> {
        self.run(
            |c| c.monthly_stats(ClientId::Me, None),
            async |c| c.monthly_stats(ClientId::Me, None).await,
        )
    }
}

/// Runs `scenario` on a blocking client, then on an async one, each built from
/// `builder(env)` against the same simulator.
pub fn both_clients(
    env: &Env,
    builder: impl Fn(&Env) -> ClientBuilder,
    mut scenario: impl FnMut(&AnyClient),
) {
    for kind in [Kind::Blocking, Kind::Async] {
        scenario(&AnyClient::new(kind, builder(env)));
    }
}

/// The usual builder of `app`, for [`both_clients`].
pub fn app(app: App) -> impl Fn(&Env) -> ClientBuilder {
    move |env| env.builder(app)
}
