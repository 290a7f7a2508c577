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
    /// `None` until some kustomization of the build names a schema; then `Some(None)` for the
    /// built-in one or `Some(Some(_))` for a custom document.
    static CHOSEN: RefCell<Option<Option<Rc<Schema>>>> = const { RefCell::new(None) };
}

/// Resets the schema to the built-in one, not chosen yet (start of a build).
pub fn reset() {
    CHOSEN.with(|c| *c.borrow_mut() = None);
}

/// Whether a kustomization already chose the schema. As in kustomize, the first kustomization
/// of the build (the top one, then its resources and components depth first) to name a schema
/// decides it for the whole build.
pub fn is_chosen() -> bool {
    CHOSEN.with(|c| c.borrow().is_some())
}

/// Uses the built-in Kubernetes schema (`openapi: {version: v1.21.2}`) from now on.
pub fn choose_builtin() {
    CHOSEN.with(|c| *c.borrow_mut() = Some(None));
}

/// Uses the given OpenAPI document as the merge schema from now on in this build, alone or
/// together with the built-in definitions.
pub fn set_openapi(doc: &Value, file: &str, with_builtin: bool) -> Result<()> {
    let schema = if with_builtin {
        Schema::with_openapi_and_builtin(doc)
    } else {
        Schema::with_openapi(doc)
    }
    .map_err(|e| KustomizeError::file(file, format!("invalid OpenAPI schema: {e}")))?;
    CHOSEN.with(|c| *c.borrow_mut() = Some(Some(Rc::new(schema))));
    Ok(())
}

/// Merges `patch` into `original`; `None` when the patch deletes the whole object.
pub fn merge(original: &Value, patch: &Value) -> Result<Option<Value>> {
    let custom = CHOSEN.with(|c| c.borrow().clone().flatten());
    let schema: &Schema = match &custom {
        Some(s) => s,
        None => Schema::builtin(),
    };
    kiln_smp::merge(original, patch, schema).map_err(|e| KustomizeError::build(e.to_string()))
}
