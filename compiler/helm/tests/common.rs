//! Shared helpers for kiln-helm's integration tests: locating fixtures and the reference `helm`.

use std::path::PathBuf;

/// `fixtures/helm` in the repository.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/helm")
}

#[allow(dead_code)] // not every test binary compares with helm
/// The reference `helm` binary (`$KILN_ORACLES/helm`, else `~/.cache/kiln-oracles/helm`).
pub fn helm() -> Option<PathBuf> {
    let dir = std::env::var_os("KILN_ORACLES")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kiln-oracles"))
        })?;
    let bin = dir.join("helm");
    bin.exists().then_some(bin)
}
