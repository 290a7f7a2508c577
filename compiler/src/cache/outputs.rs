//! Output stamps: what lets `kiln build` of an unchanged project finish without rendering,
//! loading, encoding or re-reading anything.
//!
//! After writing a bundle, the build records a stamp for the output path: the build key (the
//! digest of every input of the bundle, see [`crate::build`]), the bundle digest, and a
//! fingerprint of the output as the filesystem describes it — for every entry under the output,
//! its path and type, and for files their size, modification and change times (nanoseconds) and
//! inode. A later build with the same key trusts the output only if the fingerprint taken again
//! is the same. This is the check make, cargo and Bazel rely on, made stricter by the change
//! time and inode: any write, rename, `chmod`, `touch` or copy over a file moves its change
//! time, which user space cannot set back, so a tampered, added, removed or replaced file makes
//! the stamp stale and the build rewrites the bundle. What it does not do is read the bytes:
//! `kiln verify` is the check that does (and is what an applier runs before trusting a bundle).
//!
//! A file changed within the same timestamp tick as the stamp was written could keep identical
//! times; as git does for its index ("racily clean" entries), a stamp whose newest recorded
//! change time is not older than the stamp file itself is not trusted.
//!
//! Stamps live in the cache directory under `outputs/`, named by the blake3 of the output's
//! absolute path. A missing, unreadable or corrupt stamp is simply stale.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::Cache;

/// What was written to an output, as `kiln build` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    /// The bundle digest.
    pub digest: String,
    pub objects: usize,
    pub components: usize,
    pub waves: usize,
}

/// What a stamp records about one output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    key: String,
    written: Written,
    fingerprint: String,
    /// The newest change time of any entry when the stamp was taken (ns since the epoch).
    newest: u128,
}

/// A fingerprint of the entries under a path and the newest change time among them.
struct Fingerprint {
    digest: String,
    newest: u128,
}

/// What a stamp says about an output before a build writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputState {
    /// Written for this very key and untouched since: nothing to do.
    Current(Written),
    /// Untouched since kiln wrote it, for another key: only what changed needs writing.
    Intact,
    /// No trustworthy stamp: write the output as a whole.
    Unknown,
}

impl Cache {
    /// What was recorded as written to `out` when its stamp matches `key` and the output is
    /// still exactly as written; `None` when the output must be written again.
    pub fn current_output(&self, out: &Path, key: &str) -> Option<Written> {
        match self.output_state(out, key) {
            OutputState::Current(written) => Some(written),
            OutputState::Intact | OutputState::Unknown => None,
        }
    }

    /// Whether `out` holds what was written for `key`, or at least exactly what kiln wrote last.
    pub fn output_state(&self, out: &Path, key: &str) -> OutputState {
        match self.intact_stamp(out) {
            Some(stamp) if stamp.key == key => OutputState::Current(stamp.written),
            Some(_) => OutputState::Intact,
            None => OutputState::Unknown,
        }
    }

    /// The stamp of `out`, if the output is still exactly as it was when the stamp was taken.
    fn intact_stamp(&self, out: &Path) -> Option<Stamp> {
        let path = self.stamp_path(out)?;
        let stamp: Stamp = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
        let written = nanos(std::fs::metadata(&path).ok()?.modified().ok()?);
        if stamp.newest >= written {
            tracing::debug!(out = %out.display(), "output stamp is racy; not trusted");
            return None;
        }
        let now = fingerprint(out).ok()?;
        (now.digest == stamp.fingerprint && now.newest == stamp.newest).then_some(stamp)
    }

    /// Records that `out` holds what was `written` for `key`. Failures are logged, not fatal:
    /// without a stamp the next build only takes longer.
    pub fn record_output(&self, out: &Path, key: &str, written: &Written) {
        let result = (|| -> std::io::Result<()> {
            let path = self
                .stamp_path(out)
                .ok_or_else(|| std::io::Error::other("the output path cannot be made absolute"))?;
            let fp = fingerprint(out)?;
            let stamp = Stamp {
                key: key.to_string(),
                written: written.clone(),
                fingerprint: fp.digest,
                newest: fp.newest,
            };
            let bytes = serde_json::to_vec(&stamp)?;
            // A stamp written in the same clock tick as the output would not be trusted; wait
            // for the tick to pass (a few milliseconds at most) rather than lose the next build.
            for _ in 0..10 {
                self.write_atomically(&path, &bytes)?;
                if nanos(std::fs::metadata(&path)?.modified()?) > stamp.newest {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Ok(())
        })();
        if let Err(e) = result {
            tracing::warn!(out = %out.display(), error = %e, "cannot record the output stamp");
        }
    }

    /// Forgets the stamp of `out` (before writing it, so a failed write leaves no stale stamp).
    pub fn forget_output(&self, out: &Path) {
        if let Some(path) = self.stamp_path(out) {
            let _ = std::fs::remove_file(path);
        }
    }

    fn stamp_path(&self, out: &Path) -> Option<PathBuf> {
        let absolute = std::path::absolute(out).ok()?;
        let name = blake3::hash(absolute.as_os_str().as_encoded_bytes()).to_hex();
        Some(self.dir.join("outputs").join(format!("{name}.json")))
    }
}

fn nanos(t: SystemTime) -> u128 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Walks `root` (a directory, or a single file) in name order without following symlinks.
///
/// Listing directories is cheap (their entries carry the type); looking at each file's
/// metadata is most of the cost, so that runs on two threads.
fn fingerprint(root: &Path) -> std::io::Result<Fingerprint> {
    let mut entries = Vec::new();
    let meta = std::fs::symlink_metadata(root)?;
    if meta.is_dir() {
        list(root, "", &mut entries)?;
    } else {
        entries.push((String::new(), root.to_path_buf(), kind_of(meta.file_type())));
    }
    let files: Vec<&PathBuf> = entries
        .iter()
        .filter(|(_, _, kind)| *kind == b'f')
        .map(|(_, path, _)| path)
        .collect();
    let identities = stat_all(&files)?;
    let mut identities = identities.into_iter();
    let mut hasher = blake3::Hasher::new();
    let mut newest = 0;
    for (rel, _, kind) in &entries {
        hasher.update(&(rel.len() as u64).to_le_bytes());
        hasher.update(rel.as_bytes());
        hasher.update(&[*kind]);
        if *kind == b'f' {
            let (len, modified, changed, inode) = identities
                .next()
                .ok_or_else(|| std::io::Error::other("a file was not examined"))?;
            newest = newest.max(changed);
            hasher.update(&len.to_le_bytes());
            hasher.update(&modified.to_le_bytes());
            hasher.update(&changed.to_le_bytes());
            hasher.update(&inode.to_le_bytes());
        }
    }
    Ok(Fingerprint {
        digest: hasher.finalize().to_hex().to_string(),
        newest,
    })
}

fn kind_of(t: std::fs::FileType) -> u8 {
    if t.is_dir() {
        b'd'
    } else if t.is_file() {
        b'f'
    } else {
        b'o'
    }
}

/// Every entry under `dir` as (relative path, path, kind), depth first, in name order.
fn list(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf, u8)>) -> std::io::Result<()> {
    let mut entries: Vec<(String, std::fs::DirEntry)> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| (e.file_name().to_string_lossy().into_owned(), e)))
        .collect::<std::io::Result<_>>()?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, entry) in entries {
        let child = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let kind = kind_of(entry.file_type()?);
        let path = entry.path();
        out.push((child.clone(), path.clone(), kind));
        if kind == b'd' {
            list(&path, &child, out)?;
        }
    }
    Ok(())
}

type Identity = (u64, u128, u128, u64);

/// The identity of every file, in order, looked at from two threads.
fn stat_all(files: &[&PathBuf]) -> std::io::Result<Vec<Identity>> {
    let half = files.len().div_ceil(2);
    let stat = |chunk: &[&PathBuf]| -> std::io::Result<Vec<Identity>> {
        chunk
            .iter()
            .map(|p| std::fs::symlink_metadata(p).map(|m| identity(&m)))
            .collect()
    };
    if half < 256 {
        return stat(files);
    }
    let (a, b) = files.split_at(half);
    let (a, b) = std::thread::scope(|s| {
        let second = s.spawn(|| stat(b));
        let first = stat(a);
        (first, second.join())
    });
    let mut out = a?;
    out.extend(b.map_err(|_| std::io::Error::other("a metadata thread panicked"))??);
    Ok(out)
}

/// Size, modification time, change time and inode of an entry.
#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt;
    let time = |s: i64, ns: i64| (s.max(0) as u128) * 1_000_000_000 + ns.max(0) as u128;
    (
        meta.len(),
        time(meta.mtime(), meta.mtime_nsec()),
        time(meta.ctime(), meta.ctime_nsec()),
        meta.ino(),
    )
}

/// Size and modification time; the platform offers no change time or inode to std.
#[cfg(not(unix))]
fn identity(meta: &std::fs::Metadata) -> Identity {
    let modified = meta.modified().map(nanos).unwrap_or(0);
    (meta.len(), modified, modified, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, Cache, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("cache"));
        let out = dir.path().join("out");
        std::fs::create_dir_all(out.join("components/a")).unwrap();
        std::fs::write(out.join("bundle.json"), "{}").unwrap();
        std::fs::write(out.join("components/a/x.yaml"), "a: 1\n").unwrap();
        (dir, cache, out)
    }

    fn written() -> Written {
        Written {
            digest: "d".into(),
            objects: 1,
            components: 1,
            waves: 1,
        }
    }

    /// Records a stamp that is not racy: waits until the clock has moved past the output.
    fn record(cache: &Cache, out: &Path) {
        std::thread::sleep(std::time::Duration::from_millis(30));
        cache.record_output(out, "k", &written());
    }

    #[test]
    fn an_untouched_output_is_current_for_its_key_only() {
        let (_dir, cache, out) = setup();
        assert_eq!(cache.current_output(&out, "k"), None);
        record(&cache, &out);
        assert_eq!(cache.current_output(&out, "k"), Some(written()));
        assert_eq!(cache.current_output(&out, "other"), None);
        assert_eq!(cache.output_state(&out, "other"), OutputState::Intact);
        cache.forget_output(&out);
        assert_eq!(cache.current_output(&out, "k"), None);
        assert_eq!(cache.output_state(&out, "other"), OutputState::Unknown);
    }

    #[test]
    fn any_change_to_the_output_makes_it_stale() {
        type Change = fn(&Path);
        let changes: [(&str, Change); 5] = [
            ("rewrite with the same size", |o| {
                std::fs::write(o.join("components/a/x.yaml"), "a: 2\n").unwrap()
            }),
            ("extra file", |o| {
                std::fs::write(o.join("extra.yaml"), "").unwrap()
            }),
            ("extra directory", |o| {
                std::fs::create_dir(o.join("more")).unwrap()
            }),
            ("removed file", |o| {
                std::fs::remove_file(o.join("components/a/x.yaml")).unwrap()
            }),
            ("replaced by a copy", |o| {
                let f = o.join("components/a/x.yaml");
                std::fs::copy(&f, o.join("copy")).unwrap();
                std::fs::rename(o.join("copy"), &f).unwrap();
            }),
        ];
        for (what, change) in changes {
            let (_dir, cache, out) = setup();
            record(&cache, &out);
            change(&out);
            assert_eq!(cache.current_output(&out, "k"), None, "{what}");
            assert_eq!(
                cache.output_state(&out, "other"),
                OutputState::Unknown,
                "{what}"
            );
        }
    }

    #[test]
    fn a_stamp_taken_in_the_same_tick_as_a_change_is_not_trusted() {
        let (_dir, cache, out) = setup();
        cache.record_output(&out, "k", &written());
        let path = cache.stamp_path(&out).unwrap();
        let stamp: Stamp = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        // Make the stamp file look as old as the newest output entry.
        let when = SystemTime::UNIX_EPOCH + std::time::Duration::from_nanos(stamp.newest as u64);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(when)
            .unwrap();
        assert_eq!(cache.current_output(&out, "k"), None);
    }
}
