//! The typed project model: what `kiln.kdl` declares, with the source span of every value so
//! later stages can point diagnostics at the text the user wrote.
//!
//! The model is the output of [`crate::project`] and the input of [`crate::resolve`]; it holds
//! template strings unevaluated, since they are evaluated once per target.

use std::path::PathBuf;

use indexmap::IndexMap;
use miette::SourceSpan;

use crate::diag::SourceFile;

/// A value and the span of the KDL text it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: SourceSpan,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: SourceSpan) -> Self {
        Spanned { value, span }
    }
}

/// A parsed `kiln.kdl`.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project file, for diagnostics.
    pub file: SourceFile,
    /// The directory holding the project file; local source paths are relative to it.
    pub root: PathBuf,
    pub name: Spanned<String>,
    pub sources: IndexMap<String, Source>,
    pub targets: IndexMap<String, Target>,
    pub components: IndexMap<String, Component>,
    /// Verified content directories of the remote sources, filled by [`crate::sources`].
    pub fetched: std::collections::BTreeMap<String, PathBuf>,
}

/// A declared source of files.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub name: Spanned<String>,
    /// The whole `source` node.
    pub span: SourceSpan,
    pub kind: SourceKind,
}

/// Where a source's files come from.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceKind {
    /// A directory of the project's own checkout, relative to the project file.
    Path { path: Spanned<String> },
    /// A Git repository at a branch/tag/commit or the highest tag matching a semver range.
    Git {
        url: Spanned<String>,
        reference: Option<GitRef>,
        /// Only this directory of the repository (`path=`).
        path: Option<Spanned<String>>,
        /// Extra PEM roots for an `https://` server with a private CA (`ca-file=`).
        ca_file: Option<Spanned<String>>,
    },
    /// A chart from a Helm HTTP repository.
    HelmRepo {
        url: Spanned<String>,
        chart: Spanned<String>,
        version: Option<Spanned<String>>,
        /// Extra PEM roots for an `https://` server with a private CA (`ca-file=`).
        ca_file: Option<Spanned<String>>,
    },
    /// An OCI artifact (a chart or a tree of files).
    Oci {
        url: Spanned<String>,
        reference: Option<OciRef>,
        /// Extra PEM roots for a registry with a private CA (`ca-file=`).
        ca_file: Option<Spanned<String>>,
    },
}

/// Which revision of a Git source.
#[derive(Debug, Clone, PartialEq)]
pub enum GitRef {
    /// A branch, tag or commit (`ref=`).
    Ref(Spanned<String>),
    /// The highest tag matching a semver constraint (`semver=`).
    Semver(Spanned<String>),
}

/// Which artifact of an OCI source.
#[derive(Debug, Clone, PartialEq)]
pub enum OciRef {
    Tag(Spanned<String>),
    Digest(Spanned<String>),
    /// The highest tag matching a semver constraint (`version=`).
    Version(Spanned<String>),
}

impl SourceKind {
    /// The word users know the kind by, for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            SourceKind::Path { .. } => "local path",
            SourceKind::Git { .. } => "Git",
            SourceKind::HelmRepo { .. } => "Helm repository",
            SourceKind::Oci { .. } => "OCI",
        }
    }
}

/// A deployment target: a cluster and the variables templates see for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: Spanned<String>,
    pub span: SourceSpan,
    /// The kubeconfig context of the cluster (`cluster context="…"`).
    pub context: Option<Spanned<String>>,
    /// `vars { … }` as a map value.
    pub vars: Val,
}

/// A component: one unit of rendering, applied in dependency order.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub name: Spanned<String>,
    pub span: SourceSpan,
    pub depends_on: Vec<Spanned<String>>,
    pub renderer: Renderer,
    /// `service-account "namespace/name"`: the identity the applier impersonates for it.
    pub service_account: Option<Spanned<String>>,
    /// `namespaces "a" "b"`: the only namespaces its objects may be in (nothing cluster-scoped).
    pub namespaces: Option<Vec<Spanned<String>>>,
}

/// How a component produces its objects. Paths are `source:path` template strings.
#[derive(Debug, Clone, PartialEq)]
pub enum Renderer {
    /// Plain YAML/JSON manifests: files, directories (recursive) and globs.
    Manifests {
        span: SourceSpan,
        paths: Vec<Spanned<String>>,
    },
    /// A kustomization directory.
    Kustomize {
        span: SourceSpan,
        path: Spanned<String>,
    },
    /// A Helm chart.
    Helm {
        span: SourceSpan,
        chart: Spanned<String>,
        release: Option<Spanned<String>>,
        namespace: Option<Spanned<String>>,
        values_files: Vec<Spanned<String>>,
        values: Option<Val>,
    },
    /// A component of the standard library with parameters.
    Use {
        span: SourceSpan,
        name: Spanned<String>,
        params: Vec<Param>,
    },
}

impl Renderer {
    /// The renderer's node name in `kiln.kdl`.
    pub fn kind(&self) -> &'static str {
        match self {
            Renderer::Manifests { .. } => "manifests",
            Renderer::Kustomize { .. } => "kustomize",
            Renderer::Helm { .. } => "helm",
            Renderer::Use { .. } => "use",
        }
    }

    /// The span of the renderer node.
    pub fn span(&self) -> SourceSpan {
        match self {
            Renderer::Manifests { span, .. }
            | Renderer::Kustomize { span, .. }
            | Renderer::Helm { span, .. }
            | Renderer::Use { span, .. } => *span,
        }
    }
}

/// A `key=value` parameter of `use`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub key: Spanned<String>,
    pub value: Val,
}

/// A value written in KDL (scalars, and maps/lists written as child nodes), with spans.
#[derive(Debug, Clone, PartialEq)]
pub struct Val {
    pub kind: ValKind,
    pub span: SourceSpan,
}

/// The shape of a [`Val`].
#[derive(Debug, Clone, PartialEq)]
pub enum ValKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string, possibly holding minijinja expressions.
    Str(String),
    List(Vec<Val>),
    Map(IndexMap<String, Val>),
}

impl Val {
    /// An empty map at `span`.
    pub fn empty_map(span: SourceSpan) -> Self {
        Val {
            kind: ValKind::Map(IndexMap::new()),
            span,
        }
    }

    /// The type name used in diagnostics.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            ValKind::Null => "null",
            ValKind::Bool(_) => "boolean",
            ValKind::Int(_) => "integer",
            ValKind::Float(_) => "number",
            ValKind::Str(_) => "string",
            ValKind::List(_) => "list",
            ValKind::Map(_) => "map",
        }
    }
}
