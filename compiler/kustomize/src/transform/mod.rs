//! Transformers: the built-in ones a kustomization's fields configure (run in kustomize's fixed
//! order), those configured by plugin documents under `transformers:`/`generators:`, and the
//! final steps of a build (hash suffixes, name references, vars, local configs).

use serde_json::Value;

pub mod fields;
pub mod nameref;
pub mod path;
pub mod replacements;
pub mod value_add;
pub mod vars;

use crate::error::{KustomizeError, Result};
use crate::fieldspec::{FieldSpec, Gvk as FsGvk, TransformerConfig};
use crate::kustomization::{ReplacementField, Selector, StringMap};
use crate::patch;
use crate::resource::ResMap;
use crate::target::{Accumulator, Ctx, Target};

/// The field-spec configuration in force for an accumulator (see [`Accumulator::config`]).
pub fn config_of(ra: &Accumulator) -> Result<std::sync::Arc<TransformerConfig>> {
    Ok(ra.transformer_config().clone())
}

fn merge_specs(into: &mut Vec<FieldSpec>, more: &[FieldSpec]) {
    for s in more {
        if !into.iter().any(|x| x.same_field_as(s)) {
            into.push(s.clone());
        }
    }
}

fn load_replacements(t: &Target, list: &[ReplacementField]) -> Result<Vec<ReplacementField>> {
    let mut out = Vec::new();
    for r in list {
        match &r.path {
            Some(p) if !p.is_empty() => {
                let text = t.ldr.load_string(p)?;
                for d in crate::target::parse_docs(&text, p)? {
                    let items = match d {
                        Value::Array(a) => a,
                        other => vec![other],
                    };
                    for it in items {
                        let rf: ReplacementField = serde_json::from_value(it).map_err(|e| {
                            KustomizeError::field(&t.kfile, "replacements", format!("{p}: {e}"))
                        })?;
                        out.push(rf);
                    }
                }
            }
            _ => out.push(r.clone()),
        }
    }
    Ok(out)
}

/// Runs the transformers the kustomization's own fields configure, in kustomize's order.
pub fn run_builtin(t: &Target, ra: &mut Accumulator, ctx: &Ctx) -> Result<()> {
    let k = &t.k;
    let tc = config_of(ra)?;
    let m = &mut ra.resmap;
    if let Some(paths) = k.patches_strategic_merge.as_ref().filter(|p| !p.is_empty()) {
        let mut loaded = Vec::new();
        for p in paths {
            for v in load_smp_entry(t, p)? {
                loaded.push((v, p.clone()));
            }
        }
        if loaded.is_empty() {
            return Err(KustomizeError::field(
                &t.kfile,
                "patchesStrategicMerge",
                "empty file path and empty patch content",
            ));
        }
        patch::apply_strategic_merge(m, &loaded).map_err(|e| e.context(&t.kfile))?;
        mark(ctx, t, m, "PatchStrategicMergeTransformer");
    }
    for p in k.patches.iter().flatten() {
        let (text, origin) = patch::patch_text(&t.ldr, p, &t.kfile)?;
        patch::apply_patch(m, &text, &origin, p.target.as_ref(), p.options.as_ref())
            .map_err(|e| e.context(format!("{}: patches", t.kfile)))?;
        mark(ctx, t, m, "PatchTransformer");
    }
    if let Some(ns) = k.namespace.as_deref().filter(|n| !n.is_empty()) {
        fields::namespace(
            m,
            ns,
            &tc.namespace,
            false,
            fields::SubjectMode::DefaultOnly,
        )
        .map_err(|e| e.context(format!("{}: namespace", t.kfile)))?;
        mark(ctx, t, m, "NamespaceTransformer");
    }
    if let Some(p) = k.name_prefix.as_deref().filter(|n| !n.is_empty()) {
        fields::prefix_suffix(m, p, "", &tc.name_prefix)?;
        mark(ctx, t, m, "PrefixTransformer");
    }
    if let Some(s) = k.name_suffix.as_deref().filter(|n| !n.is_empty()) {
        fields::prefix_suffix(m, "", s, &tc.name_suffix)?;
        mark(ctx, t, m, "SuffixTransformer");
    }
    for l in k.labels.iter().flatten() {
        let mut specs = Vec::new();
        for f in l.fields.iter().flatten() {
            let gvk = FsGvk {
                group: f.group.clone().unwrap_or_default(),
                version: f.version.clone().unwrap_or_default(),
                kind: f.kind.clone().unwrap_or_default(),
            };
            specs.push(FieldSpec::new(
                gvk,
                f.path.as_deref().unwrap_or(""),
                f.create.unwrap_or(false),
            ));
        }
        merge_specs(&mut specs, &tc.labels);
        if l.include_selectors == Some(true) {
            merge_specs(&mut specs, &tc.common_labels);
        } else {
            if l.include_templates == Some(true) {
                merge_specs(&mut specs, &tc.template_labels);
            }
            merge_specs(
                &mut specs,
                &[FieldSpec::new(FsGvk::default(), "metadata/labels", true)],
            );
        }
        let empty = StringMap::default();
        fields::add_map_entries(m, l.pairs.as_ref().unwrap_or(&empty), &specs)?;
        mark(ctx, t, m, "LabelTransformer");
    }
    if let Some(cl) = &k.common_labels {
        if let Some(ls) = &k.labels {
            for l in ls {
                for key in l.pairs.iter().flat_map(|p| p.keys()) {
                    if cl.contains_key(key) {
                        return Err(KustomizeError::field(
                            &t.kfile,
                            "labels",
                            format!("label name '{key}' exists in both commonLabels and labels"),
                        ));
                    }
                }
            }
        }
        fields::add_map_entries(m, cl, &tc.common_labels)?;
    }
    // kustomize adds a commonLabels transformer, empty or not, whenever labels are configured.
    if k.labels.as_ref().is_some_and(|l| !l.is_empty())
        || k.common_labels.as_ref().is_some_and(|c| !c.is_empty())
    {
        mark(ctx, t, m, "LabelTransformer");
    }
    if let Some(ca) = k.common_annotations.as_ref().filter(|c| !c.is_empty()) {
        fields::add_map_entries(m, ca, &tc.common_annotations)?;
        mark(ctx, t, m, "AnnotationsTransformer");
    }
    for p in k.patches_json6902.iter().flatten() {
        let Some(target) = &p.target else {
            return Err(KustomizeError::field(
                &t.kfile,
                "patchesJson6902",
                "must specify the target field in patchesJson6902",
            ));
        };
        let (text, origin) = patch::patch_text(&t.ldr, p, &t.kfile)?;
        patch::apply_json6902(m, &text, &origin, target)
            .map_err(|e| e.context(format!("{}: patchesJson6902", t.kfile)))?;
        mark(ctx, t, m, "PatchJson6902Transformer");
    }
    for r in k.replicas.iter().flatten() {
        fields::replicas(
            m,
            r.name.as_deref().unwrap_or(""),
            r.count.unwrap_or(0),
            &tc.replicas,
        )
        .map_err(|e| e.context(format!("{}: replicas", t.kfile)))?;
        mark(ctx, t, m, "ReplicaCountTransformer");
    }
    let mut images = k.images.clone().unwrap_or_default();
    images.extend(k.image_tags.clone().unwrap_or_default());
    for im in &images {
        fields::images(m, im, &tc.images)?;
        mark(ctx, t, m, "ImageTagTransformer");
    }
    if let Some(rs) = k.replacements.as_ref().filter(|r| !r.is_empty()) {
        let rs = load_replacements(t, rs)?;
        replacements::run(m, &rs).map_err(|e| e.context(format!("{}: replacements", t.kfile)))?;
        mark(ctx, t, m, "ReplacementTransformer");
    }
    Ok(())
}

/// Records that a built-in transformer configured by `t`'s own fields ran.
fn mark(ctx: &Ctx, t: &Target, m: &mut ResMap, kind: &str) {
    if ctx.transformer_annotations {
        crate::origin::record_transformation(m, &crate::origin::builtin(&t.configured_in(), kind));
    }
}

/// A `patchesStrategicMerge` entry is inline YAML or a file path.
fn load_smp_entry(t: &Target, entry: &str) -> Result<Vec<Value>> {
    if let Ok(docs) = kiln_yaml::parse_documents(entry)
        && !docs.is_empty()
        && docs.iter().all(|d| d.value.is_object())
    {
        return crate::target::expand_lists(docs.into_iter().map(|d| d.value).collect());
    }
    let text = t.ldr.load_string(entry)?;
    match patch::decode(&text, entry)? {
        patch::Loaded::Smp(v) => Ok(v),
        patch::Loaded::Json(_) => Err(KustomizeError::field(
            &t.kfile,
            "patchesStrategicMerge",
            format!("'{entry}' holds a JSON 6902 patch, not a strategic merge patch"),
        )),
    }
}

/// Loads plugin configuration documents named by `transformers:`/`generators:` entries:
/// inline YAML, files, or kustomization directories whose output are the configs. Each comes
/// with its own origin (where the document was read from).
fn plugin_configs(
    t: &Target,
    entries: &[String],
    field: &str,
    ctx: &Ctx,
) -> Result<Vec<(Value, Value)>> {
    let mut out = Vec::new();
    for e in entries {
        if let Ok(docs) = kiln_yaml::parse_documents(e)
            && !docs.is_empty()
            && docs.iter().all(|d| d.value.is_object())
        {
            let origin = crate::origin::from_path(&t.configured_in());
            out.extend(docs.into_iter().map(|d| (d.value, origin.clone())));
            continue;
        }
        let full = t.ldr.root.join(e);
        if full.is_dir() {
            let ldr = t.ldr.child(e)?;
            let sub = Target::load(ldr, t.join_rel(e))?;
            let mut sub_ra = Accumulator::default();
            sub.accumulate(&mut sub_ra, ctx)?;
            let fallback = crate::origin::from_path(&t.join_rel(e));
            out.extend(sub_ra.resmap.resources.into_iter().map(|r| {
                let origin = r.origin.unwrap_or_else(|| fallback.clone());
                (r.obj, origin)
            }));
            continue;
        }
        if !full.exists() {
            return Err(KustomizeError::field(
                &t.kfile,
                field,
                format!("'{e}' is neither a file nor a directory"),
            ));
        }
        let text = t.ldr.load_string(e)?;
        let origin = crate::origin::from_path(&t.join_rel(e));
        out.extend(
            crate::target::parse_resources(&text, &t.ldr.display(e).display().to_string())?
                .into_iter()
                .map(|v| (v, origin.clone())),
        );
    }
    Ok(out)
}

pub fn run_external(t: &Target, ra: &mut Accumulator, ctx: &Ctx) -> Result<()> {
    let Some(entries) = &t.k.transformers else {
        return Ok(());
    };
    for (mut cfg, cfg_origin) in plugin_configs(t, entries, "transformers", ctx)? {
        crate::decode::plugin_config(&mut cfg);
        run_plugin(t, ra, &cfg)?;
        if ctx.transformer_annotations {
            let by = crate::origin::from_plugin(&cfg, &cfg_origin);
            crate::origin::record_transformation(&mut ra.resmap, &by);
        }
    }
    Ok(())
}

pub fn run_external_generators(t: &Target, ra: &mut Accumulator, ctx: &Ctx) -> Result<()> {
    let Some(entries) = &t.k.generators else {
        return Ok(());
    };
    for (cfg, cfg_origin) in plugin_configs(t, entries, "generators", ctx)? {
        let kind = cfg.get("kind").and_then(Value::as_str).unwrap_or("");
        let generated = match kind {
            "ConfigMapGenerator" | "SecretGenerator" => {
                vec![config_generator(t, &cfg, kind == "SecretGenerator")?]
            }
            "IAMPolicyGenerator" => crate::iam_policy::generate(&cfg)
                .map_err(|e| KustomizeError::field(&t.kfile, "generators", e))?,
            other => {
                return Err(KustomizeError::field(
                    &t.kfile,
                    "generators",
                    format!("unable to load builtin {other}"),
                )
                .with_help(
                    "kiln runs kustomize's built-in generators ConfigMapGenerator, SecretGenerator and IAMPolicyGenerator (no exec, container, Go or Helm plugins)",
                ));
            }
        };
        for mut r in generated {
            if ctx.origin_annotations && r.origin.is_none() {
                r.origin = Some(crate::origin::from_plugin(&cfg, &cfg_origin));
            }
            ra.resmap.absorb(r)?;
        }
    }
    Ok(())
}

/// A ConfigMap or Secret from a `ConfigMapGenerator`/`SecretGenerator` plugin document.
fn config_generator(t: &Target, cfg: &Value, secret: bool) -> Result<crate::resource::Resource> {
    let kind = if secret {
        "SecretGenerator"
    } else {
        "ConfigMapGenerator"
    };
    let mut args_v = cfg.clone();
    let Some(obj) = args_v.as_object_mut() else {
        return Err(KustomizeError::field(
            &t.kfile,
            "generators",
            format!("invalid {kind} config: not a mapping"),
        ));
    };
    let md = obj.shift_remove("metadata").unwrap_or(Value::Null);
    obj.shift_remove("apiVersion");
    obj.shift_remove("kind");
    if let Some(n) = md.get("name") {
        obj.entry("name").or_insert(n.clone());
    }
    if let Some(n) = md.get("namespace") {
        obj.entry("namespace").or_insert(n.clone());
    }
    let args: crate::kustomization::GeneratorArgs =
        serde_json::from_value(args_v).map_err(|e| {
            KustomizeError::field(
                &t.kfile,
                "generators",
                format!("invalid {kind} config: {e}"),
            )
        })?;
    crate::generators::generate(&t.ldr, &args, None, secret, &t.kfile)
}

fn get_str<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// Runs one built-in transformer configured by a plugin document.
fn run_plugin(t: &Target, ra: &mut Accumulator, cfg: &Value) -> Result<()> {
    let kind = get_str(cfg, "kind").unwrap_or("");
    let m: &mut ResMap = &mut ra.resmap;
    let bad = |e: serde_json::Error| {
        KustomizeError::field(
            &t.kfile,
            "transformers",
            format!("invalid {kind} config: {e}"),
        )
    };
    match kind {
        "PatchTransformer" => {
            let p: crate::kustomization::Patch =
                serde_json::from_value(strip_meta(cfg)).map_err(bad)?;
            let (text, origin) = patch::patch_text(&t.ldr, &p, &t.kfile)?;
            patch::apply_patch(m, &text, &origin, p.target.as_ref(), p.options.as_ref())
        }
        "PatchJson6902Transformer" => {
            let target: Option<Selector> = cfg
                .get("target")
                .map(|v| serde_json::from_value(v.clone()))
                .transpose()
                .map_err(bad)?;
            let Some(target) = target else {
                return Err(KustomizeError::field(
                    &t.kfile,
                    "transformers",
                    "PatchJson6902Transformer needs a target",
                ));
            };
            let text = match (get_str(cfg, "path"), get_str(cfg, "jsonOp")) {
                (Some(p), None) => t.ldr.load_string(p)?,
                (None, Some(op)) => op.to_string(),
                (Some(_), Some(_)) => {
                    return Err(KustomizeError::field(
                        &t.kfile,
                        "transformers",
                        "PatchJson6902Transformer: must specify exactly one of path and jsonOp",
                    ));
                }
                (None, None) => {
                    return Err(KustomizeError::field(
                        &t.kfile,
                        "transformers",
                        "PatchJson6902Transformer: empty file path and empty jsonOp",
                    ));
                }
            };
            patch::apply_json6902(m, &text, "jsonOp", &target)
        }
        "PatchStrategicMergeTransformer" => {
            let mut loaded = Vec::new();
            for p in cfg
                .get("paths")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(p) = p.as_str() {
                    for v in load_smp_entry(t, p)? {
                        loaded.push((v, p.to_string()));
                    }
                }
            }
            if let Some(inline) = get_str(cfg, "patches") {
                for v in load_smp_entry(t, inline)? {
                    loaded.push((v, "inline patches".into()));
                }
            }
            if loaded.is_empty() {
                return Err(KustomizeError::field(
                    &t.kfile,
                    "transformers",
                    "empty file path and empty patch content",
                ));
            }
            patch::apply_strategic_merge(m, &loaded)
        }
        "NamespaceTransformer" => {
            let ns = cfg
                .get("metadata")
                .and_then(|m| m.get("namespace"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let specs = fields::specs_from_value(cfg.get("fieldSpecs"))?;
            let unset_only = cfg
                .get("unsetOnly")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let mode = match get_str(cfg, "setRoleBindingSubjects").unwrap_or("") {
                "" | "defaultOnly" => fields::SubjectMode::DefaultOnly,
                "none" => fields::SubjectMode::None,
                "allServiceAccounts" => fields::SubjectMode::AllServiceAccounts,
                other => {
                    return Err(KustomizeError::field(
                        &t.kfile,
                        "transformers",
                        format!(
                            "invalid value \"{other}\" for setRoleBindingSubjects: must be one of \"defaultOnly\", \"none\" or \"allServiceAccounts\""
                        ),
                    ));
                }
            };
            fields::namespace(m, ns, &specs, unset_only, mode)
        }
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            let specs = fields::specs_from_value(cfg.get("fieldSpecs"))?;
            fields::prefix_suffix(
                m,
                get_str(cfg, "prefix").unwrap_or(""),
                get_str(cfg, "suffix").unwrap_or(""),
                &specs,
            )
        }
        "LabelTransformer" | "AnnotationsTransformer" => {
            let key = if kind == "LabelTransformer" {
                "labels"
            } else {
                "annotations"
            };
            let pairs: StringMap = cfg
                .get(key)
                .map(|v| serde_json::from_value(v.clone()))
                .transpose()
                .map_err(bad)?
                .unwrap_or_default();
            let specs = fields::specs_from_value(cfg.get("fieldSpecs"))?;
            fields::add_map_entries(m, &pairs, &specs)
        }
        "ImageTagTransformer" => {
            let im: crate::kustomization::Image = cfg
                .get("imageTag")
                .map(|v| serde_json::from_value(v.clone()))
                .transpose()
                .map_err(bad)?
                .unwrap_or_default();
            let specs = fields::specs_from_value(cfg.get("fieldSpecs"))?;
            fields::images(m, &im, &specs)
        }
        "ReplicaCountTransformer" => {
            let r: crate::kustomization::Replica = cfg
                .get("replica")
                .map(|v| serde_json::from_value(v.clone()))
                .transpose()
                .map_err(bad)?
                .unwrap_or_default();
            let specs = fields::specs_from_value(cfg.get("fieldSpecs"))?;
            fields::replicas(
                m,
                r.name.as_deref().unwrap_or(""),
                r.count.unwrap_or(0),
                &specs,
            )
        }
        "ReplacementTransformer" => {
            let rs: Vec<ReplacementField> = cfg
                .get("replacements")
                .map(|v| serde_json::from_value(v.clone()))
                .transpose()
                .map_err(bad)?
                .unwrap_or_default();
            let rs = load_replacements(t, &rs)?;
            replacements::run(m, &rs)
        }
        "ValueAddTransformer" => {
            let root_name = t
                .ldr
                .root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            value_add::ValueAdd::configure(cfg, |p| t.ldr.load_string(p), &root_name)
                .map_err(|e| match e {
                    KustomizeError::Build { message, help } => KustomizeError::Field {
                        file: t.kfile.clone().into(),
                        field: "transformers".into(),
                        message,
                        help,
                    },
                    other => other,
                })?
                .transform(m)
        }
        // Generated objects get their hash suffix at the end of every build anyway.
        "HashTransformer" => Ok(()),
        other => Err(KustomizeError::field(
            &t.kfile,
            "transformers",
            format!("unable to load builtin {other}"),
        )
        .with_help(
            "kiln runs kustomize's built-in transformers only (no exec, container or Go plugins)",
        )),
    }
}

fn strip_meta(cfg: &Value) -> Value {
    let mut v = cfg.clone();
    if let Some(o) = v.as_object_mut() {
        o.shift_remove("apiVersion");
        o.shift_remove("kind");
        o.shift_remove("metadata");
    }
    v
}

/// The steps kustomize runs once, after the whole tree is accumulated.
pub fn finish(ra: &mut Accumulator) -> Result<()> {
    let tc = config_of(ra)?;
    for r in &mut ra.resmap.resources {
        if r.needs_hash {
            let h = crate::hash::hash_object(&r.obj);
            r.store_previous_id();
            let name = format!("{}-{h}", r.name());
            r.set_name(&name);
        }
    }
    nameref::fix(&mut ra.resmap, &tc.name_reference)?;
    // kustomize stores bookkeeping annotations on renamed objects and clears the annotations
    // field when removing them leaves it empty.
    for r in &mut ra.resmap.resources {
        if !r.prev_ids.is_empty()
            && let Some(Value::Object(md)) = r.obj.get_mut("metadata")
            && md
                .get("annotations")
                .is_some_and(|a| a.is_null() || a.as_object().is_some_and(|m| m.is_empty()))
        {
            md.shift_remove("annotations");
        }
    }
    vars::resolve(&mut ra.resmap, &ra.vars, &tc.var_reference)?;
    ra.resmap
        .resources
        .retain(|r| r.annotation("config.kubernetes.io/local-config").as_deref() != Some("true"));
    Ok(())
}
