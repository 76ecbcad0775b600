//! Printing records and figures: tables sized to the terminal with human sizes and durations,
//! or exact values as JSON, JSON Lines or CSV.

mod records;

use std::io::Write;

use indicatif::HumanBytes;
use serde_json::{Value, json};

use crate::cli::Format;
use crate::exit::Failure;

pub use records::RecordWriter;

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
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out)),
            Format::Jsonl => self.values.iter().try_for_each(|value| {
                serde_json::to_writer(&mut out, value).map_err(std::io::Error::from)?;
                writeln!(out)
            }),
            Format::Csv => {
                let mut writer = csv::Writer::from_writer(&mut out);
                std::iter::once(self.csv_header.iter().map(|h| (*h).to_owned()).collect())
                    .chain(self.csv.iter().cloned())
                    .try_for_each(|row: Vec<String>| writer.write_record(&row))
                    .map_err(csv_io)
                    .and_then(|()| writer.flush())
            }
        };
        written_or_left(written).map(drop)
    }
}

/// The I/O error behind a CSV error (a closed pipe stays one).
pub fn csv_io(error: csv::Error) -> std::io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// `Ok(true)` when written, `Ok(false)` when the reader closed the pipe (`| head`: the
/// reader's choice, not a failure), `Err` otherwise.
pub fn written_or_left(written: std::io::Result<()>) -> Result<bool, Failure> {
    match written {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(error) => Err(Failure::failed(format!("cannot write the output: {error}"))),
    }
}

impl Rows {
    /// The table, dropping columns (by `drop_order`) until it fits the terminal.
    fn table(&self, out: &mut impl Write) -> std::io::Result<()> {
        let layout = Layout::fit(&self.columns, &self.cells);
        layout.header(out, &self.columns)?;
        for row in &self.cells {
            layout.row(out, row)?;
        }
        Ok(())
    }
}

/// The most characters a table shows of one cell: a longer one is cut, with `…` (JSON, JSON
/// Lines and CSV keep every character).
pub const MAX_CELL: usize = 200;

/// `cell` as a table shows it: cut at [`MAX_CELL`] characters.
fn shown_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.char_indices().nth(MAX_CELL - 1) {
        Some((at, _)) if cell.chars().count() > MAX_CELL => format!("{}…", &cell[..at]).into(),
        _ => cell.into(),
    }
}

/// Which columns a table shows, and how wide: from the rows it has seen (all of a small
/// table, the first page of a long one), narrowed to the terminal.
pub struct Layout {
    shown: Vec<usize>,
    widths: Vec<usize>,
}

impl Layout {
    /// Fits `cells` under `columns`, dropping columns (by `drop_order`) until the table fits
    /// the terminal.
    pub fn fit(columns: &[Column], cells: &[Vec<String>]) -> Layout {
        let width = console::Term::stdout()
            .size_checked()
            .map(|(_, w)| usize::from(w));
        let mut shown: Vec<usize> = (0..columns.len()).collect();
        let widths: Vec<usize> = (0..columns.len())
            .map(|i| {
                cells
                    .iter()
                    .map(|row| {
                        row.get(i)
                            .map_or(0, |cell| cell.chars().count().min(MAX_CELL))
                    })
                    .chain([columns[i].header.len()])
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
                    .filter(|&i| columns[i].drop_order > 0)
                    .max_by_key(|&i| columns[i].drop_order)
                else {
                    break;
                };
                shown.retain(|&i| i != drop);
            }
        }
        Layout { shown, widths }
    }

    fn line<'a>(
        &self,
        out: &mut impl Write,
        cells: impl Fn(usize) -> &'a str,
    ) -> std::io::Result<()> {
        let mut text = String::new();
        for &i in &self.shown {
            // Padded by hand: a width given to `format!` panics past 65,535.
            let cell = shown_cell(cells(i));
            text.push_str(&cell);
            let pad = self.widths[i].saturating_sub(cell.chars().count()) + 2;
            text.extend(std::iter::repeat_n(' ', pad));
        }
        writeln!(out, "{}", text.trim_end())
    }

    /// The header line.
    pub fn header(&self, out: &mut impl Write, columns: &[Column]) -> std::io::Result<()> {
        self.line(out, |i| columns[i].header)
    }

    /// One row (a cell wider than its column pushes the rest of its row; one longer than
    /// [`MAX_CELL`] is cut).
    pub fn row(&self, out: &mut impl Write, row: &[String]) -> std::io::Result<()> {
        self.line(out, |i| row.get(i).map_or("", String::as_str))
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
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_cell_of_any_length_prints_cut_in_a_table_and_whole_elsewhere() {
        let long = "é".repeat(100_000);
        let rows = table_of(
            &["id", "reason"],
            vec![vec![
                ("1".to_owned(), json!(1)),
                (long.clone(), json!(long.clone())),
            ]],
        );
        let mut out = Vec::new();
        rows.table(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let row = text.lines().nth(1).unwrap();
        assert!(row.ends_with('…'), "{row}");
        assert_eq!(row.chars().filter(|c| *c == 'é').count(), MAX_CELL - 1);
        assert_eq!(rows.values[0]["reason"], json!(long));
        assert_eq!(rows.csv[0][1], long);
    }

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(duration(0), "0:00");
        assert_eq!(duration(187), "3:07");
        assert_eq!(duration(3725), "1:02:05");
    }
}
