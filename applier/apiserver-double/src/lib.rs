//! A Kubernetes API server double that speaks the REST protocol over real HTTP, so the applier
//! can be tested without a cluster. Test support only: never linked into a shipped binary.
