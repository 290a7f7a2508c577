//! Sources (Git, Helm repositories, OCI registries), their resolution into `kiln.lock`, and the
//! content-addressed cache that holds what was fetched.
