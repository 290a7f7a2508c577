//! HTTP(S) downloads for Helm repositories: one shared client (custom CA roots, timeouts),
//! basic auth from [`crate::credentials`], and retries with exponential backoff on transient
//! failures.

use std::future::Future;

use crate::error::SourceError;
use crate::settings::Settings;
use crate::spec::redact_url;

/// The result of one attempt.
pub(crate) enum Attempt<T> {
    Done(T),
    /// Worth retrying (connection reset, 5xx, 429).
    Transient(SourceError),
    Fatal(SourceError),
}

/// Runs `op` until it succeeds, fails fatally, or the retries are used up.
pub(crate) async fn with_retries<T, F, Fut>(
    settings: &Settings,
    mut op: F,
) -> Result<T, SourceError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let mut delay = settings.backoff;
    let mut attempt = 1;
    loop {
        match op(attempt).await {
            Attempt::Done(v) => return Ok(v),
            Attempt::Fatal(e) => return Err(e),
            Attempt::Transient(e) if attempt > settings.retries => return Err(e),
            Attempt::Transient(e) => {
                tracing::info!(error = %e, attempt, "transient failure; retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2);
                attempt += 1;
            }
        }
    }
}

/// Builds the reqwest client all HTTP downloads share.
pub(crate) fn client(settings: &Settings) -> Result<reqwest::Client, String> {
    crate::tls::install_provider();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.request_timeout)
        .user_agent(concat!("kiln/", env!("CARGO_PKG_VERSION")));
    for path in &settings.ca_certificates {
        let pem = std::fs::read(path)
            .map_err(|e| format!("cannot read CA certificate {}: {e}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("invalid CA certificate {}: {e}", path.display()))?;
        for c in certs {
            builder = builder.add_root_certificate(c);
        }
    }
    builder.build().map_err(|e| e.to_string())
}

/// Classifies a transport-level reqwest error.
pub(crate) fn transport_error(
    settings: &Settings,
    source_name: &str,
    url: &str,
    e: reqwest::Error,
) -> Attempt<Vec<u8>> {
    let url = redact_url(url);
    if e.is_timeout() {
        return Attempt::Fatal(SourceError::Timeout {
            source_name: source_name.into(),
            url,
            after: settings.request_timeout,
        });
    }
    let detail = error_chain(&e);
    if is_certificate_problem(&detail) {
        return Attempt::Fatal(SourceError::Tls {
            source_name: source_name.into(),
            url,
            detail,
        });
    }
    let err = SourceError::Unreachable {
        source_name: source_name.into(),
        url,
        detail,
        cause: Some(Box::new(e)),
    };
    Attempt::Transient(err)
}

/// Does an error chain say the server's certificate was refused (an unknown CA, a name
/// mismatch, an expired certificate)? Retrying cannot help with those.
pub(crate) fn is_certificate_problem(detail: &str) -> bool {
    let lower = detail.to_lowercase();
    ["certificate", "unknownissuer", "unknown issuer"]
        .iter()
        .any(|m| lower.contains(m))
}

pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Downloads `url` fully. `what` names the object in a 404 diagnostic (`chart index`, …).
pub(crate) async fn get_bytes(
    client: &reqwest::Client,
    settings: &Settings,
    source_name: &str,
    url: &str,
    what: &str,
) -> Result<Vec<u8>, SourceError> {
    let creds = crate::credentials::for_url(url);
    let shown = redact_url(url);
    let mut target = url::Url::parse(url).map_err(|e| SourceError::InvalidSpec {
        source_name: source_name.into(),
        reason: format!("`{shown}` is not a URL: {e}"),
        hint: "write an absolute http(s) URL".into(),
    })?;
    let _ = target.set_username("");
    let _ = target.set_password(None);
    with_retries(settings, |attempt| {
        let mut req = client.get(target.clone());
        if let Some(c) = &creds {
            req = req.basic_auth(&c.username, Some(&c.password));
        }
        let shown = shown.clone();
        let target = &target;
        async move {
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => return transport_error(settings, source_name, &shown, e),
            };
            let status = resp.status().as_u16();
            if status == 404 {
                return Attempt::Fatal(SourceError::NotFound {
                    source_name: source_name.into(),
                    url: shown,
                    what: what.into(),
                    hint: "check the repository URL and the name; the server answered 404".into(),
                });
            }
            if !(200..300).contains(&status) {
                let hint = match status {
                    401 | 403 => format!(
                        "the server refused access: provide credentials in {} (user:password) or ~/.netrc",
                        crate::credentials::env_var_for(&match target.port() {
                            Some(p) => format!("{}:{p}", target.host_str().unwrap_or("")),
                            None => target.host_str().unwrap_or("").to_string(),
                        })
                    ),
                    429 => "the server rate-limits requests; retry later".into(),
                    500.. => "the server failed; retry later".into(),
                    _ => "unexpected answer from the server".into(),
                };
                let err = SourceError::Http {
                    source_name: source_name.into(),
                    url: shown,
                    status,
                    attempts: attempt,
                    hint,
                };
                return if status == 429 || status >= 500 {
                    Attempt::Transient(err)
                } else {
                    Attempt::Fatal(err)
                };
            }
            match resp.bytes().await {
                Ok(b) => Attempt::Done(b.to_vec()),
                Err(e) => transport_error(settings, source_name, &shown, e),
            }
        }
    })
    .await
}
