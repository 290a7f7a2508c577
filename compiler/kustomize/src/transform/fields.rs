//! The field-spec driven built-in transformers: namespace, name prefix/suffix, labels,
//! annotations, images and replica counts.

use regex::Regex;
use serde_json::{Map, Value};

use crate::error::{KustomizeError, Result};
use crate::fieldspec::{CreateKind, FieldSpec, Gvk as FsGvk, visit};
use crate::kustomization::{Image, StringMap};
use crate::resid::Gvk;
use crate::resource::{IdIndex, ResMap, id_hash};

impl From<crate::fieldspec::FieldSpecError> for KustomizeError {
    fn from(e: crate::fieldspec::FieldSpecError) -> Self {
        KustomizeError::build(e.to_string())
    }
}

pub fn fs_gvk(g: &Gvk) -> FsGvk {
    FsGvk {
        group: g.group.clone(),
        version: g.version.clone(),
        kind: g.kind.clone(),
    }
}

fn my_gvk(g: &FsGvk) -> Gvk {
    Gvk::new(&g.group, &g.version, &g.kind)
}

/// How the namespace transformer treats RoleBinding subjects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectMode {
    DefaultOnly,
    None,
    AllServiceAccounts,
}

pub fn namespace(
    m: &mut ResMap,
    ns: &str,
    specs: &[FieldSpec],
    unset_only: bool,
    mode: SubjectMode,
) -> Result<()> {
    if ns.is_empty() {
        return Ok(());
    }
    let set = |v: &mut Value| -> Result<()> {
        if unset_only && v.as_str().is_some_and(|s| !s.is_empty()) {
            return Ok(());
        }
        match v {
            Value::Object(_) | Value::Array(_) => Err(KustomizeError::build(
                "namespace field specs must target scalar nodes",
            )),
            _ => {
                *v = Value::String(ns.into());
                Ok(())
            }
        }
    };
    let mut index = IdIndex::new(&m.resources);
    for i in 0..m.resources.len() {
        let r = &mut m.resources[i];
        if r.obj.as_object().is_none_or(|o| o.is_empty()) {
            continue;
        }
        let old_hash = id_hash(r);
        r.store_previous_id();
        let gvk = r.gvk();
        let api_version = r.api_version().to_string();
        if !gvk.is_cluster_scoped() {
            let md = r.metadata_mut();
            let cur = md
                .entry("namespace")
                .or_insert(Value::String(String::new()));
            set(cur)?;
        }
        let is_binding = gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding";
        if is_binding
            && mode != SubjectMode::None
            && let Some(Value::Array(subjects)) = r.obj.get_mut("subjects")
        {
            for s in subjects {
                let hit = match mode {
                    SubjectMode::DefaultOnly => {
                        s.get("name").and_then(Value::as_str) == Some("default")
                    }
                    _ => s.get("kind").and_then(Value::as_str) == Some("ServiceAccount"),
                };
                if hit && let Some(o) = s.as_object_mut() {
                    let cur = o.entry("namespace").or_insert(Value::String(String::new()));
                    set(cur)?;
                }
            }
        }
        for spec in specs {
            if spec.path == "metadata/namespace" {
                continue;
            }
            if api_version != "v1" && spec.path == "metadata/name" {
                continue;
            }
            if is_binding && spec.path == "subjects/namespace" {
                continue;
            }
            visit(&mut r.obj, spec, Some(CreateKind::Scalar), set)?;
        }
        let hash = id_hash(&m.resources[i]);
        if hash != old_hash {
            index.remove(old_hash, i);
            index.insert(hash, i);
        }
        if index
            .equal_positions(&m.resources, hash, &m.resources[i])
            .len()
            != 1
        {
            let id = m.resources[i].cur_id();
            return Err(KustomizeError::build(format!(
                "namespace transformation produces ID conflict: {id}"
            )));
        }
    }
    Ok(())
}

/// Adds `pairs` to the maps `specs` name (labels and annotations transformers).
pub fn add_map_entries(m: &mut ResMap, pairs: &StringMap, specs: &[FieldSpec]) -> Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    let mut keys: Vec<&String> = pairs.keys().collect();
    keys.sort();
    for r in &mut m.resources {
        for spec in specs {
            visit(
                &mut r.obj,
                spec,
                Some(CreateKind::Map),
                |v: &mut Value| -> Result<()> {
                    if v.is_null() {
                        *v = Value::Object(Map::new());
                    }
                    let Value::Object(map) = v else {
                        return Err(KustomizeError::build(format!(
                            "wrong node kind: expected MappingNode at '{}'",
                            spec.path
                        )));
                    };
                    for k in &keys {
                        map.insert((*k).clone(), Value::String(pairs[*k].clone()));
                    }
                    Ok(())
                },
            )?;
        }
    }
    Ok(())
}

/// `namePrefix` / `nameSuffix` (kustomize's PrefixTransformer and SuffixTransformer).
pub fn prefix_suffix(
    m: &mut ResMap,
    prefix: &str,
    suffix: &str,
    specs: &[FieldSpec],
) -> Result<()> {
    let skip = [
        Gvk::new("", "", "CustomResourceDefinition"),
        Gvk::new("apiregistration.k8s.io", "", "APIService"),
        Gvk::new("", "", "Namespace"),
    ];
    // Each spec's selector, and the spec as walked: on any type, the selector having been
    // checked against the original id.
    let specs: Vec<(Gvk, &FieldSpec, FieldSpec)> = specs
        .iter()
        .map(|spec| {
            let any = FieldSpec::new(FsGvk::default(), &spec.path, spec.create);
            (my_gvk(&spec.gvk), spec, any)
        })
        .collect();
    for r in &mut m.resources {
        let org = r.org_id();
        if skip.iter().any(|s| org.gvk.is_selected(s)) {
            continue;
        }
        for (selector, spec, any) in &specs {
            if !org.gvk.is_selected(selector) {
                continue;
            }
            if spec.path == "metadata/name" {
                if !prefix.is_empty() {
                    r.prefixes.push(prefix.to_string());
                }
                if !suffix.is_empty() {
                    r.suffixes.push(suffix.to_string());
                }
                r.store_previous_id();
            }
            visit(&mut r.obj, any, None, |v: &mut Value| -> Result<()> {
                if let Value::String(s) = v {
                    *s = format!("{prefix}{s}{suffix}");
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// kustomize's `image.Split`: name, tag and digest of an image reference.
pub fn split_image(image: &str) -> (String, String, String) {
    let (search, offset) = match image.find('/') {
        Some(i) if i > 0 => (&image[i..], i),
        _ => (image, 0),
    };
    let id = search.find('@');
    let ic = search.find(':');
    match (ic, id) {
        (None, None) => (image.to_string(), String::new(), String::new()),
        (ic, Some(d)) if ic.is_none() || d < ic.unwrap_or(usize::MAX) => {
            let d = d + offset;
            (
                image[..d].to_string(),
                String::new(),
                image[d + 1..].to_string(),
            )
        }
        (Some(c), Some(d)) => {
            let (c, d) = (c + offset, d + offset);
            (
                image[..c].to_string(),
                image[c + 1..d].to_string(),
                image[d + 1..].to_string(),
            )
        }
        (Some(c), None) => {
            let c = c + offset;
            (
                image[..c].to_string(),
                image[c + 1..].to_string(),
                String::new(),
            )
        }
        (None, Some(_)) => unreachable!("handled by the digest-only arm"),
    }
}

/// Which images an `images:` entry rewrites: kustomize's regular expression
/// `^NAME(@sha256)?(:[a-zA-Z0-9_.{}-]*)?$`, matched by hand when NAME is plain text.
enum ImageMatcher {
    Plain(String),
    Regex(Regex),
}

impl ImageMatcher {
    fn is_match(&self, image: &str) -> bool {
        match self {
            ImageMatcher::Plain(name) => {
                let Some(end) = crate::pattern::plain_prefix(name, image) else {
                    return false;
                };
                let rest = &image[end..];
                let rest = rest.strip_prefix("@sha256").unwrap_or(rest);
                match rest.strip_prefix(':') {
                    None => rest.is_empty(),
                    Some(tag) => tag
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_.{}-".contains(c)),
                }
            }
            ImageMatcher::Regex(re) => re.is_match(image),
        }
    }
}

pub struct ImageUpdater {
    matcher: ImageMatcher,
    image: Image,
}

impl ImageUpdater {
    pub fn new(image: &Image) -> Result<Self> {
        let name = image.name.clone().unwrap_or_default();
        let matcher = if crate::pattern::is_plain(&name) {
            ImageMatcher::Plain(name)
        } else {
            let re = Regex::new(&format!("^{name}(@sha256)?(:[a-zA-Z0-9_.{{}}-]*)?$"))
                .map_err(|e| KustomizeError::build(format!("invalid image name '{name}': {e}")))?;
            ImageMatcher::Regex(re)
        };
        Ok(ImageUpdater {
            matcher,
            image: image.clone(),
        })
    }

    /// Whether the updater rewrites this image reference.
    pub fn matches(&self, image: &str) -> bool {
        self.matcher.is_match(image)
    }

    pub fn update(&self, v: &mut Value) {
        let Value::String(s) = v else {
            return;
        };
        if !self.matcher.is_match(s) {
            return;
        }
        let (mut name, mut tag, mut digest) = split_image(s);
        let im = &self.image;
        if let Some(n) = im.new_name.as_deref().filter(|n| !n.is_empty()) {
            name = n.to_string();
        }
        let new_tag = im.new_tag.as_deref().unwrap_or("");
        let new_digest = im.digest.as_deref().unwrap_or("");
        if !new_tag.is_empty() && !new_digest.is_empty() {
            tag = new_tag.into();
            digest = new_digest.into();
        } else if !new_tag.is_empty() {
            tag = new_tag.into();
            digest.clear();
        } else if !new_digest.is_empty() {
            tag.clear();
            digest = new_digest.into();
        }
        if let Some(sfx) = im.tag_suffix.as_deref() {
            tag.push_str(sfx);
        }
        if !tag.is_empty() {
            name = format!("{name}:{tag}");
        }
        if !digest.is_empty() {
            name = format!("{name}@{digest}");
        }
        *s = name;
    }
}

fn legacy_images(v: &mut Value, up: &ImageUpdater) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                legacy_images(child, up);
                if (k == "containers" || k == "initContainers")
                    && let Value::Array(items) = child
                {
                    for c in items {
                        if let Some(img) = c.get_mut("image") {
                            up.update(img);
                        }
                    }
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| legacy_images(i, up)),
        _ => {}
    }
}

/// `images:` (ImageTagTransformer): every container image plus the configured fields.
pub fn images(m: &mut ResMap, image: &Image, specs: &[FieldSpec]) -> Result<()> {
    let up = ImageUpdater::new(image)?;
    for r in &mut m.resources {
        if r.kind() == "CustomResourceDefinition" {
            continue;
        }
        legacy_images(&mut r.obj, &up);
        for spec in specs {
            visit(&mut r.obj, spec, None, |v: &mut Value| -> Result<()> {
                up.update(v);
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// `replicas:` (ReplicaCountTransformer).
pub fn replicas(m: &mut ResMap, name: &str, count: i64, specs: &[FieldSpec]) -> Result<()> {
    let mut found = false;
    for spec in specs {
        let sel = my_gvk(&spec.gvk);
        for r in &mut m.resources {
            let hit = r
                .all_ids()
                .iter()
                .any(|id| id.name == name && id.gvk.is_selected(&sel));
            if !hit {
                continue;
            }
            found = true;
            visit(
                &mut r.obj,
                spec,
                Some(CreateKind::Scalar),
                |v: &mut Value| -> Result<()> {
                    *v = Value::from(count);
                    Ok(())
                },
            )?;
        }
    }
    if !found {
        let gvks: Vec<String> = specs.iter().map(|s| my_gvk(&s.gvk).to_string()).collect();
        return Err(KustomizeError::build(format!(
            "resource with name {name} does not match a config with the following GVK [{}]",
            gvks.join(" ")
        )));
    }
    Ok(())
}

/// Field specs from a plugin config's `fieldSpecs:` list.
pub fn specs_from_value(v: Option<&Value>) -> Result<Vec<FieldSpec>> {
    let mut out = Vec::new();
    if let Some(Value::Array(items)) = v {
        for (i, it) in items.iter().enumerate() {
            out.push(FieldSpec::from_value(it, &format!("fieldSpecs[{i}]"))?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain image names skip the regex engine; they must select what kustomize's regular
    /// expression selects.
    #[test]
    fn image_names_match_like_kustomizes_regex() {
        let images = [
            "nginx",
            "nginx:1.25",
            "nginx@sha256:abc",
            "nginx:1.2@sha256:abc",
            "nginx:{{x}}",
            "nginx:a/b",
            "nginxy",
            "xnginx",
            "my.reg/app:v1",
            "myxreg/app:v1",
            "nginx:",
            "nginx@sha256",
            "nginx@sha512:abc",
            "",
        ];
        for name in ["nginx", "my.reg/app", "", "ngin."] {
            let up = ImageUpdater::new(&Image {
                name: Some(name.into()),
                ..Image::default()
            })
            .unwrap();
            assert!(matches!(up.matcher, ImageMatcher::Plain(_)));
            let re = Regex::new(&format!("^{name}(@sha256)?(:[a-zA-Z0-9_.{{}}-]*)?$")).unwrap();
            for image in images {
                assert_eq!(
                    up.matches(image),
                    re.is_match(image),
                    "{name:?} on {image:?}"
                );
            }
        }
    }

    #[test]
    fn split_image_forms() {
        assert_eq!(split_image("nginx"), ("nginx".into(), "".into(), "".into()));
        assert_eq!(
            split_image("nginx:1.2"),
            ("nginx".into(), "1.2".into(), "".into())
        );
        assert_eq!(
            split_image("my.reg:5000/app:v1@sha256:abc"),
            ("my.reg:5000/app".into(), "v1".into(), "sha256:abc".into())
        );
        assert_eq!(
            split_image("app@sha256:abc"),
            ("app".into(), "".into(), "sha256:abc".into())
        );
    }

    #[test]
    fn image_update_replaces_tag_and_drops_digest() {
        let up = ImageUpdater::new(&Image {
            name: Some("nginx".into()),
            new_tag: Some("2".into()),
            ..Default::default()
        })
        .unwrap();
        let mut v = Value::String("nginx@sha256:abc".into());
        up.update(&mut v);
        assert_eq!(v, Value::String("nginx:2".into()));
        let mut other = Value::String("nginx-other:1".into());
        up.update(&mut other);
        assert_eq!(other, Value::String("nginx-other:1".into()));
    }
}
