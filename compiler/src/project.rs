//! Reading `kiln.kdl`: KDL 2 text into the typed [`Project`] model, with a diagnostic for every
//! kind of mistake (syntax, unknown nodes and properties, wrong types, duplicates, missing values).
//!
//! Decoding is by hand over the `kdl` document rather than through serde so that every value keeps
//! its span and every error can name what was expected instead of a generic type mismatch.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};
use miette::SourceSpan;

use crate::diag::{Error, Result, SourceFile, suggestion};
use crate::model::{
    Component, GitRef, OciRef, Param, Project, Renderer, Source, SourceKind, Spanned, Target, Val,
    ValKind,
};

/// The project file name looked for in a project directory.
pub const PROJECT_FILE: &str = "kiln.kdl";

const TOP_NODES: &[&str] = &["project", "source", "target", "component"];
const RENDERERS: &[&str] = &["manifests", "kustomize", "helm", "use"];

/// Loads the project at `path`: a directory holding `kiln.kdl`, or the file itself.
pub fn load(path: &Path) -> Result<Project> {
    let (file_path, root) = if path.is_dir() {
        (path.join(PROJECT_FILE), path.to_path_buf())
    } else {
        let root = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        (path.to_path_buf(), root)
    };
    let text = std::fs::read_to_string(&file_path).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            format!("a kiln project is a directory with a `{PROJECT_FILE}` file; pass its directory or the file")
        } else {
            format!("the operating system said: {e}")
        };
        Error::input(
            "kiln::project::missing",
            format!("cannot read the project file `{}`", file_path.display()),
        )
        .help(hint)
        .caused_by(e)
    })?;
    let name = file_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| PROJECT_FILE.to_string());
    parse(SourceFile::new(name, file_path, text), root)
}

/// Parses project text. `root` is the directory local paths are relative to.
pub fn parse(file: SourceFile, root: PathBuf) -> Result<Project> {
    let doc = parse_kdl(&file)?;
    let d = Decoder { file: &file };
    let mut name: Option<Spanned<String>> = None;
    let mut sources = IndexMap::new();
    let mut targets = IndexMap::new();
    let mut components: IndexMap<String, Component> = IndexMap::new();
    for node in doc.nodes() {
        match node.name().value() {
            "project" => {
                d.check_props(node, &[])?;
                d.no_children(node)?;
                let n = d.single_string_arg(node, "the project name")?;
                if let Some(first) = &name {
                    return Err(d.duplicate("project", "project node", first.span, node.span()));
                }
                name = Some(n);
            }
            "source" => {
                let source = d.source(node)?;
                insert_unique(
                    &d,
                    &mut sources,
                    source.name.clone(),
                    source,
                    "source",
                    |s| s.name.span,
                )?;
            }
            "target" => {
                let target = d.target(node)?;
                insert_unique(
                    &d,
                    &mut targets,
                    target.name.clone(),
                    target,
                    "target",
                    |t| t.name.span,
                )?;
            }
            "component" => {
                let component = d.component(node)?;
                insert_unique(
                    &d,
                    &mut components,
                    component.name.clone(),
                    component,
                    "component",
                    |c| c.name.span,
                )?;
            }
            other => return Err(d.unknown_node(node, other, TOP_NODES, "at the top level")),
        }
    }
    let Some(name) = name else {
        return Err(Error::input(
            "kiln::project::no-name",
            "the project has no `project` node",
        )
        .at(
            &file,
            SourceSpan::new(0.into(), 0),
            "expected `project \"name\"` in this file",
        )
        .help("add a line such as `project \"shop\"` at the top of the file"));
    };
    if targets.is_empty() {
        return Err(Error::input("kiln::project::no-target", "the project declares no target")
            .at(&file, name.span, "this project has no `target`")
            .help("declare at least one, e.g. `target \"staging\" { cluster context=\"staging\" }`"));
    }
    Ok(Project {
        file,
        root,
        name,
        sources,
        targets,
        components,
        fetched: Default::default(),
    })
}

fn insert_unique<T>(
    d: &Decoder<'_>,
    map: &mut IndexMap<String, T>,
    name: Spanned<String>,
    item: T,
    what: &str,
    span_of: impl Fn(&T) -> SourceSpan,
) -> Result<()> {
    if let Some(first) = map.get(&name.value) {
        return Err(d.duplicate(
            what,
            &format!("{what} `{}`", name.value),
            span_of(first),
            name.span,
        ));
    }
    map.insert(name.value, item);
    Ok(())
}

/// Parses KDL 2 text, turning the parser's diagnostics into ours.
pub(crate) fn parse_kdl(file: &SourceFile) -> Result<KdlDocument> {
    KdlDocument::parse_v2(&file.text).map_err(|err| {
        let mut diagnostics = err.diagnostics.into_iter();
        let first = diagnostics.next();
        let (message, span, label, help) = match first {
            Some(d) => (
                d.message.unwrap_or_else(|| "invalid KDL".into()),
                d.span,
                d.label.unwrap_or_else(|| "here".into()),
                d.help,
            ),
            None => ("invalid KDL".into(), SourceSpan::new(0.into(), 0), "here".into(), None),
        };
        let mut e = Error::input("kiln::kdl::syntax", format!("KDL syntax error: {message}"))
            .at(file, clamp(span, file), label)
            .help(help.unwrap_or_else(|| "kiln.kdl is KDL 2: strings are quoted, properties are key=value, booleans are #true/#false".into()));
        for d in diagnostics.take(4) {
            e = e.and_label(clamp(d.span, file), d.message.unwrap_or_else(|| "also here".into()));
        }
        e
    })
}

fn clamp(span: SourceSpan, file: &SourceFile) -> SourceSpan {
    let len = file.text.len();
    let start = span.offset().min(len);
    SourceSpan::new(start.into(), span.len().min(len - start))
}

/// Decoding helpers bound to the file being read, so every error can point into it.
pub(crate) struct Decoder<'a> {
    pub file: &'a SourceFile,
}

impl Decoder<'_> {
    fn err(
        &self,
        code: &'static str,
        message: impl Into<String>,
        span: SourceSpan,
        label: impl Into<String>,
    ) -> Error {
        Error::input(code, message).at(self.file, span, label)
    }

    pub fn unknown_node(&self, node: &KdlNode, name: &str, allowed: &[&str], place: &str) -> Error {
        self.err(
            "kiln::kdl::unknown-node",
            format!("unknown node `{name}` {place}"),
            node.name().span(),
            "not a node kiln knows here",
        )
        .help(suggestion(name, allowed))
    }

    fn duplicate(&self, what: &str, display: &str, first: SourceSpan, second: SourceSpan) -> Error {
        self.err(
            "kiln::kdl::duplicate",
            format!("duplicate {display}"),
            second,
            "declared again here",
        )
        .and_label(first, "first declared here")
        .help(format!(
            "every {what} needs a unique name; rename or remove one of them"
        ))
    }

    /// Fails on properties not in `allowed` (with a suggestion) and on repeated properties.
    pub fn check_props(&self, node: &KdlNode, allowed: &[&str]) -> Result<()> {
        let mut seen: Vec<(&str, SourceSpan)> = Vec::new();
        for entry in node.entries() {
            let Some(key) = entry.name() else { continue };
            let k = key.value();
            if !allowed.contains(&k) {
                let help = if allowed.is_empty() {
                    format!("`{}` takes no properties", node.name().value())
                } else {
                    suggestion(k, allowed)
                };
                return Err(self
                    .err(
                        "kiln::kdl::unknown-property",
                        format!("unknown property `{k}` on `{}`", node.name().value()),
                        key.span(),
                        "unknown property",
                    )
                    .help(help));
            }
            if let Some((_, first)) = seen.iter().find(|(s, _)| *s == k) {
                return Err(self.duplicate(
                    "property",
                    &format!("property `{k}`"),
                    *first,
                    key.span(),
                ));
            }
            seen.push((k, key.span()));
        }
        Ok(())
    }

    pub fn no_children(&self, node: &KdlNode) -> Result<()> {
        match node.children() {
            Some(children) if !children.nodes().is_empty() => Err(self
                .err(
                    "kiln::kdl::unexpected-children",
                    format!("`{}` takes no child nodes", node.name().value()),
                    children.span(),
                    "unexpected block",
                )
                .help("remove the `{ … }` block")),
            _ => Ok(()),
        }
    }

    fn args<'n>(&self, node: &'n KdlNode) -> Vec<&'n KdlEntry> {
        node.entries()
            .iter()
            .filter(|e| e.name().is_none())
            .collect()
    }

    fn string_of(&self, entry: &KdlEntry, what: &str) -> Result<Spanned<String>> {
        match entry.value() {
            KdlValue::String(s) => Ok(Spanned::new(s.clone(), entry.span())),
            other => Err(self.wrong_type(entry.span(), what, "a string", other)),
        }
    }

    fn wrong_type(&self, span: SourceSpan, what: &str, expected: &str, found: &KdlValue) -> Error {
        self.err(
            "kiln::kdl::wrong-type",
            format!("{what} must be {expected}, found {}", kdl_type(found)),
            span,
            format!("expected {expected}"),
        )
        .help(if expected == "a string" {
            "quote the value, e.g. \"text\"".to_string()
        } else {
            format!("write {expected} here")
        })
    }

    /// Exactly one positional string argument.
    pub fn single_string_arg(&self, node: &KdlNode, what: &str) -> Result<Spanned<String>> {
        let args = self.args(node);
        match args.as_slice() {
            [one] => self.string_of(one, what),
            [] => Err(self
                .err(
                    "kiln::kdl::missing-argument",
                    format!("`{}` needs {what}", node.name().value()),
                    node.span(),
                    format!("missing {what}"),
                )
                .help(format!(
                    "write it after the node name: `{} \"…\"`",
                    node.name().value()
                ))),
            [_, extra, ..] => Err(self
                .err(
                    "kiln::kdl::extra-argument",
                    format!("`{}` takes one argument", node.name().value()),
                    extra.span(),
                    "unexpected argument",
                )
                .help(format!("`{}` takes only {what}", node.name().value()))),
        }
    }

    /// One or more positional string arguments.
    fn string_args(&self, node: &KdlNode, what: &str) -> Result<Vec<Spanned<String>>> {
        let args = self.args(node);
        if args.is_empty() {
            return Err(self
                .err(
                    "kiln::kdl::missing-argument",
                    format!("`{}` needs {what}", node.name().value()),
                    node.span(),
                    format!("missing {what}"),
                )
                .help(format!(
                    "write it after the node name: `{} \"…\"`",
                    node.name().value()
                )));
        }
        args.into_iter().map(|a| self.string_of(a, what)).collect()
    }

    pub fn string_prop(&self, node: &KdlNode, key: &str) -> Result<Option<Spanned<String>>> {
        match node.entry(key) {
            Some(entry) => self.string_of(entry, &format!("`{key}`")).map(Some),
            None => Ok(None),
        }
    }

    fn block<'n>(&self, node: &'n KdlNode) -> &'n [KdlNode] {
        node.children().map(|c| c.nodes()).unwrap_or(&[])
    }

    fn source(&self, node: &KdlNode) -> Result<Source> {
        self.no_children(node)?;
        let name = self.single_string_arg(node, "a source name")?;
        self.check_name(&name, "source")?;
        let has = |k: &str| node.entry(k).is_some();
        // `path=` is the kind of a local source, and the sub-path of a Git source.
        let kinds: Vec<&str> = ["path", "git", "helm-repo", "oci"]
            .into_iter()
            .filter(|k| has(k) && !(*k == "path" && has("git")))
            .collect();
        let kind = match kinds.as_slice() {
            ["path"] => {
                self.check_props(node, &["path"])?;
                SourceKind::Path {
                    path: self.string_prop(node, "path")?.expect("checked"),
                }
            }
            ["git"] => {
                self.check_props(node, &["git", "ref", "semver", "path", "ca-file"])?;
                let r = self.string_prop(node, "ref")?;
                let s = self.string_prop(node, "semver")?;
                let reference = match (r, s) {
                    (Some(r), None) => Some(GitRef::Ref(r)),
                    (None, Some(s)) => Some(GitRef::Semver(s)),
                    (None, None) => None,
                    (Some(_), Some(s)) => {
                        return Err(self.conflict(
                            s.span,
                            "`ref` and `semver`",
                            "a Git source follows either a ref or a semver range",
                        ));
                    }
                };
                SourceKind::Git {
                    url: self.string_prop(node, "git")?.expect("checked"),
                    reference,
                    path: self.string_prop(node, "path")?,
                    ca_file: self.string_prop(node, "ca-file")?,
                }
            }
            ["helm-repo"] => {
                self.check_props(node, &["helm-repo", "chart", "version", "ca-file"])?;
                let Some(chart) = self.string_prop(node, "chart")? else {
                    return Err(self
                        .err(
                            "kiln::kdl::missing-property",
                            "a Helm repository source needs `chart`",
                            node.span(),
                            "missing `chart=`",
                        )
                        .help("name the chart, e.g. `chart=\"podinfo\"`"));
                };
                SourceKind::HelmRepo {
                    url: self.string_prop(node, "helm-repo")?.expect("checked"),
                    chart,
                    version: self.string_prop(node, "version")?,
                    ca_file: self.string_prop(node, "ca-file")?,
                }
            }
            ["oci"] => {
                self.check_props(node, &["oci", "tag", "digest", "version", "ca-file"])?;
                let refs: Vec<OciRef> = [
                    self.string_prop(node, "tag")?.map(OciRef::Tag),
                    self.string_prop(node, "digest")?.map(OciRef::Digest),
                    self.string_prop(node, "version")?.map(OciRef::Version),
                ]
                .into_iter()
                .flatten()
                .collect();
                if refs.len() > 1 {
                    return Err(self.conflict(
                        node.span(),
                        "`tag`, `digest` and `version`",
                        "an OCI source names one of a tag, a digest or a semver range",
                    ));
                }
                SourceKind::Oci {
                    url: self.string_prop(node, "oci")?.expect("checked"),
                    reference: refs.into_iter().next(),
                    ca_file: self.string_prop(node, "ca-file")?,
                }
            }
            [] => {
                self.check_props(
                    node,
                    &[
                        "path",
                        "git",
                        "ref",
                        "semver",
                        "helm-repo",
                        "chart",
                        "version",
                        "oci",
                        "tag",
                        "digest",
                        "ca-file",
                    ],
                )?;
                return Err(self
                    .err(
                        "kiln::kdl::missing-property",
                        format!(
                            "source `{}` says nothing about where its files are",
                            name.value
                        ),
                        node.span(),
                        "needs `path=`, `git=`, `helm-repo=` or `oci=`",
                    )
                    .help("e.g. `source \"app\" path=\"./deploy\"`"));
            }
            _ => {
                return Err(self.conflict(
                    node.span(),
                    "`path`, `git`, `helm-repo` and `oci`",
                    "a source has exactly one kind",
                ));
            }
        };
        Ok(Source {
            name,
            span: node.span(),
            kind,
        })
    }

    fn conflict(&self, span: SourceSpan, what: &str, hint: &str) -> Error {
        self.err(
            "kiln::kdl::conflict",
            format!("{what} cannot be combined"),
            span,
            "conflicting properties",
        )
        .help(hint.to_string())
    }

    fn check_name(&self, name: &Spanned<String>, what: &str) -> Result<()> {
        let ok = !name.value.is_empty()
            && name
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !name.value.starts_with('.');
        if ok {
            Ok(())
        } else {
            Err(self
                .err(
                    "kiln::kdl::invalid-name",
                    format!("invalid {what} name `{}`", name.value),
                    name.span,
                    "not a valid name",
                )
                .help("names use letters, digits, `-`, `_` and `.` (and do not start with `.`)"))
        }
    }

    fn target(&self, node: &KdlNode) -> Result<Target> {
        self.check_props(node, &[])?;
        let name = self.single_string_arg(node, "a target name")?;
        self.check_name(&name, "target")?;
        let mut context = None;
        let mut vars: Option<Val> = None;
        let mut seen: Vec<(&str, SourceSpan)> = Vec::new();
        for child in self.block(node) {
            let n = child.name().value();
            if let Some((_, first)) = seen.iter().find(|(s, _)| *s == n) {
                return Err(self.duplicate(
                    n,
                    &format!("`{n}` in target `{}`", name.value),
                    *first,
                    child.span(),
                ));
            }
            match n {
                "cluster" => {
                    self.check_props(child, &["context"])?;
                    self.no_children(child)?;
                    if let Some(extra) = self.args(child).first() {
                        return Err(self
                            .err(
                                "kiln::kdl::extra-argument",
                                "`cluster` takes no arguments",
                                extra.span(),
                                "unexpected argument",
                            )
                            .help("write the kubeconfig context as `cluster context=\"name\"`"));
                    }
                    context = self.string_prop(child, "context")?;
                }
                "vars" => {
                    self.check_props(child, &[])?;
                    if let Some(extra) = self.args(child).first() {
                        return Err(self
                            .err(
                                "kiln::kdl::extra-argument",
                                "`vars` takes no arguments",
                                extra.span(),
                                "unexpected argument",
                            )
                            .help("write variables as child nodes: `vars { replicas 3 }`"));
                    }
                    vars = Some(self.map_block(child)?);
                }
                other => {
                    return Err(self.unknown_node(
                        child,
                        other,
                        &["cluster", "vars"],
                        "in a target",
                    ));
                }
            }
            seen.push((n, child.span()));
        }
        Ok(Target {
            vars: vars.unwrap_or_else(|| Val::empty_map(node.span())),
            name,
            span: node.span(),
            context,
        })
    }

    fn component(&self, node: &KdlNode) -> Result<Component> {
        self.check_props(node, &[])?;
        let name = self.single_string_arg(node, "a component name")?;
        self.check_name(&name, "component")?;
        let mut depends_on: Vec<Spanned<String>> = Vec::new();
        let mut renderer: Option<Renderer> = None;
        let mut service_account: Option<Spanned<String>> = None;
        let mut namespaces: Option<Vec<Spanned<String>>> = None;
        let mut tenancy_nodes: Vec<(&str, SourceSpan)> = Vec::new();
        for child in self.block(node) {
            let n = child.name().value();
            if matches!(n, "service-account" | "namespaces") {
                if let Some((_, first)) = tenancy_nodes.iter().find(|(s, _)| *s == n) {
                    return Err(self
                        .err(
                            "kiln::kdl::duplicate",
                            format!("duplicate `{n}` in component `{}`", name.value),
                            child.span(),
                            "declared again here",
                        )
                        .and_label(*first, "first declared here")
                        .help(format!("declare `{n}` once per component")));
                }
                tenancy_nodes.push((n, child.span()));
            }
            match n {
                "service-account" => {
                    self.check_props(child, &[])?;
                    self.no_children(child)?;
                    let sa = self.single_string_arg(child, "a service account `namespace/name`")?;
                    self.check_service_account(&sa)?;
                    service_account = Some(sa);
                }
                "namespaces" => {
                    self.check_props(child, &[])?;
                    self.no_children(child)?;
                    let mut list: Vec<Spanned<String>> = Vec::new();
                    for ns in self.string_args(child, "a namespace name")? {
                        self.check_namespace_name(&ns)?;
                        if let Some(first) = list.iter().find(|d| d.value == ns.value) {
                            return Err(self.duplicate(
                                "namespace",
                                &format!("namespace `{}`", ns.value),
                                first.span,
                                ns.span,
                            ));
                        }
                        list.push(ns);
                    }
                    namespaces = Some(list);
                }
                "depends-on" => {
                    self.check_props(child, &[])?;
                    self.no_children(child)?;
                    for dep in self.string_args(child, "a component name")? {
                        if let Some(first) = depends_on.iter().find(|d| d.value == dep.value) {
                            return Err(self.duplicate(
                                "dependency",
                                &format!("dependency `{}`", dep.value),
                                first.span,
                                dep.span,
                            ));
                        }
                        depends_on.push(dep);
                    }
                }
                "manifests" | "kustomize" | "helm" | "use" => {
                    let r = self.renderer(child)?;
                    if let Some(first) = &renderer {
                        return Err(self
                            .err(
                                "kiln::component::renderers",
                                format!("component `{}` has more than one renderer", name.value),
                                child.span(),
                                "second renderer",
                            )
                            .and_label(first.span(), "first renderer")
                            .help("a component renders one way; split it into two components"));
                    }
                    renderer = Some(r);
                }
                other => {
                    return Err(self.unknown_node(
                        child,
                        other,
                        &[
                            "depends-on",
                            "manifests",
                            "kustomize",
                            "helm",
                            "use",
                            "service-account",
                            "namespaces",
                        ],
                        "in a component",
                    ));
                }
            }
        }
        let Some(renderer) = renderer else {
            return Err(self
                .err(
                    "kiln::component::no-renderer",
                    format!("component `{}` has no renderer", name.value),
                    name.span,
                    "renders nothing",
                )
                .help(format!(
                    "add one of {}, e.g. `manifests \"app:deploy\"`",
                    RENDERERS
                        .iter()
                        .map(|r| format!("`{r}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
        };
        Ok(Component {
            name,
            span: node.span(),
            depends_on,
            renderer,
            service_account,
            namespaces,
        })
    }

    /// A service account is `namespace/name`, both valid Kubernetes names.
    fn check_service_account(&self, sa: &Spanned<String>) -> Result<()> {
        let valid = sa.value.split_once('/').is_some_and(|(ns, name)| {
            is_dns_label(ns)
                && !name.is_empty()
                && name.len() <= 253
                && name.split('.').all(is_dns_label)
        });
        if valid {
            return Ok(());
        }
        Err(self
            .err(
                "kiln::component::service-account",
                format!("`{}` is not a service account `namespace/name`", sa.value),
                sa.span,
                "not `namespace/name`",
            )
            .help("name the service account with its namespace, e.g. `service-account \"team-a/deployer\"`"))
    }

    /// A namespace name is a DNS label: lowercase letters, digits and `-`, at most 63 characters.
    fn check_namespace_name(&self, ns: &Spanned<String>) -> Result<()> {
        if is_dns_label(&ns.value) {
            return Ok(());
        }
        Err(self
            .err(
                "kiln::component::namespace",
                format!("`{}` is not a valid namespace name", ns.value),
                ns.span,
                "not a namespace name",
            )
            .help("namespace names use lowercase letters, digits and `-` (at most 63, starting and ending with a letter or digit)"))
    }

    fn renderer(&self, node: &KdlNode) -> Result<Renderer> {
        let span = node.span();
        match node.name().value() {
            "manifests" => {
                self.check_props(node, &[])?;
                self.no_children(node)?;
                Ok(Renderer::Manifests {
                    span,
                    paths: self.string_args(node, "a `source:path` (file, directory or glob)")?,
                })
            }
            "kustomize" => {
                self.check_props(node, &[])?;
                self.no_children(node)?;
                Ok(Renderer::Kustomize {
                    span,
                    path: self
                        .single_string_arg(node, "a `source:path` of a kustomization directory")?,
                })
            }
            "helm" => {
                self.check_props(node, &["release", "namespace"])?;
                let chart = self.single_string_arg(node, "a chart (`source` or `source:path`)")?;
                let mut values_files = Vec::new();
                let mut values: Option<Val> = None;
                for child in self.block(node) {
                    match child.name().value() {
                        "values-file" => {
                            self.check_props(child, &[])?;
                            self.no_children(child)?;
                            values_files.extend(
                                self.string_args(child, "a `source:path` of a values file")?,
                            );
                        }
                        "values" => {
                            self.check_props(child, &[])?;
                            if let Some(first) = &values {
                                return Err(self.duplicate(
                                    "values block",
                                    "`values` block",
                                    first.span,
                                    child.span(),
                                ));
                            }
                            values = Some(self.map_block(child)?);
                        }
                        other => {
                            return Err(self.unknown_node(
                                child,
                                other,
                                &["values-file", "values"],
                                "in `helm`",
                            ));
                        }
                    }
                }
                Ok(Renderer::Helm {
                    span,
                    chart,
                    release: self.string_prop(node, "release")?,
                    namespace: self.string_prop(node, "namespace")?,
                    values_files,
                    values,
                })
            }
            "use" => {
                self.no_children(node)?;
                let name = self.single_string_arg(node, "the name of a stdlib component")?;
                let mut params: Vec<Param> = Vec::new();
                for entry in node.entries() {
                    let Some(key) = entry.name() else { continue };
                    if let Some(first) = params.iter().find(|p| p.key.value == key.value()) {
                        return Err(self.duplicate(
                            "parameter",
                            &format!("parameter `{}`", key.value()),
                            first.key.span,
                            key.span(),
                        ));
                    }
                    params.push(Param {
                        key: Spanned::new(key.value().to_string(), key.span()),
                        value: self.scalar(entry)?,
                    });
                }
                Ok(Renderer::Use { span, name, params })
            }
            other => Err(self.unknown_node(node, other, RENDERERS, "as a renderer")),
        }
    }

    fn scalar(&self, entry: &KdlEntry) -> Result<Val> {
        let span = entry.span();
        let kind = match entry.value() {
            KdlValue::String(s) => ValKind::Str(s.clone()),
            KdlValue::Integer(i) => match i64::try_from(*i) {
                Ok(i) => ValKind::Int(i),
                Err(_) => {
                    return Err(self
                        .err(
                            "kiln::kdl::wrong-type",
                            "integer out of range",
                            span,
                            "does not fit in 64 bits",
                        )
                        .help("write a smaller number, or quote it as a string"));
                }
            },
            KdlValue::Float(f) => ValKind::Float(*f),
            KdlValue::Bool(b) => ValKind::Bool(*b),
            KdlValue::Null => ValKind::Null,
        };
        Ok(Val { kind, span })
    }

    /// A node whose children are map entries: `vars { replicas 3; db { host "x" } }`.
    pub fn map_block(&self, node: &KdlNode) -> Result<Val> {
        let mut map: IndexMap<String, Val> = IndexMap::new();
        for entry in node.entries() {
            if let Some(key) = entry.name() {
                self.insert_key(&mut map, key.value(), key.span(), self.scalar(entry)?)?;
            }
        }
        for child in self.block(node) {
            let value = self.value_node(child)?;
            self.insert_key(&mut map, child.name().value(), child.name().span(), value)?;
        }
        Ok(Val {
            kind: ValKind::Map(map),
            span: node.span(),
        })
    }

    fn insert_key(
        &self,
        map: &mut IndexMap<String, Val>,
        key: &str,
        span: SourceSpan,
        value: Val,
    ) -> Result<()> {
        if let Some(first) = map.get(key) {
            return Err(self.duplicate("key", &format!("key `{key}`"), first.span, span));
        }
        map.insert(key.to_string(), value);
        Ok(())
    }

    /// A value node: `key 1` (scalar), `key 1 2` (list), `key a=1` or `key { … }` (map),
    /// `key { - 1; - { … } }` (list of values).
    fn value_node(&self, node: &KdlNode) -> Result<Val> {
        let args = self.args(node);
        let has_props = node.entries().iter().any(|e| e.name().is_some());
        let children = self.block(node);
        if !args.is_empty() && (has_props || !children.is_empty()) {
            return Err(self
                .err("kiln::kdl::mixed-value", format!("`{}` mixes a value with a map", node.name().value()), node.span(), "both arguments and properties/children")
                .help("give either a value (`key 1`), a list (`key 1 2`) or a map (`key a=1` or `key { a 1 }`)"));
        }
        match args.as_slice() {
            [one] => return self.scalar(one),
            [] => {}
            many => {
                let items = many
                    .iter()
                    .map(|e| self.scalar(e))
                    .collect::<Result<Vec<_>>>()?;
                return Ok(Val {
                    kind: ValKind::List(items),
                    span: node.span(),
                });
            }
        }
        if !children.is_empty() && children.iter().all(|c| c.name().value() == "-") {
            let items = children
                .iter()
                .map(|c| self.value_node(c))
                .collect::<Result<Vec<_>>>()?;
            return Ok(Val {
                kind: ValKind::List(items),
                span: node.span(),
            });
        }
        if !has_props && children.is_empty() && node.children().is_none() {
            return Ok(Val {
                kind: ValKind::Null,
                span: node.span(),
            });
        }
        self.map_block(node)
    }
}

/// An RFC 1123 label, as Kubernetes requires of namespace names.
fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn kdl_type(v: &KdlValue) -> &'static str {
    match v {
        KdlValue::String(_) => "a string",
        KdlValue::Integer(_) => "an integer",
        KdlValue::Float(_) => "a number",
        KdlValue::Bool(_) => "a boolean",
        KdlValue::Null => "#null",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Project> {
        parse(
            SourceFile::new("kiln.kdl", "kiln.kdl", text),
            PathBuf::from("."),
        )
    }

    #[test]
    fn decodes_a_full_project() {
        let p = parse_str(
            r#"
project "shop"
source "app" path="./app"
source "repo" git="https://example.com/r.git" semver="^1"
source "podinfo" helm-repo="https://charts.example.com" chart="podinfo" version="6.x"
source "redis" oci="oci://r.example.com/redis" digest="sha256:00"
target "staging" { cluster context="kind-staging"; vars { replicas 2; hosts "a" "b"; db host="x" port=5432 } }
component "crds" { manifests "app:crds" "app:more/*.yaml" }
component "web" {
    depends-on "crds"
    helm "app:chart" release="web" namespace="shop" {
        values-file "app:values.yaml"
        values { replicaCount "{{ vars.replicas }}"; list { - 1; - { a 1 } } }
    }
}
component "team" { use "tenant" namespace="team-a" cpu=4 }
"#,
        )
        .unwrap();
        assert_eq!(p.name.value, "shop");
        assert!(matches!(
            p.sources["repo"].kind,
            SourceKind::Git {
                reference: Some(GitRef::Semver(_)),
                ..
            }
        ));
        assert!(matches!(
            p.sources["redis"].kind,
            SourceKind::Oci {
                reference: Some(OciRef::Digest(_)),
                ..
            }
        ));
        let t = &p.targets["staging"];
        assert_eq!(t.context.as_ref().unwrap().value, "kind-staging");
        let ValKind::Map(vars) = &t.vars.kind else {
            panic!()
        };
        assert!(matches!(vars["hosts"].kind, ValKind::List(ref l) if l.len() == 2));
        assert!(
            matches!(vars["db"].kind, ValKind::Map(ref m) if m["port"].kind == ValKind::Int(5432))
        );
        let Renderer::Helm {
            values: Some(values),
            release,
            ..
        } = &p.components["web"].renderer
        else {
            panic!()
        };
        assert_eq!(release.as_ref().unwrap().value, "web");
        let ValKind::Map(values) = &values.kind else {
            panic!()
        };
        assert!(matches!(values["list"].kind, ValKind::List(ref l) if l.len() == 2));
        assert_eq!(p.components["web"].depends_on[0].value, "crds");
        let Renderer::Use { params, .. } = &p.components["team"].renderer else {
            panic!()
        };
        assert_eq!(params[1].value.kind, ValKind::Int(4));
    }

    fn code(text: &str) -> &'static str {
        parse_str(text).unwrap_err().code
    }

    #[test]
    fn rejects_bad_input_with_specific_codes() {
        let t = "project \"p\"\ntarget \"t\"\n";
        assert_eq!(code("project \"p\"\ntarget \"t\" {"), "kiln::kdl::syntax");
        assert_eq!(
            code(&format!("{t}componnet \"a\"")),
            "kiln::kdl::unknown-node"
        );
        assert_eq!(
            code(&format!("{t}source \"a\" path=\"x\" pth=\"y\"")),
            "kiln::kdl::unknown-property"
        );
        assert_eq!(
            code(&format!("{t}source \"a\" path=1")),
            "kiln::kdl::wrong-type"
        );
        assert_eq!(code(&format!("{t}target \"t\"")), "kiln::kdl::duplicate");
        assert_eq!(
            code(&format!("{t}component \"a\" {{ }}")),
            "kiln::component::no-renderer"
        );
        assert_eq!(
            code(&format!(
                "{t}component \"a\" {{ manifests \"x\"; kustomize \"y\" }}"
            )),
            "kiln::component::renderers"
        );
        assert_eq!(code("target \"t\""), "kiln::project::no-name");
        assert_eq!(code("project \"p\""), "kiln::project::no-target");
        assert_eq!(
            code(&format!("{t}component \"a/b\" {{ manifests \"x\" }}")),
            "kiln::kdl::invalid-name"
        );
        assert_eq!(
            code(&format!("{t}source \"a\" git=\"u\" ref=\"m\" semver=\"1\"")),
            "kiln::kdl::conflict"
        );
    }

    #[test]
    fn unknown_property_suggests_the_close_one() {
        let e = parse_str("project \"p\"\ntarget \"t\" { cluster contxt=\"x\" }").unwrap_err();
        assert!(
            e.render_plain().contains("did you mean `context`?"),
            "{}",
            e.render_plain()
        );
    }
}
