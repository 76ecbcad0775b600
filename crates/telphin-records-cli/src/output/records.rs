//! Records printed as they come, in constant memory: JSON Lines and CSV line by line, JSON as
//! a streamed array, tables page by page (column widths from the first page).

use std::io::{BufWriter, StdoutLock, Write};
use std::time::{Duration, Instant};

use chrono_tz::Tz;
use serde_json::Value;
use telphin_records::Record;

use super::{Column, Layout, duration, size, written_or_left};
use crate::cli::Format;
use crate::exit::Failure;

/// The record columns of tables: header and drop order (higher goes first on narrow
/// terminals).
const TABLE_COLUMNS: [(&str, u8); 9] = [
    ("time", 0),
    ("flow", 4),
    ("from", 0),
    ("to", 0),
    ("duration", 3),
    ("size", 2),
    ("result", 5),
    ("extension", 6),
    ("record_uuid", 1),
];

/// The record columns of CSV.
const CSV_COLUMNS: [&str; 10] = [
    "init_time",
    "init_time_utc",
    "flow",
    "from",
    "to",
    "duration_s",
    "size_bytes",
    "result",
    "extension_id",
    "record_uuid",
];

/// Output reaches the reader at least this often while records arrive.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Rows of a table page when stdout is not a terminal.
const PAGE_ROWS_OFF_TERMINAL: usize = 100;

/// Extra columns after a record's: (table cell, exact value), under the writer's headers.
pub type Extra = Vec<(String, Value)>;

/// Prints records one at a time in the chosen format.
pub struct RecordWriter {
    format: Format,
    tz: Tz,
    extra: Vec<&'static str>,
    out: BufWriter<StdoutLock<'static>>,
    /// One CSV line at a time.
    scratch: Vec<u8>,
    table: Option<Pager>,
    written: u64,
    flushed: Instant,
}

/// A table printed page by page.
struct Pager {
    columns: Vec<Column>,
    page_rows: usize,
    /// Rows held until the first page is full (then the layout is fixed).
    first_page: Vec<Vec<String>>,
    layout: Option<Layout>,
    /// On a terminal, the header is repeated at the top of every page.
    repeat_header: bool,
    since_header: usize,
}

impl RecordWriter {
    /// A writer of records with `extra` columns after theirs.
    pub fn new(format: Format, tz: Tz, extra: &[&'static str]) -> RecordWriter {
        let table = (format == Format::Table).then(|| {
            let terminal = console::Term::stdout().size_checked();
            let mut columns: Vec<Column> = TABLE_COLUMNS
                .iter()
                .map(|&(header, drop_order)| Column { header, drop_order })
                .collect();
            columns.extend(extra.iter().map(|&header| Column {
                header,
                drop_order: 0,
            }));
            Pager {
                columns,
                page_rows: terminal.map_or(PAGE_ROWS_OFF_TERMINAL, |(rows, _)| {
                    usize::from(rows).saturating_sub(2).max(5)
                }),
                first_page: Vec::new(),
                layout: None,
                repeat_header: terminal.is_some(),
                since_header: 0,
            }
        });
        RecordWriter {
            format,
            tz,
            extra: extra.to_vec(),
            out: BufWriter::with_capacity(64 << 10, std::io::stdout().lock()),
            scratch: Vec::new(),
            table,
            written: 0,
            flushed: Instant::now(),
        }
    }

    /// Prints one record; `Ok(false)` when the reader has gone (a closed pipe).
    pub fn write(&mut self, record: &Record, extra: Extra) -> Result<bool, Failure> {
        let first = self.written == 0;
        let written = self.print(record, extra, first);
        self.written += 1;
        let written = written.and_then(|()| {
            if first || self.flushed.elapsed() >= FLUSH_EVERY {
                self.flushed = Instant::now();
                self.out.flush()
            } else {
                Ok(())
            }
        });
        written_or_left(written)
    }

    /// Nothing came for a while: prints what is held (a table's first page, fixing its
    /// layout from the rows so far; the output buffer). `Ok(false)` when the reader has gone.
    pub fn idle(&mut self) -> Result<bool, Failure> {
        let written = match &mut self.table {
            Some(pager) if pager.layout.is_none() && !pager.first_page.is_empty() => {
                pager.print_first_page(&mut self.out)
            }
            _ => Ok(()),
        };
        written_or_left(written.and_then(|()| self.out.flush()))
    }

    /// Ends the output (the JSON array's bracket, a table shorter than a page).
    pub fn finish(mut self) -> Result<(), Failure> {
        let written = self.end().and_then(|()| self.out.flush());
        written_or_left(written).map(drop)
    }

    fn end(&mut self) -> std::io::Result<()> {
        match self.format {
            Format::Json if self.written == 0 => writeln!(self.out, "[]"),
            Format::Json => writeln!(self.out, "\n]"),
            Format::Csv if self.written == 0 => self.csv_line(self.header()),
            Format::Table => match &mut self.table {
                Some(pager) => pager.finish(&mut self.out),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }

    fn header(&self) -> Vec<String> {
        CSV_COLUMNS
            .iter()
            .chain(&self.extra)
            .map(|h| (*h).to_owned())
            .collect()
    }

    fn print(&mut self, record: &Record, extra: Extra, first: bool) -> std::io::Result<()> {
        match self.format {
            Format::Jsonl => {
                self.json(record, extra)?;
                writeln!(self.out)
            }
            Format::Json => {
                self.out.write_all(if first { b"[\n" } else { b",\n" })?;
                self.json(record, extra)
            }
            Format::Csv => {
                if first {
                    self.csv_line(self.header())?;
                }
                let row = self.csv_row(record, extra);
                self.csv_line(row)
            }
            Format::Table => {
                let row = self.table_row(record, extra);
                match &mut self.table {
                    Some(pager) => pager.push(&mut self.out, row),
                    None => Ok(()),
                }
            }
        }
    }

    /// The record as JSON, with the extra columns as fields.
    fn json(&mut self, record: &Record, extra: Extra) -> std::io::Result<()> {
        if extra.is_empty() {
            return serde_json::to_writer(&mut self.out, record).map_err(std::io::Error::from);
        }
        let mut value = serde_json::to_value(record).map_err(std::io::Error::other)?;
        if let Value::Object(map) = &mut value {
            for (header, (_, exact)) in self.extra.iter().zip(extra) {
                map.insert((*header).to_owned(), exact);
            }
        }
        serde_json::to_writer(&mut self.out, &value).map_err(std::io::Error::from)
    }

    /// One CSV line, quoted as the csv crate quotes, through the shared output buffer.
    fn csv_line(&mut self, row: Vec<String>) -> std::io::Result<()> {
        self.scratch.clear();
        let mut writer = csv::WriterBuilder::new()
            .buffer_capacity(1024)
            .from_writer(&mut self.scratch);
        writer
            .write_record(&row)
            .and_then(|()| Ok(writer.flush()?))
            .map_err(super::csv_io)?;
        drop(writer);
        self.out.write_all(&self.scratch)
    }

    fn csv_row(&self, record: &Record, extra: Extra) -> Vec<String> {
        let at = record.init_time_gmt.instant();
        let (from, to) = parties(record);
        let mut row = vec![
            at.with_timezone(&self.tz).to_rfc3339(),
            at.to_rfc3339(),
            record.flow.to_string(),
            from,
            to,
            record.duration.to_string(),
            record.record_file_size.to_string(),
            record.result.to_string(),
            record.extension_id.to_string(),
            record.record_uuid.to_string(),
        ];
        row.extend(extra.into_iter().map(|(_, exact)| match exact {
            Value::String(text) => text,
            Value::Null => String::new(),
            other => other.to_string(),
        }));
        row
    }

    fn table_row(&self, record: &Record, extra: Extra) -> Vec<String> {
        let local = record.init_time_gmt.instant().with_timezone(&self.tz);
        let (from, to) = parties(record);
        let mut row = vec![
            local.format("%Y-%m-%d %H:%M:%S").to_string(),
            record.flow.to_string(),
            from,
            to,
            duration(record.duration),
            size(record.record_file_size),
            record.result.to_string(),
            record.extension_id.to_string(),
            record.record_uuid.to_string(),
        ];
        row.extend(extra.into_iter().map(|(cell, _)| cell));
        row
    }
}

impl Pager {
    fn push(&mut self, out: &mut impl Write, row: Vec<String>) -> std::io::Result<()> {
        let Some(layout) = &self.layout else {
            self.first_page.push(row);
            if self.first_page.len() >= self.page_rows {
                self.print_first_page(out)?;
            }
            return Ok(());
        };
        if self.repeat_header && self.since_header >= self.page_rows {
            layout.header(out, &self.columns)?;
            self.since_header = 0;
        }
        self.since_header += 1;
        layout.row(out, &row)
    }

    /// Fixes the layout from the rows held, and prints them.
    fn print_first_page(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        let layout = Layout::fit(&self.columns, &self.first_page);
        layout.header(out, &self.columns)?;
        for row in self.first_page.drain(..) {
            layout.row(out, &row)?;
        }
        self.layout = Some(layout);
        // The next page starts with the header again on a terminal.
        self.since_header = if self.repeat_header {
            self.page_rows
        } else {
            0
        };
        Ok(())
    }

    fn finish(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        if self.layout.is_none() {
            self.print_first_page(out)?;
        }
        Ok(())
    }
}

/// Who called and who was called ([`Record::caller`], [`Record::callee`]), blank when unknown.
fn parties(record: &Record) -> (String, String) {
    let text = |party: Option<&str>| party.unwrap_or_default().to_owned();
    (text(record.caller()), text(record.callee()))
}
