//! The content-addressed cache shared by all projects of a user.
//!
//! Layout below the root (default `$KILN_CACHE_DIR`, else `<user cache dir>/kiln`):
//! - `content/<blake3 hex>/`: immutable content trees, named by [`tree_digest`];
//! - `ids/<key hash>`: which content an immutable identity (commit + path, chart digest, OCI
//!   manifest digest) produced, so a known identity is never downloaded twice;
//! - `git/<url hash>.git`: bare repositories that Git fetches go into;
//! - `tmp/`: staging directories, renamed into `content/` only when complete and verified;
//! - `locks/`: lock files that serialize concurrent fetches of the same thing.
//!
//! Entries are checked against their name every time they are handed out: a corrupted entry
//! is removed and reported as missing, so it gets fetched again.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::SourceError;

/// A handle to the cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// What [`Cache::gc`] removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GcReport {
    pub removed_entries: usize,
    pub removed_bytes: u64,
    pub kept_entries: usize,
}

/// A held lock; released on drop.
pub(crate) struct CacheLock {
    _file: std::fs::File,
}

impl Cache {
    /// The default root: `$KILN_CACHE_DIR`, else the user cache directory + `kiln`.
    pub fn default_root() -> PathBuf {
        if let Some(dir) = std::env::var_os("KILN_CACHE_DIR").filter(|d| !d.is_empty()) {
            return PathBuf::from(dir);
        }
        dirs::cache_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("kiln")
    }

    /// Opens (creating if needed) the cache at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Cache, SourceError> {
        let root = root.into();
        for sub in ["content", "ids", "git", "tmp", "locks"] {
            let p = root.join(sub);
            std::fs::create_dir_all(&p).map_err(|e| SourceError::cache("cannot create", &p, e))?;
        }
        Ok(Cache { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn content_dir(&self, digest: &str) -> Option<PathBuf> {
        let hex = digest.strip_prefix("blake3:")?;
        (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| self.root.join("content").join(hex))
    }

    /// The verified path of content `digest`, or `None` if it is absent or was corrupted (a
    /// corrupted entry is removed).
    pub fn get(&self, digest: &str) -> Result<Option<PathBuf>, SourceError> {
        let Some(dir) = self.content_dir(digest) else {
            return Ok(None);
        };
        if !dir.is_dir() {
            return Ok(None);
        }
        match tree_digest(&dir) {
            Ok(actual) if actual == digest => {
                touch(&dir);
                Ok(Some(dir))
            }
            Ok(actual) => {
                tracing::warn!(%digest, %actual, "cache entry is corrupted; removing it");
                self.discard(&dir)?;
                Ok(None)
            }
            Err(e) => {
                tracing::warn!(%digest, error = %e, "cache entry is unreadable; removing it");
                self.discard(&dir)?;
                Ok(None)
            }
        }
    }

    fn discard(&self, dir: &Path) -> Result<(), SourceError> {
        let trash =
            self.root
                .join("tmp")
                .join(format!("trash-{}-{}", std::process::id(), unique()));
        match std::fs::rename(dir, &trash) {
            Ok(()) => {
                let _ = make_writable(&trash);
                std::fs::remove_dir_all(&trash)
                    .map_err(|e| SourceError::cache("cannot remove", &trash, e))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(SourceError::cache("cannot remove", dir, e)),
        }
    }

    /// A fresh staging directory below `tmp/` (removed when dropped).
    pub(crate) fn staging(&self) -> Result<tempfile::TempDir, SourceError> {
        let tmp = self.root.join("tmp");
        tempfile::Builder::new()
            .prefix("stage-")
            .tempdir_in(&tmp)
            .map_err(|e| SourceError::cache("cannot create a staging directory in", &tmp, e))
    }

    /// Moves a completed staging directory into `content/` under its digest. When
    /// `expected` is given and differs, nothing is stored and the actual digest is returned
    /// as the error.
    pub(crate) fn commit(
        &self,
        staging: tempfile::TempDir,
        expected: Option<&str>,
    ) -> Result<Result<(String, PathBuf), String>, SourceError> {
        let digest = tree_digest(staging.path())
            .map_err(|e| SourceError::cache("cannot hash", staging.path(), e))?;
        if let Some(exp) = expected
            && exp != digest
        {
            return Ok(Err(digest));
        }
        let dest = self
            .content_dir(&digest)
            .expect("tree_digest yields a valid digest");
        let _guard = self.lock(&format!("content-{digest}"))?;
        if self.get(&digest)?.is_some() {
            return Ok(Ok((digest, dest)));
        }
        let staged = staging.keep();
        std::fs::rename(&staged, &dest).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staged);
            SourceError::cache("cannot move into place", &dest, e)
        })?;
        Ok(Ok((digest, dest)))
    }

    /// An exclusive lock named `key` (across processes).
    pub(crate) fn lock(&self, key: &str) -> Result<CacheLock, SourceError> {
        let path = self
            .root
            .join("locks")
            .join(&blake3::hash(key.as_bytes()).to_hex()[..32]);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| SourceError::cache("cannot open lock", &path, e))?;
        file.lock()
            .map_err(|e| SourceError::cache("cannot lock", &path, e))?;
        Ok(CacheLock { _file: file })
    }

    fn id_path(&self, identity: &str) -> PathBuf {
        self.root
            .join("ids")
            .join(blake3::hash(identity.as_bytes()).to_hex().as_str())
    }

    /// The content digest an identity produced before, if recorded.
    pub(crate) fn known(&self, identity: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.id_path(identity)).ok()?;
        let digest = text.trim().to_string();
        self.content_dir(&digest).map(|_| digest)
    }

    /// Records that `identity` produced `digest` (atomically).
    pub(crate) fn remember(&self, identity: &str, digest: &str) -> Result<(), SourceError> {
        let path = self.id_path(identity);
        let dir = self.root.join("ids");
        let mut tmp = tempfile::NamedTempFile::new_in(&dir)
            .map_err(|e| SourceError::cache("cannot write in", &dir, e))?;
        std::io::Write::write_all(&mut tmp, digest.as_bytes())
            .map_err(|e| SourceError::cache("cannot write", tmp.path(), e))?;
        tmp.persist(&path)
            .map_err(|e| SourceError::cache("cannot write", &path, e.error))?;
        Ok(())
    }

    /// The bare repository used for fetches from `url`.
    pub(crate) fn git_dir(&self, url: &str) -> PathBuf {
        self.root.join("git").join(format!(
            "{}.git",
            &blake3::hash(url.as_bytes()).to_hex()[..32]
        ))
    }

    /// Removes content not in `keep` that was not used for `older_than`, stale staging
    /// directories, and id records pointing at removed content.
    pub fn gc(
        &self,
        keep: &BTreeSet<String>,
        older_than: Duration,
    ) -> Result<GcReport, SourceError> {
        let now = SystemTime::now();
        let old = |p: &Path| {
            std::fs::symlink_metadata(p)
                .and_then(|m| m.modified())
                .map(|t| now.duration_since(t).unwrap_or_default() >= older_than)
                .unwrap_or(true)
        };
        let mut report = GcReport::default();
        let content = self.root.join("content");
        for entry in read_dir(&content)? {
            let digest = format!("blake3:{}", entry.file_name().to_string_lossy());
            let path = entry.path();
            if keep.contains(&digest) || !old(&path) {
                report.kept_entries += 1;
                continue;
            }
            let _guard = self.lock(&format!("content-{digest}"))?;
            report.removed_bytes += size_of(&path);
            self.discard(&path)?;
            report.removed_entries += 1;
        }
        let tmp = self.root.join("tmp");
        for entry in read_dir(&tmp)? {
            let path = entry.path();
            if old(&path)
                || path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("trash-"))
            {
                let _ = make_writable(&path);
                let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
            }
        }
        for entry in read_dir(&self.root.join("ids"))? {
            let path = entry.path();
            let target = std::fs::read_to_string(&path).unwrap_or_default();
            if self
                .content_dir(target.trim())
                .is_none_or(|dir| !dir.is_dir())
            {
                let _ = std::fs::remove_file(&path);
            }
        }
        Ok(report)
    }
}

fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>, SourceError> {
    let entries = std::fs::read_dir(dir).map_err(|e| SourceError::cache("cannot list", dir, e))?;
    Ok(entries.filter_map(Result::ok).collect())
}

fn size_of(path: &Path) -> u64 {
    let mut files = Vec::new();
    let _ = walk(path, &mut files);
    files
        .iter()
        .filter_map(|(rel, _)| std::fs::symlink_metadata(path.join(rel)).ok())
        .map(|m| m.len())
        .sum()
}

fn make_writable(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::symlink_metadata(path)?;
        if m.is_dir() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
            for e in std::fs::read_dir(path)?.flatten() {
                make_writable(&e.path())?;
            }
        }
    }
    Ok(())
}

fn touch(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.set_modified(SystemTime::now());
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The kind of a tree entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EntryKind {
    File { exec: bool },
    Symlink(String),
}

/// Lists the files and symlinks below `dir` (relative `/`-separated paths, sorted bytewise).
/// Directories themselves are not entries: an empty directory does not change a digest.
pub(crate) fn walk(dir: &Path, out: &mut Vec<(String, EntryKind)>) -> std::io::Result<()> {
    fn go(base: &Path, rel: &str, out: &mut Vec<(String, EntryKind)>) -> std::io::Result<()> {
        let here = if rel.is_empty() {
            base.to_path_buf()
        } else {
            base.join(rel)
        };
        for entry in std::fs::read_dir(&here)? {
            let entry = entry?;
            let name = entry
                .file_name()
                .into_string()
                .map_err(|n| std::io::Error::other(format!("non UTF-8 file name {n:?}")))?;
            let path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let ft = entry.file_type()?;
            if ft.is_dir() {
                go(base, &path, out)?;
            } else if ft.is_symlink() {
                let target = std::fs::read_link(entry.path())?;
                out.push((
                    path,
                    EntryKind::Symlink(target.to_string_lossy().into_owned()),
                ));
            } else if ft.is_file() {
                out.push((
                    path,
                    EntryKind::File {
                        exec: is_exec(&entry.metadata()?),
                    },
                ));
            }
        }
        Ok(())
    }
    go(dir, "", out)?;
    out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(())
}

#[cfg(unix)]
fn is_exec(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_exec(_: &std::fs::Metadata) -> bool {
    false
}

/// The digest of a content tree: blake3 over every file's path, kind (file, executable,
/// symlink) and content hash, in sorted path order. Returned as `blake3:<hex>`.
pub fn tree_digest(dir: &Path) -> std::io::Result<String> {
    let mut entries = Vec::new();
    walk(dir, &mut entries)?;
    let mut tree = blake3::Hasher::new();
    tree.update(b"kiln-tree-v1\0");
    let mut buf = vec![0u8; 64 * 1024];
    for (rel, kind) in entries {
        match kind {
            EntryKind::File { exec } => {
                let mut file_hash = blake3::Hasher::new();
                let mut f = std::fs::File::open(dir.join(&rel))?;
                loop {
                    let n = f.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    file_hash.update(&buf[..n]);
                }
                tree.update(if exec { b"x" } else { b"f" });
                tree.update(rel.as_bytes());
                tree.update(b"\0");
                tree.update(file_hash.finalize().as_bytes());
            }
            EntryKind::Symlink(target) => {
                tree.update(b"l");
                tree.update(rel.as_bytes());
                tree.update(b"\0");
                tree.update(target.as_bytes());
                tree.update(b"\0");
            }
        }
    }
    Ok(format!("blake3:{}", tree.finalize().to_hex()))
}

impl Cache {
    /// Returns the content for `identity`, producing it with `fill` (which writes the tree into
    /// a staging directory) unless it is already cached. With `expected`, the produced content
    /// must have that digest, else nothing is stored and [`SourceError::ContentChanged`] is
    /// returned. Concurrent calls for the same identity fetch once.
    /// The cached content for `identity` (or of digest `expected`), verified.
    pub(crate) fn lookup(
        &self,
        identity: &str,
        expected: Option<&str>,
    ) -> Result<Option<(String, PathBuf)>, SourceError> {
        if let Some(digest) = expected.map(String::from).or_else(|| self.known(identity))
            && let Some(path) = self.get(&digest)?
        {
            return Ok(Some((digest, path)));
        }
        Ok(None)
    }

    pub(crate) fn materialize(
        &self,
        source_name: &str,
        identity: &str,
        expected: Option<&str>,
        fill: impl FnOnce(&Path) -> Result<(), SourceError>,
    ) -> Result<(String, PathBuf), SourceError> {
        if let Some(hit) = self.lookup(identity, expected)? {
            return Ok(hit);
        }
        let _guard = self.lock(&format!("identity-{identity}"))?;
        if let Some(hit) = self.lookup(identity, expected)? {
            return Ok(hit);
        }
        let staging = self.staging()?;
        fill(staging.path())?;
        match self.commit(staging, expected)? {
            Ok((digest, path)) => {
                self.remember(identity, &digest)?;
                Ok((digest, path))
            }
            Err(actual) => Err(SourceError::ContentChanged {
                source_name: source_name.into(),
                expected: expected.unwrap_or_default().into(),
                actual,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staged(cache: &Cache, files: &[(&str, &str)]) -> tempfile::TempDir {
        let s = cache.staging().unwrap();
        for (p, c) in files {
            let path = s.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, c).unwrap();
        }
        s
    }

    #[test]
    fn digest_depends_on_paths_and_content_only() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::write(a.path().join("x"), "1").unwrap();
        std::fs::create_dir(b.path().join("empty")).unwrap();
        std::fs::write(b.path().join("x"), "1").unwrap();
        assert_eq!(
            tree_digest(a.path()).unwrap(),
            tree_digest(b.path()).unwrap()
        );
        std::fs::write(b.path().join("x"), "2").unwrap();
        assert_ne!(
            tree_digest(a.path()).unwrap(),
            tree_digest(b.path()).unwrap()
        );
    }

    #[test]
    fn corrupted_entries_are_detected_and_removed() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        let (digest, path) = cache
            .commit(staged(&cache, &[("a/b.yaml", "x: 1\n")]), None)
            .unwrap()
            .unwrap();
        assert_eq!(cache.get(&digest).unwrap(), Some(path.clone()));
        std::fs::write(path.join("a/b.yaml"), "x: 2\n").unwrap();
        assert_eq!(cache.get(&digest).unwrap(), None);
        assert!(!path.exists());
    }

    #[test]
    fn commit_refuses_unexpected_content_and_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        let wrong = format!("blake3:{}", "0".repeat(64));
        let r = cache
            .commit(staged(&cache, &[("f", "x")]), Some(&wrong))
            .unwrap();
        assert!(r.is_err());
        assert_eq!(
            std::fs::read_dir(root.path().join("content"))
                .unwrap()
                .count(),
            0
        );
        assert_eq!(
            std::fs::read_dir(root.path().join("tmp")).unwrap().count(),
            0
        );
    }

    #[test]
    fn gc_keeps_what_is_asked_and_recent() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        let (keep, _) = cache
            .commit(staged(&cache, &[("f", "1")]), None)
            .unwrap()
            .unwrap();
        let (drop, _) = cache
            .commit(staged(&cache, &[("f", "2")]), None)
            .unwrap()
            .unwrap();
        cache.remember("id-of-drop", &drop).unwrap();
        let report = cache
            .gc(&BTreeSet::from([keep.clone()]), Duration::ZERO)
            .unwrap();
        assert_eq!(report.removed_entries, 1);
        assert!(cache.get(&keep).unwrap().is_some());
        assert!(cache.get(&drop).unwrap().is_none());
        assert_eq!(root.path().join("ids").read_dir().unwrap().count(), 0);
        let recent = cache
            .gc(&BTreeSet::new(), Duration::from_secs(3600))
            .unwrap();
        assert_eq!(recent.removed_entries, 0);
    }
}
