//! Building one kustomization: loading its file, accumulating resources from files, nested
//! kustomizations and components, running generators and transformers in kustomize's order.

use serde_json::Value;

use crate::error::{KustomizeError, Result};
use crate::kustomization::{FILE_NAMES, Kustomization, Var};
use crate::loader::{Loader, is_remote};
use crate::resource::{ResMap, Resource};
use crate::transform;

/// What a kustomization tree accumulates: resources, custom field specs and vars.
#[derive(Debug, Default, Clone)]
pub struct Accumulator {
    pub resmap: ResMap,
    /// `configurations:` and `crds:` field-spec documents, merged into the defaults.
    pub configs: Vec<Value>,
    pub vars: Vec<Var>,
}

impl Accumulator {
    pub fn merge(&mut self, other: Accumulator) -> Result<()> {
        self.resmap.append_all(other.resmap)?;
        self.configs.extend(other.configs);
        for v in other.vars {
            self.add_var(v)?;
        }
        Ok(())
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

/// Parses YAML text that may repeat keys (kustomization files written by kustomize's test
/// harness do), last value winning like Go's decoder.
fn parse_lenient(text: &str) -> std::result::Result<Value, String> {
    let mut opts = serde_saphyr::Options::default();
    opts.legacy_octal_numbers = true;
    opts.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    serde_saphyr::from_str_with_options::<Value>(text, opts).map_err(|e| e.to_string())
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
            parse_lenient(&text)
                .map_err(|e| KustomizeError::file(&path, format!("invalid Kustomization: {e}")))?
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

    fn join_rel(&self, path: &str) -> String {
        if self.rel.is_empty() {
            path.to_string()
        } else {
            format!("{}/{}", self.rel, path)
        }
    }

    /// kustomize's `accumulateTarget`.
    pub fn accumulate(&self, ra: &mut Accumulator, ctx: &Ctx) -> Result<()> {
        self.load_openapi()?;
        let mut resources: Vec<String> = self.k.resources.clone().unwrap_or_default();
        resources.extend(self.k.bases.clone().unwrap_or_default());
        for path in &resources {
            self.accumulate_resource(ra, path, ctx)?;
        }
        for c in self.k.configurations.iter().flatten() {
            let text = self.ldr.load_string(c)?;
            for d in parse_docs(&text, &self.ldr.display(c).display().to_string())? {
                ra.configs.push(d);
            }
        }
        for c in self.k.crds.iter().flatten() {
            let text = self.ldr.load_string(c)?;
            for d in parse_docs(&text, &self.ldr.display(c).display().to_string())? {
                ra.configs.push(serde_json::json!({"$crd": d}));
            }
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

    /// `openapi: {path: ...}` switches the merge schema; `version:` names a built-in one.
    fn load_openapi(&self) -> Result<()> {
        let Some(o) = &self.k.openapi else {
            return Ok(());
        };
        if o.contains_key("path") && o.contains_key("version") {
            return Err(KustomizeError::field(
                &self.kfile,
                "openapi",
                "builtin version and custom schema provided, cannot use both",
            ));
        }
        if let Some(v) = o.get("version")
            && v != "v1.21.2"
            && v != "v1212"
        {
            return Err(KustomizeError::field(
                &self.kfile,
                "openapi",
                format!("the specified OpenAPI version is not built in: {v}"),
            ));
        }
        if let Some(p) = o.get("path") {
            let text = self.ldr.load_string(p)?;
            let file = self.ldr.display(p).display().to_string();
            let doc = if p.ends_with(".json") {
                serde_json::from_str(&text)
                    .map_err(|e| KustomizeError::file(&file, e.to_string()))?
            } else {
                kiln_yaml::from_str(&text)
                    .map_err(|e| KustomizeError::file(&file, e.to_string()))?
            };
            crate::smp::set_openapi(&doc, &file)?;
        }
        Ok(())
    }

    fn accumulate_resource(&self, ra: &mut Accumulator, path: &str, ctx: &Ctx) -> Result<()> {
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
            return ra.merge(sub_ra);
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
        for obj in parse_resources(&text, &self.ldr.display(path).display().to_string())? {
            let mut r = Resource::new(obj);
            if ctx.origin_annotations {
                r.origin = Some(serde_json::json!({ "path": origin }));
            }
            ra.resmap
                .append(r)
                .map_err(|e| e.context(format!("{}: resources: '{path}'", self.kfile)))?;
        }
        Ok(())
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
                r.origin = Some(serde_json::json!({
                    "configuredIn": self.join_rel(&self.file_name),
                    "configuredBy": {"apiVersion": "builtin", "kind": if secret { "SecretGenerator" } else { "ConfigMapGenerator" }},
                }));
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
    pub origin_annotations: bool,
}

/// Parses a multi-document YAML stream of plain documents.
pub fn parse_docs(text: &str, file: &str) -> Result<Vec<Value>> {
    let docs = kiln_yaml::parse_documents(text).map_err(|e| {
        KustomizeError::file(
            file,
            match e.line {
                Some(l) => format!("line {l}: {}", e.message),
                None => e.message.clone(),
            },
        )
    })?;
    Ok(docs.into_iter().map(|d| d.value).collect())
}

/// Expands `kind: *List` documents into their items, as kustomize does.
pub fn expand_lists(v: Value) -> Result<Vec<Value>> {
    let mut queue = std::collections::VecDeque::from([v]);
    let mut out = Vec::new();
    while let Some(v) = queue.pop_front() {
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        if !kind.ends_with("List") {
            out.push(v);
            continue;
        }
        match v.get("items") {
            None | Some(Value::Null) => {}
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
    let mut out = Vec::new();
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
        for obj in expand_lists(d)? {
            if obj
                .get("kind")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(KustomizeError::file(file, "missing kind in object"));
            }
            out.push(obj);
        }
    }
    Ok(out)
}
