//! Rendering a loaded chart the way `helm template` does: user values, dependency processing,
//! coalescing, schema validation, the template set (parsed in Helm's order so parent `define`s win),
//! execution of every non-partial template, `<no value>` removal, then manifest sorting.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use kiln_gotemplate::{Error as TplError, JsonNumbers, Map, MissingKey, Parsed, Templates, Value};
use rand::SeedableRng;
use serde_json::Value as J;

use crate::chart::{Chart, ChartFiles, FileData};
use crate::coalesce;
use crate::dependencies;
use crate::error::HelmError;
use crate::objects::{Capabilities, Files, KubeVersion};
use crate::schema;
use crate::sortmanifests::{self, Manifest};
use crate::strvals;
use crate::yamlvalues;

/// What to render: the inputs of `helm template NAME CHART ...`.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub release: String,
    pub namespace: String,
    /// `--kube-version`; Helm's default (v1.35.0) when absent.
    pub kube_version: Option<String>,
    /// `-f` files, later ones win.
    pub values_files: Vec<PathBuf>,
    /// `--set` expressions, applied after the files.
    pub set: Vec<String>,
    /// Inline values (an object), merged after the files and `--set`; read like a values file
    /// (numbers are float64, as Helm decodes `-f` files).
    pub values: J,
    pub include_crds: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            release: "release-name".into(),
            namespace: "default".into(),
            kube_version: None,
            values_files: Vec::new(),
            set: Vec::new(),
            values: J::Object(serde_json::Map::new()),
            include_crds: false,
        }
    }
}

/// Per-execution state template functions reach through the call context.
pub struct RenderState {
    /// Seeded from release, chart path and template path: random functions are reproducible.
    pub rng: rand_chacha::ChaCha8Rng,
    /// `include` depth per template name (Helm stops runaway recursion).
    pub includes: HashMap<String, usize>,
}

impl RenderState {
    pub fn new(release: &str, template: &str) -> RenderState {
        let seed = blake3::hash(format!("{release}\0{template}").as_bytes());
        RenderState {
            rng: rand_chacha::ChaCha8Rng::from_seed(*seed.as_bytes()),
            includes: HashMap::new(),
        }
    }
}

/// The result of a render, in the order `helm template` prints it.
#[derive(Debug, Default)]
pub struct Rendered {
    /// `crds/` files (path as printed, content) when CRDs were asked for; the content is the
    /// file as it is in the chart, printed byte for byte as Helm prints it.
    pub crds: Vec<(String, FileData)>,
    pub manifests: Vec<Manifest>,
    pub hooks: Vec<Manifest>,
    /// The rendered `NOTES.txt` of the top chart (not part of the output).
    pub notes: Option<String>,
}

/// The text of a chart file: as it is when it is UTF-8 (no copy), else with U+FFFD replacements.
pub fn file_text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    // `from_utf8` validates valid text several times faster than `from_utf8_lossy` does.
    match std::str::from_utf8(data) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(data),
    }
}

impl Rendered {
    /// The text `helm template` writes on stdout.
    /// CRD files that are not UTF-8 show with U+FFFD replacements.
    pub fn to_helm_output(&self) -> String {
        let mut out = Vec::new();
        self.write_helm_output(&mut out)
            .expect("writing to memory cannot fail");
        match String::from_utf8(out) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }

    /// Writes what `helm template` prints to `w`, piece by piece (a big chart prints megabytes of
    /// CRDs that are never copied into one string, nor read when `w` does not read them).
    pub fn write_helm_output(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        let pieces: Vec<(&str, &[u8])> = self
            .crds
            .iter()
            .map(|(p, c)| (p.as_str(), &c[..]))
            .chain(
                self.manifests
                    .iter()
                    .map(|m| (m.path.as_str(), m.content.as_bytes())),
            )
            .collect();
        // Helm trims the non-hook part as a whole (so an empty render prints a single newline).
        // Every piece starts with `---`, so only the end of the last one can be trimmed.
        if let Some(((last_path, last), rest)) = pieces.split_last() {
            for (path, content) in rest {
                write_piece(w, path, content)?;
            }
            let content = trim_end(last);
            if content.is_empty() {
                let header = format!("---\n# Source: {last_path}");
                w.write_all(header.trim_end().as_bytes())?;
            } else {
                write_piece(w, last_path, content)?;
                return self.write_hooks(w);
            }
        }
        w.write_all(b"\n")?;
        self.write_hooks(w)
    }

    fn write_hooks(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        for h in &self.hooks {
            write_piece(w, &h.path, h.content.as_bytes())?;
        }
        Ok(())
    }
}

/// `content` without its trailing white space, as Go's `strings.TrimSpace` ends it: bytes that are
/// not UTF-8 are not white space.
fn trim_end(content: &[u8]) -> &[u8] {
    match content.utf8_chunks().last() {
        Some(chunk) if chunk.invalid().is_empty() => {
            let valid = chunk.valid();
            &content[..content.len() - (valid.len() - valid.trim_end().len())]
        }
        _ => content,
    }
}

/// One `# Source:` block: `---`, the source line, the content and a newline.
fn write_piece(w: &mut dyn std::io::Write, path: &str, content: &[u8]) -> std::io::Result<()> {
    w.write_all(b"---\n# Source: ")?;
    w.write_all(path.as_bytes())?;
    w.write_all(b"\n")?;
    w.write_all(content)?;
    w.write_all(b"\n")
}

struct Renderable {
    name: String,
    vals: Map,
    base_path: String,
}

fn user_values(opts: &RenderOptions) -> Result<serde_json::Map<String, J>, HelmError> {
    let mut base = serde_json::Map::new();
    for f in &opts.values_files {
        let data = std::fs::read(f)
            .map_err(|e| HelmError::load(f, format!("open {}: {e}", f.display())))?;
        let m = yamlvalues::parse_map(&data)
            .map_err(|e| e.into_helm_values(f, &format!("failed to parse {}", f.display())))?;
        base = coalesce::merge_maps(&base, &m);
    }
    for s in &opts.set {
        strvals::parse_into(s, &mut base)
            .map_err(|e| HelmError::msg(format!("failed parsing --set data: {}", e.0)))?;
    }
    if let J::Object(inline) = &opts.values {
        let inline = match yamlvalues::to_float_numbers(J::Object(inline.clone())) {
            J::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        base = coalesce::merge_maps(&base, &inline);
    }
    Ok(base)
}

/// Loads the chart at `path` and renders it with `opts`, like `helm template`. Its templates
/// are parsed on a helper thread while the rest of the chart (values above all) is decoded.
pub fn render_path(path: &Path, opts: &RenderOptions) -> Result<Rendered, HelmError> {
    let files = ChartFiles::read(path)?;
    let early = likely_sources(&files);
    render_with_early_parse(early, || Chart::from_files(files).map(Cow::Owned), opts)
}

/// Renders `chart` with `opts`, like `helm template`.
pub fn render_chart(chart: &Chart, opts: &RenderOptions) -> Result<Rendered, HelmError> {
    let mut early = Vec::new();
    template_sources(chart, &mut early);
    render_with_early_parse(early, || Ok(Cow::Borrowed(chart)), opts)
}

/// Helm's checks of a loaded chart before rendering; the Kubernetes version to render for.
fn check(chart: &Chart, opts: &RenderOptions) -> Result<KubeVersion, HelmError> {
    if chart.is_library() {
        return Err(HelmError::msg("library charts are not installable").with_chart(chart.name()));
    }
    dependencies::check_present(chart)?;
    let kube = KubeVersion::parse(opts.kube_version.as_deref().unwrap_or("v1.35.0"))
        .map_err(HelmError::msg)?;
    if !chart.metadata.kube_version.is_empty() {
        let ok = crate::semver::Constraints::parse(&chart.metadata.kube_version)
            .ok()
            .zip(crate::semver::Version::parse(&kube.version).ok())
            .is_some_and(|(c, v)| c.check(&v));
        if !ok {
            return Err(HelmError::msg(format!(
                "chart requires kubeVersion: {} which is incompatible with Kubernetes {}",
                chart.metadata.kube_version, kube.version
            ))
            .with_chart(chart.name()));
        }
    }
    Ok(kube)
}

/// Renders the chart `load` gives, with the templates `early` parsed from the start on a helper
/// thread, beside loading, values and dependencies. Early parses stand for the templates whose
/// final name and file they were made for (nearly all: not those of the second alias of a chart
/// used twice); the others are parsed once names are known.
fn render_with_early_parse<'c>(
    early: Vec<Source>,
    load: impl FnOnce() -> Result<Cow<'c, Chart>, HelmError>,
    opts: &RenderOptions,
) -> Result<Rendered, HelmError> {
    let parser = template_set();
    let size: usize = early.iter().map(|t| t.text.len()).sum();
    let queue = crate::parallel::Queue::new(&early, |t: &Source| {
        parser.parse_detached(&t.name, t.text.clone())
    });
    std::thread::scope(|s| {
        let helper = (size >= crate::parallel::WORTH_A_THREAD && crate::parallel::is_parallel(2))
            .then(|| s.spawn(|| queue.work()));
        let prepared = load().and_then(|chart| {
            let kube = check(&chart, opts)?;
            prepare(chart, opts, kube)
        });
        let prepared = match prepared {
            Ok(p) => Arc::new(p),
            Err(e) => {
                queue.stop();
                return Err(e);
            }
        };
        // Helm validates before rendering; the check runs beside the render instead, and its
        // verdict comes first.
        let check = schema::any(&prepared.chart).then(|| {
            let p = prepared.clone();
            s.spawn(move || schema::validate(&p.chart, &p.values))
        });
        let mine = queue.work();
        let mut parsed: HashMap<String, (Source, Result<Parsed, TplError>)> =
            HashMap::with_capacity(early.len());
        parsed.extend(
            early
                .iter()
                .zip(queue.partial_results(mine, helper.into_iter().collect()))
                .filter_map(|(t, p)| Some((t.name.clone(), (t.clone(), p?)))),
        );
        let rendered = render_templates(&prepared, opts, parsed);
        if let Some(check) = check {
            check
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        }
        crate::dispose::dispose(prepared);
        rendered
    })
}

/// The templates of a chart directory under the names they will most likely have: the chart as
/// its `Chart.yaml` says, its subcharts as its dependencies alias them (unless one also uses a
/// chart under its own name; the first alias of a chart used twice), deeper subcharts as their
/// directories. A wrong guess costs a parse.
fn likely_sources(files: &ChartFiles) -> Vec<Source> {
    let files = files.files();
    let Some(meta) = files
        .iter()
        .find(|f| f.name == "Chart.yaml")
        .and_then(|f| std::str::from_utf8(&f.data).ok())
    else {
        return Vec::new();
    };
    let Some(root) = meta
        .lines()
        .find_map(|l| l.strip_prefix("name:"))
        .map(|n| n.trim().trim_matches(['"', '\'']))
    else {
        return Vec::new();
    };
    // Read as YAML only when it names an alias: most charts have none.
    let aliases: Vec<(String, String)> = match meta.contains("alias:") {
        true => dependency_aliases(meta.as_bytes()),
        false => Vec::new(),
    };
    let alias = |dir: &str| {
        aliases
            .iter()
            .find(|(name, _)| name == dir)
            .map(|(_, alias)| alias.as_str())
    };
    files
        .iter()
        .filter_map(|f| {
            let mut name = root.to_string();
            let mut rest = f.name.as_str();
            let mut top = true;
            while let Some(sub) = rest.strip_prefix("charts/") {
                let (dir, inner) = sub.split_once('/')?;
                name.push_str("/charts/");
                name.push_str(if top { alias(dir).unwrap_or(dir) } else { dir });
                rest = inner;
                top = false;
            }
            rest.starts_with("templates/").then(|| Source {
                name: format!("{name}/{rest}"),
                data: f.data.clone(),
                text: f.data.text(),
            })
        })
        .collect()
}

/// The (chart name, alias) of the dependencies of a `Chart.yaml` that are only used under an
/// alias, the first alias of each.
fn dependency_aliases(chart_yaml: &[u8]) -> Vec<(String, String)> {
    let Ok(doc) = yamlvalues::parse_value(chart_yaml) else {
        return Vec::new();
    };
    let deps: Vec<(&str, Option<&str>)> = doc
        .get("dependencies")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| {
            let alias = d.get("alias").and_then(J::as_str).filter(|a| !a.is_empty());
            Some((d.get("name")?.as_str()?, alias))
        })
        .collect();
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, alias) in &deps {
        let plain = deps.iter().any(|(n, a)| n == name && a.is_none());
        if let Some(alias) = alias
            && !plain
            && !out.iter().any(|(n, _)| n == name)
        {
            out.push((name.to_string(), alias.to_string()));
        }
    }
    out
}

/// A template file's name as Helm knows it and its text.
#[derive(Clone)]
struct Source {
    name: String,
    /// The file's bytes, which identify it across copies of the chart.
    data: FileData,
    text: Arc<str>,
}

/// The templates `collect` finds in `chart` and its dependencies, as they are named now.
fn template_sources(chart: &Chart, out: &mut Vec<Source>) {
    for d in &chart.dependencies {
        template_sources(d, out);
    }
    for t in &chart.templates {
        if chart.is_library() && !is_partial(&t.name) {
            continue;
        }
        out.push(Source {
            name: format!("{}/{}", chart.full_path, t.name),
            data: t.data.clone(),
            text: t.data.text(),
        });
    }
}

/// Whether a template file is a partial (`_helpers.tpl`): parsed for its definitions, not rendered.
fn is_partial(name: &str) -> bool {
    name.rsplit('/').next().unwrap_or(name).starts_with('_')
}

/// An empty template set configured as Helm configures its engine.
fn template_set() -> Templates {
    let mut set = Templates::with_shared_funcs(crate::funcs::func_map());
    set.set_name("gotpl");
    set.set_missing_key(MissingKey::Zero);
    set
}

/// The chart with its dependencies processed, and its values coalesced.
struct Prepared {
    chart: Chart,
    values: J,
    kube: KubeVersion,
}

/// Resolves the dependencies of `chart` and coalesces its values. The chart's defaults are moved
/// into the values rather than copied (a chart owned here shares them with no one): `Prepared`'s
/// chart has none left.
fn prepare(
    chart: Cow<'_, Chart>,
    opts: &RenderOptions,
    kube: KubeVersion,
) -> Result<Prepared, HelmError> {
    let vals = user_values(opts)?;
    let mut chart = chart.into_owned();
    dependencies::process_enabled(&mut chart, &vals, "");
    dependencies::process_import_values(&mut chart);
    chart.set_full_paths(None);
    let values = J::Object(coalesce::coalesce_values_taking(&mut chart, vals));
    Ok(Prepared {
        chart,
        values,
        kube,
    })
}

/// Executes the templates of `chart` (dependencies processed) with the coalesced `values`.
fn render_templates(
    prepared: &Prepared,
    opts: &RenderOptions,
    mut early: HashMap<String, (Source, Result<Parsed, TplError>)>,
) -> Result<Rendered, HelmError> {
    let (chart, values) = (&prepared.chart, &prepared.values);
    let release = {
        let m = Map::new();
        m.insert("Name", Value::from(opts.release.as_str()));
        m.insert("Namespace", Value::from(opts.namespace.as_str()));
        m.insert("IsInstall", Value::Bool(true));
        m.insert("IsUpgrade", Value::Bool(false));
        m.insert("Revision", Value::Int(1));
        m.insert("Service", Value::from("Helm"));
        Value::Map(m)
    };
    let caps = Value::object(Capabilities {
        kube: Arc::new(prepared.kube.clone()),
        apis: Arc::new(crate::objects::default_api_versions()),
    });
    let values =
        crate::funcs::conv::values_with_int64(Value::from_json_with(values, JsonNumbers::Preserve));
    let mut renderables = Vec::new();
    let mut files = HashMap::new();
    collect(
        chart,
        None,
        &values,
        &release,
        &caps,
        &mut renderables,
        &mut files,
    );
    // Early parses stand for the templates whose name and file they were made for.
    let mut sources: HashMap<String, Arc<str>> = HashMap::with_capacity(files.len());
    let mut parsed: HashMap<String, Result<Parsed, TplError>> = HashMap::with_capacity(files.len());
    for (name, data) in files {
        let text = match early.remove(&name) {
            Some((t, p)) if FileData::ptr_eq(&t.data, &data) => {
                parsed.insert(name.clone(), p);
                t.text
            }
            _ => data.text(),
        };
        sources.insert(name, text);
    }
    drop(early);
    renderables
        .sort_by_cached_key(|r| std::cmp::Reverse((r.name.matches('/').count(), r.name.clone())));
    renderables.retain(|r| !is_partial(&r.name));

    let mut names: Vec<&String> = sources.keys().collect();
    names.sort_by_cached_key(|n| std::cmp::Reverse((n.matches('/').count(), *n)));
    let mut set = template_set();
    let late: Vec<&String> = names
        .iter()
        .filter(|n| !parsed.contains_key(n.as_str()))
        .copied()
        .collect();
    let late_size: usize = late.iter().map(|n| sources[*n].len()).sum();
    let late = crate::parallel::map_when(
        late_size >= crate::parallel::WORTH_A_THREAD,
        &late,
        |name| {
            (
                (*name).clone(),
                set.parse_detached(name, sources[*name].clone()),
            )
        },
    );
    parsed.extend(late);
    for name in &names {
        let p = parsed.remove(*name).expect("every template is parsed");
        set.add_parsed(p.map_err(|e| template_error(&e, &sources))?);
    }

    let outputs = if renderables.len() >= 16 && crate::parallel::is_parallel(renderables.len()) {
        execute_parallel(&set, &renderables, &opts.release)
    } else {
        execute_in_order(&set, &renderables, &opts.release)
    }
    .map_err(|e| template_error(&e, &sources))?;

    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut notes = None;
    for (r, out) in renderables.iter().zip(outputs) {
        if r.name.ends_with("NOTES.txt") {
            if r.name == format!("{}/templates/NOTES.txt", chart.name()) {
                notes = Some(out);
            }
            continue;
        }
        files.insert(r.name.clone(), out);
    }
    let files: Vec<(String, String)> = files.into_iter().collect();
    let sorted = sortmanifests::sort_manifests(files).map_err(|e| e.with_chart(chart.name()))?;
    let crds = if opts.include_crds {
        chart
            .crd_objects()
            .into_iter()
            .map(|(p, f)| (p, f.data.clone()))
            .collect()
    } else {
        Vec::new()
    };
    crate::dispose::dispose((set, sources, renderables, release, caps));
    Ok(Rendered {
        crds,
        manifests: sorted.manifests,
        hooks: sorted.hooks,
        notes,
    })
}

/// A copy of `r`'s chart scope with its `.Template`, sized for it (a copy grown by one entry
/// would take twice the memory).
fn template_scope(r: &Renderable) -> Map {
    let entries = r.vals.read();
    let mut items = Vec::with_capacity(entries.len() + 1);
    let mut template = Some(("Template".to_string(), template_value(r)));
    // In key order, as the map keeps them (it then takes them as they are).
    for (k, v) in entries.iter() {
        if k.as_str() >= "Template"
            && let Some(t) = template.take()
        {
            items.push(t);
        }
        if k != "Template" {
            items.push((k.clone(), v.clone()));
        }
    }
    items.extend(template);
    items.into_iter().collect()
}

/// The `.Template` object of a template.
fn template_value(r: &Renderable) -> Value {
    let t = Map::new();
    t.insert("Name", Value::from(r.name.as_str()));
    t.insert("BasePath", Value::from(r.base_path.as_str()));
    Value::Map(t)
}

fn execute_one(
    set: &Templates,
    release: &str,
    r: &Renderable,
    top: Map,
) -> Result<String, TplError> {
    let mut state = RenderState::new(release, &r.name);
    let out = set.execute_with_state(&r.name, &Value::Map(top), &mut state)?;
    Ok(if out.contains("<no value>") {
        out.replace("<no value>", "")
    } else {
        out
    })
}

/// Executes the templates one after another like Helm: each chart's top-level scope is one map
/// whose `Template` changes per template, and the first error stops the render.
fn execute_in_order(
    set: &Templates,
    renderables: &[Renderable],
    release: &str,
) -> Result<Vec<String>, TplError> {
    renderables
        .iter()
        .map(|r| {
            r.vals.insert("Template", template_value(r));
            execute_one(set, release, r, r.vals.clone())
        })
        .collect()
}

/// Parallel rounds before the remaining templates run in order.
const MAX_ROUNDS: usize = 3;

/// Executes the templates on all cores with Helm's results: each runs on its own copy of its
/// chart's top-level scope, and a template that would change data the templates share (values,
/// `$`) is stopped before it does. The results before the first stopped template stand (nothing
/// before it in Helm's order writes); that one runs alone with writes allowed, and the rest go
/// on in parallel over the changed data. Charts that compute a value once and cache it in `$` or
/// `.Values` cost one extra round: rewriting a cached value with the same value is no change.
fn execute_parallel(
    set: &Templates,
    renderables: &[Renderable],
    release: &str,
) -> Result<Vec<String>, TplError> {
    let mut outputs = Vec::with_capacity(renderables.len());
    for round in 0.. {
        let start = outputs.len();
        if start == renderables.len() {
            break;
        }
        if round == MAX_ROUNDS {
            // Templates that keep writing shared data run in order: each round costs a thread.
            outputs.extend(execute_in_order(set, &renderables[start..], release)?);
            break;
        }
        if start == 0 {
            renderables.iter().for_each(|r| r.vals.mark_shared());
        } else {
            kiln_gotemplate::mark_all_shared(renderables[start..].iter().map(|r| &r.vals));
        }
        let jobs: Vec<(usize, &Renderable)> = renderables[start..]
            .iter()
            .enumerate()
            .map(|(i, r)| (start + i, r))
            .collect();
        let first_stopped = AtomicUsize::new(usize::MAX);
        let results = crate::parallel::map(&jobs, |&(i, r)| {
            if i > first_stopped.load(Ordering::Relaxed) {
                return None;
            }
            // Made here rather than up front, so that each thread's allocator hands the memory
            // of one template's scope to the next instead of holding every scope at once.
            let top = template_scope(r);
            top.mark_shared();
            let out = kiln_gotemplate::refusing_shared_writes(|| {
                execute_one(set, release, r, top.clone())
            });
            if out.is_err() {
                first_stopped.fetch_min(i, Ordering::Relaxed);
            }
            out.ok()
        });
        let stopped = first_stopped.into_inner();
        let mut results = results.into_iter();
        for out in results.by_ref() {
            match out {
                Some(out) if outputs.len() < stopped => outputs.push(out?),
                _ => break,
            }
        }
        crate::dispose::dispose(results);
        if let Some(r) = renderables.get(outputs.len()) {
            r.vals.insert("Template", template_value(r));
            outputs.push(execute_one(set, release, r, r.vals.clone())?);
        }
    }
    Ok(outputs)
}

/// Helm's `recAllTpls`: every template with the values scope of its chart.
fn collect(
    chart: &Chart,
    parent: Option<&Map>,
    root_values: &Value,
    release: &Value,
    caps: &Value,
    out: &mut Vec<Renderable>,
    sources: &mut HashMap<String, FileData>,
) -> Map {
    let is_root = parent.is_none();
    let values = match parent {
        None => root_values.clone(),
        Some(p) => match p
            .get("Values")
            .and_then(|v| v.as_map().and_then(|m| m.get(chart.name())))
        {
            Some(Value::Map(m)) => Value::Map(m),
            _ => Value::Map(Map::new()),
        },
    };
    let files: BTreeMap<String, FileData> = chart
        .files
        .iter()
        .map(|f| (f.name.clone(), f.data.clone()))
        .collect();
    let subcharts = Map::new();
    let next = Map::new();
    let chart_value = Value::from_json_with(
        &chart.metadata.to_template_value(is_root),
        JsonNumbers::Preserve,
    );
    next.insert("Chart", chart_value);
    next.insert("Files", Value::object(Files::new(files)));
    next.insert("Release", release.clone());
    next.insert("Capabilities", caps.clone());
    next.insert("Values", values);
    next.insert("Subcharts", Value::Map(subcharts.clone()));
    for d in &chart.dependencies {
        let sub = collect(d, Some(&next), root_values, release, caps, out, sources);
        subcharts.insert(d.name(), Value::Map(sub));
    }
    for t in &chart.templates {
        if chart.is_library() && !is_partial(&t.name) {
            continue;
        }
        let name = format!("{}/{}", chart.full_path, t.name);
        sources.insert(name.clone(), t.data.clone());
        out.push(Renderable {
            name,
            vals: next.clone(),
            base_path: format!("{}/templates", chart.full_path),
        });
    }
    next
}

/// Turns an engine error into Helm's message and a diagnostic pointing into the template.
fn template_error(e: &TplError, sources: &HashMap<String, Arc<str>>) -> HelmError {
    let (message, chain) = helm_message(e);
    let mut err = HelmError::msg(message);
    // Point into a chart file: text given to `tpl` is not one, so its caller is shown instead.
    if let Some(loc) = deepest_location(e, sources).or_else(|| e.location()) {
        if let Some(text) = sources.get(&loc.parse_name) {
            let col = column_chars(text, loc.line, loc.col);
            err = err.at(&loc.parse_name, text, loc.line, col, "here");
        } else {
            err.file = Some(loc.parse_name.clone());
            err.line = Some(loc.line);
            err.column = Some(loc.col + 1);
        }
    }
    if let Some(outer) = e.location() {
        let chart = outer.parse_name.split('/').next().unwrap_or_default();
        err = err.with_chart(chart);
    }
    err.with_chain(chain)
}

/// The innermost place in a chart file an error points at (a missing `include` target has none
/// of its own and `tpl` text is no file: the call site is used).
fn deepest_location<'e>(
    e: &'e TplError,
    sources: &HashMap<String, Arc<str>>,
) -> Option<&'e kiln_gotemplate::Location> {
    let own = e.location().filter(|l| sources.contains_key(&l.parse_name));
    match e {
        TplError::Exec(x) => x
            .cause
            .as_deref()
            .and_then(|c| deepest_location(c, sources))
            .or(own),
        _ => own,
    }
}

/// 1-based character column from Go's 0-based byte column.
fn column_chars(text: &str, line: usize, byte_col: usize) -> usize {
    let l = text.lines().nth(line.saturating_sub(1)).unwrap_or("");
    let cut = byte_col.min(l.len());
    let cut = (0..=cut)
        .rev()
        .find(|&i| l.is_char_boundary(i))
        .unwrap_or(0);
    l[..cut].chars().count() + 1
}

/// Helm's wording: `execution error at (file:line:col): msg` for `fail`/`required`, `parse error at
/// (file:line): msg` for syntax errors, a trace through `include`s otherwise.
fn helm_message(e: &TplError) -> (String, Vec<String>) {
    let mut levels: Vec<&kiln_gotemplate::ExecError> = Vec::new();
    let mut cur = e;
    while let TplError::Exec(x) = cur {
        levels.push(x);
        match &x.cause {
            Some(c) => cur = c,
            None => break,
        }
    }
    let chain: Vec<String> = levels.iter().map(|l| l.template.clone()).collect();
    if let TplError::Parse(p) = cur
        && levels.is_empty()
    {
        return (
            format!(
                "parse error at ({}:{}): {}",
                p.location.parse_name, p.location.line, p.message
            ),
            chain,
        );
    }
    let Some(last) = levels.last() else {
        return (e.to_string(), chain);
    };
    for f in ["fail", "required"] {
        let prefix = format!("error calling {f}: ");
        if let Some(msg) = last.message.strip_prefix(&prefix) {
            let outer = levels[0];
            let loc = outer
                .location
                .as_ref()
                .map(|l| l.to_string())
                .unwrap_or_else(|| outer.template.clone());
            return (format!("execution error at ({loc}): {msg}"), chain);
        }
    }
    // Helm v4 rewrites the error into one block per template level, unless the innermost
    // failure is a function's own error (Go wraps it with %w and Helm cannot parse it): then
    // Go's one-line text is printed as is.
    let missing = match cur {
        TplError::NoTemplate { .. } => Some(cur.to_string()),
        _ => None,
    };
    if (!matches!(cur, TplError::Exec(_)) && missing.is_none())
        || (missing.is_none() && last.message.starts_with("error calling "))
    {
        return (e.to_string(), chain);
    }
    let mut out = String::new();
    for (i, l) in levels.iter().enumerate() {
        let loc = l
            .location
            .as_ref()
            .map(|x| x.to_string())
            .unwrap_or_default();
        let msg = if i + 1 < levels.len() || missing.is_some() {
            l.message
                .split(": ")
                .next()
                .map(|s| format!("{s}:"))
                .unwrap_or_default()
        } else {
            l.message.clone()
        };
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!(
            "{loc}\n  executing {:?} at <{}>:\n    {msg}",
            l.template, l.context
        ));
    }
    if let Some(m) = missing {
        out.push('\n');
        out.push_str(&m);
    }
    (out, chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(path: &str, content: &str) -> Manifest {
        Manifest {
            path: path.into(),
            content: content.into(),
            present: true,
            kind: String::new(),
            line: 1,
        }
    }

    /// The output as Helm builds it: everything concatenated, the non-hook part trimmed whole.
    fn helm_output(r: &Rendered) -> String {
        let mut out = String::new();
        let piece = |out: &mut String, path: &str, content: &str| {
            out.push_str(&format!("---\n# Source: {path}\n{content}\n"));
        };
        for (p, c) in &r.crds {
            piece(&mut out, p, &file_text(c));
        }
        for m in &r.manifests {
            piece(&mut out, &m.path, &m.content);
        }
        let mut out = out.trim().to_string();
        out.push('\n');
        for h in &r.hooks {
            piece(&mut out, &h.path, &h.content);
        }
        out
    }

    #[test]
    fn streamed_output_trims_like_helm() {
        let crd = |p: &str, c: &str| (p.to_string(), FileData::from(c.as_bytes()));
        let cases = vec![
            Rendered::default(),
            Rendered {
                hooks: vec![manifest("c/templates/t.yaml", "kind: Pod")],
                ..Rendered::default()
            },
            Rendered {
                crds: vec![
                    crd("c/crds/a.yaml", "kind: A\n\n"),
                    crd("c/crds/b.yaml", " \n\t"),
                ],
                ..Rendered::default()
            },
            Rendered {
                crds: vec![crd("c/crds/a.yaml", "kind: A\n")],
                manifests: vec![
                    manifest("c/templates/x.yaml", "kind: X"),
                    manifest("c/templates/y.yaml  ", ""),
                ],
                hooks: vec![manifest("c/templates/t.yaml", "kind: Pod")],
                ..Rendered::default()
            },
            Rendered {
                crds: vec![(
                    "c/crds/bad.yaml".into(),
                    FileData::from(&b"kind: \xff\n"[..]),
                )],
                ..Rendered::default()
            },
        ];
        for r in &cases {
            assert_eq!(r.to_helm_output(), helm_output(r), "{r:?}");
        }
    }

    #[test]
    fn early_parses_are_named_as_aliases_name_subcharts() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            (
                "Chart.yaml",
                "apiVersion: v2\nname: \"top\"\nversion: 1.0.0\ndependencies:\n  - name: kong\n    alias: controller\n  - name: kong\n    alias: gateway\n  - name: plain\n  - name: blank\n    alias: \"\"\n  - name: both\n    alias: other\n  - name: both\n",
            ),
            ("templates/t.yaml", "t"),
            ("charts/kong/templates/a.yaml", "a"),
            ("charts/kong/charts/inner/templates/c.yaml", "c"),
            ("charts/plain/templates/b.yaml", "b"),
            ("charts/blank/templates/d.yaml", "d"),
            ("charts/both/templates/e.yaml", "e"),
        ];
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let mut names: Vec<String> = likely_sources(&ChartFiles::read(dir.path()).unwrap())
            .into_iter()
            .map(|s| s.name)
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "top/charts/blank/templates/d.yaml",
                "top/charts/both/templates/e.yaml",
                "top/charts/controller/charts/inner/templates/c.yaml",
                "top/charts/controller/templates/a.yaml",
                "top/charts/plain/templates/b.yaml",
                "top/templates/t.yaml",
            ]
        );
    }

    #[test]
    fn crds_are_printed_byte_for_byte_like_helm() {
        let r = Rendered {
            crds: vec![
                (
                    "c/crds/a.yaml".into(),
                    FileData::from(&b"kind: \xff\n \n"[..]),
                ),
                (
                    "c/crds/z.yaml".into(),
                    FileData::from(&b"kind: Z\xc3\n"[..]),
                ),
            ],
            ..Rendered::default()
        };
        let mut out = Vec::new();
        r.write_helm_output(&mut out).unwrap();
        let want: &[u8] = b"---\n# Source: c/crds/a.yaml\nkind: \xff\n \n\n---\n# Source: c/crds/z.yaml\nkind: Z\xc3\n";
        assert_eq!(out, want);
    }

    #[test]
    fn trailing_white_space_ends_where_go_ends_it() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"a \n\t", b"a"),
            (b" \t\n", b""),
            (b"", b""),
            (b"a\xff", b"a\xff"),
            (b"a\xff \n", b"a\xff"),
            (b"a\xc2\xa0\n", b"a"),
            (b"a\xe3\x80\x80", b"a"),
            (b"a \xe3\x80", b"a \xe3\x80"),
        ];
        for (content, want) in cases {
            assert_eq!(trim_end(content), *want, "{content:?}");
        }
    }

    fn chart_dir(templates: &[(impl AsRef<str>, impl AsRef<str>)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Chart.yaml"),
            "apiVersion: v2\nname: c\nversion: 1.0.0\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("values.yaml"), "shared: default\n").unwrap();
        std::fs::create_dir(dir.path().join("templates")).unwrap();
        for (name, text) in templates {
            std::fs::write(
                dir.path().join("templates").join(name.as_ref()),
                text.as_ref(),
            )
            .unwrap();
        }
        dir
    }

    fn render_text(dir: &tempfile::TempDir) -> String {
        let chart = Chart::load(dir.path()).unwrap();
        render_chart(&chart, &RenderOptions::default())
            .unwrap()
            .to_helm_output()
    }

    #[test]
    fn a_write_to_values_is_seen_by_the_templates_helm_runs_after_it() {
        // Helm runs templates in reverse name order: z.yaml first.
        let mut templates = vec![(
            "z.yaml".to_string(),
            "{{- $_ := set .Values \"shared\" \"from-z\" }}{{- $_ := set $ \"top\" \"from-z\" }}\nkind: Z"
                .to_string(),
        )];
        for i in 0..20 {
            templates.push((
                format!("a{i:02}.yaml"),
                "kind: A\nshared: {{ .Values.shared }}\ntop: {{ $.top }}".to_string(),
            ));
        }
        let out = render_text(&chart_dir(&templates));
        assert_eq!(out.matches("shared: from-z").count(), 20, "{out}");
        assert_eq!(out.matches("top: from-z").count(), 20, "{out}");
    }

    #[test]
    fn parallel_execution_gives_the_results_of_helms_order_whatever_templates_write() {
        let run = |templates: &[(String, String)], parallel: bool| {
            let dir = chart_dir(templates);
            let chart = Chart::load(dir.path()).unwrap();
            let mut set = Templates::with_shared_funcs(crate::funcs::func_map());
            set.set_missing_key(MissingKey::Zero);
            let values = Value::from_json_with(
                &serde_json::json!({"shared": "default", "nested": {"k": "v"}}),
                JsonNumbers::Preserve,
            );
            let mut renderables = Vec::new();
            let mut sources = HashMap::new();
            collect(
                &chart,
                None,
                &values,
                &Value::Nil,
                &Value::Nil,
                &mut renderables,
                &mut sources,
            );
            renderables.sort_by(|a, b| b.name.cmp(&a.name));
            for (name, text) in &sources {
                set.parse(name, &file_text(text)).unwrap();
            }
            if parallel {
                execute_parallel(&set, &renderables, "r")
            } else {
                execute_in_order(&set, &renderables, "r")
            }
            .map_err(|e| e.to_string())
        };
        let reader = "{{ .Values.shared }} {{ .Values.nested }} {{ $.cached }}";
        let writers = [
            "{{ $d := dict }}{{ $_ := set $d \"k\" .Values.shared }}{{ $d.k }}",
            "{{ $_ := set .Values \"shared\" (add1 (len .Template.Name)) }}",
            "{{ $_ := unset $ \"Values\" }}",
            "{{ $_ := mergeOverwrite .Values (dict \"shared\" 2) }}",
            "{{ $_ := set .Values \"nested\" (dict \"k\" .Template.Name) }}",
            "{{ $_ := set .Values.nested \"k\" (.Template.Name | trunc 3) }}",
            "{{ $_ := set $ \"cached\" (.Values.shared | upper) }}{{ $.cached }}",
        ];
        for (i, w) in writers.iter().enumerate() {
            for (j, w2) in writers.iter().enumerate() {
                let mut templates: Vec<(String, String)> = (0..12)
                    .map(|n| (format!("r{n:02}.yaml"), reader.to_string()))
                    .collect();
                templates[3].1 = format!("{w}{reader}");
                templates[8].1 = format!("{w2}{reader}");
                templates[10].1 = format!("{w}{w2}{reader}");
                assert_eq!(
                    run(&templates, true),
                    run(&templates, false),
                    "writers {i} and {j}"
                );
            }
        }
    }

    #[test]
    fn the_first_failing_template_in_helms_order_is_the_error() {
        let mut templates: Vec<(String, String)> = (0..20)
            .map(|n| (format!("t{n:02}.yaml"), "ok".to_string()))
            .collect();
        templates[15].1 = "{{ fail \"fifteen\" }}".to_string();
        templates[11].1 = "{{ $_ := set .Values \"x\" 1 }}".to_string();
        templates[4].1 = "{{ fail \"four\" }}".to_string();
        let dir = chart_dir(&templates);
        let chart = Chart::load(dir.path()).unwrap();
        let err = render_chart(&chart, &RenderOptions::default()).unwrap_err();
        assert!(err.to_string().contains("fifteen"), "{err}");
    }

    #[test]
    fn a_schema_violation_is_reported_before_template_errors() {
        let mut templates: Vec<(String, String)> = (0..20)
            .map(|n| (format!("t{n:02}.yaml"), "kind: T".to_string()))
            .collect();
        templates[7].1 = "{{ fail \"template failure\" }}".to_string();
        let dir = chart_dir(&templates);
        std::fs::write(
            dir.path().join("values.schema.json"),
            r#"{"type": "object", "properties": {"shared": {"type": "integer"}}}"#,
        )
        .unwrap();
        let chart = Chart::load(dir.path()).unwrap();
        let err = render_chart(&chart, &RenderOptions::default()).unwrap_err();
        assert!(err.to_string().contains("schema"), "{err}");
        std::fs::write(dir.path().join("values.schema.json"), "{}").unwrap();
        let chart = Chart::load(dir.path()).unwrap();
        let err = render_chart(&chart, &RenderOptions::default()).unwrap_err();
        assert!(err.to_string().contains("template failure"), "{err}");
    }

    /// A chart `c` whose dependency `sub` (aliased as `alias`, enabled by `sub.enabled`) has
    /// the template `sub_template`, beside 40 templates of its own.
    fn chart_with_dependency(alias: Option<&str>, sub_template: &str) -> tempfile::TempDir {
        let templates: Vec<(String, String)> = (0..40)
            .map(|n| {
                (
                    format!("t{n:02}.yaml"),
                    format!("kind: T{n}\nname: {{{{ .Chart.Name }}}}"),
                )
            })
            .collect();
        let dir = chart_dir(&templates);
        let alias = alias
            .map(|a| format!("\n    alias: {a}"))
            .unwrap_or_default();
        std::fs::write(
            dir.path().join("Chart.yaml"),
            format!(
                "apiVersion: v2\nname: c\nversion: 1.0.0\ndependencies:\n  - name: sub\n    version: 1.0.0\n    condition: sub.enabled{alias}\n"
            ),
        )
        .unwrap();
        let sub = dir.path().join("charts/sub");
        std::fs::create_dir_all(sub.join("templates")).unwrap();
        std::fs::write(
            sub.join("Chart.yaml"),
            "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
        )
        .unwrap();
        std::fs::write(sub.join("templates/x.yaml"), sub_template).unwrap();
        dir
    }

    /// Renders through both entry points (a path, whose templates are parsed under guessed
    /// names, and a loaded chart), which must agree.
    fn render_with(dir: &tempfile::TempDir, set: &[&str]) -> Result<String, String> {
        let opts = RenderOptions {
            set: set.iter().map(|s| s.to_string()).collect(),
            ..RenderOptions::default()
        };
        let from_path = render_path(dir.path(), &opts)
            .map(|r| r.to_helm_output())
            .map_err(|e| e.to_string());
        let chart = Chart::load(dir.path()).unwrap();
        let loaded = render_chart(&chart, &opts)
            .map(|r| r.to_helm_output())
            .map_err(|e| e.to_string());
        assert_eq!(from_path, loaded);
        from_path
    }

    #[test]
    fn a_chart_named_unlike_its_directory_renders_under_its_name() {
        let dir = chart_with_dependency(None, "kind: S\nname: {{ .Chart.Name }}");
        std::fs::write(
            dir.path().join("charts/sub/Chart.yaml"),
            "apiVersion: v2\nname: other\nversion: 1.0.0\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("Chart.yaml"),
            "apiVersion: v2\nversion: 1.0.0\nname: 'c'\ndependencies:\n  - name: other\n    version: 1.0.0\n",
        )
        .unwrap();
        let out = render_with(&dir, &[]).unwrap();
        assert!(
            out.contains("# Source: c/charts/other/templates/x.yaml"),
            "{out}"
        );
    }

    #[test]
    fn templates_of_disabled_dependencies_are_not_parsed_for_errors() {
        let dir = chart_with_dependency(None, "kind: {{ .Chart.Name ");
        let out = render_with(&dir, &["sub.enabled=false"]).unwrap();
        assert_eq!(out.matches("name: c").count(), 40, "{out}");
        let err = render_with(&dir, &["sub.enabled=true"]).unwrap_err();
        assert!(err.contains("c/charts/sub/templates/x.yaml"), "{err}");
    }

    #[test]
    fn aliased_dependencies_render_and_fail_under_their_alias() {
        let dir = chart_with_dependency(Some("renamed"), "kind: S\nname: {{ .Chart.Name }}");
        let out = render_with(&dir, &["renamed.enabled=true"]).unwrap();
        assert!(
            out.contains("# Source: c/charts/renamed/templates/x.yaml\nkind: S\nname: renamed"),
            "{out}"
        );
        let dir = chart_with_dependency(Some("renamed"), "kind: {{ .Chart.Name ");
        let err = render_with(&dir, &["renamed.enabled=true"]).unwrap_err();
        assert!(err.contains("c/charts/renamed/templates/x.yaml"), "{err}");
        assert!(!err.contains("c/charts/sub/"), "{err}");
    }
}
