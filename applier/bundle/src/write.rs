//! Writing a bundle to disk, atomically: as a directory for review, or as one tar file.
//!
//! Everything is written into a temporary sibling of the output first and renamed into place
//! only when complete, so a failure leaves the previous bundle untouched. Rewriting a bundle
//! directory with identical content is a no-op (every file is compared first), so rebuilding an
//! unchanged project touches no file.
//!
//! When the caller knows the directory still holds exactly the bundle it wrote last
//! ([`Previous::Intact`], from `kiln build`'s output stamp), only the files whose digest changed
//! are written: rewriting 20,000 files and deleting the old 20,000 costs seconds on a busy disk,
//! for a one-line edit. That update happens in place, behind a marker file: the manifest is
//! removed first and written last, so a reader (`kiln verify`, an agent watching the directory)
//! sees either a complete bundle or no bundle, never a mix it would trust, and a build that
//! finds the marker after a crash rewrites the whole directory. The tar form is
//! deterministic: entries sorted by path, regular files only, mode 0644, uid/gid 0, no user or
//! group names, mtime 0.

use crate::build::{BuiltBundle, build};
use crate::digest::Digest;
use crate::error::BundleError;
use crate::layout;
use crate::model::{BundleSpec, Manifest};
use crate::par;
use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Marks a bundle directory whose update in place has not finished.
const UPDATING: &str = ".kiln-updating";

/// What the caller knows about the bundle directory already at the output path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Previous {
    /// Nothing: whatever is there is replaced as a whole.
    Unknown,
    /// It is byte for byte the bundle this writer wrote last (nothing touched it since).
    Intact,
}

/// Builds `spec` and writes it as a bundle directory at `out`, replacing a previous bundle there.
pub fn write_dir(spec: &BundleSpec, out: &Path) -> Result<Digest, BundleError> {
    write_dir_over(spec, out, Previous::Unknown)
}

/// [`write_dir`], told what is at `out`: over an [`Previous::Intact`] bundle only changed files
/// are written.
pub fn write_dir_over(
    spec: &BundleSpec,
    out: &Path,
    previous: Previous,
) -> Result<Digest, BundleError> {
    let built = build(spec)?;
    if previous == Previous::Intact
        && let Some(old) = intact_manifest(out)
    {
        update_in_place(&built, &old, out)?;
    } else {
        write_built_dir(&built, out)?;
    }
    Ok(built.digest)
}

/// The manifest of the bundle at `out`, if there is one and no update of it was interrupted.
fn intact_manifest(out: &Path) -> Option<Manifest> {
    if out.join(UPDATING).exists() {
        return None;
    }
    serde_json::from_slice(&fs::read(out.join(layout::MANIFEST)).ok()?).ok()
}

/// Object files by path, with their digests.
fn object_digests(manifest: &Manifest) -> std::collections::BTreeMap<&str, &Digest> {
    manifest
        .components
        .iter()
        .flat_map(|c| c.objects.iter().map(|o| (o.file.as_str(), &o.digest)))
        .collect()
}

/// Rewrites only what differs between the intact bundle described by `old` and `built`.
fn update_in_place(built: &BuiltBundle, old: &Manifest, out: &Path) -> Result<(), BundleError> {
    if built.manifest == *old {
        return Ok(());
    }
    let before = object_digests(old);
    let after = object_digests(&built.manifest);
    let marker = out.join(UPDATING);
    fs::write(&marker, b"").map_err(|e| BundleError::io("write", &marker, e))?;
    let manifest = out.join(layout::MANIFEST);
    fs::remove_file(&manifest).map_err(|e| BundleError::io("remove", &manifest, e))?;

    let changed: Vec<(&String, &Vec<u8>)> = built
        .files
        .iter()
        .filter(|(rel, _)| rel.as_str() != layout::MANIFEST)
        .filter(|(rel, _)| match after.get(rel.as_str()) {
            Some(digest) => before.get(rel.as_str()) != Some(digest),
            None => true,
        })
        .collect();
    let dirs: BTreeSet<&str> = changed
        .iter()
        .filter_map(|(rel, _)| rel.rsplit_once('/').map(|(dir, _)| dir))
        .collect();
    for dir in dirs {
        let dir = out.join(dir);
        fs::create_dir_all(&dir).map_err(|e| BundleError::io("create directory", &dir, e))?;
    }
    par::map(&changed, |(rel, bytes)| {
        let path = out.join(rel);
        fs::write(&path, bytes).map_err(|e| BundleError::io("write", &path, e))
    })
    .into_iter()
    .collect::<Result<Vec<()>, _>>()?;
    for gone in before.keys().filter(|rel| !built.files.contains_key(**rel)) {
        let path = out.join(gone);
        match fs::remove_file(&path) {
            Ok(()) => remove_empty_parents(&path, out),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(BundleError::io("remove", &path, e)),
        }
    }

    let bytes = &built.files[layout::MANIFEST];
    let mut tmp = tempfile::Builder::new()
        .prefix(".bundle.json.kiln-tmp-")
        .tempfile_in(out)
        .map_err(|e| BundleError::io("create a temporary file in", out, e))?;
    tmp.write_all(bytes)
        .map_err(|e| BundleError::io("write", tmp.path().to_path_buf(), e))?;
    tmp.persist(&manifest)
        .map_err(|e| BundleError::io("rename the new manifest to", &manifest, e.error))?;
    fs::remove_file(&marker).map_err(|e| BundleError::io("remove", &marker, e))
}

/// Removes the directories above `file` that became empty, up to (not including) `root`.
fn remove_empty_parents(file: &Path, root: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir.filter(|d| *d != root && d.starts_with(root)) {
        if fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// Builds `spec` and writes it as a single tar file at `out`, replacing a previous file there.
pub fn write_tar(spec: &BundleSpec, out: &Path) -> Result<Digest, BundleError> {
    let built = build(spec)?;
    write_built_tar(&built, out)?;
    Ok(built.digest)
}

fn parent_of(out: &Path) -> Result<PathBuf, BundleError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| BundleError::io("create directory", &parent, e))?;
    Ok(parent)
}

fn file_name(out: &Path) -> Result<String, BundleError> {
    out.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| BundleError::Unreadable {
            path: out.to_path_buf(),
            reason: "the output path has no file name".into(),
        })
}

/// Writes an already built bundle as a directory at `out` (see [`write_dir`]).
pub fn write_built_dir(built: &BuiltBundle, out: &Path) -> Result<(), BundleError> {
    let parent = parent_of(out)?;
    let name = file_name(out)?;
    if out.exists() {
        check_replaceable(out)?;
        if already_written(built, out) {
            return Ok(());
        }
    }
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.kiln-tmp-"))
        .tempdir_in(&parent)
        .map_err(|e| BundleError::io("create a temporary directory in", &parent, e))?;
    let dirs: BTreeSet<&str> = built
        .files
        .keys()
        .filter_map(|rel| rel.rsplit_once('/').map(|(dir, _)| dir))
        .collect();
    for dir in dirs {
        let dir = tmp.path().join(dir);
        fs::create_dir_all(&dir).map_err(|e| BundleError::io("create directory", &dir, e))?;
    }
    let files: Vec<(&String, &Vec<u8>)> = built.files.iter().collect();
    par::map(&files, |(rel, bytes)| {
        let path = tmp.path().join(rel);
        fs::write(&path, bytes).map_err(|e| BundleError::io("write", &path, e))
    })
    .into_iter()
    .collect::<Result<Vec<()>, _>>()?;
    if out.exists() {
        // Move the old bundle aside, move the new one in, and only then delete the old one.
        let old = tempfile::Builder::new()
            .prefix(&format!(".{name}.kiln-old-"))
            .tempdir_in(&parent)
            .map_err(|e| BundleError::io("create a temporary directory in", &parent, e))?;
        let old_path = old.path().join("bundle");
        fs::rename(out, &old_path).map_err(|e| BundleError::io("move aside", out, e))?;
        if let Err(e) = fs::rename(tmp.path(), out) {
            let _ = fs::rename(&old_path, out);
            return Err(BundleError::io("rename the new bundle to", out, e));
        }
        drop(old);
    } else {
        fs::rename(tmp.path(), out)
            .map_err(|e| BundleError::io("rename the new bundle to", out, e))?;
    }
    // The temporary directory now lives at `out`; forget it without deleting.
    let _ = tmp.keep();
    Ok(())
}

/// Whether `out` already holds exactly these files (same manifest, every file byte-identical, no
/// other entries), so a rebuild of an unchanged project rewrites nothing.
fn already_written(built: &BuiltBundle, out: &Path) -> bool {
    let same_manifest = fs::read(out.join(layout::MANIFEST))
        .is_ok_and(|bytes| built.files.get(layout::MANIFEST) == Some(&bytes));
    if !same_manifest {
        return false;
    }
    match crate::read::read(out) {
        Ok(raw) => raw.rejected.is_empty() && raw.files == built.files,
        Err(_) => false,
    }
}

/// An existing output may be replaced only if it is an empty directory, a previous bundle, or
/// one whose update in place was interrupted.
fn check_replaceable(out: &Path) -> Result<(), BundleError> {
    let meta = fs::symlink_metadata(out).map_err(|e| BundleError::io("inspect", out, e))?;
    if meta.is_dir() {
        let mut entries =
            fs::read_dir(out).map_err(|e| BundleError::io("read directory", out, e))?;
        if entries.next().is_none()
            || out.join(layout::MANIFEST).is_file()
            || out.join(UPDATING).is_file()
        {
            return Ok(());
        }
    }
    Err(BundleError::OutputNotABundle {
        path: out.to_path_buf(),
    })
}

/// The deterministic tar bytes of a built bundle.
pub fn tar_bytes(built: &BuiltBundle) -> Result<Vec<u8>, BundleError> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Deterministic);
    for (rel, bytes) in &built.files {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_size(bytes.len() as u64);
        builder
            .append_data(&mut header, rel, bytes.as_slice())
            .map_err(|e| BundleError::io("append to tar", rel, e))?;
    }
    builder
        .into_inner()
        .map_err(|e| BundleError::io("finish tar", "<memory>", e))
}

/// Writes an already built bundle as a tar file at `out` (see [`write_tar`]).
pub fn write_built_tar(built: &BuiltBundle, out: &Path) -> Result<(), BundleError> {
    let parent = parent_of(out)?;
    let name = file_name(out)?;
    if out.is_dir() {
        return Err(BundleError::OutputNotABundle {
            path: out.to_path_buf(),
        });
    }
    let bytes = tar_bytes(built)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.kiln-tmp-"))
        .tempfile_in(&parent)
        .map_err(|e| BundleError::io("create a temporary file in", &parent, e))?;
    tmp.write_all(&bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| BundleError::io("write", tmp.path().to_path_buf(), e))?;
    tmp.persist(out)
        .map_err(|e| BundleError::io("rename the new bundle to", out, e.error))?;
    Ok(())
}
