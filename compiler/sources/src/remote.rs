//! Mapping a kustomize remote resource (`https://host/org/repo//deploy?ref=v1`,
//! `github.com/org/repo/deploy?ref=v1`, `git@host:org/repo//deploy`) onto a declared Git source,
//! so that remote bases are only ever read through a pinned, cached source.

use crate::spec::{GitSelect, GitSpec, SourceKind, SourceSpec};

/// A remote resource resolved to a declared source: its name and the directory inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredRemote {
    pub source_name: String,
    pub path: String,
}

/// Normalizes a repository location to `host/path` (no scheme, user, `.git`, trailing `/`).
fn normalize(repo: &str) -> String {
    let r = repo.trim();
    let r = r.split_once("://").map_or(r, |(_, rest)| rest);
    let r = r.rsplit_once('@').map_or(r, |(_, rest)| rest);
    // scp-like `host:org/repo`
    let r = match r.split_once(':') {
        Some((host, rest)) if !rest.starts_with(|c: char| c.is_ascii_digit()) => {
            format!("{host}/{rest}")
        }
        _ => r.to_string(),
    };
    r.trim_end_matches('/')
        .trim_end_matches(".git")
        .to_lowercase()
}

/// Splits a kustomize remote URL into (repository, sub-path, ref).
fn split_remote(url: &str) -> (String, String, Option<String>) {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let reference = query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        matches!(k, "ref" | "version").then(|| v.to_string())
    });
    let scheme_len = base.find("://").map_or(0, |i| i + 3);
    if let Some(i) = base[scheme_len..].find("//") {
        let at = scheme_len + i;
        return (
            base[..at].to_string(),
            base[at + 2..].trim_matches('/').to_string(),
            reference,
        );
    }
    if let Some(i) = base.find(".git/") {
        return (
            base[..i + 4].to_string(),
            base[i + 5..].trim_matches('/').to_string(),
            reference,
        );
    }
    // `github.com/org/repo/sub/dir`: the repository is the first three segments.
    let rest = &base[scheme_len..];
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.len() > 3 {
        let repo = format!("{}{}", &base[..scheme_len], segments[..3].join("/"));
        return (repo, segments[3..].join("/"), reference);
    }
    (base.to_string(), String::new(), reference)
}

/// Finds the declared Git source that serves `url`, if any: same repository, and when the URL
/// names a ref, a source declared with that `ref=`.
pub fn find_declared(specs: &[SourceSpec], url: &str) -> Option<DeclaredRemote> {
    let (repo, path, reference) = split_remote(url);
    let wanted = normalize(&repo);
    specs.iter().find_map(|s| {
        let SourceKind::Git(g) = &s.kind else {
            return None;
        };
        if normalize(&g.git) != wanted {
            return None;
        }
        let ref_ok = match (&reference, &g.select) {
            (None, _) => true,
            (Some(r), GitSelect::Ref(d)) => r == d,
            (Some(r), GitSelect::Commit(c)) => c.starts_with(r.as_str()),
            (Some(_), _) => false,
        };
        if !ref_ok {
            return None;
        }
        // The source's own sub-path must contain the requested directory.
        let inner = match g
            .path
            .as_deref()
            .map(|p| p.trim_matches('/'))
            .filter(|p| !p.is_empty())
        {
            None => path.clone(),
            Some(p) if path == p => String::new(),
            Some(p) => path.strip_prefix(&format!("{p}/"))?.to_string(),
        };
        Some(DeclaredRemote {
            source_name: s.name.clone(),
            path: inner,
        })
    })
}

/// The repository URL to declare for a remote resource: scp-like and scheme-less forms become
/// `https://` (the transports kiln speaks), explicit schemes are kept.
fn declarable_url(repo: &str) -> String {
    if repo.contains("://") {
        return repo.to_string();
    }
    let r = repo.rsplit_once('@').map_or(repo, |(_, rest)| rest);
    let r = match r.split_once(':') {
        Some((host, rest)) if !rest.starts_with(|c: char| c.is_ascii_digit()) => {
            format!("{host}/{rest}")
        }
        _ => r.to_string(),
    };
    format!("https://{r}")
}

/// A source name for a repository: its last path segment, in the characters names allow.
fn suggested_name(repo: &str, taken: &[&str]) -> String {
    let last = repo
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .rsplit(['/', ':'])
        .next()
        .unwrap_or("");
    let mut name: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if name.is_empty() {
        name = "remote".into();
    }
    let mut candidate = name.clone();
    let mut n = 2;
    while taken.contains(&candidate.as_str()) {
        candidate = format!("{name}-{n}");
        n += 1;
    }
    candidate
}

/// Explains why no declared source serves `url` and shows the `source` node that would: what a
/// diagnostic about an undeclared remote resource says as its hint.
pub fn undeclared_hint(specs: &[SourceSpec], url: &str) -> String {
    let (repo, path, reference) = split_remote(url);
    let wanted = normalize(&repo);
    let taken: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    let node = format!(
        "source \"{}\" git=\"{}\"{}",
        suggested_name(&repo, &taken),
        declarable_url(&repo),
        reference
            .as_deref()
            .map(|r| format!(" ref=\"{r}\""))
            .unwrap_or_default()
    );
    let same_repo: Vec<(&str, &GitSpec)> = specs
        .iter()
        .filter_map(|s| match &s.kind {
            SourceKind::Git(g) if normalize(&g.git) == wanted => Some((s.name.as_str(), g)),
            _ => None,
        })
        .collect();
    let why = match same_repo.first() {
        None => "kiln reads remote bases only through declared, locked sources".to_string(),
        Some((name, g)) => match (&reference, &g.path) {
            (Some(r), _) if !matches!(&g.select, GitSelect::Ref(d) if d == r) => format!(
                "source `{name}` declares this repository at {}, the resource asks for ref `{r}`",
                g.select
            ),
            (_, Some(p)) => format!(
                "source `{name}` holds only `{p}` of this repository, the resource reads `{path}`"
            ),
            _ => format!("source `{name}` declares this repository with {}", g.select),
        },
    };
    format!("{why}; declare it in kiln.kdl:\n    {node}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs() -> Vec<SourceSpec> {
        vec![
            SourceSpec::git(
                "shop",
                "https://github.com/acme/shop.git",
                GitSelect::Ref("v1.2.0".into()),
            ),
            SourceSpec::git(
                "infra",
                "https://git.example/ops/infra",
                GitSelect::Ref("main".into()),
            )
            .with_path("base"),
        ]
    }

    #[test]
    fn kustomize_remote_forms_map_to_sources() {
        let found = |u: &str| find_declared(&specs(), u).map(|d| (d.source_name, d.path));
        assert_eq!(
            found("https://github.com/acme/shop//deploy/prod?ref=v1.2.0"),
            Some(("shop".into(), "deploy/prod".into()))
        );
        assert_eq!(
            found("github.com/acme/shop/deploy?ref=v1.2.0"),
            Some(("shop".into(), "deploy".into()))
        );
        assert_eq!(
            found("git@github.com:acme/shop.git//deploy"),
            Some(("shop".into(), "deploy".into()))
        );
        assert_eq!(
            found("https://git.example/ops/infra.git//base/ns?ref=main"),
            Some(("infra".into(), "ns".into()))
        );
    }

    #[test]
    fn undeclared_repositories_refs_and_paths_do_not_match() {
        let found = |u: &str| find_declared(&specs(), u);
        assert_eq!(found("https://github.com/acme/other//deploy"), None);
        assert_eq!(
            found("https://github.com/acme/shop//deploy?ref=v2.0.0"),
            None
        );
        assert_eq!(found("https://git.example/ops/infra//apps?ref=main"), None);
    }

    #[test]
    fn undeclared_resources_get_the_source_node_to_add() {
        assert_eq!(
            undeclared_hint(&specs(), "git@github.com:acme/other.git//deploy?ref=v3"),
            "kiln reads remote bases only through declared, locked sources; declare it in kiln.kdl:\n    source \"other\" git=\"https://github.com/acme/other.git\" ref=\"v3\""
        );
        let hint = undeclared_hint(&specs(), "https://github.com/acme/shop//deploy?ref=v2.0.0");
        assert!(
            hint.starts_with("source `shop` declares this repository at ref `v1.2.0`, the resource asks for ref `v2.0.0`"),
            "{hint}"
        );
        assert!(
            hint.ends_with("source \"shop-2\" git=\"https://github.com/acme/shop\" ref=\"v2.0.0\""),
            "{hint}"
        );
        let hint = undeclared_hint(&specs(), "https://git.example/ops/infra//apps?ref=main");
        assert!(
            hint.starts_with(
                "source `infra` holds only `base` of this repository, the resource reads `apps`"
            ),
            "{hint}"
        );
    }
}
