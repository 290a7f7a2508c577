//! Transformer configurations: the built-in field specs of every transformer (from
//! `builtin.yaml`), user `configurations:` files, and kustomize's rules for merging them.

use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::error::FieldSpecError;
use super::spec::{FieldSpec, Gvk, as_map, as_string};

/// A referenced type and the fields of other objects that refer to objects of that type by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameBackReferences {
    /// The referenced type (e.g. ConfigMap).
    pub gvk: Gvk,
    /// Where other objects name it (e.g. a Deployment's `configMapRef/name`).
    pub referrers: Vec<FieldSpec>,
}

/// The field specs of each transformer (kustomize's `TransformerConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransformerConfig {
    pub name_prefix: Vec<FieldSpec>,
    pub name_suffix: Vec<FieldSpec>,
    pub namespace: Vec<FieldSpec>,
    pub common_labels: Vec<FieldSpec>,
    pub labels: Vec<FieldSpec>,
    pub template_labels: Vec<FieldSpec>,
    pub common_annotations: Vec<FieldSpec>,
    pub name_reference: Vec<NameBackReferences>,
    pub var_reference: Vec<FieldSpec>,
    pub images: Vec<FieldSpec>,
    pub replicas: Vec<FieldSpec>,
}

/// Section names as written in configuration files, in kustomize's merge order.
const SECTIONS: &[&str] = &[
    "namePrefix",
    "nameSuffix",
    "namespace",
    "commonAnnotations",
    "commonLabels",
    "labels",
    "templateLabels",
    "varReference",
    "nameReference",
    "images",
    "replicas",
];

impl TransformerConfig {
    /// kustomize v5.7.1's default configuration: `builtin.yaml`, compiled in as Rust
    /// ([`super::builtin_config`], kept equal to the YAML by the `builtin_config_is_current`
    /// test) so that no YAML is parsed at start-up.
    pub fn builtin() -> &'static TransformerConfig {
        Self::builtin_shared()
    }

    /// [`TransformerConfig::builtin`], for holders that share configurations.
    pub fn builtin_shared() -> &'static Arc<TransformerConfig> {
        static CONFIG: OnceLock<Arc<TransformerConfig>> = OnceLock::new();
        CONFIG.get_or_init(|| Arc::new(super::builtin_config::builtin()))
    }

    /// Reads one configuration document (the content of a `configurations:` file), strictly:
    /// unknown keys are errors, as in kustomize. Each section is sorted by type.
    pub fn from_value(value: &Value) -> Result<TransformerConfig, FieldSpecError> {
        let mut config = TransformerConfig::default();
        if value.is_null() {
            return Ok(config);
        }
        for (key, section) in as_map(value, "configuration")? {
            if key == "nameReference" {
                config.name_reference = read_name_references(section)?;
                continue;
            }
            let specs = read_specs(section, key)?;
            match config.section_mut(key) {
                Some(slot) => *slot = specs,
                None => return Err(FieldSpecError::unknown_field("configuration", key)),
            }
        }
        config.sort();
        Ok(config)
    }

    /// The built-in configuration merged with user configuration documents, as kustomize does
    /// for a kustomization's `configurations:` (the user files are merged together first).
    pub fn with_user_configs(documents: &[Value]) -> Result<TransformerConfig, FieldSpecError> {
        if documents.is_empty() {
            return Ok(TransformerConfig::builtin().clone());
        }
        let mut user = TransformerConfig::default();
        for document in documents {
            user = user.merge(&TransformerConfig::from_value(document)?)?;
        }
        TransformerConfig::builtin().merge(&user)
    }

    /// Adds the other configuration's specs to this one's: specs for a field already present
    /// are skipped, or rejected when they disagree on `create`; name references for the same
    /// type pool their referrers.
    pub fn merge(&self, other: &TransformerConfig) -> Result<TransformerConfig, FieldSpecError> {
        let mut merged = self.clone();
        for section in SECTIONS {
            if *section == "nameReference" {
                continue;
            }
            let incoming = other.section(section).expect("known section");
            let slot = merged.section_mut(section).expect("known section");
            merge_specs(slot, incoming, section)?;
        }
        for reference in &other.name_reference {
            match merged
                .name_reference
                .iter_mut()
                .find(|existing| existing.gvk == reference.gvk)
            {
                Some(existing) => merge_specs(
                    &mut existing.referrers,
                    &reference.referrers,
                    "nameReference",
                )?,
                None => merged.name_reference.push(reference.clone()),
            }
        }
        merged.sort();
        Ok(merged)
    }

    /// A section by its configuration-file name (`commonLabels`, `images`, …).
    pub fn section(&self, name: &str) -> Option<&Vec<FieldSpec>> {
        Some(match name {
            "namePrefix" => &self.name_prefix,
            "nameSuffix" => &self.name_suffix,
            "namespace" => &self.namespace,
            "commonLabels" => &self.common_labels,
            "labels" => &self.labels,
            "templateLabels" => &self.template_labels,
            "commonAnnotations" => &self.common_annotations,
            "varReference" => &self.var_reference,
            "images" => &self.images,
            "replicas" => &self.replicas,
            _ => return None,
        })
    }

    fn section_mut(&mut self, name: &str) -> Option<&mut Vec<FieldSpec>> {
        Some(match name {
            "namePrefix" => &mut self.name_prefix,
            "nameSuffix" => &mut self.name_suffix,
            "namespace" => &mut self.namespace,
            "commonLabels" => &mut self.common_labels,
            "labels" => &mut self.labels,
            "templateLabels" => &mut self.template_labels,
            "commonAnnotations" => &mut self.common_annotations,
            "varReference" => &mut self.var_reference,
            "images" => &mut self.images,
            "replicas" => &mut self.replicas,
            _ => return None,
        })
    }

    fn sort(&mut self) {
        for section in SECTIONS {
            if let Some(specs) = self.section_mut(section) {
                specs.sort_by(|a, b| a.gvk.type_order(&b.gvk));
            }
        }
        self.name_reference.sort_by(|a, b| a.gvk.type_order(&b.gvk));
    }
}

fn merge_specs(
    slot: &mut Vec<FieldSpec>,
    incoming: &[FieldSpec],
    section: &str,
) -> Result<(), FieldSpecError> {
    for spec in incoming {
        match slot.iter().find(|existing| existing.same_field_as(spec)) {
            Some(existing) if existing.create != spec.create => {
                return Err(FieldSpecError::Conflict {
                    section: section.to_string(),
                    path: spec.path.clone(),
                });
            }
            Some(_) => {}
            None => slot.push(spec.clone()),
        }
    }
    Ok(())
}

fn read_specs(section: &Value, name: &str) -> Result<Vec<FieldSpec>, FieldSpecError> {
    match section {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| FieldSpec::from_value(item, &format!("{name}[{i}]")))
            .collect(),
        _ => Err(FieldSpecError::invalid(
            name,
            "expected a list of field specs",
        )),
    }
}

fn read_name_references(section: &Value) -> Result<Vec<NameBackReferences>, FieldSpecError> {
    let items = match section {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err(FieldSpecError::invalid("nameReference", "expected a list")),
    };
    let mut references = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("nameReference[{i}]");
        let mut gvk = Gvk::default();
        let mut referrers = Vec::new();
        for (key, field) in as_map(item, &at)? {
            let here = format!("{at}.{key}");
            match key.as_str() {
                "group" => gvk.group = as_string(field, &here)?,
                "version" => gvk.version = as_string(field, &here)?,
                "kind" => gvk.kind = as_string(field, &here)?,
                "fieldSpecs" => referrers = read_specs(field, &here)?,
                _ => return Err(FieldSpecError::unknown_field(&at, key)),
            }
        }
        referrers.sort_by(|a: &FieldSpec, b: &FieldSpec| a.gvk.type_order(&b.gvk));
        references.push(NameBackReferences { gvk, referrers });
    }
    Ok(references)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BUILTIN: &str = include_str!("builtin.yaml");

    fn render_spec(spec: &FieldSpec) -> String {
        format!(
            "s({:?}, {:?}, {:?}, {:?}, {})",
            spec.gvk.group, spec.gvk.version, spec.gvk.kind, spec.path, spec.create
        )
    }

    fn render_specs(specs: &[FieldSpec], indent: &str) -> String {
        let mut out = String::from("vec![\n");
        for spec in specs {
            out.push_str(&format!("{indent}    {},\n", render_spec(spec)));
        }
        out.push_str(indent);
        out.push(']');
        out
    }

    /// Rust source of [`super::super::builtin_config`] for a configuration.
    fn render_builtin_config(config: &TransformerConfig) -> String {
        let mut out = String::from(
            "//! kustomize's default transformer configuration (`builtin.yaml`) as Rust, so that\n\
             //! start-up parses no YAML. Generated by the `builtin_config_is_current` test; after\n\
             //! editing `builtin.yaml`, regenerate with\n\
             //! `KILN_REGENERATE=1 cargo test -p kiln-kustomize builtin_config_is_current`\n\
             //! then `cargo fmt -p kiln-kustomize`. Do not edit.\n\n\
             use super::config::{NameBackReferences, TransformerConfig};\n\
             use super::spec::{FieldSpec, Gvk};\n\n\
             fn gvk(group: &str, version: &str, kind: &str) -> Gvk {\n    \
             Gvk {\n        group: group.into(),\n        version: version.into(),\n        kind: kind.into(),\n    }\n}\n\n\
             fn s(group: &str, version: &str, kind: &str, path: &str, create: bool) -> FieldSpec {\n    \
             FieldSpec::new(gvk(group, version, kind), path, create)\n}\n\n\
             /// The built-in configuration, sections in type order.\n\
             pub(super) fn builtin() -> TransformerConfig {\n    TransformerConfig {\n",
        );
        for (field, section) in [
            ("name_prefix", "namePrefix"),
            ("name_suffix", "nameSuffix"),
            ("namespace", "namespace"),
            ("common_labels", "commonLabels"),
            ("labels", "labels"),
            ("template_labels", "templateLabels"),
            ("common_annotations", "commonAnnotations"),
        ] {
            let specs = config.section(section).unwrap();
            out.push_str(&format!(
                "        {field}: {},\n",
                render_specs(specs, "        ")
            ));
        }
        out.push_str("        name_reference: vec![\n");
        for reference in &config.name_reference {
            let g = &reference.gvk;
            out.push_str(&format!(
                "            NameBackReferences {{\n                gvk: gvk({:?}, {:?}, {:?}),\n                referrers: {},\n            }},\n",
                g.group,
                g.version,
                g.kind,
                render_specs(&reference.referrers, "                ")
            ));
        }
        out.push_str("        ],\n");
        for (field, section) in [
            ("var_reference", "varReference"),
            ("images", "images"),
            ("replicas", "replicas"),
        ] {
            let specs = config.section(section).unwrap();
            out.push_str(&format!(
                "        {field}: {},\n",
                render_specs(specs, "        ")
            ));
        }
        out.push_str("    }\n}\n");
        out
    }

    #[test]
    fn builtin_config_is_current() {
        let value = kiln_yaml::from_str(BUILTIN).expect("builtin.yaml is valid YAML");
        let parsed = TransformerConfig::from_value(&value).expect("builtin.yaml is valid");
        if std::env::var_os("KILN_REGENERATE").is_some() {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/src/fieldspec/builtin_config.rs"
            );
            std::fs::write(path, render_builtin_config(&parsed)).unwrap();
        }
        assert!(
            super::super::builtin_config::builtin() == parsed,
            "fieldspec/builtin_config.rs differs from builtin.yaml: run \
             KILN_REGENERATE=1 cargo test -p kiln-kustomize builtin_config_is_current"
        );
    }

    fn kind(kind: &str) -> Gvk {
        Gvk {
            kind: kind.into(),
            ..Gvk::default()
        }
    }

    #[test]
    fn builtin_has_every_transformer() {
        let config = TransformerConfig::builtin();
        assert_eq!(config.name_prefix.len(), 1);
        assert_eq!(config.common_labels.len(), 32);
        assert_eq!(config.template_labels.len(), 10);
        assert_eq!(config.common_annotations.len(), 9);
        assert_eq!(config.namespace.len(), 3);
        assert_eq!(config.var_reference.len(), 72);
        assert_eq!(config.images.len(), 6);
        assert_eq!(config.replicas.len(), 4);
        let config_map = config
            .name_reference
            .iter()
            .find(|r| r.gvk.kind == "ConfigMap")
            .unwrap();
        assert!(
            config_map
                .referrers
                .iter()
                .any(|spec| spec.gvk.kind == "Deployment"
                    && spec.path == "spec/template/spec/volumes/configMap/name")
        );
        let service_account = config
            .name_reference
            .iter()
            .find(|r| r.gvk.kind == "ServiceAccount")
            .unwrap();
        assert!(
            service_account
                .referrers
                .iter()
                .any(|spec| spec.path == "subjects" && spec.gvk.kind == "RoleBinding")
        );
    }

    #[test]
    fn builtin_sections_are_in_type_order() {
        let labels = &TransformerConfig::builtin().common_labels;
        let first_service = labels.iter().position(|s| s.gvk.kind == "Service").unwrap();
        let first_deployment = labels
            .iter()
            .position(|s| s.gvk.kind == "Deployment")
            .unwrap();
        let any = labels.iter().position(|s| s.gvk.kind.is_empty()).unwrap();
        assert!(first_service < first_deployment && first_deployment < any);
    }

    #[test]
    fn user_configs_add_specs_and_skip_duplicates() {
        let user = json!({
            "commonLabels": [
                {"path": "spec/selector/matchLabels", "kind": "Widget", "group": "example.com", "create": true},
                {"path": "metadata/labels", "create": true}
            ],
            "nameReference": [
                {"kind": "ConfigMap", "version": "v1", "fieldSpecs": [{"path": "spec/configName", "kind": "Widget"}]},
                {"kind": "Gadget", "fieldSpecs": [{"path": "spec/gadget", "kind": "Widget"}]}
            ]
        });
        let config = TransformerConfig::with_user_configs(&[user]).unwrap();
        let builtin = TransformerConfig::builtin();
        assert_eq!(config.common_labels.len(), builtin.common_labels.len() + 1);
        let config_map = config
            .name_reference
            .iter()
            .find(|r| r.gvk.kind == "ConfigMap")
            .unwrap();
        assert!(
            config_map
                .referrers
                .iter()
                .any(|s| s.path == "spec/configName")
        );
        assert!(
            config
                .name_reference
                .iter()
                .any(|r| r.gvk == kind("Gadget"))
        );
    }

    #[test]
    fn conflicting_create_is_an_error() {
        let user = json!({"commonLabels": [{"path": "metadata/labels", "create": false}]});
        let err = TransformerConfig::with_user_configs(&[user]).unwrap_err();
        assert!(matches!(err, FieldSpecError::Conflict { .. }), "{err}");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = TransformerConfig::from_value(&json!({"commonLabel": []})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration: unknown field `commonLabel`"
        );
        let err =
            TransformerConfig::from_value(&json!({"images": [{"path": "x", "kinds": "Pod"}]}))
                .unwrap_err();
        assert_eq!(err.to_string(), "images[0]: unknown field `kinds`");
    }
}
