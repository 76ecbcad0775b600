//! The one driver of the engine's steps, for both clients: every loop is written here once, as
//! `async fn`s over [`Io`]. The blocking client's I/O completes at once, so its shell finishes
//! each of these futures in a single poll; the async client awaits them.

use std::path::Path;
use std::time::Instant;

use record_api::{
    DeleteRecord, DeleteRecords, Endpoint, Error, ListRecords, RecordStats, Scope, TransportError,
};
use record_model::{Order, Period, Record, WindowStats};
use tracing::Instrument as _;

use crate::download::DownloadReport;
use crate::engine::{
    Answer, AuthNeed, Authorized, ERROR_BODY_LIMIT, Exchange, Fetch, ListStep, Listing, Opened,
    Step, Transfer, not_opened, plan,
};
use crate::io::{Io, ReadAhead, Sink, TokenAction};
use crate::opened::Download;
use crate::part_file::PartFile;

/// Runs `endpoint` to completion (tokens, retries): its output and its answer's rate limit.
pub(crate) async fn execute<I: Io, E: Endpoint>(
    io: &I,
    endpoint: &E,
) -> Result<Answer<E::Output>, Error> {
    let mut exchange = Exchange::new(io.setup().core, endpoint, io.setup().policy);
    let span = exchange.span();
    async move {
        let mut step = exchange.start(Instant::now());
        loop {
            step = match step {
                Step::Authorize(need) => exchange.authorized(authorize(io, &need).await),
                Step::Send(request) => {
                    let answer = io.send(request).await;
                    exchange.received(answer, Instant::now())
                }
                Step::Sleep(pause) => {
                    io.sleep(pause).await;
                    exchange.start(Instant::now())
                }
                Step::Done(result) => return result,
            };
        }
    }
    .instrument(span)
    .await
}

/// Runs `endpoint` to completion: its output.
pub(crate) async fn call<I: Io, E: Endpoint>(io: &I, endpoint: &E) -> Result<E::Output, Error> {
    Ok(execute(io, endpoint).await?.output)
}

/// Runs `endpoint`, owned by the returned future.
pub(crate) async fn call_owned<I: Io, E: Endpoint>(
    io: &I,
    endpoint: E,
) -> Result<E::Output, Error> {
    call(io, &endpoint).await
}

/// Runs `endpoint` like [`execute`], streaming: the body of its success answer, unread.
pub(crate) async fn open<I: Io, E: Endpoint>(io: &I, endpoint: &E) -> Result<I::Body, Error> {
    let mut exchange = Exchange::new(io.setup().core, endpoint, io.setup().policy);
    let span = exchange.span();
    async move {
        let mut step = exchange.start(Instant::now());
        loop {
            step = match step {
                Step::Authorize(need) => exchange.authorized(authorize(io, &need).await),
                Step::Send(request) => {
                    let (head, body) = split(io.open(request).await);
                    match exchange.opened(head, Instant::now()) {
                        Opened::Stream => return body.ok_or_else(not_opened),
                        Opened::ReadErrorBody(parts) => {
                            let prefix = read_prefix(io, body).await;
                            exchange.error_body(parts, prefix, Instant::now())
                        }
                        Opened::Next(step) => step,
                    }
                }
                Step::Sleep(pause) => {
                    io.sleep(pause).await;
                    exchange.start(Instant::now())
                }
                // A success is only ever streamed: an end without a body is an error.
                Step::Done(result) => return Err(result.err().unwrap_or_else(not_opened)),
            };
        }
    }
    .instrument(span)
    .await
}

/// The authorization for a request: a token at hand, or one obtained once for every caller
/// that needs it (single flight, no lock held while it is fetched).
async fn authorize<I: Io>(io: &I, need: &AuthNeed) -> Result<Authorized, Error> {
    loop {
        match io.token_step(need)? {
            TokenAction::Ready(authorized) => return Ok(authorized),
            TokenAction::Wait(wait) => io.wait_token(wait).await?,
        }
    }
}

/// A streamed answer's head, and its body kept apart for the steps that read it.
fn split<B>(
    answer: Result<record_api::http::Response<B>, TransportError>,
) -> (
    Result<record_api::http::response::Parts, TransportError>,
    Option<B>,
) {
    match answer {
        Ok(answer) => {
            let (head, body) = answer.into_parts();
            (Ok(head), Some(body))
        }
        Err(error) => (Err(error), None),
    }
}

/// The first bytes of an error answer's body; an unreadable one only costs the message its
/// details.
async fn read_prefix<I: Io>(io: &I, body: Option<I::Body>) -> Vec<u8> {
    let mut prefix = Vec::new();
    if let Some(mut body) = body {
        while prefix.len() < ERROR_BODY_LIMIT {
            match io.next_chunk(&mut body).await {
                Ok(Some(chunk)) => prefix.extend_from_slice(chunk),
                _ => break,
            }
        }
    }
    prefix.truncate(ERROR_BODY_LIMIT);
    prefix
}

/// How far [`advance`] carried a download.
enum Advance<B> {
    Stream(B),
    ResetSink,
    Done(DownloadReport),
}

/// Carries out a download's steps until its body is to be streamed, its sink emptied, or it is
/// over.
async fn advance<I: Io>(
    io: &I,
    transfer: &mut Transfer<'_>,
    mut step: Fetch,
) -> Result<Advance<I::Body>, Error> {
    let mut body = None;
    loop {
        step = match step {
            Fetch::StorageLink => {
                let link = call(io, &transfer.storage_url()).await;
                transfer.link(link, Instant::now())
            }
            Fetch::Authorize(need) => transfer.authorized(authorize(io, &need).await),
            Fetch::Open(request) => {
                let (head, kept) = split(io.open(request).await);
                body = kept;
                transfer.opened(head, Instant::now())
            }
            Fetch::ReadErrorBody => {
                let prefix = read_prefix(io, body.take()).await;
                transfer.error_body(&prefix, Instant::now())
            }
            Fetch::Sleep(pause) => {
                io.sleep(pause).await;
                transfer.start(Instant::now())
            }
            Fetch::Stream => return body.take().map(Advance::Stream).ok_or_else(not_opened),
            Fetch::ResetSink => return Ok(Advance::ResetSink),
            Fetch::Done(result) => return result.map(Advance::Done),
        };
    }
}

/// Opens a download for the caller to read: the body of a success whose sizes agree.
pub(crate) async fn open_download<I: Io>(
    io: &I,
    mut transfer: Transfer<'_>,
) -> Result<Download<I::Body>, Error> {
    let span = transfer.span();
    async move {
        let first = transfer.start(Instant::now());
        match advance(io, &mut transfer, first).await? {
            Advance::Stream(body) => Ok(Download::new(transfer.into_opened(), body)),
            Advance::ResetSink | Advance::Done(_) => Err(not_opened()),
        }
    }
    .instrument(span)
    .await
}

/// Carries a download out into `sink` (a temporary file when `transfer` was made resettable).
pub(crate) async fn download<I: Io, S: Sink>(
    io: &I,
    mut transfer: Transfer<'_>,
    sink: &mut S,
) -> Result<DownloadReport, Error> {
    let span = transfer.span();
    async move {
        let mut step = transfer.start(Instant::now());
        loop {
            step = match advance(io, &mut transfer, step).await? {
                Advance::Stream(body) => copy(io, &mut transfer, body, sink).await,
                Advance::ResetSink => {
                    let emptied = sink.reset().await;
                    transfer.sink_reset(emptied, Instant::now())
                }
                Advance::Done(report) => return Ok(report),
            };
        }
    }
    .instrument(span)
    .await
}

/// Downloads into the temporary file `part` through `sink`, and renames it to `path` once
/// complete, verified and synced: nothing partial ever stands at `path`.
pub(crate) async fn download_to_path<I: Io, S: Sink>(
    io: &I,
    transfer: Transfer<'_>,
    mut sink: S,
    part: PartFile,
    path: &Path,
) -> Result<DownloadReport, Error> {
    let report = download(io, transfer, &mut sink).await?;
    sink.sync().await.map_err(Error::Sink)?;
    drop(sink);
    part.persist(path)?;
    Ok(report)
}

/// Copies an opened body into `sink`, offering each chunk to the engine before writing it, and
/// flushing before the end is reported.
async fn copy<I: Io, S: Sink>(
    io: &I,
    transfer: &mut Transfer<'_>,
    mut body: I::Body,
    sink: &mut S,
) -> Fetch {
    loop {
        let chunk = match io.next_chunk(&mut body).await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => {
                return match sink.flush().await {
                    Ok(()) => transfer.body_ended(Instant::now()),
                    Err(error) => transfer.sink_failed(error),
                };
            }
            Err(error) => return transfer.body_failed(Error::Transport(error), Instant::now()),
        };
        if let Err(error) = transfer.accept(chunk.len(), Instant::now()) {
            return transfer.body_failed(error, Instant::now());
        }
        if let Err(error) = sink.write_all(chunk).await {
            return transfer.sink_failed(error);
        }
    }
}

/// The count and total size of `scope`'s records in `period`, exact, one request at a time.
pub(crate) async fn stats<I: Io>(
    io: &I,
    scope: Scope,
    period: Period,
) -> Result<WindowStats, Error> {
    let mut parts = Vec::new();
    for (window, sign) in plan::stats_plan(&period) {
        parts.push((sign, call(io, &RecordStats::new(scope, window)).await?));
    }
    Ok(plan::combine(parts))
}

/// Deletes every record of `scope` in `period` window by window; the last second of a
/// half-open period record by record, so the records at its excluded end stay.
pub(crate) async fn delete_range<I: Io>(io: &I, scope: Scope, period: Period) -> Result<(), Error> {
    let plan = plan::delete_plan(&period);
    for window in plan.windows {
        call(io, &DeleteRecords::new(scope, window)).await?;
    }
    let Some(last) = plan.last_second else {
        return Ok(());
    };
    let listed = ListRecords::new(scope, last.window).order(Order::Asc);
    let records = call(io, &listed).await?;
    for record_uuid in last.records_to_delete(&records) {
        let deleted = call(io, &DeleteRecord::new(scope, record_uuid.clone())).await;
        plan::deleted(deleted)?;
    }
    Ok(())
}

/// A listing and the body of the window it reads.
pub(crate) struct ListReader<B> {
    pub(crate) listing: Listing,
    body: Option<B>,
}

impl<B> ListReader<B> {
    pub(crate) fn new(listing: Listing) -> Self {
        ListReader {
            listing,
            body: None,
        }
    }
}

/// Carries a listing out up to its next record (or error), `None` at its end; windows come from
/// `ahead` when they were opened ahead.
pub(crate) async fn next_record<I: Io>(
    io: &I,
    reader: &mut ListReader<I::Body>,
    ahead: &impl ReadAhead<I::Body>,
) -> Option<Result<Record, Error>> {
    let ListReader { listing, body } = reader;
    loop {
        match listing.next() {
            ListStep::Open(endpoint) => {
                let opened = match ahead.take(endpoint.window()) {
                    Some(opening) => opening.await,
                    None => open(io, &endpoint).await,
                };
                listing.opened(opened.map(|opened| *body = Some(opened)));
                ahead.refill(listing);
            }
            ListStep::Read => {
                let Some(open) = body.as_mut() else {
                    listing.failed(not_opened());
                    continue;
                };
                match io.next_chunk(open).await {
                    Ok(Some(bytes)) => listing.chunk(bytes),
                    Ok(None) => {
                        *body = None;
                        listing.ended();
                    }
                    Err(error) => {
                        *body = None;
                        listing.failed(Error::Transport(error));
                    }
                }
            }
            ListStep::Stats(endpoint) => listing.counted(call(io, &endpoint).await),
            ListStep::Yield(item) => return Some(item),
            ListStep::Done => {
                *body = None;
                return None;
            }
        }
    }
}
