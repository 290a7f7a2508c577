//! [`Bundle`]: an opened and verified bundle, the only way to get objects out of one.
//!
//! The applier must never act on an unverified bundle, so the type cannot be constructed except
//! through verification: [`Bundle::open`] reads a directory or tar, checks every digest, and hands
//! out objects only if everything matched.

use crate::build::BuiltBundle;
use crate::digest::Digest;
use crate::error::BundleError;
use crate::model::{ComponentEntry, Manifest, ObjectEntry};
use crate::read;
use crate::read::RawBundle;
use crate::verify::{VerifyReport, verify_raw, verify_raw_selected};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A bundle whose every file has been verified against its manifest.
#[derive(Debug, Clone)]
pub struct Bundle {
    path: PathBuf,
    manifest: Manifest,
    digest: Digest,
    /// Decoded objects in manifest order (components in order, objects in order).
    objects: Vec<Value>,
}

/// One object of a verified bundle with its component and manifest entry.
#[derive(Debug, Clone, Copy)]
pub struct BundleObject<'a> {
    pub component: &'a ComponentEntry,
    pub entry: &'a ObjectEntry,
    pub value: &'a Value,
}

impl Bundle {
    /// Opens and verifies a bundle directory or tar file.
    pub fn open(path: impl AsRef<Path>) -> Result<Bundle, BundleError> {
        Self::open_inner(path.as_ref(), None)
    }

    /// Opens and verifies a bundle, also requiring its digest to be `expected`.
    pub fn open_expecting(path: impl AsRef<Path>, expected: Digest) -> Result<Bundle, BundleError> {
        Self::open_inner(path.as_ref(), Some(expected))
    }

    fn open_inner(path: &Path, expected: Option<Digest>) -> Result<Bundle, BundleError> {
        let raw = read::read(path)?;
        Self::from_raw(path, &raw, expected, &|_| true)
    }

    /// Verifies a bundle held in memory as tar bytes (e.g. a layer pulled from a registry) and
    /// names it `path`, where the caller stores those bytes once they verified.
    pub fn from_tar_bytes(
        path: impl AsRef<Path>,
        tar: &[u8],
        expected: Option<Digest>,
    ) -> Result<Bundle, BundleError> {
        let path = path.as_ref();
        let raw = read::read_tar(tar).map_err(|reason| BundleError::Unreadable {
            path: path.to_path_buf(),
            reason,
        })?;
        Self::from_raw(path, &raw, expected, &|_| true)
    }

    /// Verifies already read files. Objects for which `decode` is false are checked against
    /// their digest only and hold `null`: such a bundle must never leave this crate.
    pub(crate) fn from_raw(
        path: &Path,
        raw: &RawBundle,
        expected: Option<Digest>,
        decode: &(dyn Fn(&ObjectEntry) -> bool + Sync),
    ) -> Result<Bundle, BundleError> {
        let (report, verified) =
            verify_raw_selected(raw, path.display().to_string(), expected, decode);
        match verified {
            Some(v) => Ok(Bundle {
                path: path.to_path_buf(),
                manifest: v.manifest,
                digest: v.digest,
                objects: v.objects,
            }),
            None => Err(BundleError::Unverified {
                report: Box::new(report),
            }),
        }
    }

    /// The path the bundle was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The bundle digest: blake3 of its canonical manifest.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Every object, components in wave order, objects in manifest order.
    pub fn objects(&self) -> impl Iterator<Item = BundleObject<'_>> {
        self.manifest
            .components
            .iter()
            .flat_map(|c| c.objects.iter().map(move |e| (c, e)))
            .zip(&self.objects)
            .map(|((component, entry), value)| BundleObject {
                component,
                entry,
                value,
            })
    }

    /// The objects of one wave, in manifest order.
    pub fn wave(&self, wave: usize) -> impl Iterator<Item = BundleObject<'_>> {
        self.objects().filter(move |o| o.component.wave == wave)
    }
}

/// Reads and verifies a bundle directory or tar file and returns its exact files, e.g. to
/// re-pack it in the canonical tar form ([`crate::tar_bytes`]) for distribution.
pub fn read_verified(path: impl AsRef<Path>) -> Result<BuiltBundle, BundleError> {
    let path = path.as_ref();
    let raw = read::read(path)?;
    let bundle = Bundle::from_raw(path, &raw, None, &|_| true)?;
    Ok(BuiltBundle {
        manifest: bundle.manifest,
        files: raw.files,
        digest: bundle.digest,
    })
}

/// Verifies a bundle directory or tar file and reports every problem found. `Err` only when the
/// path cannot be read at all or the tar archive is corrupt.
pub fn verify(path: impl AsRef<Path>) -> Result<VerifyReport, BundleError> {
    verify_expecting(path, None)
}

/// Like [`verify`], also reporting a bundle digest different from `expected`.
pub fn verify_expecting(
    path: impl AsRef<Path>,
    expected: Option<Digest>,
) -> Result<VerifyReport, BundleError> {
    let path = path.as_ref();
    let raw = read::read(path)?;
    Ok(verify_raw(&raw, path.display().to_string(), expected).0)
}
