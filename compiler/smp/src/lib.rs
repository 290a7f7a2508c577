//! Kubernetes strategic merge patch, driven by OpenAPI merge metadata shipped as data.
//!
//! Written by hand: no Rust crate implements strategic merge patch.
