//! Progress of long commands: bars on a terminal (files, bytes, rate, ETA), plain log lines
//! otherwise.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use record_backup::Progress;

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Bytes of files (backup, download).
    Bytes,
    /// Files (verify, purge).
    Files,
}

/// Reports one command's progress.
pub struct Reporter {
    bar: Option<ProgressBar>,
    work: Work,
    done: AtomicU64,
    total: AtomicU64,
    /// The last tenth of the work logged, in plain mode.
    logged: AtomicU64,
}

impl Reporter {
    /// A bar on stderr when it is a terminal, log lines otherwise.
    pub fn new(work: Work, verb: &'static str) -> Arc<Reporter> {
        let bar = console::Term::stderr().is_term().then(|| {
            let template = match work {
                Work::Bytes => {
                    "{spinner} {prefix} [{elapsed_precise}] [{wide_bar}] {bytes}/{total_bytes} \
                     {binary_bytes_per_sec} ETA {eta} {msg}"
                }
                Work::Files => "{spinner} {prefix} [{elapsed_precise}] {pos} files {msg}",
            };
            let style = ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
                .with_style(style)
                .with_prefix(verb);
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Arc::new(Reporter {
            bar,
            work,
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            logged: AtomicU64::new(0),
        })
    }

    /// A line above the bar, or a log line.
    pub fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => tracing::info!("{text}"),
        }
    }

    /// The work is `files` files of `bytes` bytes.
    pub fn plan(&self, files: u64, bytes: u64) {
        self.total.store(files, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.set_length(match self.work {
                Work::Bytes => bytes,
                Work::Files => files,
            });
        }
    }

    /// One more file done.
    pub fn file_done(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let total = self.total.load(Ordering::Relaxed);
        match &self.bar {
            Some(bar) => {
                if self.work == Work::Files {
                    bar.inc(1);
                }
                if total > 0 {
                    bar.set_message(format!("files {done}/{total}"));
                }
            }
            None if total > 0 => {
                let tenth = done * 10 / total;
                if self.logged.fetch_max(tenth, Ordering::Relaxed) < tenth {
                    tracing::info!("{done} of {total} files");
                }
            }
            None => {}
        }
    }

    /// Turns a record-backup event into bar updates or lines.
    pub fn event(&self, event: Progress) {
        match event {
            Progress::Listed { records } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("listed {records}"));
                }
            }
            Progress::Planned {
                files,
                bytes,
                already_kept,
            } => {
                self.plan(files, bytes);
                self.line(&format!(
                    "{files} to transfer ({}), {already_kept} kept already",
                    crate::output::size(bytes)
                ));
            }
            Progress::Transferred { bytes } => {
                if let Some(bar) = &self.bar {
                    bar.inc(bytes);
                }
            }
            Progress::Restarted {
                discarded_bytes, ..
            } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(bar.position().saturating_sub(discarded_bytes));
                }
            }
            Progress::Stored { .. } | Progress::Deleted { .. } => self.file_done(),
            Progress::Verified { record_uuid, whole } => {
                self.file_done();
                if !whole {
                    self.line(&format!("{record_uuid}: missing or altered in the target"));
                }
            }
            Progress::Failed { record_uuid, error } => {
                self.file_done();
                self.line(&format!("{record_uuid}: failed: {error}"));
            }
            Progress::Waiting { seconds } => {
                self.line(&format!(
                    "only the rate-limit reserve is left: waiting {seconds} s for the reset"
                ));
            }
            _ => {}
        }
    }

    /// The work is over: the bar stays with its last figures.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
