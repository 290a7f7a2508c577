//! OCI registries through `oci-client`: Helm charts pushed with `helm push`, Flux artifacts
//! (`flux push artifact`), and kiln's own generic artifacts, which [`push_artifact`] writes in
//! Flux's format so either tool can read them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::errors::OciDistributionError;
use oci_client::manifest::OciManifest;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use crate::cache::Cache;
use crate::constraint::{self, Constraint};
use crate::error::SourceError;
use crate::http::{Attempt, with_retries};
use crate::settings::Settings;
use crate::spec::{OciSelect, OciSpec, redact_url};

/// Layer media type of a Helm chart.
pub const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// Layer media type of `flux push artifact`.
pub const FLUX_CONTENT_LAYER: &str = "application/vnd.cncf.flux.content.v1.tar+gzip";
/// Config media type of `flux push artifact`.
pub const FLUX_CONFIG: &str = "application/vnd.cncf.flux.config.v1+json";

/// `oci://host[:port]/repo` split into registry and repository.
pub(crate) fn split(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("oci://")?;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let (registry, repo) = rest.split_once('/')?;
    (!registry.is_empty() && !repo.is_empty())
        .then(|| (registry.to_string(), repo.trim_end_matches('/').to_string()))
}

pub(crate) fn client(settings: &Settings) -> Result<Client, String> {
    crate::tls::install_provider();
    let mut certs = Vec::new();
    for path in &settings.ca_certificates {
        let data = std::fs::read(path)
            .map_err(|e| format!("cannot read CA certificate {}: {e}", path.display()))?;
        certs.push(oci_client::client::Certificate {
            encoding: oci_client::client::CertificateEncoding::Pem,
            data,
        });
    }
    let config = ClientConfig {
        protocol: ClientProtocol::HttpsExcept(settings.insecure_registries.clone()),
        extra_root_certificates: certs,
        connect_timeout: Some(settings.connect_timeout),
        read_timeout: Some(settings.request_timeout),
        ..Default::default()
    };
    Ok(Client::new(config))
}

fn auth_for(registry: &str) -> RegistryAuth {
    match crate::credentials::for_registry(registry) {
        Some(c) => RegistryAuth::Basic(c.username, c.password),
        None => RegistryAuth::Anonymous,
    }
}

struct Ctx<'a> {
    source_name: &'a str,
    url: String,
    settings: &'a Settings,
}

impl Ctx<'_> {
    fn classify<T>(&self, e: OciDistributionError, what: &str) -> Attempt<T> {
        let name = self.source_name.to_string();
        let url = self.url.clone();
        match e {
            OciDistributionError::RequestError(re) => match crate::http::transport_error(self.settings, &name, &url, re) {
                Attempt::Transient(e) => Attempt::Transient(e),
                Attempt::Fatal(e) => Attempt::Fatal(e),
                Attempt::Done(_) => unreachable!("transport_error never succeeds"),
            },
            OciDistributionError::ServerError { code, message, .. } if code == 429 || code >= 500 => {
                Attempt::Transient(SourceError::Http {
                    source_name: name,
                    url,
                    status: code,
                    attempts: 1,
                    hint: format!("the registry failed ({message}); retry later"),
                })
            }
            OciDistributionError::ImageManifestNotFoundError(_) => Attempt::Fatal(SourceError::NotFound {
                source_name: name,
                url,
                what: what.into(),
                hint: "check the repository path and the tag or digest".into(),
            }),
            OciDistributionError::ServerError { code: 404, .. } => Attempt::Fatal(SourceError::NotFound {
                source_name: name,
                url,
                what: what.into(),
                hint: "check the repository path and the tag or digest".into(),
            }),
            OciDistributionError::RegistryError { envelope, .. }
                if envelope.errors.iter().any(|e| {
                    let code = format!("{:?}", e.code);
                    code.contains("Unknown")
                }) =>
            {
                Attempt::Fatal(SourceError::NotFound {
                    source_name: name,
                    url,
                    what: what.into(),
                    hint: "check the repository path and the tag or digest".into(),
                })
            }
            OciDistributionError::UnauthorizedError { .. } | OciDistributionError::AuthenticationFailure(_) => {
                let registry = split(&self.url).map(|(r, _)| r).unwrap_or_default();
                Attempt::Fatal(SourceError::Oci {
                    source_name: name,
                    url,
                    detail: "access denied".into(),
                    hint: format!(
                        "log in with `docker login {registry}` / `helm registry login`, or set {}=user:password",
                        crate::credentials::env_var_for(&registry)
                    ),
                })
            }
            other => Attempt::Fatal(SourceError::Oci {
                source_name: name,
                url,
                detail: crate::http::error_chain(&other),
                hint: "check the registry URL; plain-HTTP registries must be listed in KILN_INSECURE_REGISTRIES".into(),
            }),
        }
    }
}

fn reference(
    registry: &str,
    repo: &str,
    select: &OciSelect,
    tag_override: Option<&str>,
) -> Reference {
    match (tag_override, select) {
        (Some(t), _) => Reference::with_tag(registry.into(), repo.into(), t.into()),
        (None, OciSelect::Digest(d)) => {
            Reference::with_digest(registry.into(), repo.into(), d.clone())
        }
        (None, OciSelect::Tag(t)) => Reference::with_tag(registry.into(), repo.into(), t.clone()),
        (None, OciSelect::Semver(_)) => {
            Reference::with_tag(registry.into(), repo.into(), "latest".into())
        }
    }
}

fn bad_url(source_name: &str, url: &str) -> SourceError {
    SourceError::InvalidSpec {
        source_name: source_name.into(),
        reason: format!("`{}` is not oci://registry/repository", redact_url(url)),
        hint: "write e.g. oci://ghcr.io/acme/charts/app".into(),
    }
}

/// Resolves the manifest digest (and tag) `spec` selects.
pub(crate) async fn resolve(
    client: &Client,
    settings: &Settings,
    source_name: &str,
    spec: &OciSpec,
) -> Result<(Option<String>, String), SourceError> {
    let (registry, repo) = split(&spec.oci).ok_or_else(|| bad_url(source_name, &spec.oci))?;
    let ctx = Ctx {
        source_name,
        url: redact_url(&spec.oci),
        settings,
    };
    let auth = auth_for(&registry);
    let tag = match &spec.select {
        OciSelect::Digest(d) => return Ok((None, d.clone())),
        OciSelect::Tag(t) => t.clone(),
        OciSelect::Semver(text) => {
            let c = Constraint::parse(text).map_err(|reason| SourceError::InvalidConstraint {
                source_name: source_name.into(),
                constraint: text.clone(),
                reason,
            })?;
            let tags = list_tags(client, &ctx, &registry, &repo, &auth).await?;
            let versions: Vec<(semver::Version, &String)> = tags
                .iter()
                .filter_map(|t| constraint::parse_version(&t.replace('_', "+")).map(|v| (v, t)))
                .collect();
            match c.best(versions.iter().map(|(v, t)| (v, *t))) {
                Some((_, t)) => t.clone(),
                None => {
                    let mut available: Vec<&semver::Version> =
                        versions.iter().map(|(v, _)| v).collect();
                    available.sort_by(|a, b| b.cmp_precedence(a));
                    return Err(SourceError::NoMatchingVersion {
                        source_name: source_name.into(),
                        url: ctx.url.clone(),
                        what: "a tag".into(),
                        constraint: text.clone(),
                        available: available.iter().map(|v| v.to_string()).collect(),
                    });
                }
            }
        }
    };
    let r = reference(&registry, &repo, &spec.select, Some(&tag));
    let what = format!("tag `{tag}`");
    let digest = with_retries(settings, |_| async {
        match client.fetch_manifest_digest(&r, &auth).await {
            Ok(d) => Attempt::Done(d),
            Err(e) => ctx.classify(e, &what),
        }
    })
    .await?;
    Ok((Some(tag), digest))
}

async fn list_tags(
    client: &Client,
    ctx: &Ctx<'_>,
    registry: &str,
    repo: &str,
    auth: &RegistryAuth,
) -> Result<Vec<String>, SourceError> {
    let r = Reference::with_tag(registry.into(), repo.into(), "latest".into());
    let mut all: Vec<String> = Vec::new();
    loop {
        let last = all.last().cloned();
        let page = with_retries(ctx.settings, |_| {
            let last = last.clone();
            let r = &r;
            async move {
                match client.list_tags(r, auth, Some(1000), last.as_deref()).await {
                    Ok(p) => Attempt::Done(p.tags),
                    Err(e) => ctx.classify(e, "the repository"),
                }
            }
        })
        .await?;
        let n = page.len();
        let before = all.len();
        all.extend(page.into_iter().filter(|t| Some(t) != last.as_ref()));
        if n < 1000 || all.len() == before {
            break;
        }
    }
    Ok(all)
}

/// Pulls manifest `digest`, extracts its content layers into the cache.
pub(crate) async fn fetch(
    client: &Client,
    settings: &Settings,
    cache: &Cache,
    source_name: &str,
    spec: &OciSpec,
    digest: &str,
    expected: Option<&str>,
) -> Result<(String, PathBuf), SourceError> {
    let identity = format!("oci\0{digest}");
    if let Some(hit) = cache.lookup(&identity, expected)? {
        return Ok(hit);
    }
    let (registry, repo) = split(&spec.oci).ok_or_else(|| bad_url(source_name, &spec.oci))?;
    let ctx = Ctx {
        source_name,
        url: redact_url(&spec.oci),
        settings,
    };
    let auth = auth_for(&registry);
    let r = Reference::with_digest(registry.clone(), repo.clone(), digest.into());
    let what = format!("manifest {digest}");
    let (manifest, got) = with_retries(settings, |_| async {
        match client.pull_manifest(&r, &auth).await {
            Ok(m) => Attempt::Done(m),
            Err(e) => ctx.classify(e, &what),
        }
    })
    .await?;
    if got != digest {
        return Err(SourceError::DigestMismatch {
            source_name: source_name.into(),
            url: ctx.url.clone(),
            expected: digest.into(),
            actual: got,
        });
    }
    let OciManifest::Image(image) = manifest else {
        return Err(SourceError::Oci {
            source_name: source_name.into(),
            url: ctx.url.clone(),
            detail: format!("{digest} is an image index, not an artifact"),
            hint: "point the source at a single artifact (a Helm chart or a `flux push artifact`)"
                .into(),
        });
    };
    let (strip, layers): (bool, Vec<_>) = if let Some(l) = image
        .layers
        .iter()
        .find(|l| l.media_type == HELM_CHART_LAYER)
    {
        (true, vec![l.clone()])
    } else {
        let tars: Vec<_> = image
            .layers
            .iter()
            .filter(|l| {
                l.media_type == FLUX_CONTENT_LAYER
                    || l.media_type.ends_with("tar+gzip")
                    || l.media_type.ends_with(".tar")
                    || l.media_type.ends_with("tar.gzip")
            })
            .cloned()
            .collect();
        (false, tars)
    };
    if layers.is_empty() {
        return Err(SourceError::Oci {
            source_name: source_name.into(),
            url: ctx.url.clone(),
            detail: format!(
                "{digest} has no content layer (layers: {})",
                image
                    .layers
                    .iter()
                    .map(|l| l.media_type.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            hint: format!(
                "kiln reads layers of type {HELM_CHART_LAYER}, {FLUX_CONTENT_LAYER} or another tar(+gzip)"
            ),
        });
    }
    let mut blobs = Vec::new();
    for layer in &layers {
        let what = format!("layer {}", layer.digest);
        let bytes = with_retries(settings, |_| async {
            let mut out = Vec::new();
            match client.pull_blob(&r, layer, &mut out).await {
                Ok(()) => Attempt::Done(out),
                Err(e) => ctx.classify(e, &what),
            }
        })
        .await?;
        blobs.push(bytes);
    }
    let cache = cache.clone();
    let name = source_name.to_string();
    let url = ctx.url.clone();
    let expected = expected.map(String::from);
    tokio::task::spawn_blocking(move || {
        cache.materialize(&name, &identity, expected.as_deref(), |dir| {
            for b in &blobs {
                crate::helm_repo::unpack(&name, &url, b, dir, strip)?;
            }
            Ok(())
        })
    })
    .await
    .map_err(|e| SourceError::Cache {
        action: "extraction task failed:".into(),
        path: e.to_string(),
        cause: std::io::Error::other("task panicked"),
    })?
}

/// Pushes the files below `dir` to `target` (`oci://registry/repo:tag`) as a Flux-compatible
/// artifact (one reproducible tar+gzip layer). Returns the manifest digest.
pub async fn push_artifact_async(
    settings: &Settings,
    dir: &Path,
    target: &str,
    annotations: BTreeMap<String, String>,
) -> Result<String, SourceError> {
    let name = "push";
    let (url, tag) = target
        .rsplit_once(':')
        .filter(|(u, t)| u.contains('/') && !t.contains('/'))
        .ok_or_else(|| bad_url(name, target))?;
    let (registry, repo) = split(url).ok_or_else(|| bad_url(name, target))?;
    let client = client(settings).map_err(|e| SourceError::InvalidSpec {
        source_name: name.into(),
        reason: e,
        hint: "check KILN_CA_CERTIFICATES".into(),
    })?;
    let data =
        crate::archive::pack_tar_gz(dir).map_err(|e| SourceError::cache("cannot pack", dir, e))?;
    let layer = ImageLayer::new(data, FLUX_CONTENT_LAYER.into(), None);
    let config = Config::new(b"{}".to_vec(), FLUX_CONFIG.into(), None);
    let annotations = (!annotations.is_empty()).then_some(annotations);
    let manifest = oci_client::manifest::OciImageManifest::build(
        std::slice::from_ref(&layer),
        &config,
        annotations,
    );
    let r = Reference::with_tag(registry.clone(), repo, tag.into());
    let auth = auth_for(&registry);
    let ctx = Ctx {
        source_name: name,
        url: redact_url(target),
        settings,
    };
    with_retries(settings, |_| async {
        match client
            .push(
                &r,
                std::slice::from_ref(&layer),
                config.clone(),
                &auth,
                Some(manifest.clone()),
            )
            .await
        {
            Ok(_) => Attempt::Done(()),
            Err(e) => ctx.classify(e, "the repository"),
        }
    })
    .await?;
    with_retries(settings, |_| async {
        match client.fetch_manifest_digest(&r, &auth).await {
            Ok(d) => Attempt::Done(d),
            Err(e) => ctx.classify(e, "the pushed manifest"),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_oci_urls() {
        assert_eq!(
            split("oci://127.0.0.1:5000/charts/app"),
            Some(("127.0.0.1:5000".into(), "charts/app".into()))
        );
        assert_eq!(split("oci://ghcr.io"), None);
        assert_eq!(split("https://ghcr.io/a"), None);
    }
}
