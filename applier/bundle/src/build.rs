//! Turning a [`BundleSpec`] into the exact files of a bundle, in memory.
//!
//! Both on-disk forms (directory and tar) and the digest come from [`build`]'s output, so they
//! cannot disagree. Nothing here reads the clock, the environment or the filesystem, and every
//! collection is ordered before it is written.

use crate::canonical;
use crate::digest::Digest;
use crate::error::BundleError;
use crate::layout;
use crate::model::{
    BundleSpec, ComponentEntry, FORMAT, Manifest, ObjectEntry, ObjectId, ObjectKey, Provenance,
    Tenancy,
};
use crate::par;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// A bundle ready to be written: its manifest, every file's bytes, and its digest.
#[derive(Debug, Clone)]
pub struct BuiltBundle {
    pub manifest: Manifest,
    /// Every file of the bundle (manifest included) by path, sorted by path.
    pub files: BTreeMap<String, Vec<u8>>,
    /// blake3 of the canonical manifest bytes.
    pub digest: Digest,
}

/// Builds the canonical files of a bundle, checking the spec: objects are valid and unique by
/// group/kind/namespace/name, provenance files are relative, and waves order the components.
pub fn build(spec: &BundleSpec) -> Result<BuiltBundle, BundleError> {
    let wave_of = check_waves(spec)?;
    let mut seen: BTreeMap<ObjectKey, &Provenance> = BTreeMap::new();
    let mut pending = Vec::with_capacity(spec.components.len());

    for component in &spec.components {
        let mut objects = Vec::with_capacity(component.objects.len());
        for (object, provenance) in &component.objects {
            if is_absolute(&provenance.file) {
                return Err(BundleError::AbsoluteProvenance {
                    component: component.name.clone(),
                    file: provenance.file.clone(),
                });
            }
            let id = ObjectId::of(object).map_err(|reason| BundleError::InvalidObject {
                provenance: Box::new(provenance.clone()),
                reason,
            })?;
            if let Some(first) = seen.insert(id.key(), provenance) {
                return Err(BundleError::DuplicateObject {
                    id: id.key().to_string(),
                    first: Box::new(first.clone()),
                    second: Box::new(provenance.clone()),
                });
            }
            objects.push((id, object, provenance));
        }
        objects.sort_by(|a, b| id_order(&a.0).cmp(&id_order(&b.0)));
        let ids: Vec<&ObjectId> = objects.iter().map(|o| &o.0).collect();
        let paths = layout::object_paths(&component.name, &ids);
        pending.push((component, objects, paths));
    }

    // Emitting and hashing dominate; they are independent per object.
    let all: Vec<&Value> = pending
        .iter()
        .flat_map(|(_, objects, _)| objects.iter().map(|o| o.1))
        .collect();
    let mut encoded = par::map(&all, |object| {
        let bytes = canonical::object_bytes(object);
        let digest = Digest::of(&bytes);
        (bytes, digest)
    })
    .into_iter();

    let mut files = BTreeMap::new();
    let mut components = Vec::with_capacity(spec.components.len());
    for (component, objects, paths) in pending {
        let mut entries = Vec::with_capacity(objects.len());
        for ((id, _, provenance), path) in objects.into_iter().zip(paths) {
            let Some((bytes, digest)) = encoded.next() else {
                break;
            };
            files.insert(path.clone(), bytes);
            entries.push(ObjectEntry {
                id,
                file: path,
                digest,
                provenance: provenance.clone(),
            });
        }
        let mut depends_on = component.depends_on.clone();
        depends_on.sort();
        depends_on.dedup();
        components.push(ComponentEntry {
            name: component.name.clone(),
            depends_on,
            wave: wave_of[component.name.as_str()],
            objects: entries,
            tenancy: tenancy(&component.tenancy),
        });
    }
    components.sort_by(|a, b| (a.wave, &a.name).cmp(&(b.wave, &b.name)));

    let waves = spec
        .waves
        .iter()
        .map(|wave| {
            let mut wave = wave.clone();
            wave.sort();
            wave
        })
        .collect();
    let manifest = Manifest {
        format: FORMAT.to_string(),
        project: spec.project.clone(),
        target: spec.target.clone(),
        compiler: spec.compiler_version.clone(),
        waves,
        components,
        lock: spec.lock.as_ref().map(canonical::sort_keys),
    };
    let manifest_bytes = canonical::manifest_bytes(&manifest).map_err(BundleError::Serialize)?;
    let digest = Digest::of(&manifest_bytes);
    files.insert(layout::MANIFEST.to_string(), manifest_bytes);
    Ok(BuiltBundle {
        manifest,
        files,
        digest,
    })
}

/// Manifest order of objects in a component: group, kind, namespace, name, version.
fn id_order(id: &ObjectId) -> (&str, &str, Option<&str>, &str, &str) {
    (
        &id.group,
        &id.kind,
        id.namespace.as_deref(),
        &id.name,
        &id.version,
    )
}

/// The recorded policy: namespaces sorted and without repeats, so equal policies hash equally.
fn tenancy(t: &Tenancy) -> Tenancy {
    let mut t = t.clone();
    if let Some(ns) = &mut t.namespaces {
        ns.sort();
        ns.dedup();
    }
    t
}

fn is_absolute(file: &str) -> bool {
    let b = file.as_bytes();
    file.starts_with('/')
        || file.starts_with('\\')
        || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

/// Checks that components are unique, each is in exactly one wave, every dependency exists and
/// is in an earlier wave; returns each component's wave.
fn check_waves(spec: &BundleSpec) -> Result<BTreeMap<&str, usize>, BundleError> {
    let invalid = |m: String| Err(BundleError::InvalidSpec(m));
    let mut names = BTreeSet::new();
    for c in &spec.components {
        if !names.insert(c.name.as_str()) {
            return invalid(format!("component `{}` is listed twice", c.name));
        }
    }
    let mut wave_of = BTreeMap::new();
    for (i, wave) in spec.waves.iter().enumerate() {
        for name in wave {
            if !names.contains(name.as_str()) {
                return invalid(format!("wave {i} names unknown component `{name}`"));
            }
            if wave_of.insert(name.as_str(), i).is_some() {
                return invalid(format!("component `{name}` is in more than one wave"));
            }
        }
    }
    for c in &spec.components {
        let Some(&wave) = wave_of.get(c.name.as_str()) else {
            return invalid(format!("component `{}` is in no wave", c.name));
        };
        for dep in &c.depends_on {
            match wave_of.get(dep.as_str()) {
                None => {
                    return invalid(format!(
                        "component `{}` depends on unknown component `{dep}`",
                        c.name
                    ));
                }
                Some(&d) if d >= wave => {
                    return invalid(format!(
                        "component `{}` (wave {wave}) depends on `{dep}` (wave {d}), which is not in an earlier wave",
                        c.name
                    ));
                }
                Some(_) => {}
            }
        }
    }
    Ok(wave_of)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ComponentSpec;
    use serde_json::json;

    fn spec(waves: Vec<Vec<&str>>, deps: &[(&str, &[&str])]) -> BundleSpec {
        BundleSpec {
            project: "p".into(),
            target: "t".into(),
            compiler_version: "k".into(),
            components: deps
                .iter()
                .map(|(name, on)| ComponentSpec {
                    name: name.to_string(),
                    depends_on: on.iter().map(|s| s.to_string()).collect(),
                    objects: vec![],
                    tenancy: Default::default(),
                })
                .collect(),
            waves: waves
                .into_iter()
                .map(|w| w.into_iter().map(String::from).collect())
                .collect(),
            lock: None,
        }
    }

    fn error(spec: &BundleSpec) -> String {
        build(spec).unwrap_err().to_string()
    }

    #[test]
    fn waves_must_order_dependencies() {
        assert!(
            build(&spec(
                vec![vec!["a"], vec!["b"]],
                &[("a", &[]), ("b", &["a"])]
            ))
            .is_ok()
        );
        assert_eq!(
            error(&spec(vec![vec!["a", "b"]], &[("a", &[]), ("b", &["a"])])),
            "invalid bundle spec: component `b` (wave 0) depends on `a` (wave 0), which is not in an earlier wave"
        );
        assert_eq!(
            error(&spec(vec![vec!["a"]], &[("a", &[]), ("b", &[])])),
            "invalid bundle spec: component `b` is in no wave"
        );
        assert_eq!(
            error(&spec(vec![vec!["a", "x"]], &[("a", &[])])),
            "invalid bundle spec: wave 0 names unknown component `x`"
        );
        assert_eq!(
            error(&spec(vec![vec!["a"]], &[("a", &["zz"])])),
            "invalid bundle spec: component `a` depends on unknown component `zz`"
        );
    }

    #[test]
    fn duplicates_and_absolute_paths_are_refused() {
        let mut s = spec(vec![vec!["a"]], &[("a", &[])]);
        let object = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w", "namespace": "n"}});
        let mut other_version = object.clone();
        other_version["apiVersion"] = json!("apps/v1beta1");
        let prov = |line| Provenance {
            component: "a".into(),
            source: None,
            file: "x.yaml".into(),
            line,
            producer: "manifests".into(),
        };
        s.components[0].objects = vec![(object.clone(), prov(1)), (other_version, prov(9))];
        assert_eq!(
            error(&s),
            "Deployment.apps n/w is defined twice: at x.yaml:1 (component `a`) and at x.yaml:9 (component `a`)"
        );
        let mut absolute = prov(1);
        absolute.file = "/home/me/x.yaml".into();
        s.components[0].objects = vec![(object, absolute)];
        assert!(matches!(
            build(&s),
            Err(BundleError::AbsoluteProvenance { .. })
        ));
    }
}
