//! Charts as Helm loads them: `Chart.yaml` (v1/v2), values, schema, templates, other files and
//! subcharts, from a directory (honouring `.helmignore`) or a `.tgz` archive.
//!
//! Mirrors Helm's loader (`pkg/chart/loader`): every file that is not chart metadata, values,
//! schema, a template or a subchart becomes one of the chart's `.Files`.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::HelmError;
pub use crate::filedata::FileData;
use crate::ignore::Rules;
use crate::yamlvalues;

/// A file of a chart, named by its path relative to the chart root (`templates/x.yaml`).
#[derive(Debug, Clone)]
pub struct File {
    pub name: String,
    /// Shared: a chart is cloned per render and its files handed to `.Files` without copying.
    pub data: FileData,
}

/// A dependency declared in `Chart.yaml` (or `requirements.yaml` for v1 charts).
#[derive(Debug, Clone, Default)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    pub import_values: Vec<Value>,
    pub alias: String,
}

/// `Chart.yaml`, with the raw document kept so `.Chart` can show every field.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    pub api_version: String,
    pub name: String,
    pub version: String,
    pub app_version: String,
    pub kube_version: String,
    pub description: String,
    pub chart_type: String,
    pub home: String,
    pub icon: String,
    pub condition: String,
    pub tags: String,
    pub deprecated: bool,
    pub keywords: Vec<String>,
    pub sources: Vec<String>,
    pub maintainers: Vec<Value>,
    pub annotations: Map<String, Value>,
    pub dependencies: Vec<Dependency>,
}

/// A loaded chart and its subcharts.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    pub metadata: Metadata,
    /// `values.yaml`, decoded the way Helm does (numbers are float64); shared, because a chart
    /// is cloned per render and while its dependencies are processed.
    pub values: std::sync::Arc<Map<String, Value>>,
    pub schema: Option<FileData>,
    pub templates: Vec<File>,
    pub files: Vec<File>,
    pub dependencies: Vec<Chart>,
    /// `parent/charts/name` path Helm uses in template names and `# Source:` lines.
    pub full_path: String,
    /// Where the chart was loaded from, for diagnostics.
    pub origin: PathBuf,
}

impl Chart {
    /// The chart's name (its alias once dependencies are resolved).
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Whether this is a library chart (only its `_` partials are used).
    pub fn is_library(&self) -> bool {
        self.metadata.chart_type == "library"
    }

    /// Loads a chart from a directory or a `.tgz` archive.
    pub fn load(path: &Path) -> Result<Chart, HelmError> {
        Chart::from_files(ChartFiles::read(path)?)
    }

    /// Builds the chart from its files: metadata, values, templates and subcharts.
    pub fn from_files(files: ChartFiles) -> Result<Chart, HelmError> {
        let mut chart = match files.content {
            Content::Dir(list) => load_files(list, &files.origin)?,
            Content::Archive(data) => load_archive(&data, &files.origin)?,
        };
        chart.set_full_paths(None);
        Ok(chart)
    }

    /// Sets `full_path` of this chart and its subcharts from the parent's path.
    pub fn set_full_paths(&mut self, parent: Option<&str>) {
        self.full_path = match parent {
            None => self.metadata.name.clone(),
            Some(p) => format!("{p}/charts/{}", self.metadata.name),
        };
        let me = self.full_path.clone();
        for d in &mut self.dependencies {
            d.set_full_paths(Some(&me));
        }
    }

    /// `crds/` files of this chart and its subcharts, with the path Helm prints for them.
    pub fn crd_objects(&self) -> Vec<(String, &File)> {
        let mut out = Vec::new();
        for f in &self.files {
            if f.name.starts_with("crds/")
                && (f.name.ends_with(".yaml")
                    || f.name.ends_with(".yml")
                    || f.name.ends_with(".json"))
            {
                out.push((format!("{}/{}", self.full_path, f.name), f));
            }
        }
        for d in &self.dependencies {
            out.extend(d.crd_objects());
        }
        out
    }
}

/// A chart's files, read but not yet understood: what [`Chart::load`] reads before it decodes,
/// so that a caller can start on the templates meanwhile.
pub struct ChartFiles {
    origin: PathBuf,
    content: Content,
}

enum Content {
    Dir(Vec<File>),
    Archive(Vec<u8>),
}

impl ChartFiles {
    /// Reads a chart directory (honouring `.helmignore`) or a `.tgz` archive.
    pub fn read(path: &Path) -> Result<ChartFiles, HelmError> {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                HelmError::load(path, format!("path {:?} not found", path.display()))
            }
            _ => HelmError::load(path, format!("path {:?}: {e}", path.display())),
        })?;
        let content = if meta.is_dir() {
            Content::Dir(read_dir_files(path)?)
        } else {
            Content::Archive(std::fs::read(path).map_err(|e| {
                HelmError::load(path, format!("cannot read {}: {e}", path.display()))
            })?)
        };
        Ok(ChartFiles {
            origin: path.to_path_buf(),
            content,
        })
    }

    /// The files of a chart directory, by path relative to it; none for an archive.
    pub fn files(&self) -> &[File] {
        match &self.content {
            Content::Dir(files) => files,
            Content::Archive(_) => &[],
        }
    }
}

/// Walks a chart directory like Helm: `.helmignore` applies to the whole tree, symlinks are followed,
/// dangling links are errors.
fn read_dir_files(root: &Path) -> Result<Vec<File>, HelmError> {
    let rules = match std::fs::read_to_string(root.join(".helmignore")) {
        Ok(text) => {
            Rules::parse(&text).map_err(|e| HelmError::load(&root.join(".helmignore"), e))?
        }
        Err(_) => Rules::defaults(),
    };
    let mut found = Vec::new();
    walk(root, "", &rules, &mut found)?;
    // Reading is most of a big chart's load; the files are independent.
    crate::parallel::map_when(found.len() >= 64, &found, |(rel_path, path)| {
        crate::filedata::read(path, !is_template(rel_path))
            .map(|data| File {
                name: rel_path.clone(),
                data,
            })
            .map_err(|e| HelmError::load(path, format!("cannot read {rel_path}: {e}")))
    })
    .into_iter()
    .collect()
}

/// Whether the file at `rel_path` in a chart directory is a template of the chart or of one of its
/// subcharts (`charts/sub/templates/x.yaml`).
fn is_template(rel_path: &str) -> bool {
    let mut rest = rel_path;
    while let Some(sub) = rest.strip_prefix("charts/") {
        match sub.split_once('/') {
            Some((_, inner)) => rest = inner,
            None => return false,
        }
    }
    rest.starts_with("templates/")
}

/// Lists the files of `dir` (relative path, full path) in Helm's walk order.
fn walk(
    dir: &Path,
    rel: &str,
    rules: &Rules,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), HelmError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| HelmError::load(dir, format!("cannot read directory: {e}")))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel_path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let path = entry.path();
        // The directory listing tells the type of most entries; only links need a `stat`.
        let is_dir = match entry.file_type() {
            Ok(t) if !t.is_symlink() => t.is_dir(),
            _ => std::fs::metadata(&path)
                .map_err(|e| {
                    HelmError::load(
                        &path,
                        format!("error reading {rel_path}: {e} (a dangling symbolic link?)"),
                    )
                })?
                .is_dir(),
        };
        if is_dir {
            if rules.ignored(&rel_path, true) {
                continue;
            }
            walk(&path, &rel_path, rules, out)?;
            continue;
        }
        if rules.ignored(&rel_path, false) {
            continue;
        }
        out.push((rel_path, path));
    }
    Ok(())
}

/// Reads a gzipped chart archive; the first path component (the chart's directory) is dropped.
fn load_archive(data: &[u8], origin: &Path) -> Result<Chart, HelmError> {
    let gz = flate2::read::GzDecoder::new(data);
    let mut archive = tar::Archive::new(gz);
    let mut files = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| HelmError::load(origin, format!("cannot read chart archive: {e}")))?;
    for entry in entries {
        let mut entry = entry
            .map_err(|e| HelmError::load(origin, format!("cannot read chart archive: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| HelmError::load(origin, format!("bad path in chart archive: {e}")))?
            .to_string_lossy()
            .replace('\\', "/");
        let Some((_, rest)) = path.split_once('/') else {
            continue;
        };
        if rest.is_empty() {
            continue;
        }
        let size = usize::try_from(entry.size()).unwrap_or(usize::MAX);
        let data = crate::filedata::read_sized(&mut entry, size)
            .map_err(|e| HelmError::load(origin, format!("cannot read chart archive: {e}")))?;
        files.push(File {
            name: rest.to_string(),
            data: data.into(),
        });
    }
    if files.is_empty() {
        return Err(HelmError::load(
            origin,
            "no files in chart archive".to_string(),
        ));
    }
    load_files(files, origin)
}

/// Builds a chart from its files (paths relative to the chart root), like Helm's `LoadFiles`.
fn load_files(files: Vec<File>, origin: &Path) -> Result<Chart, HelmError> {
    let mut chart = Chart {
        origin: origin.to_path_buf(),
        ..Chart::default()
    };
    let mut have_meta = false;
    let mut values_file: Option<File> = None;
    let mut requirements: Option<File> = None;
    let mut subcharts: Vec<(String, Vec<File>)> = Vec::new();
    for f in files {
        let name = f.name.as_str();
        if name == "Chart.yaml" {
            chart.metadata = parse_metadata(&f.data, &origin.join("Chart.yaml"))?;
            have_meta = true;
        } else if name == "values.yaml" {
            values_file = Some(f);
        } else if name == "values.schema.json" {
            chart.schema = Some(f.data);
        } else if name == "requirements.yaml" {
            requirements = Some(f);
        } else if name == "Chart.lock" || name == "requirements.lock" {
        } else if name.starts_with("templates/") {
            chart.templates.push(f);
        } else if let Some(rest) = name.strip_prefix("charts/") {
            if name.ends_with(".prov") {
                chart.files.push(f);
                continue;
            }
            let cname = rest.split('/').next().unwrap_or(rest).to_string();
            let sub = File {
                name: rest.to_string(),
                data: f.data,
            };
            match subcharts.iter_mut().find(|(n, _)| *n == cname) {
                Some((_, v)) => v.push(sub),
                None => subcharts.push((cname, vec![sub])),
            }
        } else {
            chart.files.push(f);
        }
    }
    if !have_meta {
        return Err(HelmError::load(
            origin,
            "Chart.yaml file is missing".to_string(),
        ));
    }
    subcharts.sort_by(|a, b| a.0.cmp(&b.0));
    subcharts.retain(|(cname, _)| !(cname.starts_with('_') || cname.starts_with('.')));
    // The values file and the subcharts are decoded at the same time (on all cores).
    let jobs: Vec<Option<(String, Vec<File>)>> = std::iter::once(None)
        .chain(subcharts.into_iter().map(Some))
        .collect();
    let size: usize = jobs
        .iter()
        .flatten()
        .flat_map(|(_, files)| files.iter().map(|f| f.data.len()))
        .sum();
    let mut done = crate::parallel::map_when(
        size >= crate::parallel::WORTH_A_THREAD,
        &jobs,
        |job| match job {
            None => values_file
                .as_ref()
                .map(|f| {
                    yamlvalues::parse_map(&f.data).map_err(|e| {
                        e.into_helm_values(&origin.join("values.yaml"), "cannot load values.yaml")
                    })
                })
                .transpose()
                .map(|v| (v, None)),
            Some((cname, files)) => load_subchart(cname, files, origin, &chart.metadata.name)
                .map(|sub| (None, Some(sub))),
        },
    )
    .into_iter();
    if let Some(values) = done.next().transpose()?.and_then(|(v, _)| v) {
        chart.values = values.into();
    }
    if let Some(req) = requirements {
        let doc = yamlvalues::parse_value(&req.data).map_err(|e| {
            e.into_helm(
                &origin.join("requirements.yaml"),
                "cannot load requirements.yaml",
            )
        })?;
        if let Some(deps) = doc.get("dependencies").and_then(Value::as_array) {
            chart.metadata.dependencies = deps.iter().map(parse_dependency).collect();
        }
        if chart.metadata.api_version == "v1" {
            chart.files.push(req);
        }
    }
    for sub in done {
        if let (_, Some(sub)) = sub? {
            chart.dependencies.push(sub);
        }
    }
    validate(&chart, origin)?;
    Ok(chart)
}

/// Loads the subchart `cname` of the chart `parent` from its files under `charts/`.
fn load_subchart(
    cname: &str,
    files: &[File],
    origin: &Path,
    parent: &str,
) -> Result<Chart, HelmError> {
    let sub_origin = origin.join("charts").join(cname);
    let wrap = |e: HelmError| {
        HelmError::load(
            &sub_origin,
            format!(
                "error unpacking subchart {cname} in {parent}: {}",
                e.message()
            ),
        )
    };
    if cname.ends_with(".tgz") {
        load_archive(&files[0].data, &sub_origin).map_err(wrap)
    } else {
        let inner: Vec<File> = files
            .iter()
            .filter_map(|f| {
                f.name.split_once('/').map(|(_, rest)| File {
                    name: rest.to_string(),
                    data: f.data.clone(),
                })
            })
            .collect();
        load_files(inner, &sub_origin).map_err(wrap)
    }
}

fn validate(chart: &Chart, origin: &Path) -> Result<(), HelmError> {
    let m = &chart.metadata;
    let err = |msg: String| {
        Err(HelmError::load(
            &origin.join("Chart.yaml"),
            format!("validation: {msg}"),
        ))
    };
    if m.api_version.is_empty() {
        return err("chart.metadata.apiVersion is required".into());
    }
    if m.name.is_empty() {
        return err("chart.metadata.name is required".into());
    }
    if m.version.is_empty() {
        return err("chart.metadata.version is required".into());
    }
    if crate::semver::Version::parse(&m.version).is_err() {
        return err(format!("chart.metadata.version {:?} is invalid", m.version));
    }
    if !matches!(m.chart_type.as_str(), "" | "application" | "library") {
        return err("chart.metadata.type must be application or library".into());
    }
    Ok(())
}

fn str_field(doc: &Value, key: &str) -> String {
    match doc.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => crate::gofmt::number_as_yaml_string(n),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn str_list(doc: &Value, key: &str) -> Vec<String> {
    doc.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn parse_dependency(v: &Value) -> Dependency {
    Dependency {
        name: str_field(v, "name"),
        version: str_field(v, "version"),
        repository: str_field(v, "repository"),
        condition: str_field(v, "condition"),
        tags: str_list(v, "tags"),
        enabled: false,
        import_values: v
            .get("import-values")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        alias: str_field(v, "alias"),
    }
}

fn parse_metadata(data: &[u8], path: &Path) -> Result<Metadata, HelmError> {
    let doc =
        yamlvalues::parse_value(data).map_err(|e| e.into_helm(path, "cannot load Chart.yaml"))?;
    Ok(Metadata {
        api_version: str_field(&doc, "apiVersion"),
        name: str_field(&doc, "name"),
        version: str_field(&doc, "version"),
        app_version: str_field(&doc, "appVersion"),
        kube_version: str_field(&doc, "kubeVersion"),
        description: str_field(&doc, "description"),
        chart_type: str_field(&doc, "type"),
        home: str_field(&doc, "home"),
        icon: str_field(&doc, "icon"),
        condition: str_field(&doc, "condition"),
        tags: str_field(&doc, "tags"),
        deprecated: doc
            .get("deprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        keywords: str_list(&doc, "keywords"),
        sources: str_list(&doc, "sources"),
        maintainers: doc
            .get("maintainers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        annotations: doc
            .get("annotations")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        dependencies: doc
            .get("dependencies")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(parse_dependency).collect())
            .unwrap_or_default(),
    })
}

impl Metadata {
    /// `.Chart` as templates see it: Helm's `chart.Metadata` fields under their Go names.
    pub fn to_template_value(&self, is_root: bool) -> Value {
        let strs = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
        let maintainers: Vec<Value> = self
            .maintainers
            .iter()
            .map(|m| {
                let f = |k: &str| Value::String(str_field(m, k));
                serde_json::json!({"Name": f("name"), "Email": f("email"), "URL": f("url")})
            })
            .collect();
        let deps: Vec<Value> = self
            .dependencies
            .iter()
            .map(|d| {
                serde_json::json!({
                    "Name": d.name, "Version": d.version, "Repository": d.repository,
                    "Condition": d.condition, "Tags": strs(&d.tags), "Enabled": d.enabled,
                    "ImportValues": d.import_values, "Alias": d.alias,
                })
            })
            .collect();
        serde_json::json!({
            "Name": self.name,
            "Home": self.home,
            "Sources": strs(&self.sources),
            "Version": self.version,
            "Description": self.description,
            "Keywords": strs(&self.keywords),
            "Maintainers": maintainers,
            "Icon": self.icon,
            "APIVersion": self.api_version,
            "Condition": self.condition,
            "Tags": self.tags,
            "AppVersion": self.app_version,
            "Deprecated": self.deprecated,
            "Annotations": Value::Object(self.annotations.clone()),
            "KubeVersion": self.kube_version,
            "Dependencies": deps,
            "Type": self.chart_type,
            "IsRoot": is_root,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn links_are_followed_and_dangling_ones_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("x.yaml"), "kind: X\n").unwrap();
        std::fs::create_dir(outside.path().join("more")).unwrap();
        std::fs::write(outside.path().join("more/y.yaml"), "kind: Y\n").unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("Chart.yaml"),
            "apiVersion: v2\nname: c\nversion: 1.0.0\n",
        )
        .unwrap();
        std::fs::create_dir(root.join("templates")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("x.yaml"), root.join("templates/x.yaml"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path().join("more"), root.join("templates/more"))
            .unwrap();
        let chart = Chart::load(root).unwrap();
        let names: Vec<&str> = chart.templates.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["templates/more/y.yaml", "templates/x.yaml"]);
        assert_eq!(&chart.templates[1].data[..], b"kind: X\n");
        std::os::unix::fs::symlink(root.join("nowhere"), root.join("templates/gone.yaml")).unwrap();
        let err = Chart::load(root).unwrap_err();
        assert!(err.message().contains("dangling"), "{}", err.message());
    }

    #[test]
    fn templates_are_told_from_other_files_at_any_depth() {
        for (path, template) in [
            ("templates/x.yaml", true),
            ("charts/sub/templates/x.yaml", true),
            ("charts/sub/charts/deep/templates/_h.tpl", true),
            ("crds/x.yaml", false),
            ("charts/sub/crds/x.yaml", false),
            ("charts/templates/x.yaml", false),
            ("charts/sub.tgz", false),
            ("files/templates/x", false),
        ] {
            assert_eq!(is_template(path), template, "{path}");
        }
    }
}
