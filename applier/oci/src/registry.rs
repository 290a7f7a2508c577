//! A registry client configured like kiln-sources' (plain HTTP only for registries the user
//! names, extra PEM roots, timeouts, ring as the TLS provider), and the mapping of its errors
//! onto [`OciError`].

use crate::error::OciError;
use crate::reference::BundleRef;
use oci_client::Client;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use std::path::PathBuf;
use std::time::Duration;

/// How registries are reached.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Registries (`host[:port]`) spoken to over plain HTTP.
    pub insecure: Vec<String>,
    /// Extra PEM root certificates trusted for HTTPS.
    pub ca_files: Vec<PathBuf>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            insecure: Vec::new(),
            ca_files: Vec::new(),
            connect_timeout: Duration::from_secs(15),
            request_timeout: Duration::from_secs(120),
        }
    }
}

impl RegistryOptions {
    /// The defaults plus kiln-sources' variables: `KILN_INSECURE_REGISTRIES` (comma-separated
    /// `host[:port]`) and `KILN_CA_CERTIFICATES` (PEM files separated like `PATH`).
    pub fn from_env() -> Self {
        let mut o = RegistryOptions::default();
        if let Ok(v) = std::env::var("KILN_INSECURE_REGISTRIES") {
            o.insecure = v
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(String::from)
                .collect();
        }
        if let Some(v) = std::env::var_os("KILN_CA_CERTIFICATES") {
            o.ca_files = std::env::split_paths(&v).collect();
        }
        o
    }
}

/// A configured client, cheap to clone.
#[derive(Clone)]
pub struct Registry {
    pub(crate) client: Client,
    pub(crate) options: RegistryOptions,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("options", &self.options)
            .finish()
    }
}

impl Registry {
    pub fn new(options: RegistryOptions) -> Result<Registry, OciError> {
        install_tls_provider();
        let mut roots = Vec::new();
        for path in &options.ca_files {
            let data = std::fs::read(path).map_err(|source| OciError::Io {
                message: format!("cannot read the CA certificate {}", path.display()),
                source,
            })?;
            roots.push(Certificate {
                encoding: CertificateEncoding::Pem,
                data,
            });
        }
        let config = ClientConfig {
            protocol: ClientProtocol::HttpsExcept(options.insecure.clone()),
            extra_root_certificates: roots,
            connect_timeout: Some(options.connect_timeout),
            read_timeout: Some(options.request_timeout),
            ..Default::default()
        };
        Ok(Registry {
            client: Client::new(config),
            options,
        })
    }

    pub fn options(&self) -> &RegistryOptions {
        &self.options
    }
}

/// Installs ring as the process-wide rustls provider unless one is installed already.
fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
    });
}

pub(crate) fn auth_for(registry: &str) -> RegistryAuth {
    match crate::credentials::for_registry(registry) {
        Some(c) => RegistryAuth::Basic(c.username, c.password),
        None => RegistryAuth::Anonymous,
    }
}

/// The message of an error and all its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// Maps a client error about `r` onto a diagnostic.
pub(crate) fn classify(r: &BundleRef, e: OciDistributionError) -> OciError {
    let reference = r.to_string();
    match e {
        OciDistributionError::RequestError(re) => match re.status().map(|s| s.as_u16()) {
            Some(401 | 403) => denied(r),
            Some(404) => OciError::NotFound { reference },
            Some(_) => OciError::Registry {
                reference,
                detail: chain(&re),
            },
            None => OciError::Unreachable {
                reference,
                detail: chain(&re),
            },
        },
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => denied(r),
        OciDistributionError::ServerError {
            code: 401 | 403, ..
        } => denied(r),
        OciDistributionError::ImageManifestNotFoundError(_)
        | OciDistributionError::ServerError { code: 404, .. } => OciError::NotFound { reference },
        OciDistributionError::RegistryError { ref envelope, .. }
            if envelope.errors.iter().any(|x| {
                matches!(
                    x.code,
                    OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::BlobUnknown
                        | OciErrorCode::NotFound
                )
            }) =>
        {
            OciError::NotFound { reference }
        }
        OciDistributionError::RegistryError { ref envelope, .. }
            if envelope
                .errors
                .iter()
                .any(|x| matches!(x.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)) =>
        {
            denied(r)
        }
        OciDistributionError::DigestError(d) => OciError::Tampered {
            reference,
            what: format!("a blob does not match its digest ({d})"),
        },
        other => OciError::Registry {
            reference,
            detail: chain(&other),
        },
    }
}

fn denied(r: &BundleRef) -> OciError {
    OciError::Denied {
        reference: r.to_string(),
        registry: r.registry.clone(),
        env_var: crate::credentials::env_var_for(&r.registry),
    }
}
