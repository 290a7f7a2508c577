//! The bundle store: every bundle the applier applied, kept by digest in a directory, so that
//! rollback and drift can reopen exactly what was applied (and verify it again on the way).

use crate::error::ApplyError;
use kiln_bundle::{Bundle, Digest};
use std::path::{Path, PathBuf};

fn entry(dir: &Path, digest: &str) -> PathBuf {
    dir.join(digest.replace(':', "-"))
}

/// Copies a bundle into the store (a no-op when it is there already).
pub fn keep(dir: &Path, bundle: &Bundle) -> Result<(), ApplyError> {
    let io = |message: String| move |source| ApplyError::Io { message, source };
    let digest = bundle.digest().to_string();
    let dest = entry(dir, &digest);
    let tar_dest = dest.with_extension("tar");
    if dest.exists() || tar_dest.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)
        .map_err(io(format!("cannot create the store {}", dir.display())))?;
    let src = bundle.path();
    if src.is_dir() {
        let tmp = dir.join(format!(".tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        copy_dir(src, &tmp).map_err(io(format!("cannot copy {} into the store", src.display())))?;
        std::fs::rename(&tmp, &dest).map_err(io(format!("cannot store {}", dest.display())))?;
    } else {
        let tmp = dir.join(format!(".tmp-{}.tar", std::process::id()));
        std::fs::copy(src, &tmp)
            .map_err(io(format!("cannot copy {} into the store", src.display())))?;
        std::fs::rename(&tmp, &tar_dest)
            .map_err(io(format!("cannot store {}", tar_dest.display())))?;
    }
    Ok(())
}

fn copy_dir(src: &Path, dest: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dest)?;
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let to = dest.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &to)?;
        } else {
            std::fs::copy(e.path(), to)?;
        }
    }
    Ok(())
}

/// Opens (and verifies) the stored bundle with this digest.
pub fn open(dir: &Path, digest: &str) -> Result<Bundle, ApplyError> {
    let not_stored = || ApplyError::NotStored {
        digest: digest.into(),
        store: dir.display().to_string(),
    };
    let expected: Digest = digest.parse().map_err(|_| not_stored())?;
    let dest = entry(dir, digest);
    let path = if dest.exists() {
        dest
    } else {
        dest.with_extension("tar")
    };
    if !path.exists() {
        return Err(not_stored());
    }
    Bundle::open_expecting(&path, expected).map_err(|source| ApplyError::Bundle {
        path: path.display().to_string(),
        source,
    })
}
