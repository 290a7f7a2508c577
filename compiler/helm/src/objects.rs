//! The Go objects Helm puts in front of templates: `.Files` (with `Get`, `GetBytes`, `Glob`, `Lines`,
//! `AsConfig`, `AsSecrets`), `.Capabilities` (`KubeVersion`, `APIVersions.Has`, `HelmVersion`).

use std::collections::BTreeMap;
use std::sync::Arc;

use kiln_gotemplate::{FuncError, Map, Object, Value};

use crate::chart::FileData;
use crate::toyaml;

/// `.Files`: the chart's non-template files by path.
#[derive(Debug, Clone, Default)]
pub struct Files {
    files: Arc<BTreeMap<String, FileData>>,
}

impl Files {
    pub fn new(files: BTreeMap<String, FileData>) -> Files {
        Files {
            files: Arc::new(files),
        }
    }

    fn get(&self, name: &str) -> Option<&FileData> {
        self.files.get(name)
    }

    fn as_yaml(&self, f: impl Fn(&[u8]) -> String) -> String {
        let mut m = serde_json::Map::new();
        for (k, v) in self.files.iter() {
            let base = k.rsplit('/').next().unwrap_or(k);
            m.insert(base.to_string(), serde_json::Value::String(f(v)));
        }
        toyaml::to_yaml(&serde_json::Value::Object(m))
    }
}

fn want(name: &str, args: &[Value], n: usize) -> Result<(), FuncError> {
    if args.len() != n {
        return Err(FuncError::new(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        )));
    }
    Ok(())
}

fn string_arg(name: &str, v: &Value) -> Result<String, FuncError> {
    match v {
        Value::String(s) => Ok(s.to_string()),
        other => Err(FuncError::new(format!(
            "wrong type for value; expected string; got {} (calling {name})",
            other.type_name()
        ))),
    }
}

impl Object for Files {
    fn type_name(&self) -> &str {
        "files.Files"
    }

    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        let r = match name {
            "Get" => want(name, args, 1).and_then(|_| {
                let p = string_arg(name, &args[0])?;
                Ok(Value::from(
                    self.get(&p)
                        .map(|d| String::from_utf8_lossy(d).into_owned())
                        .unwrap_or_default(),
                ))
            }),
            "GetBytes" => want(name, args, 1).and_then(|_| {
                let p = string_arg(name, &args[0])?;
                Ok(Value::Bytes(
                    self.get(&p)
                        .map(FileData::shared)
                        .unwrap_or_else(|| Arc::from(&[][..])),
                ))
            }),
            "Glob" => want(name, args, 1).and_then(|_| {
                let p = string_arg(name, &args[0])?;
                let g = crate::glob::Glob::new(&p);
                let files: BTreeMap<String, FileData> = self
                    .files
                    .iter()
                    .filter(|(k, _)| g.matches(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Ok(Value::object(Files::new(files)))
            }),
            "Lines" => want(name, args, 1).and_then(|_| {
                let p = string_arg(name, &args[0])?;
                let Some(d) = self.get(&p) else {
                    return Ok(Value::list(Vec::new()));
                };
                let mut s = String::from_utf8_lossy(d).into_owned();
                if s.ends_with('\n') {
                    s.pop();
                }
                Ok(Value::list(
                    s.split('\n').map(Value::from).collect::<Vec<_>>(),
                ))
            }),
            "AsConfig" => want(name, args, 0)
                .map(|_| Value::from(self.as_yaml(|d| String::from_utf8_lossy(d).into_owned()))),
            "AsSecrets" => want(name, args, 0).map(|_| {
                use base64::Engine;
                Value::from(self.as_yaml(|d| base64::engine::general_purpose::STANDARD.encode(d)))
            }),
            _ => return None,
        };
        Some(r)
    }

    fn underlying(&self) -> Option<Value> {
        let m: Map = self
            .files
            .iter()
            .map(|(k, v)| (k.clone(), Value::Bytes(v.shared())))
            .collect();
        Some(Value::Map(m))
    }
}

/// `.Capabilities.APIVersions`: a `[]string` with a `Has` method.
#[derive(Debug, Clone)]
pub struct VersionSet(pub Arc<Vec<String>>);

impl Object for VersionSet {
    fn type_name(&self) -> &str {
        "common.VersionSet"
    }

    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        match name {
            "Has" => Some(want(name, args, 1).and_then(|_| {
                let p = string_arg(name, &args[0])?;
                Ok(Value::Bool(self.0.contains(&p)))
            })),
            _ => None,
        }
    }

    fn underlying(&self) -> Option<Value> {
        Some(Value::list(
            self.0
                .iter()
                .map(|s| Value::from(s.as_str()))
                .collect::<Vec<_>>(),
        ))
    }
}

/// `.Capabilities.KubeVersion`: prints as its `Version`.
#[derive(Debug, Clone)]
pub struct KubeVersion {
    pub version: String,
    pub major: String,
    pub minor: String,
}

impl KubeVersion {
    /// Parses `--kube-version` like Helm (`1.31`, `v1.31.0`).
    pub fn parse(s: &str) -> Result<KubeVersion, String> {
        let v = crate::semver::Version::parse(s)
            .map_err(|_| format!("invalid kube version {s:?}: Invalid Semantic Version"))?;
        Ok(KubeVersion {
            version: format!("v{v}"),
            major: v.major.to_string(),
            minor: v.minor.to_string(),
        })
    }
}

impl Object for KubeVersion {
    fn type_name(&self) -> &str {
        "*common.KubeVersion"
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" | "GitVersion" => Some(Value::from(self.version.as_str())),
            "Major" => Some(Value::from(self.major.as_str())),
            "Minor" => Some(Value::from(self.minor.as_str())),
            _ => None,
        }
    }

    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        match name {
            "String" => Some(want(name, args, 0).map(|_| Value::from(self.version.as_str()))),
            _ => None,
        }
    }

    fn format(&self) -> String {
        self.version.clone()
    }

    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({"Version": self.version, "Major": self.major, "Minor": self.minor}))
    }
}

/// The Helm version kiln reports as `.Capabilities.HelmVersion` (the Helm it is compatible with).
#[derive(Debug, Clone)]
pub struct HelmVersion;

const HELM_VERSION: [(&str, &str, &str); 5] = [
    ("Version", "version", "v4.1.4"),
    ("GitCommit", "git_commit", ""),
    ("GitTreeState", "git_tree_state", "clean"),
    ("GoVersion", "go_version", "kiln"),
    ("KubeClientVersion", "kube_client_version", "v1.35"),
];

impl Object for HelmVersion {
    fn type_name(&self) -> &str {
        "version.BuildInfo"
    }

    fn field(&self, name: &str) -> Option<Value> {
        HELM_VERSION
            .iter()
            .find(|(f, _, _)| *f == name)
            .map(|(_, _, v)| Value::from(*v))
    }

    fn format(&self) -> String {
        let vals: Vec<&str> = HELM_VERSION.iter().map(|(_, _, v)| *v).collect();
        format!("{{{}}}", vals.join(" "))
    }

    fn to_json(&self) -> Option<serde_json::Value> {
        let m: serde_json::Map<String, serde_json::Value> = HELM_VERSION
            .iter()
            .map(|(_, j, v)| (j.to_string(), serde_json::Value::from(*v)))
            .collect();
        Some(serde_json::Value::Object(m))
    }
}

/// Helm's default API versions (what `helm template` assumes without a cluster).
pub fn default_api_versions() -> Vec<String> {
    include_str!("api_versions.txt")
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// `.Capabilities`.
#[derive(Debug, Clone)]
pub struct Capabilities {
    pub kube: Arc<KubeVersion>,
    pub apis: Arc<Vec<String>>,
}

impl Object for Capabilities {
    fn type_name(&self) -> &str {
        "*common.Capabilities"
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "KubeVersion" => Some(Value::Object(self.kube.clone())),
            "APIVersions" => Some(Value::object(VersionSet(self.apis.clone()))),
            "HelmVersion" => Some(Value::object(HelmVersion)),
            _ => None,
        }
    }

    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({
            "KubeVersion": self.kube.to_json(),
            "APIVersions": *self.apis,
            "HelmVersion": HelmVersion.to_json(),
        }))
    }
}
