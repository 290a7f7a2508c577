//! What a project declares about a source, independent of the project file syntax: the
//! compiler's KDL model converts its `source` nodes into these types.

use std::fmt;

use crate::error::SourceError;

/// One declared source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSpec {
    /// The name other declarations use to refer to the source (`app:deploy/crds`).
    pub name: String,
    pub kind: SourceKind,
    /// Extra PEM root certificates for this source's `https://` server (a private CA). Not part
    /// of the source's identity: the lock does not record it.
    pub ca_file: Option<std::path::PathBuf>,
}

/// The three kinds of sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    Git(GitSpec),
    HelmRepo(HelmRepoSpec),
    Oci(OciSpec),
}

/// A Git repository: `git="…" ref="main"` / `semver=">=1.2 <2"` / `commit="<sha>"`, optional `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSpec {
    /// `https://`, `http://`, `git://`, `file://` URL or a local path.
    pub git: String,
    pub select: GitSelect,
    /// Only this directory of the repository becomes the source's content.
    pub path: Option<String>,
}

/// Which commit of a Git repository to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitSelect {
    /// A branch or tag name (`main`, `v1.2.0`) or a full ref (`refs/heads/main`).
    Ref(String),
    /// The highest tag matching a Masterminds constraint.
    Semver(String),
    /// A full commit SHA.
    Commit(String),
    /// The remote's default branch (`HEAD`).
    DefaultBranch,
}

/// A chart in a classic Helm repository (`index.yaml` over HTTP(S)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmRepoSpec {
    pub helm_repo: String,
    pub chart: String,
    /// A Masterminds constraint or exact version; absent means the newest stable version.
    pub version: Option<String>,
}

/// An OCI artifact: a Helm chart pushed with `helm push`, or a generic artifact (Flux's
/// `flux push artifact` format, or kiln's own pushes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciSpec {
    /// `oci://registry[:port]/repository`.
    pub oci: String,
    pub select: OciSelect,
}

/// Which manifest of an OCI repository to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OciSelect {
    Tag(String),
    /// The highest tag matching a Masterminds constraint (Helm's `+` → `_` tag mangling is undone).
    Semver(String),
    /// A manifest digest `sha256:…`.
    Digest(String),
}

impl SourceSpec {
    pub fn git(name: &str, url: &str, select: GitSelect) -> Self {
        SourceSpec {
            name: name.into(),
            kind: SourceKind::Git(GitSpec {
                git: url.into(),
                select,
                path: None,
            }),
            ca_file: None,
        }
    }

    pub fn helm_repo(name: &str, url: &str, chart: &str, version: Option<&str>) -> Self {
        SourceSpec {
            name: name.into(),
            kind: SourceKind::HelmRepo(HelmRepoSpec {
                helm_repo: url.into(),
                chart: chart.into(),
                version: version.map(Into::into),
            }),
            ca_file: None,
        }
    }

    pub fn oci(name: &str, url: &str, select: OciSelect) -> Self {
        SourceSpec {
            name: name.into(),
            kind: SourceKind::Oci(OciSpec {
                oci: url.into(),
                select,
            }),
            ca_file: None,
        }
    }

    /// Builds a declaration from the attributes of a project file's `source` node, e.g.
    /// `[("git", "https://…"), ("ref", "main"), ("path", "deploy")]`. Accepted combinations:
    /// `git` + one of `ref`/`semver`/`commit` (or none: the default branch) + optional `path`;
    /// `helm-repo` + `chart` + optional `version`; `oci` + one of `tag`/`semver`/`version`
    /// (a constraint, as in Helm)/`digest` (none: tag `latest`). The result is validated.
    pub fn from_attributes<'a>(
        name: &str,
        attributes: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<SourceSpec, SourceError> {
        let mut map = std::collections::BTreeMap::new();
        for (k, v) in attributes {
            if map.insert(k, v).is_some() {
                return Err(SourceError::InvalidSpec {
                    source_name: name.into(),
                    reason: format!("`{k}` is given twice"),
                    hint: "keep one".into(),
                });
            }
        }
        let invalid = |reason: String, hint: &str| SourceError::InvalidSpec {
            source_name: name.into(),
            reason,
            hint: hint.into(),
        };
        let only = |allowed: &[&str], kind: &str| -> Result<(), SourceError> {
            match map.keys().find(|k| !allowed.contains(k)) {
                Some(k) => Err(invalid(
                    format!("`{k}` does not apply to a {kind} source"),
                    &format!("a {kind} source takes {}", allowed.join(", ")),
                )),
                None => Ok(()),
            }
        };
        let one_of =
            |keys: &[&'static str]| -> Result<Option<(&'static str, String)>, SourceError> {
                let given: Vec<&str> = keys
                    .iter()
                    .copied()
                    .filter(|k| map.contains_key(k))
                    .collect();
                match given.as_slice() {
                    [] => Ok(None),
                    [k] => Ok(Some((*k, map[k].to_string()))),
                    _ => Err(invalid(
                        format!("{} are given together", given.join(" and ")),
                        &format!("give only one of {}", keys.join(", ")),
                    )),
                }
            };
        let spec = if let Some(url) = map.get("git") {
            only(&["git", "ref", "semver", "commit", "path"], "git")?;
            let select = match one_of(&["ref", "semver", "commit"])? {
                None => GitSelect::DefaultBranch,
                Some(("ref", v)) => GitSelect::Ref(v),
                Some(("semver", v)) => GitSelect::Semver(v),
                Some((_, v)) => GitSelect::Commit(v),
            };
            let mut spec = SourceSpec::git(name, url, select);
            if let Some(p) = map.get("path") {
                spec = spec.with_path(p);
            }
            spec
        } else if let Some(url) = map.get("helm-repo") {
            only(&["helm-repo", "chart", "version"], "helm-repo")?;
            let chart = map.get("chart").ok_or_else(|| {
                invalid(
                    "`chart` is missing".into(),
                    "name the chart: chart=\"podinfo\"",
                )
            })?;
            SourceSpec::helm_repo(name, url, chart, map.get("version").copied())
        } else if let Some(url) = map.get("oci") {
            only(&["oci", "tag", "semver", "version", "digest"], "oci")?;
            let select = match one_of(&["tag", "semver", "version", "digest"])? {
                None => OciSelect::Tag("latest".into()),
                Some(("tag", v)) => OciSelect::Tag(v),
                Some(("digest", v)) => OciSelect::Digest(v),
                Some((_, v)) => OciSelect::Semver(v),
            };
            SourceSpec::oci(name, url, select)
        } else {
            return Err(invalid(
                "the kind of source is missing".into(),
                "give one of git=\"…\", helm-repo=\"…\", oci=\"oci://…\"",
            ));
        };
        spec.validate()?;
        Ok(spec)
    }

    /// Trusts the PEM certificates in `path` (besides the system roots) for this source.
    pub fn with_ca_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// Sets the sub-path of a Git source (no effect on other kinds).
    pub fn with_path(mut self, path: &str) -> Self {
        if let SourceKind::Git(g) = &mut self.kind {
            g.path = Some(path.into());
        }
        self
    }

    /// The URL as it may be shown and stored (credentials removed).
    pub fn display_url(&self) -> String {
        redact_url(match &self.kind {
            SourceKind::Git(g) => &g.git,
            SourceKind::HelmRepo(h) => &h.helm_repo,
            SourceKind::Oci(o) => &o.oci,
        })
    }

    /// The declaration with credentials removed from its URL: what the lock records.
    pub(crate) fn redacted(&self) -> SourceKind {
        let mut kind = self.kind.clone();
        match &mut kind {
            SourceKind::Git(g) => g.git = redact_url(&g.git),
            SourceKind::HelmRepo(h) => h.helm_repo = redact_url(&h.helm_repo),
            SourceKind::Oci(o) => o.oci = redact_url(&o.oci),
        }
        kind
    }

    /// Checks what can be checked without the network.
    pub fn validate(&self) -> Result<(), SourceError> {
        let invalid = |reason: String, hint: &str| SourceError::InvalidSpec {
            source_name: self.name.clone(),
            reason,
            hint: hint.into(),
        };
        if self.name.is_empty() {
            return Err(invalid(
                "the name is empty".into(),
                "give the source a name",
            ));
        }
        match &self.kind {
            SourceKind::Git(g) => {
                if let GitSelect::Commit(c) = &g.select
                    && !(c.len() == 40 && c.bytes().all(|b| b.is_ascii_hexdigit()))
                {
                    return Err(invalid(
                        format!("`{c}` is not a full commit SHA"),
                        "give all 40 hex digits of the commit",
                    ));
                }
                if let GitSelect::Semver(c) = &g.select {
                    check_constraint(&self.name, c)?;
                }
                if let Some(p) = &g.path
                    && (p.starts_with('/') || p.split('/').any(|s| s == ".."))
                {
                    return Err(invalid(
                        format!("path `{p}` leaves the repository"),
                        "use a relative path inside the repository",
                    ));
                }
            }
            SourceKind::HelmRepo(h) => {
                if !(h.helm_repo.starts_with("http://") || h.helm_repo.starts_with("https://")) {
                    return Err(invalid(
                        format!("`{}` is not an http(s) URL", redact_url(&h.helm_repo)),
                        "Helm repositories are served over HTTP(S); for `oci://` use `oci=`",
                    ));
                }
                if let Some(v) = &h.version {
                    check_constraint(&self.name, v)?;
                }
            }
            SourceKind::Oci(o) => {
                if !o.oci.starts_with("oci://") {
                    return Err(invalid(
                        format!("`{}` does not start with oci://", redact_url(&o.oci)),
                        "write the registry URL as oci://registry/repository",
                    ));
                }
                match &o.select {
                    OciSelect::Semver(c) => check_constraint(&self.name, c)?,
                    OciSelect::Digest(d) if !d.starts_with("sha256:") || d.len() != 71 => {
                        return Err(invalid(
                            format!("`{d}` is not a sha256 digest"),
                            "write the digest as sha256:<64 hex digits>",
                        ));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

fn check_constraint(name: &str, text: &str) -> Result<(), SourceError> {
    crate::constraint::Constraint::parse(text)
        .map(|_| ())
        .map_err(|reason| SourceError::InvalidConstraint {
            source_name: name.into(),
            constraint: text.into(),
            reason,
        })
}

impl fmt::Display for GitSelect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GitSelect::Ref(r) => write!(f, "ref `{r}`"),
            GitSelect::Semver(c) => write!(f, "semver `{c}`"),
            GitSelect::Commit(c) => write!(f, "commit {c}"),
            GitSelect::DefaultBranch => f.write_str("the default branch"),
        }
    }
}

/// Removes the user-info part (`user:password@`) of a URL.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &url[..scheme_end + 3], &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_removes_credentials_only() {
        assert_eq!(
            redact_url("https://u:secret@example.com/a.git"),
            "https://example.com/a.git"
        );
        assert_eq!(
            redact_url("https://example.com/a@b"),
            "https://example.com/a@b"
        );
        assert_eq!(redact_url("/local/path"), "/local/path");
    }

    #[test]
    fn from_attributes_maps_the_project_syntax() {
        let s = SourceSpec::from_attributes(
            "app",
            [
                ("git", "https://h/a.git"),
                ("ref", "main"),
                ("path", "deploy"),
            ],
        )
        .unwrap();
        assert_eq!(
            s,
            SourceSpec::git("app", "https://h/a.git", GitSelect::Ref("main".into()))
                .with_path("deploy")
        );
        let s = SourceSpec::from_attributes("r", [("oci", "oci://r/c/redis"), ("version", "^19")])
            .unwrap();
        assert_eq!(
            s.kind,
            SourceSpec::oci("r", "oci://r/c/redis", OciSelect::Semver("^19".into())).kind
        );
        let e = SourceSpec::from_attributes("x", [("git", "u"), ("ref", "a"), ("semver", "1.x")])
            .unwrap_err();
        assert!(e.to_string().contains("ref and semver"), "{e}");
        let e = SourceSpec::from_attributes("x", [("helm-repo", "https://h"), ("tag", "1")])
            .unwrap_err();
        assert!(e.to_string().contains("`tag` does not apply"), "{e}");
        assert!(SourceSpec::from_attributes("x", [("helm-repo", "https://h")]).is_err());
        assert!(SourceSpec::from_attributes("x", [("chart", "c")]).is_err());
    }

    #[test]
    fn validation_catches_bad_declarations() {
        let s = SourceSpec::git("a", "x", GitSelect::Commit("abc".into()));
        assert!(matches!(s.validate(), Err(SourceError::InvalidSpec { .. })));
        let s = SourceSpec::helm_repo("h", "https://x", "c", Some(">=>1"));
        assert!(matches!(
            s.validate(),
            Err(SourceError::InvalidConstraint { .. })
        ));
        let s = SourceSpec::oci("o", "https://x", OciSelect::Tag("1".into()));
        assert!(s.validate().is_err());
    }
}
