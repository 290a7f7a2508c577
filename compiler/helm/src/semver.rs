//! Semantic versions and constraints with the syntax and matching rules of Masterminds/semver v3,
//! which Helm uses for `semverCompare`, `kubeVersion` and dependency versions: `v` prefixes, missing
//! minor/patch, `x`/`*` wildcards, `~`, `^`, `-` ranges, `||`, and pre-releases only matching
//! constraints that name a pre-release.

use std::cmp::Ordering;

/// A version as Masterminds parses it (lenient: `v1.2` is `1.2.0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
    pub metadata: String,
    pub original: String,
}

impl Version {
    /// Parses like `semver.NewVersion`.
    pub fn parse(s: &str) -> Result<Version, String> {
        let invalid = || "Invalid Semantic Version".to_string();
        let body = s.strip_prefix('v').unwrap_or(s);
        let (body, metadata) = match body.split_once('+') {
            Some((b, m)) => (b, m.to_string()),
            None => (body, String::new()),
        };
        let (core, pre) = match body.split_once('-') {
            Some((c, p)) => (c, p.to_string()),
            None => (body, String::new()),
        };
        let ident_ok = |x: &str| {
            x.is_empty()
                || x.split('.').all(|p| {
                    !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
        };
        if !ident_ok(&pre) || !ident_ok(&metadata) || (body.contains('-') && pre.is_empty()) {
            return Err(invalid());
        }
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return Err(invalid());
        }
        let mut nums = [0u64; 3];
        for (i, p) in parts.iter().enumerate() {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            nums[i] = p.parse().map_err(|_| invalid())?;
        }
        Ok(Version {
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
            pre,
            metadata,
            original: s.to_string(),
        })
    }

    /// Semver precedence (metadata ignored).
    pub fn compare(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| compare_pre(&self.pre, &o.pre))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

fn compare_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let mut ai = a.split('.');
    let mut bi = b.split('.');
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(p), Ok(q)) => p.cmp(&q),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    _ => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Constraint {
    op: String,
    con: Version,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

/// A parsed constraint: alternatives (`||`) of conjunctions.
#[derive(Debug, Clone)]
pub struct Constraints {
    groups: Vec<Vec<Constraint>>,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

fn parse_one(op: &str, ver: &str) -> Result<Constraint, String> {
    let ver_body = ver.strip_prefix('v').unwrap_or(ver);
    let (core, suffix) = match ver_body.find(['-', '+']) {
        Some(p) => (&ver_body[..p], &ver_body[p..]),
        None => (ver_body, ""),
    };
    let parts: Vec<&str> = core.split('.').collect();
    let get = |i: usize| parts.get(i).copied().unwrap_or("");
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let text = if is_x(get(0)) || get(0).is_empty() {
        dirty = true;
        format!("0.0.0{suffix}")
    } else if is_x(get(1)) || get(1).is_empty() {
        dirty = true;
        minor_dirty = true;
        format!("{}.0.0{suffix}", get(0))
    } else if is_x(get(2)) || get(2).is_empty() {
        dirty = true;
        patch_dirty = true;
        format!("{}.{}.0{suffix}", get(0), get(1))
    } else {
        ver_body.to_string()
    };
    let con = Version::parse(&text).map_err(|_| format!("improper constraint: {op}{ver}"))?;
    Ok(Constraint {
        op: op.to_string(),
        con,
        dirty,
        minor_dirty,
        patch_dirty,
    })
}

/// Splits a conjunction into `op version` tokens (separated by spaces and/or commas).
fn tokens(group: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = group.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let mut op = String::new();
        while i < chars.len() && "=!<>~^".contains(chars[i]) {
            op.push(chars[i]);
            i += 1;
        }
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let mut ver = String::new();
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != ',' {
            ver.push(chars[i]);
            i += 1;
        }
        if ver.is_empty() {
            return Err(format!("improper constraint: {group}"));
        }
        let op = match op.as_str() {
            "=>" => ">=".to_string(),
            "=<" => "<=".to_string(),
            "~>" => "~".to_string(),
            "" | "=" | "!=" | ">" | "<" | ">=" | "<=" | "~" | "^" => op,
            _ => return Err(format!("improper constraint: {group}")),
        };
        out.push((op, ver));
    }
    Ok(out)
}

impl Constraints {
    /// Parses like `semver.NewConstraint`.
    pub fn parse(s: &str) -> Result<Constraints, String> {
        let mut groups = Vec::new();
        for part in s.split("||") {
            let part = rewrite_range(part);
            let toks = tokens(&part)?;
            let mut group = Vec::new();
            if toks.is_empty() {
                group.push(parse_one("", "*")?);
            }
            for (op, ver) in toks {
                group.push(parse_one(&op, &ver)?);
            }
            groups.push(group);
        }
        Ok(Constraints { groups })
    }

    /// Whether `v` satisfies any alternative.
    pub fn check(&self, v: &Version) -> bool {
        self.groups.iter().any(|g| g.iter().all(|c| c.check(v)))
    }
}

/// `1.2 - 1.4.5` becomes `>= 1.2 <= 1.4.5`.
fn rewrite_range(s: &str) -> String {
    let words: Vec<&str> = s.split_whitespace().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if i + 2 < words.len() && words[i + 1] == "-" {
            out.push(format!(">= {}", words[i].trim_end_matches(',')));
            out.push(format!("<= {}", words[i + 2]));
            i += 3;
        } else {
            out.push(words[i].to_string());
            i += 1;
        }
    }
    out.join(" ")
}

impl Constraint {
    fn check(&self, v: &Version) -> bool {
        let c = &self.con;
        if !v.pre.is_empty() && c.pre.is_empty() {
            return false;
        }
        let cmp = v.compare(c);
        match self.op.as_str() {
            "" | "=" => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    cmp == Ordering::Equal
                }
            }
            "!=" => {
                if self.dirty {
                    if c.major != v.major {
                        return true;
                    }
                    if self.minor_dirty {
                        return false;
                    }
                    if c.minor != v.minor {
                        return true;
                    }
                    false
                } else {
                    cmp != Ordering::Equal
                }
            }
            ">" => {
                if !self.dirty {
                    return cmp == Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                if self.patch_dirty {
                    return v.minor > c.minor;
                }
                cmp == Ordering::Greater
            }
            "<" => cmp == Ordering::Less,
            ">=" => cmp != Ordering::Less,
            "<=" => {
                if !self.dirty {
                    return cmp != Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major < c.major;
                }
                if self.minor_dirty {
                    return true;
                }
                if self.patch_dirty {
                    return v.minor <= c.minor;
                }
                cmp != Ordering::Greater
            }
            "~" => self.tilde(v),
            "^" => {
                if cmp == Ordering::Less {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if v.major > 0 {
                    return false;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.minor == c.minor;
                }
                if v.minor > 0 {
                    return false;
                }
                v.patch == c.patch
            }
            _ => false,
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        if v.minor != c.minor && !self.minor_dirty {
            return false;
        }
        true
    }
}

/// Sprig's `semverCompare constraint version`.
pub fn semver_compare(constraint: &str, version: &str) -> Result<bool, String> {
    let c = Constraints::parse(constraint)?;
    let v = Version::parse(version)?;
    Ok(c.check(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(c: &str, v: &str) -> bool {
        semver_compare(c, v).unwrap()
    }

    #[test]
    fn comparisons() {
        assert!(ok(">=1.21-0", "v1.31.0"));
        assert!(ok(">=1.16.0-0", "1.31.0"));
        assert!(!ok("<1.19-0", "1.31.0"));
        assert!(ok("^1.2.3", "1.9.0"));
        assert!(!ok("^1.2.3", "2.0.0"));
        assert!(ok("~1.2.3", "1.2.9"));
        assert!(!ok("~1.2.3", "1.3.0"));
        assert!(ok("1.2.x", "1.2.7"));
        assert!(ok("*", "4.5.6"));
        assert!(ok(">1.0 <2.0 || 3.x", "3.1.0"));
        assert!(ok("1.0 - 2.0", "1.5.0"));
        assert!(!ok(">=1.0.0", "1.5.0-beta.1"));
        assert!(ok(">=1.0.0-0", "1.5.0-beta.1"));
        assert!(ok(">= 1.2, < 3", "2.9.9"));
    }

    #[test]
    fn lenient_versions() {
        assert_eq!(Version::parse("v1.2").unwrap().to_string(), "1.2.0");
        assert!(Version::parse("1.2.3.4").is_err());
        assert!(Version::parse("abc").is_err());
    }
}
