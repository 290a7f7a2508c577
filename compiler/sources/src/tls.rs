//! The TLS crypto provider every HTTPS client of this crate uses.
//!
//! reqwest, gix's HTTP transport and oci-client all build rustls clients from the process-wide
//! default provider. kiln installs ring as that provider instead of letting reqwest pull in
//! aws-lc-rs: aws-lc runs CPU feature detection in a static constructor at every process start
//! (also for `kiln kustomize`, which never opens a connection) and its C build dominates a cold
//! compile. ring detects CPU features on first use.

/// Installs ring as the process-wide rustls provider unless one is installed already.
pub(crate) fn install_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Losing a race with another installer leaves a provider in place, which is all we need.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
    });
}
