//! Writing fetched content to disk without letting it escape its directory, and the
//! deterministic tar+gzip packing used for pushes.
//!
//! Archives and Git trees both go through [`SafeWriter`], which rejects absolute paths, `..`,
//! symlinks pointing outside the tree, writes through symlinks, and special files.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Why content was refused.
#[derive(Debug)]
pub(crate) enum ArchiveIssue {
    /// An entry tries to leave the target directory (or is of a forbidden type).
    Unsafe { entry: String, reason: String },
    /// The archive cannot be read.
    Bad(String),
}

impl From<std::io::Error> for ArchiveIssue {
    fn from(e: std::io::Error) -> Self {
        ArchiveIssue::Bad(e.to_string())
    }
}

/// Writes files, directories and symlinks strictly below `root`.
pub(crate) struct SafeWriter {
    root: PathBuf,
}

impl SafeWriter {
    pub(crate) fn new(root: &Path) -> Self {
        SafeWriter {
            root: root.to_path_buf(),
        }
    }

    /// Checks `rel` and returns its normalized components; `None` means the root itself.
    fn check(&self, rel: &str) -> Result<Option<Vec<String>>, ArchiveIssue> {
        let unsafe_entry = |reason: &str| ArchiveIssue::Unsafe {
            entry: rel.to_string(),
            reason: reason.to_string(),
        };
        let mut parts = Vec::new();
        for c in Path::new(rel).components() {
            match c {
                Component::Normal(p) => match p.to_str() {
                    Some(s) => parts.push(s.to_string()),
                    None => return Err(unsafe_entry("has a name that is not UTF-8")),
                },
                Component::CurDir => {}
                Component::ParentDir => return Err(unsafe_entry("contains `..`")),
                Component::RootDir | Component::Prefix(_) => {
                    return Err(unsafe_entry("is an absolute path"));
                }
            }
        }
        if parts.is_empty() {
            return Ok(None);
        }
        let mut at = self.root.clone();
        for p in &parts[..parts.len() - 1] {
            at.push(p);
            if let Ok(m) = std::fs::symlink_metadata(&at)
                && m.file_type().is_symlink()
            {
                return Err(unsafe_entry("would be written through a symlink"));
            }
        }
        Ok(Some(parts))
    }

    fn target(&self, parts: &[String]) -> Result<PathBuf, ArchiveIssue> {
        let path = parts.iter().fold(self.root.clone(), |p, s| p.join(s));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if let Ok(m) = std::fs::symlink_metadata(&path) {
            if m.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(path)
    }

    pub(crate) fn file(
        &self,
        rel: &str,
        data: &mut dyn Read,
        exec: bool,
    ) -> Result<(), ArchiveIssue> {
        let Some(parts) = self.check(rel)? else {
            return Err(ArchiveIssue::Unsafe {
                entry: rel.into(),
                reason: "is a file named like the root directory".into(),
            });
        };
        let path = self.target(&parts)?;
        let mut f = std::fs::File::create(&path)?;
        std::io::copy(data, &mut f)?;
        set_exec(&f, exec)?;
        Ok(())
    }

    pub(crate) fn dir(&self, rel: &str) -> Result<(), ArchiveIssue> {
        if let Some(parts) = self.check(rel)? {
            let path = parts.iter().fold(self.root.clone(), |p, s| p.join(s));
            std::fs::create_dir_all(path)?;
        }
        Ok(())
    }

    pub(crate) fn symlink(&self, rel: &str, target: &str) -> Result<(), ArchiveIssue> {
        let unsafe_link = |reason: &str| ArchiveIssue::Unsafe {
            entry: format!("{rel} -> {target}"),
            reason: reason.to_string(),
        };
        let Some(parts) = self.check(rel)? else {
            return Err(unsafe_link("replaces the root directory"));
        };
        if target.is_empty() || Path::new(target).is_absolute() {
            return Err(unsafe_link("is a symlink to an absolute path"));
        }
        // Resolve the target lexically from the link's directory; it must stay inside.
        let mut depth: Vec<&str> = parts[..parts.len() - 1]
            .iter()
            .map(String::as_str)
            .collect();
        for c in Path::new(target).components() {
            match c {
                Component::Normal(p) => depth.push(p.to_str().unwrap_or("")),
                Component::CurDir => {}
                Component::ParentDir => {
                    if depth.pop().is_none() {
                        return Err(unsafe_link("is a symlink pointing outside the tree"));
                    }
                }
                _ => return Err(unsafe_link("is a symlink to an absolute path")),
            }
        }
        let path = self.target(&parts)?;
        make_symlink(target, &path)?;
        Ok(())
    }
}

#[cfg(unix)]
fn set_exec(f: &std::fs::File, exec: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(if exec {
        0o755
    } else {
        0o644
    }))
}

#[cfg(not(unix))]
fn set_exec(_: &std::fs::File, _: bool) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn make_symlink(target: &str, path: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, path)
}

#[cfg(not(unix))]
fn make_symlink(_: &str, path: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other(format!(
        "symlinks are not supported here: {}",
        path.display()
    )))
}

/// Extracts a tar archive (gzip-compressed or not) below `dest`. With `strip_top_dir`, the first
/// path component of every entry is dropped (Helm charts are packed as `<chart>/…`).
pub(crate) fn extract_tar(
    bytes: &[u8],
    dest: &Path,
    strip_top_dir: bool,
) -> Result<(), ArchiveIssue> {
    let reader: Box<dyn Read> = if bytes.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::GzDecoder::new(bytes))
    } else {
        Box::new(bytes)
    };
    let mut archive = tar::Archive::new(reader);
    let writer = SafeWriter::new(dest);
    let entries = archive
        .entries()
        .map_err(|e| ArchiveIssue::Bad(e.to_string()))?;
    let mut count = 0usize;
    for entry in entries {
        let mut entry = entry.map_err(|e| ArchiveIssue::Bad(e.to_string()))?;
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        if Path::new(&name).is_absolute() {
            return Err(ArchiveIssue::Unsafe {
                entry: name,
                reason: "is an absolute path".into(),
            });
        }
        let rel = if strip_top_dir {
            let trimmed = name.trim_start_matches("./");
            match trimmed.split_once('/') {
                Some((_, rest)) => rest.to_string(),
                None => String::new(),
            }
        } else {
            name.clone()
        };
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                if rel.is_empty() {
                    continue;
                }
                let exec = entry
                    .header()
                    .mode()
                    .map(|m| m & 0o111 != 0)
                    .unwrap_or(false);
                writer.file(&rel, &mut entry, exec)?;
                count += 1;
            }
            tar::EntryType::Directory => writer.dir(&rel)?,
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(|e| ArchiveIssue::Bad(e.to_string()))?
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default();
                writer.symlink(&rel, &target)?;
            }
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => {}
            other => {
                return Err(ArchiveIssue::Unsafe {
                    entry: name,
                    reason: format!("has a forbidden type ({other:?})"),
                });
            }
        }
    }
    if count == 0 {
        return Err(ArchiveIssue::Bad("the archive contains no files".into()));
    }
    Ok(())
}

/// Packs the files below `dir` as a reproducible tar+gzip (sorted, zero timestamps and owners).
pub fn pack_tar_gz(dir: &Path) -> std::io::Result<Vec<u8>> {
    let mut files = Vec::new();
    crate::cache::walk(dir, &mut files)?;
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(gz);
    builder.mode(tar::HeaderMode::Deterministic);
    for (rel, kind) in files {
        let full = dir.join(&rel);
        let mut header = tar::Header::new_gnu();
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        match kind {
            crate::cache::EntryKind::Symlink(target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                header.set_mode(0o777);
                builder.append_link(&mut header, &rel, target)?;
            }
            crate::cache::EntryKind::File { exec } => {
                let data = std::fs::read(&full)?;
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(data.len() as u64);
                header.set_mode(if exec { 0o755 } else { 0o644 });
                builder.append_data(&mut header, &rel, data.as_slice())?;
            }
        }
    }
    builder.into_inner()?.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_mode(0o644);
            // Write the raw name so that unsafe names reach the extractor unchanged.
            let name = h.as_old_mut().name.as_mut();
            name[..path.len()].copy_from_slice(path.as_bytes());
            if *kind == tar::EntryType::Symlink {
                h.set_link_name(data).unwrap();
                h.set_size(0);
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            } else {
                h.set_size(data.len() as u64);
                h.set_cksum();
                b.append(&h, data.as_bytes()).unwrap();
            }
        }
        b.into_inner().unwrap()
    }

    fn issue(entries: &[(&str, tar::EntryType, &str)]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out");
        std::fs::create_dir(&dest).unwrap();
        match extract_tar(&tar_with(entries), &dest, false) {
            Err(ArchiveIssue::Unsafe { reason, .. }) => reason,
            Err(ArchiveIssue::Bad(b)) => format!("bad: {b}"),
            Ok(()) => "ok".into(),
        }
    }

    #[test]
    fn rejects_escapes() {
        use tar::EntryType::{Regular, Symlink};
        assert_eq!(issue(&[("../evil", Regular, "x")]), "contains `..`");
        assert_eq!(issue(&[("a/../../evil", Regular, "x")]), "contains `..`");
        assert_eq!(issue(&[("/etc/evil", Regular, "x")]), "is an absolute path");
        assert_eq!(
            issue(&[("link", Symlink, "../outside")]),
            "is a symlink pointing outside the tree"
        );
        assert_eq!(
            issue(&[("link", Symlink, "/etc")]),
            "is a symlink to an absolute path"
        );
        assert_eq!(
            issue(&[("d/l", Symlink, "."), ("d/l/f", Regular, "x")]),
            "would be written through a symlink"
        );
        assert_eq!(
            issue(&[("ok/file", Regular, "x"), ("ok/l", Symlink, "file")]),
            "ok"
        );
    }

    #[test]
    fn strips_the_chart_directory() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = tar_with(&[("chart/Chart.yaml", tar::EntryType::Regular, "name: c\n")]);
        extract_tar(&bytes, dir.path(), true).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("Chart.yaml")).unwrap(),
            "name: c\n"
        );
    }

    #[test]
    fn garbage_is_a_bad_archive() {
        let dir = tempfile::tempdir().unwrap();
        let r = extract_tar(&[0x1f, 0x8b, 1, 2, 3, 4], dir.path(), false);
        assert!(matches!(r, Err(ArchiveIssue::Bad(_))));
    }
}
