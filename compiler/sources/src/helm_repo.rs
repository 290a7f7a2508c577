//! Classic Helm repositories: `index.yaml` over HTTP(S), version selection with Helm's
//! constraint rules, download of the chart archive checked against the index digest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::Digest as _;

use crate::archive::{self, ArchiveIssue};
use crate::cache::Cache;
use crate::constraint::{self, Constraint};
use crate::error::SourceError;
use crate::lock::Pin;
use crate::settings::Settings;
use crate::spec::{HelmRepoSpec, redact_url};

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    entries: BTreeMap<String, Vec<IndexEntry>>,
}

#[derive(Deserialize)]
struct IndexEntry {
    version: String,
    #[serde(default)]
    urls: Vec<String>,
    #[serde(default)]
    digest: Option<String>,
}

fn index_url(repo: &str) -> String {
    format!("{}/index.yaml", repo.trim_end_matches('/'))
}

/// Picks the chart version and its download URL and digest from the repository index.
pub(crate) async fn resolve(
    client: &reqwest::Client,
    settings: &Settings,
    source_name: &str,
    spec: &HelmRepoSpec,
) -> Result<Pin, SourceError> {
    let url = index_url(&spec.helm_repo);
    let bytes = crate::http::get_bytes(
        client,
        settings,
        source_name,
        &url,
        "the repository index (index.yaml)",
    )
    .await?;
    let text = String::from_utf8_lossy(&bytes);
    // Public indexes (bitnami, …) hold tens of thousands of chart versions.
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: 100_000_000,
            max_nodes: 50_000_000,
        },
    };
    let index: Index =
        serde_saphyr::from_str_with_options(&text, options).map_err(|e| SourceError::NotFound {
            source_name: source_name.into(),
            url: redact_url(&url),
            what: "a valid index.yaml".into(),
            hint: format!("the file is not a Helm repository index: {e}"),
        })?;
    let Some(versions) = index.entries.get(&spec.chart) else {
        let mut names: Vec<&String> = index.entries.keys().collect();
        names.truncate(20);
        return Err(SourceError::NotFound {
            source_name: source_name.into(),
            url: redact_url(&url),
            what: format!("chart `{}`", spec.chart),
            hint: if names.is_empty() {
                "the repository index lists no charts".into()
            } else {
                format!(
                    "charts in this repository: {}",
                    names
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        });
    };
    let parsed: Vec<(semver::Version, &IndexEntry)> = versions
        .iter()
        .filter_map(|e| constraint::parse_version(&e.version).map(|v| (v, e)))
        .collect();
    let chosen = match &spec.version {
        Some(text) => match versions.iter().find(|e| &e.version == text) {
            Some(exact) => Some(exact),
            None => {
                let c =
                    Constraint::parse(text).map_err(|reason| SourceError::InvalidConstraint {
                        source_name: source_name.into(),
                        constraint: text.clone(),
                        reason,
                    })?;
                c.best(parsed.iter().map(|(v, e)| (v, *e))).map(|(_, e)| e)
            }
        },
        None => parsed
            .iter()
            .filter(|(v, _)| !constraint::is_prerelease(v))
            .max_by(|a, b| a.0.cmp_precedence(&b.0))
            .map(|(_, e)| *e),
    };
    let Some(entry) = chosen else {
        let mut available: Vec<&(semver::Version, &IndexEntry)> = parsed.iter().collect();
        available.sort_by(|a, b| b.0.cmp_precedence(&a.0));
        return Err(SourceError::NoMatchingVersion {
            source_name: source_name.into(),
            url: redact_url(&spec.helm_repo),
            what: format!("chart `{}`", spec.chart),
            constraint: spec
                .version
                .clone()
                .unwrap_or_else(|| "(newest stable)".into()),
            available: available.iter().map(|(_, e)| e.version.clone()).collect(),
        });
    };
    let Some(first) = entry.urls.first() else {
        return Err(SourceError::NotFound {
            source_name: source_name.into(),
            url: redact_url(&url),
            what: format!(
                "a download URL for chart `{}` {}",
                spec.chart, entry.version
            ),
            hint: "the index entry has no `urls`; the repository is broken".into(),
        });
    };
    let chart_url = absolute(&spec.helm_repo, first);
    let digest = match &entry.digest {
        Some(d) if !d.is_empty() => {
            format!("sha256:{}", d.trim_start_matches("sha256:").to_lowercase())
        }
        _ => {
            // No digest in the index: pin what the server serves now.
            let bytes =
                crate::http::get_bytes(client, settings, source_name, &chart_url, "chart archive")
                    .await?;
            format!("sha256:{}", hex::encode(sha2::Sha256::digest(&bytes)))
        }
    };
    Ok(Pin::HelmRepo {
        version: entry.version.clone(),
        url: redact_url(&chart_url),
        digest,
    })
}

/// Resolves a chart URL from the index against the repository URL, as Helm does.
fn absolute(repo: &str, chart: &str) -> String {
    if chart.contains("://") {
        return chart.to_string();
    }
    let base = format!("{}/", repo.trim_end_matches('/'));
    url::Url::parse(&base)
        .and_then(|b| b.join(chart))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| format!("{base}{chart}"))
}

/// Downloads the pinned chart archive, checks its digest and extracts it into the cache.
pub(crate) async fn fetch(
    client: &reqwest::Client,
    settings: &Settings,
    cache: &Cache,
    source_name: &str,
    spec: &HelmRepoSpec,
    (pin_url, pin_digest): (&str, &str),
    expected: Option<&str>,
) -> Result<(String, PathBuf), SourceError> {
    let identity = format!("helm-chart\0{pin_digest}");
    if let Some(hit) = cache.lookup(&identity, expected)? {
        return Ok(hit);
    }
    // Credentials are configured for the repository; the chart may live below it.
    let download = with_repo_userinfo(&spec.helm_repo, pin_url);
    let bytes =
        crate::http::get_bytes(client, settings, source_name, &download, "chart archive").await?;
    let actual = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&bytes)));
    if actual != pin_digest {
        return Err(SourceError::DigestMismatch {
            source_name: source_name.into(),
            url: redact_url(pin_url),
            expected: pin_digest.into(),
            actual,
        });
    }
    let cache = cache.clone();
    let name = source_name.to_string();
    let url = redact_url(pin_url);
    let expected = expected.map(String::from);
    tokio::task::spawn_blocking(move || {
        cache.materialize(&name, &identity, expected.as_deref(), |dir| {
            unpack(&name, &url, &bytes, dir, true)
        })
    })
    .await
    .map_err(|e| SourceError::Cache {
        action: "extraction task failed:".into(),
        path: e.to_string(),
        cause: std::io::Error::other("task panicked"),
    })?
}

fn with_repo_userinfo(repo: &str, chart_url: &str) -> String {
    let (Ok(r), Ok(mut c)) = (url::Url::parse(repo), url::Url::parse(chart_url)) else {
        return chart_url.to_string();
    };
    if !r.username().is_empty() && r.host_str() == c.host_str() && c.username().is_empty() {
        let _ = c.set_username(r.username());
        let _ = c.set_password(r.password());
    }
    c.to_string()
}

/// Extracts an archive into `dir`, turning archive problems into diagnostics.
pub(crate) fn unpack(
    source_name: &str,
    url: &str,
    bytes: &[u8],
    dir: &Path,
    strip_top_dir: bool,
) -> Result<(), SourceError> {
    archive::extract_tar(bytes, dir, strip_top_dir).map_err(|issue| match issue {
        ArchiveIssue::Unsafe { entry, reason } => SourceError::UnsafeArchive {
            source_name: source_name.into(),
            url: url.into(),
            entry,
            reason,
        },
        ArchiveIssue::Bad(detail) => SourceError::BadArchive {
            source_name: source_name.into(),
            url: url.into(),
            detail,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_urls_resolve_like_helm() {
        assert_eq!(
            absolute("https://h/charts", "c-1.0.0.tgz"),
            "https://h/charts/c-1.0.0.tgz"
        );
        assert_eq!(
            absolute("https://h/charts/", "/x/c.tgz"),
            "https://h/x/c.tgz"
        );
        assert_eq!(
            absolute("https://h/charts", "https://o/c.tgz"),
            "https://o/c.tgz"
        );
    }
}
