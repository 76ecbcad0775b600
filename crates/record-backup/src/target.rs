//! Where files are kept: any `object_store` store (a local directory, an S3-compatible bucket,
//! GCS, Azure, memory), with streaming uploads that appear only when complete.

use std::sync::Arc;

use futures_util::StreamExt as _;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload, WriteMultipart};
use telphin_records::layers::record_api::bytes::Bytes;

use crate::digest::Fingerprint;
use crate::error::BackupError;

/// Files up to this size are stored with one request; larger ones in parts of this size (S3
/// requires at least 5 MiB per part but the last).
pub const PART_SIZE: usize = 8 << 20;

/// How many parts of one file are uploaded at once.
const PARTS_IN_FLIGHT: usize = 2;

/// A backup target: a store and where in it.
///
/// ```no_run
/// use record_backup::Target;
///
/// # fn main() -> Result<(), record_backup::BackupError> {
/// let disk = Target::local("/srv/recordings")?;
/// // Credentials and region from the environment (AWS_ACCESS_KEY_ID, ...), or as options.
/// let bucket = Target::from_url("s3://call-archive/pbx-main", [("aws_region", "eu-central-1")])?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Target {
    store: Arc<dyn ObjectStore>,
    shown: String,
    /// The directory of a local target.
    local: Option<std::path::PathBuf>,
    /// The permissions of a local target's files (default owner-only).
    file_mode: u32,
}

/// The permissions of a local target's files unless `file_mode` says otherwise: recordings
/// are personal data, readable by their owner only.
pub const DEFAULT_FILE_MODE: u32 = 0o600;

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Target").field(&self.shown).finish()
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl Target {
    /// A directory on a local disk, created if missing (owner-only); its files are made
    /// owner-only ([`DEFAULT_FILE_MODE`]).
    pub fn local(dir: impl AsRef<std::path::Path>) -> Result<Target, BackupError> {
        Target::local_with_mode(dir, DEFAULT_FILE_MODE)
    }

    /// A directory on a local disk whose files get the permissions `file_mode` (e.g. `0o640`
    /// for a group that backs the archive up; the option `file_mode = "0640"` of
    /// [`from_url`](Self::from_url)). Whatever the mode, a new directory is its owner's and
    /// group's only.
    pub fn local_with_mode(
        dir: impl AsRef<std::path::Path>,
        file_mode: u32,
    ) -> Result<Target, BackupError> {
        let dir = dir.as_ref();
        if file_mode & !0o777 != 0 || file_mode & 0o600 != 0o600 {
            return Err(BackupError::TargetConfig(format!(
                "file_mode {file_mode:o}: give permissions such as 600 or 640 (the owner reads \
                 and writes)"
            )));
        }
        let existed = dir.exists();
        std::fs::create_dir_all(dir).map_err(|error| {
            BackupError::TargetConfig(format!("cannot create {}: {error}", dir.display()))
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = if file_mode & 0o040 != 0 { 0o750 } else { 0o700 };
            if !existed {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).map_err(
                    |error| {
                        BackupError::TargetConfig(format!(
                            "cannot restrict {}: {error}",
                            dir.display()
                        ))
                    },
                )?;
            } else if std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o007 != 0) {
                tracing::warn!(
                    target = %dir.display(),
                    "the target directory is open to others: its recordings are personal data \
                     (chmod o-rwx it)"
                );
            }
        }
        // Files and folders are synced before an object counts as stored, as S3 does: a
        // power loss must not turn a kept record into an empty file.
        let store = LocalFileSystem::new_with_prefix(dir)?.with_fsync(true);
        Ok(Target {
            store: Arc::new(store),
            shown: dir.display().to_string(),
            local: Some(dir.to_path_buf()),
            file_mode,
        })
    }

    /// The target at `url`: `s3://bucket/prefix` (any S3-compatible store: set
    /// `aws_endpoint`; credentials and region are read from the environment, then from
    /// `options`), `file:///dir`, `gs://`, `az://`, `memory://` — whatever `object_store`
    /// reads. A plain path is a local directory.
    pub fn from_url<K, V>(
        url: &str,
        options: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Target, BackupError>
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut options: Vec<(String, String)> = options
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_ascii_lowercase(), v.into()))
            .collect();
        let file_mode = match options.iter().position(|(k, _)| k == "file_mode") {
            Some(at) => {
                let (_, mode) = options.remove(at);
                u32::from_str_radix(mode.trim_start_matches("0o"), 8).map_err(|_| {
                    BackupError::TargetConfig(format!(
                        "file_mode {mode:?}: octal permissions such as \"0640\""
                    ))
                })?
            }
            None => DEFAULT_FILE_MODE,
        };
        if !url.contains("://") {
            return Target::local_with_mode(url, file_mode);
        }
        let parsed = url::Url::parse(url)
            .map_err(|error| BackupError::TargetConfig(format!("not a URL ({error})")))?;
        let shown = shown(&parsed);
        if parsed.scheme() == "file" {
            let dir = parsed.to_file_path().map_err(|()| {
                BackupError::TargetConfig(format!("{shown} is not a local directory"))
            })?;
            return Target::local_with_mode(dir, file_mode);
        }
        let store: Box<dyn ObjectStore> = if parsed.scheme() == "s3" {
            let mut builder = AmazonS3Builder::from_env().with_url(url);
            for (key, value) in options {
                let key: AmazonS3ConfigKey = key
                    .parse()
                    .map_err(|_| BackupError::TargetConfig(format!("unknown S3 option {key:?}")))?;
                builder = builder.with_config(key, value);
            }
            let store = builder.build()?;
            let prefix = Path::from_url_path(parsed.path()).map_err(object_store::Error::from)?;
            Box::new(object_store::prefix::PrefixStore::new(store, prefix))
        } else {
            let (store, prefix) = object_store::parse_url_opts(&parsed, options)?;
            Box::new(object_store::prefix::PrefixStore::new(store, prefix))
        };
        Ok(Target {
            store: Arc::from(store),
            shown,
            local: None,
            file_mode,
        })
    }

    /// A target over any `object_store` store; `description` is what messages and `Debug`
    /// show of it (give no secret).
    pub fn from_store(store: Arc<dyn ObjectStore>, description: impl Into<String>) -> Target {
        Target {
            store,
            shown: description.into(),
            local: None,
            file_mode: DEFAULT_FILE_MODE,
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Removes what killed runs left in a local target: `object_store` writes each file as
    /// `name#N` and renames it when complete, so a process killed meanwhile leaves that file
    /// (never listed, never an object). Object names never contain `#`. Gives how many were
    /// removed.
    pub(crate) fn remove_stale_uploads(&self) -> Result<u64, BackupError> {
        let Some(root) = &self.local else {
            return Ok(0);
        };
        let failed = |error: std::io::Error| {
            BackupError::TargetConfig(format!("cannot clean {}: {error}", root.display()))
        };
        let mut removed = 0;
        let mut folders = vec![root.clone()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).map_err(failed)? {
                let entry = entry.map_err(failed)?;
                let kind = entry.file_type().map_err(failed)?;
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if kind.is_dir() {
                    folders.push(entry.path());
                } else if kind.is_file() && is_staged(&name) {
                    std::fs::remove_file(entry.path()).map_err(failed)?;
                    removed += 1;
                }
            }
        }
        if removed > 0 {
            tracing::warn!(removed, target = %self.shown, "removed unfinished files of an interrupted run");
        }
        Ok(removed)
    }

    /// Whether the target takes a new object now: stores a small object of a name of its
    /// own under [`PROBE_KEY`] (`…-<time>-<process>-<n>`: probes at once never meet), reads
    /// its size back and removes it. A readiness check for services.
    pub async fn probe(&self) -> Result<(), BackupError> {
        static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = Target::path(&format!("{PROBE_KEY}-{nanos}-{}-{n}", std::process::id()))?;
        self.store
            .put(&path, PutPayload::from_static(b"telphin-records probe\n"))
            .await?;
        let size = self.store.head(&path).await?.size;
        self.store.delete(&path).await?;
        if size != 22 {
            return Err(BackupError::TargetConfig(format!(
                "the probe object came back with {size} bytes instead of 22"
            )));
        }
        Ok(())
    }

    pub(crate) fn path(key: &str) -> Result<Path, BackupError> {
        Path::parse(key).map_err(|error| BackupError::Target(error.into()))
    }

    /// Deletes object `key` (one already gone counts as deleted) and, in a local target,
    /// makes the deletion durable — its folder synced — before it returns: a destroyed
    /// record's tombstone is committed only after, so a power loss cannot bring the file back
    /// behind it. (An S3 `DELETE` that answered is durable.)
    pub(crate) async fn delete(&self, key: &str) -> Result<(), BackupError> {
        match self.store.delete(&Target::path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(error) => return Err(error.into()),
        }
        #[cfg(unix)]
        if let Some(folder) = self
            .local_file(key)
            .as_deref()
            .and_then(std::path::Path::parent)
        {
            let synced = std::fs::File::open(folder).and_then(|dir| dir.sync_all());
            match synced {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => {
                    return Err(BackupError::Target(object_store::Error::Generic {
                        store: "LocalFileSystem",
                        source: Box::new(error),
                    }));
                }
            }
        }
        Ok(())
    }

    /// The file of object `key` in a local target.
    pub(crate) fn local_file(&self, key: &str) -> Option<std::path::PathBuf> {
        self.local.as_ref().map(|root| root.join(key))
    }

    /// Starts storing an object named `key`.
    pub(crate) fn upload(&self, key: &str) -> Result<Upload, BackupError> {
        Ok(Upload {
            local_file: self.local_file(key),
            file_mode: self.file_mode,
            store: Arc::clone(&self.store),
            path: Target::path(key)?,
            buffered: Vec::new(),
            buffered_len: 0,
            multipart: None,
            fingerprint: Fingerprint::default(),
        })
    }

    /// The size and SHA-256 of the object `key`, read back whole; `None` if there is none.
    pub(crate) async fn fingerprint(
        &self,
        key: &str,
    ) -> Result<Option<(u64, String)>, BackupError> {
        let found = match self.store.get(&Target::path(key)?).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        let mut fingerprint = Fingerprint::default();
        let mut stream = found.into_stream();
        while let Some(chunk) = stream.next().await {
            fingerprint.update(&chunk?);
        }
        Ok(Some(fingerprint.finish()))
    }

    /// The size of the object `key`; `None` if there is none.
    pub(crate) async fn size(&self, key: &str) -> Result<Option<u64>, BackupError> {
        match self.store.head(&Target::path(key)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// The bytes of the object `key`, chunk by chunk.
    pub(crate) async fn read(
        &self,
        key: &Path,
    ) -> Result<futures_util::stream::BoxStream<'static, object_store::Result<Bytes>>, BackupError>
    {
        Ok(self.store.get(key).await?.into_stream())
    }

    /// The bytes `range` of the object `key`, chunk by chunk, as the store sends them: one
    /// ranged read (an S3 `Range` GET, a seek in a file), never the object from its start.
    /// `None` if there is no such object. The stream's errors are the target's.
    pub async fn read_range(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<
        Option<futures_util::stream::BoxStream<'static, Result<Bytes, BackupError>>>,
        BackupError,
    > {
        let options = object_store::GetOptions::new().with_range(Some(range));
        match self.store.get_opts(&Target::path(key)?, options).await {
            Ok(found) => Ok(Some(
                found
                    .into_stream()
                    .map(|chunk| chunk.map_err(BackupError::from))
                    .boxed(),
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// The objects under `prefix`.
    pub(crate) async fn list(&self, prefix: &str) -> Result<Vec<Path>, BackupError> {
        let prefix = Target::path(prefix)?;
        let mut listing = self.store.list(Some(&prefix));
        let mut paths = Vec::new();
        while let Some(meta) = listing.next().await {
            paths.push(meta?.location);
        }
        paths.sort();
        Ok(paths)
    }
}

pub use crate::layout::PROBE_KEY;

/// Whether a file name is one of `object_store`'s staged uploads: `name#N`.
fn is_staged(name: &str) -> bool {
    name.rsplit_once('#')
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The URL without user, password, query or fragment: what messages may show.
fn shown(url: &url::Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    shown
}

/// An object being stored: small files are gathered and stored with one request, larger ones
/// as a multipart upload. Nothing appears under the object's name before
/// [`finish`](Self::finish) succeeds.
pub(crate) struct Upload {
    /// The file a local target's object is, to give it its permissions.
    local_file: Option<std::path::PathBuf>,
    file_mode: u32,
    store: Arc<dyn ObjectStore>,
    path: Path,
    buffered: Vec<Bytes>,
    buffered_len: usize,
    multipart: Option<WriteMultipart>,
    fingerprint: Fingerprint,
}

impl Upload {
    /// Adds the next chunk of the file.
    pub(crate) async fn push(&mut self, chunk: Bytes) -> Result<(), BackupError> {
        self.fingerprint.update(&chunk);
        if let Some(multipart) = &mut self.multipart {
            multipart.wait_for_capacity(PARTS_IN_FLIGHT).await?;
            multipart.put(chunk);
            return Ok(());
        }
        self.buffered_len += chunk.len();
        self.buffered.push(chunk);
        if self.buffered_len >= PART_SIZE {
            let upload = self.store.put_multipart(&self.path).await?;
            let mut multipart = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
            for chunk in self.buffered.drain(..) {
                multipart.put(chunk);
            }
            self.buffered_len = 0;
            self.multipart = Some(multipart);
        }
        Ok(())
    }

    /// Bytes pushed so far.
    pub(crate) fn size(&self) -> u64 {
        self.fingerprint.size()
    }

    /// Completes the object; gives its size and SHA-256.
    pub(crate) async fn finish(self) -> Result<(u64, String), BackupError> {
        match self.multipart {
            Some(multipart) => {
                multipart.finish().await?;
            }
            None => {
                let payload: PutPayload = self.buffered.into_iter().collect();
                self.store.put(&self.path, payload).await?;
            }
        }
        #[cfg(unix)]
        if let Some(file) = &self.local_file {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(self.file_mode))
                .map_err(|error| {
                    BackupError::Target(object_store::Error::Generic {
                        store: "LocalFileSystem",
                        source: Box::new(error),
                    })
                })?;
        }
        Ok(self.fingerprint.finish())
    }

    /// Gives up: a multipart upload is aborted, so that its parts do not linger.
    pub(crate) async fn abort(self) {
        if let Some(multipart) = self.multipart
            && let Err(error) = multipart.abort().await
        {
            tracing::warn!(%error, "an unfinished multipart upload could not be aborted");
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_target_never_shows_its_secrets() {
        let target = Target::from_url(
            "s3://call-archive/pbx?versionId=x#frag",
            [
                ("aws_access_key_id", "AKIDEXAMPLE"),
                ("aws_secret_access_key", "wJalrXUtnFEMI-secret"),
                ("aws_region", "eu-central-1"),
            ],
        )
        .unwrap();
        for shown in [format!("{target:?}"), target.to_string()] {
            assert!(
                !shown.contains("secret") && !shown.contains("AKID"),
                "{shown}"
            );
            assert!(shown.contains("s3://call-archive/pbx"), "{shown}");
        }
        let error = Target::from_url("s3://b/p", [("aws_no_such_option", "hunter2")]).unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
        assert!(error.to_string().contains("aws_no_such_option"), "{error}");
    }

    #[test]
    fn only_staged_uploads_are_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target::local(dir.path()).unwrap();
        std::fs::create_dir_all(dir.path().join("2024/03")).unwrap();
        for name in [
            "2024/03/a.mp3",
            "2024/03/a.mp3#1",
            "2024/03/b.mp3#12",
            "x#y",
            "notes#",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        assert_eq!(target.remove_stale_uploads().unwrap(), 2);
        let left: Vec<bool> = [
            "2024/03/a.mp3",
            "2024/03/a.mp3#1",
            "2024/03/b.mp3#12",
            "x#y",
            "notes#",
        ]
        .iter()
        .map(|name| dir.path().join(name).exists())
        .collect();
        assert_eq!(left, [true, false, false, true, true]);
    }

    #[test]
    fn a_plain_path_is_a_local_directory() {
        let dir = tempfile::tempdir().unwrap();
        let inside = dir.path().join("a/b");
        let target =
            Target::from_url(inside.to_str().unwrap(), std::iter::empty::<(&str, &str)>()).unwrap();
        assert!(inside.is_dir());
        assert_eq!(target.to_string(), inside.display().to_string());
        let url = format!("file://{}", inside.display());
        assert!(Target::from_url(&url, std::iter::empty::<(&str, &str)>()).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn local_files_are_owner_only_unless_a_file_mode_says_otherwise() {
        use std::os::unix::fs::PermissionsExt as _;
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = |target: &Target, key: &str| {
            runtime.block_on(async {
                let mut upload = target.upload(key).unwrap();
                upload.push(Bytes::from_static(b"audio")).await.unwrap();
                upload.finish().await.unwrap();
            });
        };
        let private = dir.path().join("private");
        let target = Target::local(&private).unwrap();
        store(&target, "2024/03/01/a.mp3");
        assert_eq!(mode(&private), 0o700);
        assert_eq!(mode(&private.join("2024/03/01/a.mp3")), 0o600);
        let shared = dir.path().join("shared");
        let target = Target::from_url(shared.to_str().unwrap(), [("file_mode", "0640")]).unwrap();
        store(&target, "b.mp3");
        assert_eq!(mode(&shared), 0o750);
        assert_eq!(mode(&shared.join("b.mp3")), 0o640);
        for bad in ["0400", "0o1777", "rw"] {
            let error =
                Target::from_url(shared.to_str().unwrap(), [("file_mode", bad)]).unwrap_err();
            assert!(error.to_string().contains("file_mode"), "{error}");
        }
    }

    #[test]
    fn a_local_deletion_is_synced_and_a_missing_object_counts_as_deleted() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let target = Target::local(dir.path()).unwrap();
        runtime.block_on(async {
            let mut upload = target.upload("2024/03/01/a.mp3").unwrap();
            upload.push(Bytes::from_static(b"audio")).await.unwrap();
            upload.finish().await.unwrap();
            target.delete("2024/03/01/a.mp3").await.unwrap();
            assert!(!dir.path().join("2024/03/01/a.mp3").exists());
            // Gone already, its folder too: still deleted.
            target.delete("2024/03/01/a.mp3").await.unwrap();
            target.delete("2031/01/01/never.mp3").await.unwrap();
        });
    }
}
