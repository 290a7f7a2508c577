//! Credentials for HTTP(S) Git remotes, Helm repositories and OCI registries.
//!
//! Lookups by host (environment, Docker config, netrc) are kiln-oci's, shared with `kiln push`
//! and the agent so that one login serves all of kiln; this module adds the user-info of a URL.

use kiln_oci::credentials::from_env;
pub use kiln_oci::credentials::{Credentials, env_var_for, for_registry, from_netrc};

/// Credentials for an HTTP(S) URL: user-info in the URL, the environment, then netrc.
pub fn for_url(url: &str) -> Option<Credentials> {
    let parsed = url::Url::parse(url).ok()?;
    if !parsed.username().is_empty() {
        let decode = |s: &str| percent_decode(s);
        return Some(Credentials {
            username: decode(parsed.username()),
            password: decode(parsed.password().unwrap_or("")),
        });
    }
    let host = parsed.host_str()?;
    let with_port = match parsed.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    from_env(&with_port)
        .or_else(|| from_env(host))
        .or_else(|| from_netrc(host))
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_userinfo_is_used() {
        let c = for_url("https://bob:p%40ss@git.example/r.git").unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("bob", "p@ss"));
    }
}
