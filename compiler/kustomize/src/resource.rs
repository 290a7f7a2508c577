//! Resources and the resource map: each object with the bookkeeping kustomize keeps beside it
//! (previous ids for name-reference fixing, prefixes/suffixes applied, generator behaviour).

use serde_json::{Map, Value};

use crate::error::{KustomizeError, Result};
use crate::resid::{Gvk, ResId};

/// kustomize's stand-in namespace for cluster-scoped ids.
pub const NOT_A_NAMESPACE: &str = "_non_namespaceable_";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Behavior {
    #[default]
    Unspecified,
    Create,
    Merge,
    Replace,
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub obj: Value,
    /// Ids the resource had before renames, oldest first (namespaces are effective namespaces).
    pub prev_ids: Vec<ResId>,
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
    pub behavior: Behavior,
    pub needs_hash: bool,
    /// Where the object came from (file path relative to the top kustomization, or the
    /// generator that made it), see [`crate::origin`].
    pub origin: Option<Value>,
    /// Origins of the transformers that ran over the object, when the build records them.
    pub transformations: Vec<Value>,
    /// Vars that refer to this resource (legacy `vars`).
    pub ref_var_names: Vec<String>,
}

pub fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

impl Resource {
    pub fn new(obj: Value) -> Self {
        Resource {
            obj,
            prev_ids: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            behavior: Behavior::Unspecified,
            needs_hash: false,
            origin: None,
            transformations: Vec::new(),
            ref_var_names: Vec::new(),
        }
    }

    pub fn kind(&self) -> &str {
        str_at(&self.obj, &["kind"]).unwrap_or("")
    }

    pub fn api_version(&self) -> &str {
        str_at(&self.obj, &["apiVersion"]).unwrap_or("")
    }

    pub fn gvk(&self) -> Gvk {
        Gvk::from_api_version(self.api_version(), self.kind())
    }

    pub fn name(&self) -> &str {
        str_at(&self.obj, &["metadata", "name"]).unwrap_or("")
    }

    pub fn namespace(&self) -> &str {
        str_at(&self.obj, &["metadata", "namespace"]).unwrap_or("")
    }

    pub fn cur_id(&self) -> ResId {
        ResId {
            gvk: self.gvk(),
            name: self.name().to_string(),
            namespace: self.namespace().to_string(),
        }
    }

    pub fn org_id(&self) -> ResId {
        self.prev_ids
            .first()
            .cloned()
            .unwrap_or_else(|| self.cur_id())
    }

    /// Whether the resource has, or once had, an id equal to `id` (what
    /// `all_ids().iter().any(|x| x.equals(id))` says, without building the ids).
    pub fn has_id(&self, id: &ResId) -> bool {
        self.prev_ids
            .iter()
            .any(|x| x.name == id.name && x.equals(id))
            || (self.name() == id.name && self.kind() == id.gvk.kind && self.cur_id().equals(id))
    }

    /// Every id the resource has had, current one last.
    pub fn all_ids(&self) -> Vec<ResId> {
        let mut ids = self.prev_ids.clone();
        ids.push(self.cur_id());
        ids
    }

    pub fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        let obj = self.obj.as_object_mut().expect("resources are mappings");
        let md = obj
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if !md.is_object() {
            *md = Value::Object(Map::new());
        }
        md.as_object_mut().expect("metadata is a mapping")
    }

    pub fn set_name(&mut self, name: &str) {
        self.metadata_mut()
            .insert("name".into(), Value::String(name.into()));
    }

    pub fn set_namespace(&mut self, ns: &str) {
        self.metadata_mut()
            .insert("namespace".into(), Value::String(ns.into()));
    }

    /// Records the current id before a rename (kustomize's `StorePreviousId`).
    pub fn store_previous_id(&mut self) {
        let cur = self.cur_id();
        let ns = if cur.gvk.is_cluster_scoped() {
            NOT_A_NAMESPACE.to_string()
        } else {
            cur.effective_namespace().to_string()
        };
        self.prev_ids.push(ResId {
            namespace: ns,
            ..cur
        });
    }

    pub fn string_map(&self, field: &str) -> Vec<(String, String)> {
        match self.obj.get("metadata").and_then(|m| m.get(field)) {
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| (k.clone(), value_as_string(v)))
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn labels(&self) -> Vec<(String, String)> {
        self.string_map("labels")
    }

    pub fn annotations(&self) -> Vec<(String, String)> {
        self.string_map("annotations")
    }

    pub fn annotation(&self, key: &str) -> Option<String> {
        self.obj
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(key))
            .map(value_as_string)
    }

    pub fn set_annotation(&mut self, key: &str, value: &str) {
        let md = self.metadata_mut();
        let ann = md
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if !ann.is_object() {
            *ann = Value::Object(Map::new());
        }
        ann.as_object_mut()
            .expect("annotations map")
            .insert(key.into(), Value::String(value.into()));
    }

    pub fn remove_annotation(&mut self, key: &str) {
        let md = self.metadata_mut();
        if let Some(Value::Object(a)) = md.get_mut("annotations") {
            a.shift_remove(key);
            if a.is_empty() {
                md.shift_remove("annotations");
            }
        }
    }

    /// kustomize's `PrefixesSuffixesEquals`.
    pub fn prefixes_suffixes_equal(&self, other: &Resource, allow_empty: bool) -> bool {
        let p = same_ending(&self.prefixes, &other.prefixes);
        let s = same_ending(&self.suffixes, &other.suffixes);
        if allow_empty {
            (self.prefixes.is_empty() || other.prefixes.is_empty() || p)
                && (self.suffixes.is_empty() || other.suffixes.is_empty() || s)
        } else {
            p && s
        }
    }
}

/// kustomize's `SameEndingSubSlice`: the shorter slice ends the longer one; an empty slice only
/// matches another empty one.
pub fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return long.is_empty();
    }
    long[long.len() - short.len()..] == *short
}

pub fn value_as_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Hash of the parts of a resource's id that [`ResId::equals`] compares exactly (group,
/// version, kind, name; namespaces compare by effective namespace and are checked on a hit):
/// resources with equal ids have equal hashes.
pub fn id_hash(r: &Resource) -> u64 {
    use std::hash::{Hash, Hasher};
    let api_version = r.api_version();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (group, version, r.kind(), r.name()).hash(&mut h);
    h.finish()
}

/// Positions of resources by [`id_hash`], to find resources with an equal id without a scan.
pub struct IdIndex {
    by_hash: std::collections::HashMap<u64, Vec<usize>>,
}

impl IdIndex {
    pub fn new(resources: &[Resource]) -> IdIndex {
        let mut index = IdIndex {
            by_hash: std::collections::HashMap::with_capacity(resources.len()),
        };
        for (i, r) in resources.iter().enumerate() {
            index.insert(id_hash(r), i);
        }
        index
    }

    pub fn insert(&mut self, hash: u64, position: usize) {
        self.by_hash.entry(hash).or_default().push(position);
    }

    pub fn remove(&mut self, hash: u64, position: usize) {
        if let Some(positions) = self.by_hash.get_mut(&hash) {
            positions.retain(|p| *p != position);
        }
    }

    /// Positions of the resources whose id equals `res`'s (`hash` is `id_hash(res)`).
    pub fn equal_positions(&self, resources: &[Resource], hash: u64, res: &Resource) -> Vec<usize> {
        let Some(positions) = self.by_hash.get(&hash) else {
            return Vec::new();
        };
        let id = res.cur_id();
        positions
            .iter()
            .copied()
            .filter(|p| resources[*p].cur_id().equals(&id))
            .collect()
    }

    /// The id of `res` when a resource with an equal id is indexed.
    fn find_equal(&self, resources: &[Resource], hash: u64, res: &Resource) -> Option<ResId> {
        let positions = self.by_hash.get(&hash)?;
        let id = res.cur_id();
        positions
            .iter()
            .any(|p| resources[*p].cur_id().equals(&id))
            .then_some(id)
    }
}

/// The ordered collection of resources being built.
#[derive(Debug, Clone, Default)]
pub struct ResMap {
    pub resources: Vec<Resource>,
}

impl ResMap {
    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// Adds a resource, refusing one whose current id is already present.
    pub fn append(&mut self, res: Resource) -> Result<()> {
        let id = res.cur_id();
        if self.resources.iter().any(|r| r.cur_id().equals(&id)) {
            return Err(KustomizeError::build(format!(
                "may not add resource with an already registered id: {id}"
            )));
        }
        self.resources.push(res);
        Ok(())
    }

    pub fn append_all(&mut self, other: ResMap) -> Result<()> {
        self.extend_checked(other.resources)
    }

    /// Appends resources one by one, rejecting the first whose id is already registered, as
    /// [`ResMap::append`] does, but through a hash index so that it is linear in size.
    pub fn extend_checked(&mut self, incoming: impl IntoIterator<Item = Resource>) -> Result<()> {
        let mut index = IdIndex::new(&self.resources);
        self.extend_indexed(incoming, &mut index)
    }

    /// [`ResMap::extend_checked`] with an index of this map's resources that the caller keeps
    /// (valid as long as no resource of the map changes its id in between).
    pub fn extend_indexed(
        &mut self,
        incoming: impl IntoIterator<Item = Resource>,
        index: &mut IdIndex,
    ) -> Result<()> {
        for res in incoming {
            let hash = id_hash(&res);
            if let Some(id) = index.find_equal(&self.resources, hash, &res) {
                return Err(KustomizeError::build(format!(
                    "may not add resource with an already registered id: {id}"
                )));
            }
            index.insert(hash, self.resources.len());
            self.resources.push(res);
        }
        Ok(())
    }

    /// Adds generated resources honouring their behaviour (create, merge, replace).
    pub fn absorb(&mut self, res: Resource) -> Result<()> {
        let id = res.cur_id();
        let matches: Vec<usize> = self
            .resources
            .iter()
            .enumerate()
            .filter(|(_, r)| r.has_id(&id))
            .map(|(i, _)| i)
            .collect();
        match matches.as_slice() {
            [] => match res.behavior {
                Behavior::Merge | Behavior::Replace => Err(KustomizeError::build(format!(
                    "id {id} does not exist; cannot merge or replace"
                ))
                .with_help("use behavior: create, or add the object in a base first")),
                _ => self.append(res),
            },
            [i] => {
                let old = self.resources[*i].clone();
                let mut res = res;
                match res.behavior {
                    Behavior::Replace => copy_merge_metadata(&mut res, &old),
                    Behavior::Merge => {
                        copy_merge_metadata(&mut res, &old);
                        for field in ["data", "binaryData"] {
                            merge_data_map(&mut res.obj, &old.obj, field);
                        }
                        if old.origin.is_some() {
                            res.origin = old.origin.clone();
                        }
                    }
                    _ => {
                        return Err(KustomizeError::build(format!(
                            "id {id} exists; behavior must be merge or replace"
                        )));
                    }
                }
                self.resources[*i] = res;
                Ok(())
            }
            _ => Err(KustomizeError::build(format!(
                "found multiple objects that could accept merge of {id}"
            ))),
        }
    }
}

fn merged_string_map(old: &Value, new: &Value, field: &str) -> Option<Value> {
    let o = old
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_object);
    let n = new
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_object);
    if o.is_none() && n.is_none() {
        return None;
    }
    let mut out = o.cloned().unwrap_or_default();
    if let Some(n) = n {
        for (k, v) in n {
            out.insert(k.clone(), v.clone());
        }
    }
    Some(Value::Object(out))
}

fn copy_merge_metadata(res: &mut Resource, old: &Resource) {
    for field in ["labels", "annotations"] {
        if let Some(m) = merged_string_map(&old.obj, &res.obj, field) {
            res.metadata_mut().insert(field.into(), m);
        }
    }
    res.set_name(old.name());
    let ns = old.namespace().to_string();
    if ns.is_empty() {
        res.metadata_mut().shift_remove("namespace");
    } else {
        res.set_namespace(&ns);
    }
    res.prev_ids = old.prev_ids.clone();
    res.prefixes = old.prefixes.clone();
    res.suffixes = old.suffixes.clone();
    // kustomize keeps the build annotations of the old object, then drops the hash marker
    // unless the new one asks for a hash too.
    res.needs_hash = old.needs_hash && res.needs_hash;
    res.ref_var_names = old.ref_var_names.clone();
    res.transformations = old.transformations.clone();
}

fn merge_data_map(new: &mut Value, old: &Value, field: &str) {
    let Some(o) = old.get(field).and_then(Value::as_object) else {
        return;
    };
    let mut merged = o.clone();
    if let Some(n) = new.get(field).and_then(Value::as_object) {
        for (k, v) in n {
            merged.insert(k.clone(), v.clone());
        }
    }
    if let Some(obj) = new.as_object_mut() {
        obj.insert(field.into(), Value::Object(merged));
    }
}
