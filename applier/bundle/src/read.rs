//! Reading the files of a bundle from a directory or a tar file, refusing anything that could
//! escape or confuse the bundle: symlinks, devices, absolute or `..` paths, non-UTF-8 names,
//! duplicate entries, truncated archives.
//!
//! The result is a sorted map of path to bytes that [`crate::verify`] checks; nothing here trusts
//! the content.

use crate::error::BundleError;
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Every file of a bundle by `/`-separated relative path, plus entries that are not plain files.
#[derive(Debug, Default)]
pub struct RawBundle {
    pub files: BTreeMap<String, Vec<u8>>,
    /// Entries that cannot be part of a bundle (symlinks, devices, bad names), with the reason.
    pub rejected: Vec<(String, String)>,
}

/// Reads a bundle directory or tar file.
pub fn read(path: &Path) -> Result<RawBundle, BundleError> {
    let meta = fs::metadata(path).map_err(|e| BundleError::io("open", path, e))?;
    if meta.is_dir() {
        let mut raw = RawBundle::default();
        let mut files = Vec::new();
        walk(path, "", &mut files, &mut raw.rejected)?;
        let contents = crate::par::map(&files, |(_, full)| {
            fs::read(full).map_err(|e| BundleError::io("read", full, e))
        });
        for ((rel, _), bytes) in files.into_iter().zip(contents) {
            raw.files.insert(rel, bytes?);
        }
        Ok(raw)
    } else {
        let file = fs::File::open(path).map_err(|e| BundleError::io("open", path, e))?;
        read_tar(file).map_err(|reason| BundleError::Unreadable {
            path: path.to_path_buf(),
            reason,
        })
    }
}

/// Lists the regular files under `dir` as (relative path, full path); anything else is rejected.
fn walk(
    dir: &Path,
    prefix: &str,
    files: &mut Vec<(String, PathBuf)>,
    rejected: &mut Vec<(String, String)>,
) -> Result<(), BundleError> {
    let entries = fs::read_dir(dir).map_err(|e| BundleError::io("read directory", dir, e))?;
    let mut entries: Vec<_> = entries
        .collect::<Result<_, _>>()
        .map_err(|e| BundleError::io("read directory", dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let os_name = entry.file_name();
        let Some(name) = os_name.to_str() else {
            rejected.push((
                format!("{prefix}{}", os_name.to_string_lossy()),
                "file name is not UTF-8".into(),
            ));
            continue;
        };
        let rel = format!("{prefix}{name}");
        let path = entry.path();
        let file_type = entry
            .file_type()
            .map_err(|e| BundleError::io("inspect", &path, e))?;
        if file_type.is_dir() {
            walk(&path, &format!("{rel}/"), files, rejected)?;
        } else if file_type.is_file() {
            files.push((rel, path));
        } else {
            rejected.push((rel, "not a regular file (symlink or special file)".into()));
        }
    }
    Ok(())
}

/// Reads a tar archive; an `Err` means the archive itself is unreadable (truncated, corrupt).
pub fn read_tar(reader: impl Read) -> Result<RawBundle, String> {
    let mut archive = tar::Archive::new(reader);
    let mut raw = RawBundle::default();
    let entries = archive.entries().map_err(|e| e.to_string())?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("corrupt tar archive: {e}"))?;
        let name = match std::str::from_utf8(&entry.path_bytes()) {
            Ok(name) => name.to_string(),
            Err(_) => {
                let lossy = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                raw.rejected.push((lossy, "entry name is not UTF-8".into()));
                continue;
            }
        };
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            if let Err(reason) = check_path(name.trim_end_matches('/')) {
                raw.rejected.push((name, reason));
            }
            continue;
        }
        if !matches!(kind, tar::EntryType::Regular | tar::EntryType::Continuous) {
            raw.rejected
                .push((name, "not a regular file (link or special entry)".into()));
            continue;
        }
        if let Err(reason) = check_path(&name) {
            raw.rejected.push((name, reason));
            continue;
        }
        let mut bytes = Vec::with_capacity(entry.size().min(1 << 24) as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| format!("truncated or corrupt tar entry `{name}`: {e}"))?;
        if raw.files.insert(name.clone(), bytes).is_some() {
            raw.rejected
                .push((name, "appears more than once in the archive".into()));
        }
    }
    Ok(raw)
}

/// A bundle path is relative, `/`-separated, with no empty, `.` or `..` segments.
fn check_path(name: &str) -> Result<(), String> {
    let b = name.as_bytes();
    let drive = b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':';
    if name.starts_with('/') || name.contains('\\') || drive {
        return Err("absolute path".into());
    }
    if name
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err("path with an empty, `.` or `..` segment".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(name: &[u8], kind: tar::EntryType, data: &[u8]) -> Vec<u8> {
        let mut header = tar::Header::new_old();
        {
            let old = header.as_old_mut();
            old.name[..name.len()].copy_from_slice(name);
        }
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        let mut bytes = header.as_bytes().to_vec();
        bytes.extend_from_slice(data);
        bytes.resize(bytes.len().div_ceil(512) * 512 + 1024, 0);
        bytes
    }

    #[test]
    fn escaping_paths_are_rejected() {
        for name in [&b"../evil"[..], b"/etc/passwd", b"a/../../b", b"a//b"] {
            let raw = read_tar(&tar_with(name, tar::EntryType::Regular, b"x")[..]).unwrap();
            assert!(raw.files.is_empty(), "{name:?}");
            assert_eq!(raw.rejected.len(), 1);
        }
    }

    #[test]
    fn links_and_non_utf8_names_are_rejected() {
        let raw = read_tar(&tar_with(b"link", tar::EntryType::Symlink, b"")[..]).unwrap();
        assert_eq!(raw.rejected[0].0, "link");
        let raw = read_tar(&tar_with(b"a\xff", tar::EntryType::Regular, b"x")[..]).unwrap();
        assert_eq!(raw.rejected[0].1, "entry name is not UTF-8");
    }

    #[test]
    fn truncated_archive_is_an_error() {
        let bytes = tar_with(b"bundle.json", tar::EntryType::Regular, &[b'x'; 2000]);
        assert!(read_tar(&bytes[..700]).is_err());
    }
}
