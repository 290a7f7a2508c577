//! The render cache: a component's rendered objects stored under the blake3 digest of
//! everything the render read (renderer kind, file contents, values, engine version), so an
//! unchanged component is never rendered twice.
//!
//! Entries are immutable files named by their key; writes go to a temporary file in the same
//! directory and are renamed into place, so a crash never leaves a torn entry and concurrent
//! builds can share one cache. A corrupt or unreadable entry is a miss, never an error.
//!
//! The same directory holds the [`outputs`] stamps that let an unchanged build skip writing.

pub mod outputs;

use std::io::Write;
use std::path::{Path, PathBuf};

use kiln_bundle::Provenance;
use serde_json::Value;

/// Bumped whenever the rendered form of any input changes without a change in kiln's version.
const FORMAT: &str = "kiln-render-cache/1";

/// Accumulates the inputs of one render into a cache key.
pub struct KeyBuilder(blake3::Hasher);

impl KeyBuilder {
    /// Starts a key for a renderer kind.
    pub fn new(kind: &str) -> Self {
        let mut k = KeyBuilder(blake3::Hasher::new());
        k.field(FORMAT.as_bytes());
        k.field(env!("CARGO_PKG_VERSION").as_bytes());
        k.field(kind.as_bytes());
        k
    }

    /// Adds one length-prefixed field, so field boundaries cannot be confused.
    pub fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update(&(bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    pub fn finish(&self) -> String {
        self.0.finalize().to_hex().to_string()
    }
}

/// A directory of cached renders.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Cache { dir: dir.into() }
    }

    /// The default cache directory: `$KILN_CACHE_DIR`, else the user cache dir + `kiln`.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("KILN_CACHE_DIR").filter(|d| !d.is_empty()) {
            return Some(PathBuf::from(dir));
        }
        dirs::cache_dir().map(|d| d.join("kiln"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir
            .join("render")
            .join(&key[..2])
            .join(format!("{key}.json"))
    }

    /// The cached objects for `key`, if present and readable.
    pub fn get(&self, key: &str) -> Option<Vec<(Value, Provenance)>> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        match serde_json::from_slice(&bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(key, error = %e, "ignoring a corrupt render cache entry");
                None
            }
        }
    }

    /// Stores objects under `key`. Failures are logged, not fatal: the cache only saves time.
    pub fn put(&self, key: &str, objects: &[(Value, Provenance)]) {
        if let Err(e) = self.try_put(key, objects) {
            tracing::warn!(key, error = %e, dir = %self.dir.display(), "cannot write the render cache");
        }
    }

    fn try_put(&self, key: &str, objects: &[(Value, Provenance)]) -> std::io::Result<()> {
        self.write_atomically(&self.path(key), &serde_json::to_vec(objects)?)
    }

    /// Writes `bytes` to a temporary file beside `path` and renames it into place.
    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let dir = path
            .parent()
            .ok_or_else(|| std::io::Error::other("a cache file has no directory"))?;
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(bytes)?;
        tmp.flush()?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_fields() {
        let a = KeyBuilder::new("manifests")
            .field(b"ab")
            .field(b"c")
            .finish();
        let b = KeyBuilder::new("manifests")
            .field(b"a")
            .field(b"bc")
            .finish();
        let c = KeyBuilder::new("helm").field(b"ab").field(b"c").finish();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            a,
            KeyBuilder::new("manifests")
                .field(b"ab")
                .field(b"c")
                .finish()
        );
    }

    #[test]
    fn round_trips_and_ignores_corrupt_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let key = KeyBuilder::new("x").finish();
        assert!(cache.get(&key).is_none());
        let prov = Provenance {
            component: "c".into(),
            source: None,
            file: "f.yaml".into(),
            line: 3,
            producer: "manifests".into(),
        };
        let objs = vec![(serde_json::json!({"kind": "A"}), prov)];
        cache.put(&key, &objs);
        assert_eq!(cache.get(&key).unwrap(), objs);
        std::fs::write(cache.path(&key), b"{not json").unwrap();
        assert!(cache.get(&key).is_none());
    }
}
