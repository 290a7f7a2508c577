//! Credentials for registries and HTTP(S) hosts, one implementation for every part of kiln, so
//! one login serves `kiln build` (kiln-sources), `kiln push` and the agent. They come from the
//! environment, never from a project: `KILN_AUTH_<HOST>=user:password` (host upper-cased, every
//! character other than a letter or digit turned into `_`, port included, e.g.
//! `KILN_AUTH_REGISTRY_EXAMPLE_COM_5000`), then for registries the Docker config
//! (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`: `auths`, `credHelpers`,
//! `credsStore`), then the netrc file (`$NETRC` or `~/.netrc`). Credentials are never logged or
//! printed.

use base64::Engine as _;
use std::path::PathBuf;

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

/// The environment variable holding `user:password` for `registry` (`host[:port]`).
pub fn env_var_for(registry: &str) -> String {
    let host: String = registry
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("KILN_AUTH_{host}")
}

/// Credentials for `registry` (`host[:port]`), or `None` for anonymous access.
pub fn for_registry(registry: &str) -> Option<Credentials> {
    from_env(registry)
        .or_else(|| from_docker_config(registry))
        .or_else(|| from_netrc(registry.split(':').next().unwrap_or(registry)))
}

fn split(pair: &str) -> Option<Credentials> {
    let (username, password) = pair.split_once(':')?;
    Some(Credentials {
        username: username.into(),
        password: password.into(),
    })
}

/// Credentials from `KILN_AUTH_<HOST>` for `host` (`host[:port]`).
pub fn from_env(host: &str) -> Option<Credentials> {
    split(&std::env::var(env_var_for(host)).ok()?)
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
    let empty = || Credentials {
        username: String::new(),
        password: String::new(),
    };
    let mut tokens = text.split_whitespace();
    let (mut found, mut default) = (None, None);
    // The entry being read and whether it is the `default` one.
    let mut current: Option<(bool, Credentials)> = None;
    let flush = |entry: Option<(bool, Credentials)>,
                 found: &mut Option<Credentials>,
                 default: &mut Option<Credentials>| {
        match entry {
            Some((true, c)) => _ = default.get_or_insert(c),
            Some((false, c)) => _ = found.get_or_insert(c),
            None => {}
        }
    };
    while let Some(token) = tokens.next() {
        match token {
            "machine" => {
                flush(current.take(), &mut found, &mut default);
                if tokens.next() == Some(host) {
                    current = Some((false, empty()));
                }
            }
            "default" => {
                flush(current.take(), &mut found, &mut default);
                current = Some((true, empty()));
            }
            "login" | "password" => {
                let value = tokens.next().unwrap_or("").to_string();
                if let Some((_, c)) = current.as_mut() {
                    if token == "login" {
                        c.username = value;
                    } else {
                        c.password = value;
                    }
                }
            }
            "account" => {
                tokens.next();
            }
            "macdef" => break,
            _ => {}
        }
    }
    flush(current.take(), &mut found, &mut default);
    found.or(default)
}

fn docker_config() -> Option<serde_json::Value> {
    let path = std::env::var_os("DOCKER_CONFIG")
        .map(|d| PathBuf::from(d).join("config.json"))
        .or_else(|| dirs::home_dir().map(|h| h.join(".docker/config.json")))?;
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// The keys `docker login` may have stored `registry` under.
fn config_keys(registry: &str) -> Vec<String> {
    let mut keys = vec![
        registry.to_string(),
        format!("https://{registry}"),
        format!("http://{registry}"),
    ];
    if matches!(
        registry,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    ) {
        keys.push("https://index.docker.io/v1/".into());
    }
    keys
}

fn from_docker_config(registry: &str) -> Option<Credentials> {
    let config = docker_config()?;
    let keys = config_keys(registry);
    let helper = keys
        .iter()
        .find_map(|k| config["credHelpers"][k.as_str()].as_str())
        .or_else(|| config["credsStore"].as_str());
    if let Some(c) = helper.and_then(|h| from_helper(h, registry)) {
        return Some(c);
    }
    let entry = keys.iter().find_map(|k| config["auths"].get(k.as_str()))?;
    if let Some(auth) = entry["auth"].as_str() {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth)
            .ok()?;
        return split(std::str::from_utf8(&decoded).ok()?);
    }
    Some(Credentials {
        username: entry["username"].as_str()?.into(),
        password: entry["password"].as_str()?.into(),
    })
}

/// Asks `docker-credential-<helper> get`, as the Docker CLI does.
fn from_helper(helper: &str, registry: &str) -> Option<Credentials> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(registry.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(Credentials {
        username: answer["Username"].as_str()?.into(),
        password: answer["Secret"].as_str()?.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_names_follow_kiln_sources() {
        assert_eq!(
            env_var_for("registry.example.com:5000"),
            "KILN_AUTH_REGISTRY_EXAMPLE_COM_5000"
        );
    }

    #[test]
    fn netrc_machine_then_default() {
        let text = "machine a.example login alice password s1\ndefault login anon password s2\n";
        assert_eq!(parse_netrc(text, "a.example").unwrap().username, "alice");
        assert_eq!(parse_netrc(text, "b.example").unwrap().password, "s2");
        assert!(parse_netrc("machine a login x password y", "b").is_none());
    }

    #[test]
    fn debug_hides_the_password() {
        let c = split("bob:hunter2").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
