//! The kiln applier: verifies a bundle and converges a cluster to it.
