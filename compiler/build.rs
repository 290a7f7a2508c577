//! Links the `kiln` executable as a position-dependent (non-PIE) binary on Linux.
//!
//! `kiln kustomize` and `kiln helm template` are run once per overlay or chart by scripts and CI, so
//! process start is part of every render. As a PIE, the 200 MB binary carries ~64,000 relative
//! relocations that the dynamic loader applies at every start, copying ~290 pages of `.data.rel.ro`;
//! that was 0.6 ms of a 2.9 ms small overlay. A non-PIE binary has its addresses fixed at link time.
//! The Go tools kiln replaces (`kubectl`, `helm`) are linked the same way. The test binaries and
//! `kiln-applier`, a long-running agent, keep the default.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bin=kiln=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
