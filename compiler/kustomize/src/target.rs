//! Building one kustomization: loading its file, accumulating resources from files, nested
//! kustomizations and components, running generators and transformers in kustomize's order.

use std::sync::Arc;

use serde_json::Value;

use crate::error::{KustomizeError, Result};
use crate::fieldspec::TransformerConfig;
use crate::kustomization::{FILE_NAMES, Kustomization, Var};
use crate::loader::{Loader, is_remote};
use crate::resource::{IdIndex, ResMap, Resource};
use crate::transform;

/// What a kustomization tree accumulates: resources, field specs and vars.
#[derive(Debug, Default, Clone)]
pub struct Accumulator {
    pub resmap: ResMap,
    /// The field specs in force: every kustomization of the tree merges its own (the
    /// defaults plus its `configurations:`, then its `crds:`) into this, starting from
    /// nothing, as kustomize's accumulator does. `None` until the first merge. Shared: most
    /// kustomizations of a tree hold the same configuration.
    pub config: Option<Arc<TransformerConfig>>,
    pub vars: Vec<Var>,
}

impl Accumulator {
    /// Adds another accumulator's resources, field specs and vars; `ids` indexes this
    /// accumulator's resources and is kept up to date.
    pub fn merge(&mut self, other: Accumulator, ids: &mut IdIndex) -> Result<()> {
        self.resmap.extend_indexed(other.resmap.resources, ids)?;
        if let Some(c) = &other.config {
            self.merge_config(c)?;
        }
        for v in other.vars {
            self.add_var(v)?;
        }
        Ok(())
    }

    /// kustomize's `MergeConfig`. Merging is not plain union: a spec already present that
    /// the incoming one selects (same path, more specific type) absorbs it, so a user
    /// configuration naming `metadata/name` for one kind hides the defaults' any-kind spec.
    pub fn merge_config(&mut self, incoming: &Arc<TransformerConfig>) -> Result<()> {
        let merged = match &self.config {
            Some(c) if Arc::ptr_eq(c, incoming) || c == incoming => return Ok(()),
            Some(c) => Arc::new(c.merge(incoming)?),
            // The defaults merged into nothing are the defaults (see the test
            // `the_defaults_merge_into_nothing_unchanged`).
            None if Arc::ptr_eq(incoming, builtin()) => builtin().clone(),
            None => Arc::new(TransformerConfig::default().merge(incoming)?),
        };
        self.config = Some(merged);
        Ok(())
    }

    /// The field specs in force (the defaults before any kustomization merged its own).
    pub fn transformer_config(&self) -> &Arc<TransformerConfig> {
        self.config.as_ref().unwrap_or_else(|| builtin())
    }

    pub fn add_var(&mut self, v: Var) -> Result<()> {
        if self.vars.iter().any(|x| x.name == v.name) {
            return Err(KustomizeError::build(format!(
                "var '{}' already encountered",
                v.name
            )));
        }
        self.vars.push(v);
        Ok(())
    }
}

/// The defaults, shared.
fn builtin() -> &'static Arc<TransformerConfig> {
    TransformerConfig::builtin_shared()
}

/// A loaded kustomization and where it lives.
pub struct Target {
    pub ldr: Loader,
    pub k: Kustomization,
    /// Path of the kustomization file, for messages.
    pub kfile: String,
    pub file_name: String,
    /// Relative path of this kustomization from the top one, for origin annotations.
    pub rel: String,
}

/// Parses a kustomization file: with kiln-yaml's decoder, or, for text it refuses (repeated
/// keys, which kustomization files written by kustomize's test harness have, or errors), as
/// [`parse_lenient`] does.
fn parse_kustomization(text: &str, file: &str) -> Result<Value> {
    match kiln_yaml::from_str(text) {
        Ok(value) => Ok(value),
        Err(_) => parse_lenient(text, file),
    }
}

/// Parses YAML text that may repeat keys, last value winning like Go's decoder.
fn parse_lenient(text: &str, file: &str) -> Result<Value> {
    let mut opts = serde_saphyr::Options::default();
    opts.legacy_octal_numbers = true;
    opts.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    serde_saphyr::from_str_with_options::<Value>(text, opts).map_err(|e| match e.location() {
        Some(loc) => KustomizeError::yaml(
            file,
            text,
            loc.line() as usize,
            loc.column() as usize,
            &format!("invalid Kustomization: {e}"),
        ),
        None => KustomizeError::file(file, format!("invalid Kustomization: {e}")),
    })
}

impl Target {
    pub fn load(ldr: Loader, rel: String) -> Result<Target> {
        let mut found = Vec::new();
        for name in FILE_NAMES {
            let p = ldr.root.join(name);
            if p.is_file() {
                found.push((name, p));
            }
        }
        let (file_name, path) = match found.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(KustomizeError::file(
                    &ldr.root,
                    "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory",
                ));
            }
            _ => {
                return Err(KustomizeError::file(
                    &ldr.root,
                    "found multiple kustomization files",
                ));
            }
        };
        let kfile = path.display().to_string();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| KustomizeError::file(&path, e.to_string()))?;
        let value = if text.trim().is_empty() {
            Value::Object(Default::default())
        } else {
            parse_kustomization(&text, &path.display().to_string())?
        };
        let value = match value {
            Value::Null => Value::Object(Default::default()),
            v @ Value::Object(_) => v,
            _ => {
                return Err(KustomizeError::file(
                    &path,
                    "invalid Kustomization: the file must hold a YAML mapping",
                ));
            }
        };
        let mut value = value;
        crate::decode::kustomization(&mut value);
        let k: Kustomization = serde_json::from_value(value)
            .map_err(|e| KustomizeError::file(&path, format!("invalid Kustomization: {e}")))?;
        let kind = k.kind.clone().unwrap_or_default();
        if !kind.is_empty() && kind != "Kustomization" && kind != "Component" {
            return Err(KustomizeError::field(
                &kfile,
                "kind",
                "kind should be Kustomization or Component",
            ));
        }
        let required = if kind == "Component" {
            "kustomize.config.k8s.io/v1alpha1"
        } else {
            "kustomize.config.k8s.io/v1beta1"
        };
        if let Some(av) = k.api_version.as_deref()
            && !av.is_empty()
            && av != required
        {
            return Err(KustomizeError::field(
                &kfile,
                "apiVersion",
                format!(
                    "apiVersion for {} should be {required}",
                    if kind.is_empty() {
                        "Kustomization"
                    } else {
                        &kind
                    }
                ),
            ));
        }
        if k.is_empty() {
            return Err(KustomizeError::file(&path, "kustomization.yaml is empty"));
        }
        for (field, used) in [
            ("commonLabels", k.common_labels.is_some()),
            ("patchesStrategicMerge", k.patches_strategic_merge.is_some()),
            ("patchesJson6902", k.patches_json6902.is_some()),
            ("vars", k.vars.is_some()),
            ("bases", k.bases.is_some()),
        ] {
            if used {
                eprintln!("# Warning: '{field}' is deprecated ({kfile}).");
            }
        }
        Ok(Target {
            ldr,
            k,
            kfile,
            file_name: file_name.to_string(),
            rel,
        })
    }

    pub fn join_rel(&self, path: &str) -> String {
        crate::origin::join(&self.rel, path)
    }

    /// Where this kustomization's own fields are configured, for origins.
    pub fn configured_in(&self) -> String {
        self.join_rel(&self.file_name)
    }

    /// kustomize's `accumulateTarget`.
    pub fn accumulate(&self, ra: &mut Accumulator, ctx: &Ctx) -> Result<()> {
        self.load_openapi()?;
        let mut resources: Vec<String> = self.k.resources.clone().unwrap_or_default();
        resources.extend(self.k.bases.clone().unwrap_or_default());
        // Nothing renames resources while they are read, so one id index serves every append.
        let mut ids = IdIndex::new(&ra.resmap.resources);
        for path in &resources {
            self.accumulate_resource(ra, &mut ids, path, ctx)?;
        }
        let mut user = Vec::new();
        for c in self.k.configurations.iter().flatten() {
            let text = self.ldr.load_string(c)?;
            let file = self.ldr.display(c).display().to_string();
            for d in parse_docs(&text, &file)? {
                user.push((d, file.clone()));
            }
        }
        let own =
            if user.is_empty() {
                builtin().clone()
            } else {
                let mut merged = TransformerConfig::default();
                for (d, file) in &user {
                    let tc = TransformerConfig::from_value(d)
                        .map_err(|e| KustomizeError::file(file, e.to_string()))?;
                    merged = merged
                        .merge(&tc)
                        .map_err(|e| KustomizeError::file(file, e.to_string()))?;
                }
                Arc::new(TransformerConfig::builtin().merge(&merged).map_err(|e| {
                    KustomizeError::field(&self.kfile, "configurations", e.to_string())
                })?)
            };
        ra.merge_config(&own)?;
        let mut crd_config = TransformerConfig::default();
        for c in self.k.crds.iter().flatten() {
            let text = self.ldr.load_string(c)?;
            let file = self.ldr.display(c).display().to_string();
            let defs = if text.starts_with('{') {
                serde_json::from_str(&text).map_err(|e| {
                    KustomizeError::file(&file, format!("unable to parse open API definition: {e}"))
                })?
            } else {
                parse_docs(&text, &file)?
                    .into_iter()
                    .next()
                    .unwrap_or(Value::Null)
            };
            let config = crate::crds::config_from_definitions(&defs)
                .and_then(|v| TransformerConfig::from_value(&v).map_err(|e| e.to_string()))
                .and_then(|tc| crd_config.merge(&tc).map_err(|e| e.to_string()))
                .map_err(|e| {
                    KustomizeError::file(&file, format!("unable to parse open API definition: {e}"))
                })?;
            crd_config = config;
        }
        if self.k.crds.as_ref().is_some_and(|c| !c.is_empty()) {
            ra.merge_config(&Arc::new(crd_config))?;
        }
        self.run_generators(ra, ctx)?;
        for path in self.k.components.iter().flatten() {
            let ldr = self
                .ldr
                .child(path)
                .map_err(|e| e.context(format!("{}: components", self.kfile)))?;
            let sub = Target::load(ldr, self.join_rel(path))?;
            if !sub.k.is_component() {
                return Err(KustomizeError::field(
                    &self.kfile,
                    "components",
                    format!(
                        "expected kind 'Component' for path '{path}' but got '{}'",
                        sub.k.kind.as_deref().unwrap_or("Kustomization")
                    ),
                ));
            }
            sub.accumulate(ra, ctx)?;
        }
        transform::run_builtin(self, ra, ctx)?;
        transform::run_external(self, ra, ctx)?;
        if let Some(vars) = &self.k.vars {
            transform::vars::bind(&mut ra.resmap, vars)?;
            for v in vars {
                ra.add_var(v.clone())?;
            }
        }
        Ok(())
    }

    /// `openapi: {path: ...}` switches the merge schema; `version:` names a built-in one. Only
    /// the first kustomization of the build to name one counts (see [`crate::smp::is_chosen`]).
    fn load_openapi(&self) -> Result<()> {
        let Some(o) = &self.k.openapi else {
            return Ok(());
        };
        let text = match o.get("path") {
            Some(p) => Some((p, self.ldr.load_string(p)?)),
            None => None,
        };
        if crate::smp::is_chosen() {
            return Ok(());
        }
        if text.is_some() && o.contains_key("version") {
            return Err(KustomizeError::field(
                &self.kfile,
                "openapi",
                "builtin version and custom schema provided, cannot use both",
            ));
        }
        if let Some((p, text)) = text {
            let file = self.ldr.display(p).display().to_string();
            let doc = if text.trim_start().starts_with('{') {
                serde_json::from_str(&text)
                    .map_err(|e| KustomizeError::file(&file, e.to_string()))?
            } else {
                kiln_yaml::from_str(&text)
                    .map_err(|e| KustomizeError::file(&file, e.to_string()))?
            };
            // kustomize parses its built-in schema as well (the custom one first, the built-in
            // definitions winning) once it has looked up the scope of a type it does not
            // know, which happens as soon as resources are read; only a schema named by the
            // top kustomization, set before any resource, stands alone.
            return crate::smp::set_openapi(&doc, &file, !self.rel.is_empty());
        }
        match o.get("version").map(String::as_str) {
            None | Some("") => Ok(()),
            Some("v1.21.2") => {
                crate::smp::choose_builtin();
                Ok(())
            }
            Some(v) => Err(KustomizeError::field(
                &self.kfile,
                "openapi",
                format!("the specified OpenAPI version is not built in: {v}"),
            )
            .with_help("kustomize v5.7.1 embeds only v1.21.2")),
        }
    }

    fn accumulate_resource(
        &self,
        ra: &mut Accumulator,
        ids: &mut IdIndex,
        path: &str,
        ctx: &Ctx,
    ) -> Result<()> {
        let remote = is_remote(path) && !self.ldr.root.join(path).exists();
        if remote && self.ldr.remote.is_none() {
            return Err(KustomizeError::field(
                &self.kfile,
                "resources",
                format!("remote resource '{path}' is not fetched by kiln"),
            )
            .with_help("declare the repository as a kiln source in the project file and refer to its files by path"));
        }
        let full = self.ldr.root.join(path);
        if remote || full.is_dir() {
            let ldr = self.ldr.child(path).map_err(|e| match e {
                KustomizeError::Build { message, help } => KustomizeError::Field {
                    file: self.kfile.clone().into(),
                    field: "resources".into(),
                    message,
                    help,
                },
                other => other,
            })?;
            let sub = Target::load(ldr, self.join_rel(path))?;
            if sub.k.is_component() {
                return Err(KustomizeError::field(
                    &self.kfile,
                    "resources",
                    format!("expected kind != 'Component' for path '{path}'"),
                )
                .with_help("list components under `components:`"));
            }
            let mut sub_ra = Accumulator::default();
            sub.accumulate(&mut sub_ra, ctx)?;
            return ra.merge(sub_ra, ids);
        }
        if !full.exists() {
            return Err(KustomizeError::field(
                &self.kfile,
                "resources",
                format!(
                    "accumulating resources: '{}' does not exist",
                    full.display()
                ),
            ));
        }
        let text = self.ldr.load_string(path)?;
        let origin = self.join_rel(path);
        let mut batch = Vec::new();
        for obj in parse_resources(&text, &self.ldr.display(path).display().to_string())? {
            let mut r = Resource::new(obj);
            if ctx.origin_annotations {
                r.origin = Some(crate::origin::from_path(&origin));
            }
            batch.push(r);
        }
        ra.resmap
            .extend_indexed(batch, ids)
            .map_err(|e| e.context(format!("{}: resources: '{path}'", self.kfile)))
    }

    fn run_generators(&self, ra: &mut Accumulator, ctx: &Ctx) -> Result<()> {
        let global = self.k.generator_options.as_ref();
        let mut generated = Vec::new();
        for (args, secret) in self
            .k
            .config_map_generator
            .iter()
            .flatten()
            .map(|a| (a, false))
            .chain(self.k.secret_generator.iter().flatten().map(|a| (a, true)))
        {
            let mut r = crate::generators::generate(&self.ldr, args, global, secret, &self.kfile)?;
            if ctx.origin_annotations {
                let kind = if secret {
                    "SecretGenerator"
                } else {
                    "ConfigMapGenerator"
                };
                r.origin = Some(crate::origin::builtin(&self.configured_in(), kind));
            }
            generated.push(r);
        }
        for r in generated {
            ra.resmap.absorb(r).map_err(|e| e.context(&self.kfile))?;
        }
        transform::run_external_generators(self, ra, ctx)
    }
}

/// Options shared by the whole build.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// Track where each object came from (file or generator).
    pub origin_annotations: bool,
    /// Record every transformer that runs over each object (`buildMetadata:
    /// [transformerAnnotations]`).
    pub transformer_annotations: bool,
}

/// Parses a multi-document YAML stream of plain documents, resolving scalars as YAML 1.2 (as
/// kustomize's kyaml does: `on`, `yes`, `y` stay strings).
pub fn parse_docs(text: &str, file: &str) -> Result<Vec<Value>> {
    let docs = kiln_yaml::parse_documents_with(text, kiln_yaml::Resolution::Yaml12).map_err(
        |e| match e.line {
            Some(l) => KustomizeError::yaml(file, text, l, e.column.unwrap_or(1), &e.message),
            None => KustomizeError::file(file, e.message.clone()),
        },
    )?;
    Ok(docs.into_iter().map(|d| d.value).collect())
}

/// Expands `kind: *List` documents of a stream into their items, as kustomize does: items go to
/// the end of the stream (and are expanded again if they are lists themselves), a `*List`
/// without an `items` field is an ordinary object, and `items: null` is an empty list.
pub fn expand_lists(docs: Vec<Value>) -> Result<Vec<Value>> {
    let mut queue = std::collections::VecDeque::from(docs);
    let mut out = Vec::new();
    while let Some(v) = queue.pop_front() {
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        if !kind.ends_with("List") {
            out.push(v);
            continue;
        }
        match v.get("items") {
            None => out.push(v),
            Some(Value::Null) => {}
            Some(Value::Array(items)) => queue.extend(items.iter().cloned()),
            Some(_) => {
                return Err(KustomizeError::build(format!(
                    "expected array in {kind}/items"
                )));
            }
        }
    }
    Ok(out)
}

/// Parses a resource file into objects, expanding lists and checking basic shape.
pub fn parse_resources(text: &str, file: &str) -> Result<Vec<Value>> {
    let mut docs = Vec::new();
    for d in parse_docs(text, file)? {
        if !d.is_object() {
            return Err(KustomizeError::file(
                file,
                "a resource document must be a YAML mapping",
            ));
        }
        if d.as_object().is_some_and(|m| m.is_empty()) {
            continue;
        }
        docs.push(d);
    }
    let out = expand_lists(docs)?;
    for obj in &out {
        if obj
            .get("kind")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(KustomizeError::file(file, "missing kind in object"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`Accumulator::merge_config`] takes the defaults as they are instead of merging them
    /// into an empty configuration: the merge (deduplication, sorting) must leave them so.
    #[test]
    fn the_defaults_merge_into_nothing_unchanged() {
        let merged = TransformerConfig::default().merge(builtin()).unwrap();
        assert_eq!(&merged, &**builtin());
        assert_eq!(&merged.merge(builtin()).unwrap(), &**builtin());
    }

    #[test]
    fn kustomizations_without_configurations_share_one_configuration() {
        let mut a = Accumulator::default();
        a.merge_config(builtin()).unwrap();
        let mut b = Accumulator::default();
        b.merge_config(builtin()).unwrap();
        let mut ids = IdIndex::new(&[]);
        a.merge(b, &mut ids).unwrap();
        a.merge_config(builtin()).unwrap();
        assert!(Arc::ptr_eq(a.transformer_config(), builtin()));
    }

    #[test]
    fn a_user_configuration_adds_to_the_defaults() {
        let user = TransformerConfig::from_value(&serde_json::json!({
            "namePrefix": [{"kind": "Widget", "path": "spec/target"}]
        }))
        .unwrap();
        let mut a = Accumulator::default();
        a.merge_config(builtin()).unwrap();
        a.merge_config(&Arc::new(user)).unwrap();
        let specs = &a.transformer_config().name_prefix;
        assert!(specs.iter().any(|s| s.path == "spec/target"));
        assert!(specs.iter().any(|s| s.path == "metadata/name"));
    }
}
