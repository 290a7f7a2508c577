//! A Go `text/template` engine, faithful to Go's documented behaviour, for rendering Helm charts.
//!
//! Written by hand: no maintained Rust crate reproduces Go's semantics (sorted map ranges,
//! break/continue, Go's fmt formatting and comparison rules) closely enough for object-for-object
//! equality with `helm template`.
