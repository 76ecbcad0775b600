//! The temporary file a download to a path is written into: removed when dropped (an error, a
//! cancelled future, a panic), renamed into place only when complete; stale ones that killed
//! runs left behind are cleared before a new download of the same target.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use record_api::Error;
use tempfile::NamedTempFile;

/// The temporary files this process is writing, so that clearing stale files never removes a
/// live one of a concurrent download of the same target.
fn active() -> &'static Mutex<HashSet<PathBuf>> {
    static ACTIVE: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    ACTIVE.get_or_init(|| Mutex::new(HashSet::new()))
}

fn with_active<R>(f: impl FnOnce(&mut HashSet<PathBuf>) -> R) -> R {
    let mut set = active()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f(&mut set)
}

/// A temporary file `.{name}.{pid}.{random}.part` next to its target.
#[derive(Debug)]
pub(crate) struct PartFile {
    file: NamedTempFile,
    _registered: Registered,
}

/// Takes a temporary file out of the active set when dropped.
#[derive(Debug)]
struct Registered(PathBuf);

impl Drop for Registered {
    fn drop(&mut self) {
        with_active(|set| set.remove(&self.0));
    }
}

impl PartFile {
    /// Clears stale temporary files of `target`, then creates a new one next to it.
    pub(crate) fn create(target: &Path) -> Result<Self, Error> {
        let name = target.file_name().ok_or_else(|| {
            Error::Sink(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} does not name a file", target.display()),
            ))
        })?;
        let dir = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let prefix = prefix_of(name);
        clear_stale(dir, &prefix);
        let mut own = prefix.clone();
        own.push(format!("{}.", std::process::id()));
        let file = tempfile::Builder::new()
            .prefix(&own)
            .suffix(".part")
            .tempfile_in(dir)
            .map_err(Error::Sink)?;
        let path = file.path().to_owned();
        with_active(|set| set.insert(path.clone()));
        Ok(PartFile {
            file,
            _registered: Registered(path),
        })
    }

    /// The open file.
    pub(crate) fn as_file(&self) -> &std::fs::File {
        self.file.as_file()
    }

    /// Renames the (already synced) file to `target`.
    pub(crate) fn persist(self, target: &Path) -> Result<(), Error> {
        self.file
            .persist(target)
            .map(drop)
            .map_err(|error| Error::Sink(error.error))
    }
}

/// `.{name}.`: what every temporary file of a target starts with.
fn prefix_of(name: &std::ffi::OsStr) -> OsString {
    let mut prefix = OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    prefix
}

/// The temporary files found in each directory when this process first downloaded into it,
/// by the prefix of their target: a directory is read once, not once per download (a folder
/// of a hundred thousand recordings would make bulk downloads quadratic).
fn found_earlier(dir: &Path, prefix: &OsString) -> Vec<(u32, PathBuf)> {
    type Found = HashMap<PathBuf, HashMap<OsString, Vec<(u32, PathBuf)>>>;
    static FOUND: OnceLock<Mutex<Found>> = OnceLock::new();
    let mut found = FOUND
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    found
        .entry(dir.to_owned())
        .or_insert_with(|| scan(dir))
        .remove(prefix)
        .unwrap_or_default()
}

/// Every `.{name}.{pid}.{random}.part` file in `dir`, by its prefix `.{name}.`.
fn scan(dir: &Path) -> HashMap<OsString, Vec<(u32, PathBuf)>> {
    let mut found: HashMap<OsString, Vec<(u32, PathBuf)>> = HashMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        let Some(rest) = file_name
            .strip_prefix('.')
            .and_then(|rest| rest.strip_suffix(".part"))
        else {
            continue;
        };
        // `{name}.{pid}.{random}`: the name may hold dots, the pid and the random part do not.
        let mut parts = rest.rsplitn(3, '.');
        let (Some(_random), Some(pid), Some(name)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        let prefix = OsString::from(format!(".{name}."));
        found.entry(prefix).or_default().push((pid, entry.path()));
    }
    found
}

/// Removes the temporary files of a target, found when its directory was first read, that no
/// live download owns: those of a process that is gone, and those of this process's pid that
/// it is not writing (a killed earlier run that had the same pid, as in containers). Failures
/// are ignored: a stale file costs disk space, never correctness.
fn clear_stale(dir: &Path, prefix: &OsString) {
    let me = std::process::id();
    for (pid, path) in found_earlier(dir, prefix) {
        let stale = if pid == me {
            !with_active(|set| set.contains(&path))
        } else {
            !process_alive(pid)
        };
        if stale {
            tracing::debug!("removing a stale temporary file of an earlier download");
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Whether a process with `pid` runs. Where that cannot be told (no `/proc`), it is assumed to
/// run, so that no file of a live download is removed.
fn process_alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_part_file_is_removed_and_stale_ones_are_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("call.mp3");
        // A killed run of a process that is gone, one of this pid that is not active, one of
        // another target, and one of a live process (pid 1 always runs on Linux).
        let dead = dir.path().join(".call.mp3.4294967294.abcdef.part");
        let reused_pid = dir
            .path()
            .join(format!(".call.mp3.{}.zzzzzz.part", std::process::id()));
        let other = dir.path().join(".other.mp3.4294967294.abcdef.part");
        let live = dir.path().join(".call.mp3.1.abcdef.part");
        for path in [&dead, &reused_pid, &other, &live] {
            std::fs::write(path, b"partial").unwrap();
        }
        let part = PartFile::create(&target).unwrap();
        let path = part.file.path().to_owned();
        assert!(path.exists());
        assert!(!dead.exists() && !reused_pid.exists());
        assert!(other.exists() && live.exists());
        // A concurrent download of the same target keeps the first one's file.
        let second = PartFile::create(&target).unwrap();
        assert!(path.exists());
        drop(part);
        assert!(!path.exists());
        second.persist(&target).unwrap();
        assert!(target.exists());
    }
}
