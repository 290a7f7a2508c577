//! Go `encoding/json` leniencies kustomize users rely on: field names match case-insensitively
//! (`fieldpath` is `fieldPath`), and plugin configs (decoded by a YAML library) accept numbers
//! and booleans where strings are expected.

use serde_json::Value;

const KUSTOMIZATION: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "openapi",
    "namePrefix",
    "nameSuffix",
    "namespace",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "patchesStrategicMerge",
    "patchesJson6902",
    "patches",
    "images",
    "imageTags",
    "replacements",
    "replicas",
    "vars",
    "sortOptions",
    "resources",
    "components",
    "crds",
    "bases",
    "configMapGenerator",
    "secretGenerator",
    "helmGlobals",
    "helmCharts",
    "helmChartInflationGenerator",
    "generatorOptions",
    "configurations",
    "generators",
    "transformers",
    "validators",
    "buildMetadata",
];
const SELECTOR: &[&str] = &[
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "labelSelector",
    "annotationSelector",
];
const PATCH: &[&str] = &["path", "patch", "target", "options"];
const IMAGE: &[&str] = &["name", "newName", "newTag", "digest", "tagSuffix"];
const REPLICA: &[&str] = &["name", "count"];
const VAR: &[&str] = &["name", "objref", "fieldref"];
const OBJREF: &[&str] = &[
    "apiVersion",
    "group",
    "version",
    "kind",
    "name",
    "namespace",
];
const FIELDREF: &[&str] = &["fieldPath"];
const GENERATOR: &[&str] = &[
    "namespace",
    "name",
    "behavior",
    "envs",
    "env",
    "files",
    "literals",
    "options",
    "type",
];
const GEN_OPTIONS: &[&str] = &[
    "labels",
    "annotations",
    "disableNameSuffixHash",
    "immutable",
];
const LABEL: &[&str] = &["pairs", "includeSelectors", "includeTemplates", "fields"];
const REPLACEMENT: &[&str] = &["path", "source", "targets"];

fn fix_keys(v: &mut Value, known: &[&str]) {
    let Value::Object(map) = v else {
        return;
    };
    let renames: Vec<(String, &str)> = map
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .filter_map(|k| {
            known
                .iter()
                .find(|n| n.eq_ignore_ascii_case(k))
                .map(|n| (k.clone(), *n))
        })
        .collect();
    for (from, to) in renames {
        if map.contains_key(to) {
            continue;
        }
        if let Some(val) = map.shift_remove(&from) {
            map.insert(to.to_string(), val);
        }
    }
}

fn each(v: &mut Value, key: &str, f: impl Fn(&mut Value)) {
    if let Some(Value::Array(items)) = v.get_mut(key) {
        items.iter_mut().for_each(f);
    }
}

fn child(v: &mut Value, key: &str, known: &[&str]) {
    if let Some(c) = v.get_mut(key) {
        fix_keys(c, known);
    }
}

fn patch(p: &mut Value) {
    fix_keys(p, PATCH);
    child(p, "target", SELECTOR);
}

fn generator(g: &mut Value) {
    fix_keys(g, GENERATOR);
    child(g, "options", GEN_OPTIONS);
}

/// Normalises the field names of a kustomization document.
pub fn kustomization(v: &mut Value) {
    fix_keys(v, KUSTOMIZATION);
    each(v, "patches", patch);
    each(v, "patchesJson6902", patch);
    each(v, "images", |i| fix_keys(i, IMAGE));
    each(v, "replicas", |i| fix_keys(i, REPLICA));
    each(v, "vars", |x| {
        fix_keys(x, VAR);
        child(x, "objref", OBJREF);
        child(x, "fieldref", FIELDREF);
    });
    each(v, "configMapGenerator", generator);
    each(v, "secretGenerator", generator);
    child(v, "generatorOptions", GEN_OPTIONS);
    each(v, "labels", |l| fix_keys(l, LABEL));
    each(v, "replacements", |r| fix_keys(r, REPLACEMENT));
}

fn stringify(v: &mut Value) {
    if let Value::Object(m) = v {
        for (_, x) in m.iter_mut() {
            match x {
                Value::Bool(b) => *x = Value::String(b.to_string()),
                Value::Number(n) => *x = Value::String(n.to_string()),
                _ => {}
            }
        }
    }
}

/// Normalises a built-in plugin config document (keys and scalar string maps).
pub fn plugin_config(v: &mut Value) {
    fix_keys(
        v,
        &[
            "apiVersion",
            "kind",
            "metadata",
            "path",
            "patch",
            "patches",
            "paths",
            "target",
            "options",
            "jsonOp",
            "fieldSpecs",
            "labels",
            "annotations",
            "prefix",
            "suffix",
            "imageTag",
            "replica",
            "replacements",
            "unsetOnly",
            "setRoleBindingSubjects",
        ],
    );
    child(v, "target", SELECTOR);
    child(v, "imageTag", IMAGE);
    child(v, "replica", REPLICA);
    for k in ["labels", "annotations"] {
        if let Some(m) = v.get_mut(k) {
            stringify(m);
        }
    }
    if let Some(Value::Object(it)) = v.get_mut("imageTag") {
        for (_, x) in it.iter_mut() {
            if let Value::Number(n) = x {
                *x = Value::String(n.to_string());
            }
        }
    }
}
