//! The bridge to strategic merge patch (crate kiln-smp), with the schema the build uses: the
//! built-in Kubernetes merge metadata, or the document a kustomization's `openapi:` names.
//!
//! kustomize keeps the schema in process-wide state that any kustomization of the tree can set;
//! kiln keeps it per build, on the building thread.

use std::cell::RefCell;
use std::rc::Rc;

use kiln_smp::Schema;
use serde_json::Value;

use crate::error::{KustomizeError, Result};

thread_local! {
    static CUSTOM: RefCell<Option<Rc<Schema>>> = const { RefCell::new(None) };
}

/// Resets the schema to the built-in one (start of a build).
pub fn reset() {
    CUSTOM.with(|c| *c.borrow_mut() = None);
}

/// Uses the given OpenAPI document as the merge schema from now on in this build.
pub fn set_openapi(doc: &Value, file: &str) -> Result<()> {
    let schema = Schema::with_openapi(doc)
        .map_err(|e| KustomizeError::file(file, format!("invalid OpenAPI schema: {e}")))?;
    CUSTOM.with(|c| *c.borrow_mut() = Some(Rc::new(schema)));
    Ok(())
}

/// Merges `patch` into `original`; `None` when the patch deletes the whole object.
pub fn merge(original: &Value, patch: &Value) -> Result<Option<Value>> {
    let custom = CUSTOM.with(|c| c.borrow().clone());
    let schema: &Schema = match &custom {
        Some(s) => s,
        None => Schema::builtin(),
    };
    kiln_smp::merge(original, patch, schema).map_err(|e| KustomizeError::build(e.to_string()))
}
