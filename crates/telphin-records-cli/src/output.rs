//! Printing records and figures: tables sized to the terminal with human sizes and durations,
//! or exact values as JSON, JSON Lines or CSV.

use std::io::Write;

use chrono_tz::Tz;
use indicatif::HumanBytes;
use serde_json::{Value, json};
use telphin_records::Record;

use crate::cli::Format;
use crate::exit::Failure;

/// One column: its header, and how narrow-terminal tables drop it (higher goes first).
pub struct Column {
    pub header: &'static str,
    pub drop_order: u8,
}

/// Rows to print: a table's cells, and each row's exact value for the machine formats.
pub struct Rows {
    pub columns: Vec<Column>,
    pub cells: Vec<Vec<String>>,
    pub values: Vec<Value>,
    /// The CSV header and cells (exact values).
    pub csv_header: Vec<&'static str>,
    pub csv: Vec<Vec<String>>,
}

impl Rows {
    pub fn print(&self, format: Format) -> Result<(), Failure> {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let written = match format {
            Format::Table => self.table(&mut out),
            Format::Json => serde_json::to_writer_pretty(&mut out, &self.values)
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(out)),
            Format::Jsonl => self.values.iter().try_for_each(|value| {
                serde_json::to_writer(&mut out, value).map_err(std::io::Error::other)?;
                writeln!(out)
            }),
            Format::Csv => {
                let mut writer = csv::Writer::from_writer(&mut out);
                std::iter::once(self.csv_header.iter().map(|h| (*h).to_owned()).collect())
                    .chain(self.csv.iter().cloned())
                    .try_for_each(|row: Vec<String>| writer.write_record(&row))
                    .map_err(std::io::Error::other)
                    .and_then(|()| writer.flush())
            }
        };
        match written {
            Ok(()) => Ok(()),
            // A closed pipe (`| head`) is the reader's choice, not a failure.
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(error) => Err(Failure::failed(format!("cannot write the output: {error}"))),
        }
    }

    /// The table, dropping columns (by `drop_order`) until it fits the terminal.
    fn table(&self, out: &mut impl Write) -> std::io::Result<()> {
        let width = console::Term::stdout()
            .size_checked()
            .map(|(_, w)| usize::from(w));
        let mut shown: Vec<usize> = (0..self.columns.len()).collect();
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                self.cells
                    .iter()
                    .map(|row| row[i].chars().count())
                    .chain([self.columns[i].header.len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let total = |shown: &[usize]| shown.iter().map(|&i| widths[i] + 2).sum::<usize>();
        if let Some(width) = width {
            while total(&shown) > width && shown.len() > 1 {
                let Some(drop) = shown
                    .iter()
                    .copied()
                    .filter(|&i| self.columns[i].drop_order > 0)
                    .max_by_key(|&i| self.columns[i].drop_order)
                else {
                    break;
                };
                shown.retain(|&i| i != drop);
            }
        }
        let line = |cells: Vec<&str>| -> String {
            let mut text = String::new();
            for (cell, &i) in cells.iter().zip(&shown) {
                text.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
            text.trim_end().to_owned()
        };
        writeln!(
            out,
            "{}",
            line(shown.iter().map(|&i| self.columns[i].header).collect())
        )?;
        for row in &self.cells {
            writeln!(
                out,
                "{}",
                line(shown.iter().map(|&i| row[i].as_str()).collect())
            )?;
        }
        Ok(())
    }
}

/// A call's length as `m:ss` or `h:mm:ss`.
pub fn duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

pub fn size(bytes: u64) -> String {
    HumanBytes(bytes).to_string()
}

/// Who called and who was called, as names use them.
fn parties(record: &Record) -> (String, String) {
    let from = record
        .from_username
        .clone()
        .or_else(|| record.source_number.clone())
        .unwrap_or_default();
    let to = record
        .to_username
        .clone()
        .or_else(|| record.dest_number.clone())
        .unwrap_or_default();
    (from, to)
}

/// The record columns, and `extra` ones after them.
pub fn records<'a>(
    records: impl IntoIterator<Item = (&'a Record, Vec<(&'static str, String, Value)>)>,
    tz: Tz,
) -> Rows {
    let mut rows = Rows {
        columns: [
            ("time", 0),
            ("flow", 4),
            ("from", 0),
            ("to", 0),
            ("duration", 3),
            ("size", 2),
            ("result", 5),
            ("extension", 6),
            ("record_uuid", 1),
        ]
        .into_iter()
        .map(|(header, drop_order)| Column { header, drop_order })
        .collect(),
        cells: Vec::new(),
        values: Vec::new(),
        csv_header: vec![
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
        ],
        csv: Vec::new(),
    };
    let mut extra_headers = Vec::new();
    for (record, extra) in records {
        let at = record.init_time_gmt.instant();
        let local = at.with_timezone(&tz);
        let (from, to) = parties(record);
        let mut cells = vec![
            local.format("%Y-%m-%d %H:%M:%S").to_string(),
            record.flow.to_string(),
            from.clone(),
            to.clone(),
            duration(record.duration),
            size(record.record_file_size),
            record.result.to_string(),
            record.extension_id.to_string(),
            record.record_uuid.to_string(),
        ];
        let mut csv = vec![
            local.to_rfc3339(),
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
        let mut value = serde_json::to_value(record).unwrap_or(Value::Null);
        if extra_headers.is_empty() {
            extra_headers = extra.iter().map(|(header, _, _)| *header).collect();
        }
        for (header, cell, exact) in extra {
            cells.push(cell);
            csv.push(match &exact {
                Value::String(text) => text.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            });
            if let Value::Object(map) = &mut value {
                map.insert(header.to_owned(), exact);
            }
        }
        rows.cells.push(cells);
        rows.csv.push(csv);
        rows.values.push(value);
    }
    for header in extra_headers {
        rows.columns.push(Column {
            header,
            drop_order: 0,
        });
        rows.csv_header.push(header);
    }
    rows
}

/// Name–value figures (statistics, reports) as one row.
pub fn figures(figures: Vec<(&'static str, String, Value)>) -> Rows {
    let headers: Vec<&'static str> = figures.iter().map(|(name, _, _)| *name).collect();
    let row = figures
        .into_iter()
        .map(|(_, cell, exact)| (cell, exact))
        .collect();
    table_of(&headers, vec![row])
}

/// Rows of (table cell, exact value) under `headers`.
pub fn table_of(headers: &[&'static str], rows: Vec<Vec<(String, Value)>>) -> Rows {
    let exact_text = |exact: &Value| match exact {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    Rows {
        columns: headers
            .iter()
            .map(|header| Column {
                header,
                drop_order: 0,
            })
            .collect(),
        cells: rows
            .iter()
            .map(|row| row.iter().map(|(cell, _)| cell.clone()).collect())
            .collect(),
        values: rows
            .iter()
            .map(|row| {
                Value::Object(
                    headers
                        .iter()
                        .zip(row)
                        .map(|(header, (_, exact))| ((*header).to_owned(), exact.clone()))
                        .collect(),
                )
            })
            .collect(),
        csv_header: headers.to_vec(),
        csv: rows
            .iter()
            .map(|row| row.iter().map(|(_, exact)| exact_text(exact)).collect())
            .collect(),
    }
}

/// A size figure: human in tables, exact bytes elsewhere.
pub fn bytes_figure(name: &'static str, bytes: u64) -> (&'static str, String, Value) {
    (name, size(bytes), json!(bytes))
}

/// A count figure.
pub fn count_figure(name: &'static str, count: u64) -> (&'static str, String, Value) {
    (name, count.to_string(), json!(count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(duration(0), "0:00");
        assert_eq!(duration(187), "3:07");
        assert_eq!(duration(3725), "1:02:05");
    }
}
