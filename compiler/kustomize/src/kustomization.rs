//! The kustomization file model (`kustomize.config.k8s.io/v1beta1` Kustomization and
//! `v1alpha1` Component), decoded strictly like kustomize does: unknown fields are errors.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub type StringMap = IndexMap<String, String>;

/// File names kustomize recognises as a kustomization, in its lookup order.
pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Kustomization {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub metadata: Option<Value>,
    pub openapi: Option<IndexMap<String, String>>,
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
    pub namespace: Option<String>,
    pub common_labels: Option<StringMap>,
    pub labels: Option<Vec<Label>>,
    pub common_annotations: Option<StringMap>,
    pub patches_strategic_merge: Option<Vec<String>>,
    #[serde(alias = "patchesJSON6902")]
    pub patches_json6902: Option<Vec<Patch>>,
    pub patches: Option<Vec<Patch>>,
    pub images: Option<Vec<Image>>,
    pub image_tags: Option<Vec<Image>>,
    pub replacements: Option<Vec<ReplacementField>>,
    pub replicas: Option<Vec<Replica>>,
    pub vars: Option<Vec<Var>>,
    pub sort_options: Option<SortOptions>,
    pub resources: Option<Vec<String>>,
    pub components: Option<Vec<String>>,
    pub crds: Option<Vec<String>>,
    pub bases: Option<Vec<String>>,
    pub config_map_generator: Option<Vec<GeneratorArgs>>,
    pub secret_generator: Option<Vec<GeneratorArgs>>,
    pub helm_globals: Option<Value>,
    pub helm_charts: Option<Vec<Value>>,
    pub helm_chart_inflation_generator: Option<Vec<Value>>,
    pub generator_options: Option<GeneratorOptions>,
    pub configurations: Option<Vec<String>>,
    pub generators: Option<Vec<String>>,
    pub transformers: Option<Vec<String>>,
    pub validators: Option<Vec<String>>,
    pub build_metadata: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldSpecArg {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub path: Option<String>,
    pub create: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Label {
    pub pairs: Option<StringMap>,
    pub include_selectors: Option<bool>,
    pub include_templates: Option<bool>,
    pub fields: Option<Vec<FieldSpecArg>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selector {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub annotation_selector: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Patch {
    pub path: Option<String>,
    pub patch: Option<String>,
    pub target: Option<Selector>,
    pub options: Option<IndexMap<String, bool>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Image {
    pub name: Option<String>,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
    pub tag_suffix: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Replica {
    pub name: Option<String>,
    pub count: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SortOptions {
    pub order: Option<String>,
    pub legacy_sort_options: Option<LegacySortOptions>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LegacySortOptions {
    pub order_first: Option<Vec<String>>,
    pub order_last: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorOptions {
    pub labels: Option<StringMap>,
    pub annotations: Option<StringMap>,
    pub disable_name_suffix_hash: Option<bool>,
    pub immutable: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorArgs {
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub behavior: Option<String>,
    pub envs: Option<Vec<String>>,
    pub env: Option<String>,
    pub files: Option<Vec<String>>,
    pub literals: Option<Vec<String>>,
    pub options: Option<GeneratorOptions>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjRef {
    pub api_version: Option<String>,
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldRef {
    pub field_path: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Var {
    pub name: String,
    pub objref: ObjRef,
    pub fieldref: Option<FieldRef>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplacementField {
    pub path: Option<String>,
    pub source: Option<ReplacementSource>,
    pub targets: Option<Vec<ReplacementTarget>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplacementSource {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub field_path: Option<String>,
    pub options: Option<FieldOptions>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldOptions {
    pub delimiter: Option<String>,
    pub index: Option<i64>,
    pub encoding: Option<String>,
    pub create: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplacementTarget {
    pub select: Option<Selector>,
    pub reject: Option<Vec<Selector>>,
    pub field_paths: Option<Vec<String>>,
    pub options: Option<FieldOptions>,
}

impl Kustomization {
    pub fn is_component(&self) -> bool {
        self.kind.as_deref() == Some("Component")
    }

    /// True when no field other than apiVersion/kind is set (kustomize rejects that).
    pub fn is_empty(&self) -> bool {
        serde_json::to_value(self)
            .map(|v| {
                v.as_object().is_none_or(|m| {
                    m.iter()
                        .all(|(k, x)| k == "apiVersion" || k == "kind" || x.is_null())
                })
            })
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> Kustomization {
        serde_json::from_value(v).unwrap()
    }

    /// kustomize refuses a kustomization that sets nothing but its type.
    #[test]
    fn only_api_version_and_kind_is_empty() {
        assert!(
            parse(serde_json::json!({
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization"
            }))
            .is_empty()
        );
        assert!(parse(serde_json::json!({})).is_empty());
        assert!(!parse(serde_json::json!({"namePrefix": "a-"})).is_empty());
        assert!(!parse(serde_json::json!({"kind": "Kustomization", "resources": []})).is_empty());
    }
}
