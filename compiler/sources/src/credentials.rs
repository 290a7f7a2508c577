//! Credentials for HTTP(S) Git remotes, Helm repositories and OCI registries.
//!
//! They come from the environment, never from the project: `KILN_AUTH_<HOST>=user:password`
//! (host upper-cased, every character other than a letter or digit turned into `_`, e.g.
//! `KILN_AUTH_CHARTS_EXAMPLE_COM`), then the netrc file (`$NETRC` or `~/.netrc`), and for
//! registries the Docker config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`,
//! including `credsStore`/`credHelpers`). Credentials are never logged, printed or stored.

use std::path::PathBuf;

use base64::Engine as _;

/// A user name and password (or token).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <redacted>)", self.username)
    }
}

/// The variable name checked for `host` (`host` may include a port).
pub fn env_var_for(host: &str) -> String {
    let mangled: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("KILN_AUTH_{mangled}")
}

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

fn from_env(host: &str) -> Option<Credentials> {
    let value = std::env::var(env_var_for(host)).ok()?;
    let (u, p) = value.split_once(':')?;
    Some(Credentials {
        username: u.into(),
        password: p.into(),
    })
}

fn netrc_path() -> Option<PathBuf> {
    std::env::var_os("NETRC")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".netrc")))
}

/// Looks `host` up in the netrc file (`machine`, then `default`).
pub fn from_netrc(host: &str) -> Option<Credentials> {
    let text = std::fs::read_to_string(netrc_path()?).ok()?;
    parse_netrc(&text, host)
}

fn parse_netrc(text: &str, host: &str) -> Option<Credentials> {
    let mut tokens = text.split_whitespace();
    let mut found: Option<Credentials> = None;
    let mut default: Option<Credentials> = None;
    let mut current: Option<(bool, Credentials)> = None;
    let mut flush = |c: Option<(bool, Credentials)>, found: &mut Option<Credentials>| {
        if let Some((is_default, cred)) = c {
            if is_default {
                default.get_or_insert(cred);
            } else {
                found.get_or_insert(cred);
            }
        }
    };
    while let Some(tok) = tokens.next() {
        match tok {
            "machine" => {
                flush(current.take(), &mut found);
                let name = tokens.next().unwrap_or("");
                if name == host {
                    current = Some((
                        false,
                        Credentials {
                            username: String::new(),
                            password: String::new(),
                        },
                    ));
                }
            }
            "default" => {
                flush(current.take(), &mut found);
                current = Some((
                    true,
                    Credentials {
                        username: String::new(),
                        password: String::new(),
                    },
                ));
            }
            "login" => {
                let v = tokens.next().unwrap_or("");
                if let Some((_, c)) = current.as_mut() {
                    c.username = v.into();
                }
            }
            "password" => {
                let v = tokens.next().unwrap_or("");
                if let Some((_, c)) = current.as_mut() {
                    c.password = v.into();
                }
            }
            "account" => {
                tokens.next();
            }
            "macdef" => break,
            _ => {}
        }
    }
    flush(current.take(), &mut found);
    found.or(default)
}

/// Credentials for an OCI registry (`host[:port]`): environment, Docker config, netrc.
pub fn for_registry(registry: &str) -> Option<Credentials> {
    if let Some(c) = from_env(registry) {
        return Some(c);
    }
    if let Some(c) = from_docker_config(registry) {
        return Some(c);
    }
    from_netrc(registry.split(':').next().unwrap_or(registry))
}

fn docker_config_path() -> Option<PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .map(|d| PathBuf::from(d).join("config.json"))
        .or_else(|| dirs::home_dir().map(|h| h.join(".docker").join("config.json")))
}

fn from_docker_config(registry: &str) -> Option<Credentials> {
    let text = std::fs::read_to_string(docker_config_path()?).ok()?;
    let config: serde_json::Value = serde_json::from_str(&text).ok()?;
    let keys = docker_keys(registry);
    if let Some(helper) = keys
        .iter()
        .find_map(|k| config["credHelpers"][k.as_str()].as_str())
        .or_else(|| config["credsStore"].as_str())
        && let Some(c) = from_helper(helper, registry)
    {
        return Some(c);
    }
    let auths = config["auths"].as_object()?;
    let entry = keys.iter().find_map(|k| auths.get(k.as_str()))?;
    if let Some(auth) = entry["auth"].as_str() {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (u, p) = text.split_once(':')?;
        return Some(Credentials {
            username: u.into(),
            password: p.into(),
        });
    }
    Some(Credentials {
        username: entry["username"].as_str()?.into(),
        password: entry["password"].as_str()?.into(),
    })
}

fn docker_keys(registry: &str) -> Vec<String> {
    let mut keys = vec![
        registry.to_string(),
        format!("https://{registry}"),
        format!("http://{registry}"),
    ];
    if registry == "docker.io"
        || registry == "index.docker.io"
        || registry == "registry-1.docker.io"
    {
        keys.push("https://index.docker.io/v1/".into());
    }
    keys
}

fn from_helper(helper: &str, registry: &str) -> Option<Credentials> {
    use std::io::Write;
    let mut child = std::process::Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(registry.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(Credentials {
        username: v["Username"].as_str()?.into(),
        password: v["Secret"].as_str()?.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netrc_machine_then_default() {
        let text = "machine a.example login alice password s1\ndefault login anon password s2\n";
        assert_eq!(parse_netrc(text, "a.example").unwrap().username, "alice");
        assert_eq!(parse_netrc(text, "b.example").unwrap().password, "s2");
        assert!(parse_netrc("machine a login x password y", "b").is_none());
    }

    #[test]
    fn env_names_and_debug_hide_secrets() {
        assert_eq!(
            env_var_for("charts.example.com:8443"),
            "KILN_AUTH_CHARTS_EXAMPLE_COM_8443"
        );
        let c = Credentials {
            username: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn url_userinfo_is_used() {
        let c = for_url("https://bob:p%40ss@git.example/r.git").unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("bob", "p@ss"));
    }
}
