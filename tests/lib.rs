//! End-to-end tests for kiln live in `tests/*.rs` of this package; they drive the built binaries
//! against real servers on loopback. This library holds helpers they share.
