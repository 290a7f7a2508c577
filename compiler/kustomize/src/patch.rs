//! `patches`, `patchesStrategicMerge` and `patchesJson6902`: loading patches (inline or from
//! files), telling strategic-merge from JSON 6902 patches, choosing targets and applying them.

use serde_json::Value;

use crate::error::{KustomizeError, Result};
use crate::kustomization::{Patch, Selector};
use crate::resid::ResId;
use crate::resource::{ResMap, Resource};
use crate::selector::SelectorRegex;
use crate::smp;

/// A decoded patch: strategic-merge documents or one JSON 6902 operation list.
pub enum Loaded {
    Smp(Vec<Value>),
    Json(json_patch::Patch),
}

/// Decodes patch text: a YAML/JSON sequence is JSON 6902, mappings are strategic-merge patches.
pub fn decode(text: &str, origin: &str) -> Result<Loaded> {
    let docs =
        kiln_yaml::parse_documents_with(text, kiln_yaml::Resolution::Yaml12).map_err(|e| {
            KustomizeError::file(origin, format!("unable to parse SM or JSON patch: {e}"))
        })?;
    if docs.first().is_some_and(|d| d.value.is_array()) {
        return json_ops(text, docs, origin).map(Loaded::Json);
    }
    let mut out = Vec::new();
    for d in docs {
        if !d.value.is_object() {
            return Err(KustomizeError::file(
                origin,
                "unable to parse SM or JSON patch: a patch must be a mapping or a list of operations",
            ));
        }
        out.push(d.value);
    }
    Ok(Loaded::Smp(crate::target::expand_lists(out)?))
}

/// The operations of a JSON 6902 patch. Text in JSON form (`[...]`) must be a single list;
/// in YAML form kustomize converts only the first document and ignores any others.
fn json_ops(text: &str, docs: Vec<kiln_yaml::Document>, origin: &str) -> Result<json_patch::Patch> {
    if docs.len() > 1 && text.trim_start().starts_with('[') {
        return Err(KustomizeError::file(
            origin,
            "malformed JSON 6902 patch: a patch in JSON form must be a single list of operations",
        ));
    }
    let first = docs.into_iter().next().map(|d| d.value);
    serde_json::from_value(first.unwrap_or(Value::Array(Vec::new())))
        .map_err(|e| KustomizeError::file(origin, format!("malformed JSON 6902 patch: {e}")))
}

fn patch_id(p: &Value) -> ResId {
    let r = Resource::new(p.clone());
    r.cur_id()
}

/// The single resource whose any id equals the patch's id (kustomize's `GetById`).
fn find_by_id(m: &ResMap, id: &ResId, what: &str) -> Result<usize> {
    let found: Vec<usize> = m
        .resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.has_id(id))
        .map(|(i, _)| i)
        .collect();
    match found.as_slice() {
        [i] => Ok(*i),
        [] => Err(KustomizeError::build(format!(
            "no resource matches strategic merge patch \"{id}\"{what}"
        ))
        .with_help(
            "the patch's apiVersion, kind, name and namespace must name an object of the build",
        )),
        _ => Err(KustomizeError::build(format!(
            "multiple matches for Id {id}; failed to find unique target for patch{what}"
        ))),
    }
}

pub struct Options {
    pub allow_name_change: bool,
    pub allow_kind_change: bool,
}

/// Applies one strategic-merge patch to one resource (kustomize's `Resource.ApplySmPatch`).
/// Returns false when the patch deleted the resource.
pub fn apply_smp_to(res: &mut Resource, patch: &Value, opts: &Options) -> Result<bool> {
    let (name, ns, kind) = (
        res.name().to_string(),
        res.namespace().to_string(),
        res.kind().to_string(),
    );
    if opts.allow_name_change || opts.allow_kind_change {
        res.store_previous_id();
    }
    let mut p = patch.clone();
    if let Some(obj) = p.as_object_mut()
        && !res.api_version().is_empty()
    {
        obj.insert(
            "apiVersion".into(),
            Value::String(res.api_version().to_string()),
        );
    }
    let merged = smp::merge(&res.obj, &p)?;
    match merged {
        None => return Ok(false),
        Some(v) if v.as_object().is_none_or(|m| m.is_empty()) => return Ok(false),
        Some(v) => res.obj = v,
    }
    if !opts.allow_kind_change {
        res.obj["kind"] = Value::String(kind);
    }
    if !opts.allow_name_change {
        res.set_name(&name);
    }
    if ns.is_empty() {
        res.metadata_mut().shift_remove("namespace");
    } else {
        res.set_namespace(&ns);
    }
    Ok(true)
}

pub fn select(m: &ResMap, target: &Selector) -> Result<Vec<usize>> {
    let sr = SelectorRegex::new(target)?;
    Ok(m.resources
        .iter()
        .enumerate()
        .filter(|(_, r)| sr.matches(r))
        .map(|(i, _)| i)
        .collect())
}

/// Applies a JSON 6902 patch op by op. Like the json-patch v4 library kustomize uses, a
/// `replace` of a missing map key adds it.
fn apply_json(res: &mut Resource, p: &json_patch::Patch, origin: &str) -> Result<()> {
    res.store_previous_id();
    for op in &p.0 {
        let mut op = op.clone();
        if let json_patch::PatchOperation::Replace(r) = &op {
            let path = r.path.to_string();
            if res.obj.pointer(&path).is_none()
                && let Some((parent, _)) = path.rsplit_once('/')
                && res.obj.pointer(parent).is_some_and(Value::is_object)
            {
                op = json_patch::PatchOperation::Add(json_patch::AddOperation {
                    path: r.path.clone(),
                    value: r.value.clone(),
                });
            }
        }
        json_patch::patch(&mut res.obj, &json_patch::Patch(vec![op])).map_err(|e| {
            KustomizeError::build(format!(
                "failed to apply json patch '{origin}' to {}: {e}",
                res.cur_id()
            ))
        })?;
    }
    Ok(())
}

/// Applies patches to the selected indices, dropping resources a patch deletes.
fn apply_smp_selected(
    m: &mut ResMap,
    idx: &[usize],
    patches: &[Value],
    opts: &Options,
) -> Result<()> {
    let mut deleted = Vec::new();
    for &i in idx {
        for p in patches {
            if !apply_smp_to(&mut m.resources[i], p, opts)? {
                deleted.push(i);
                break;
            }
        }
    }
    if !deleted.is_empty() {
        let mut i = 0;
        m.resources.retain(|_| {
            let keep = !deleted.contains(&i);
            i += 1;
            keep
        });
    }
    Ok(())
}

/// One `patches:` entry (PatchTransformer).
pub fn apply_patch(
    m: &mut ResMap,
    text: &str,
    origin: &str,
    target: Option<&Selector>,
    options: Option<&indexmap::IndexMap<String, bool>>,
) -> Result<()> {
    let opt = |k: &str| options.and_then(|o| o.get(k)).copied().unwrap_or(false);
    let opts = Options {
        allow_name_change: opt("allowNameChange"),
        allow_kind_change: opt("allowKindChange"),
    };
    match decode(text, origin)? {
        Loaded::Smp(patches) => match target {
            None => {
                for p in &patches {
                    let i = find_by_id(m, &patch_id(p), "")?;
                    apply_smp_selected(m, &[i], std::slice::from_ref(p), &opts)?;
                }
                Ok(())
            }
            Some(t) => {
                let idx = select(m, t)?;
                apply_smp_selected(m, &idx, &patches, &opts)
            }
        },
        Loaded::Json(p) => {
            let Some(t) = target else {
                return Err(KustomizeError::build(format!(
                    "must specify a target for JSON patch {origin}"
                )));
            };
            for i in select(m, t)? {
                apply_json(&mut m.resources[i], &p, origin)?;
            }
            Ok(())
        }
    }
}

/// `patchesStrategicMerge`: each patch applies to the resource its own id names.
pub fn apply_strategic_merge(m: &mut ResMap, patches: &[(Value, String)]) -> Result<()> {
    let opts = Options {
        allow_name_change: false,
        allow_kind_change: false,
    };
    for (p, origin) in patches {
        let i = find_by_id(m, &patch_id(p), &format!(" (from {origin})"))?;
        apply_smp_selected(m, &[i], std::slice::from_ref(p), &opts)?;
    }
    Ok(())
}

/// Resolves a `patches:` entry to its text and a label for messages.
pub fn patch_text(ldr: &crate::loader::Loader, p: &Patch, kfile: &str) -> Result<(String, String)> {
    let inline = p.patch.as_deref().map(str::trim).unwrap_or("");
    let path = p.path.as_deref().unwrap_or("");
    match (inline.is_empty(), path.is_empty()) {
        (true, true) => Err(KustomizeError::field(
            kfile,
            "patches",
            "must specify one of patch and path",
        )),
        (false, false) => Err(KustomizeError::field(
            kfile,
            "patches",
            format!("patch and path can't be set at the same time (path: {path})"),
        )),
        (false, true) => Ok((inline.to_string(), "inline patch".into())),
        (true, false) => Ok((ldr.load_string(path)?, path.to_string())),
    }
}

/// One `patchesJson6902:` entry.
pub fn apply_json6902(m: &mut ResMap, text: &str, origin: &str, target: &Selector) -> Result<()> {
    let docs = kiln_yaml::parse_documents(text)
        .map_err(|e| KustomizeError::file(origin, format!("malformed JSON 6902 patch: {e}")))?;
    let p = if docs.is_empty() {
        json_patch::Patch(Vec::new())
    } else {
        json_ops(text, docs, origin)?
    };
    for i in select(m, target)? {
        apply_json(&mut m.resources[i], &p, origin)?;
    }
    Ok(())
}
