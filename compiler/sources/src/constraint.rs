//! Version constraints with the syntax and semantics of Masterminds/semver v3, which Helm
//! (`version=` of a chart dependency or `helm install --version`) and Flux (semver refs and
//! image policies) use: `^1.2`, `~1.2.3`, `1.2.x`, `>=1 <2`, `1.2 - 1.4`, `1.x || 2.x`, `*`.
//!
//! No Rust crate implements exactly these rules, so this is a small evaluator on top of
//! `semver::Version`. Pre-release versions only satisfy a comparison whose own version
//! carries a pre-release (`>=1.0.0-0`), as in Masterminds.

use std::cmp::Ordering;
use std::fmt;

use semver::{Prerelease, Version};

/// A parsed constraint: alternatives (`||`) of conjunctions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    text: String,
    any_of: Vec<Vec<Comparator>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Tilde,
    Caret,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Comparator {
    op: Op,
    version: Version,
    /// The minor component was missing or a wildcard (`1`, `1.x`, `*`).
    minor_dirty: bool,
    /// The patch component was missing or a wildcard (`1.2`, `1.2.x`).
    patch_dirty: bool,
}

impl Constraint {
    /// Parses `text`; the error explains what is wrong.
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("the constraint is empty".into());
        }
        let mut any_of = Vec::new();
        for alternative in trimmed.split("||") {
            let alternative = alternative.trim();
            if alternative.is_empty() {
                return Err("empty alternative around `||`".into());
            }
            any_of.push(parse_conjunction(alternative)?);
        }
        Ok(Constraint {
            text: trimmed.to_string(),
            any_of,
        })
    }

    /// Whether `version` satisfies the constraint.
    pub fn matches(&self, version: &Version) -> bool {
        self.any_of
            .iter()
            .any(|all| all.iter().all(|c| c.matches(version)))
    }

    /// The highest of `candidates` that matches, by semver precedence.
    pub fn best<'a, T>(
        &self,
        candidates: impl IntoIterator<Item = (&'a Version, T)>,
    ) -> Option<(&'a Version, T)> {
        candidates
            .into_iter()
            .filter(|(v, _)| self.matches(v))
            .max_by(|(a, _), (b, _)| a.cmp_precedence(b))
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses a version leniently, as Masterminds' `NewVersion` does: an optional leading `v`, and
/// missing minor/patch components read as 0 (`v1.2` is `1.2.0`).
pub fn parse_version(text: &str) -> Option<Version> {
    let t = text.trim();
    let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
    if let Ok(v) = Version::parse(t) {
        return Some(v);
    }
    let split = t.find(['-', '+']).unwrap_or(t.len());
    let (core, rest) = t.split_at(split);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut nums = parts
        .iter()
        .map(|p| p.parse::<u64>().ok())
        .collect::<Option<Vec<_>>>()?;
    nums.resize(3, 0);
    Version::parse(&format!("{}.{}.{}{rest}", nums[0], nums[1], nums[2])).ok()
}

fn parse_conjunction(text: &str) -> Result<Vec<Comparator>, String> {
    // Hyphen ranges: `1.2 - 1.4.5` means `>=1.2 <=1.4.5`.
    let tokens = tokenize(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if i + 2 < tokens.len() && tokens[i + 1] == "-" {
            out.push(parse_comparator(&format!(">={}", tokens[i]))?);
            out.push(parse_comparator(&format!("<={}", tokens[i + 2]))?);
            i += 3;
        } else {
            out.push(parse_comparator(&tokens[i])?);
            i += 1;
        }
    }
    if out.is_empty() {
        return Err(format!("no comparison in `{text}`"));
    }
    Ok(out)
}

/// Splits on whitespace and commas, gluing a bare operator to the version after it.
fn tokenize(text: &str) -> Vec<String> {
    let raw: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .collect();
    let mut tokens = Vec::new();
    let mut pending = String::new();
    for piece in raw {
        if piece.chars().all(|c| "=!<>~^".contains(c)) && piece != "-" {
            pending.push_str(piece);
            continue;
        }
        tokens.push(format!("{pending}{piece}"));
        pending.clear();
    }
    if !pending.is_empty() {
        tokens.push(pending);
    }
    tokens
}

fn parse_comparator(token: &str) -> Result<Comparator, String> {
    let ops: [(&str, Op); 11] = [
        (">=", Op::Ge),
        ("=>", Op::Ge),
        ("<=", Op::Le),
        ("=<", Op::Le),
        ("!=", Op::Ne),
        ("~>", Op::Tilde),
        (">", Op::Gt),
        ("<", Op::Lt),
        ("=", Op::Eq),
        ("~", Op::Tilde),
        ("^", Op::Caret),
    ];
    let (op, rest) = ops
        .iter()
        .find_map(|(p, op)| token.strip_prefix(p).map(|r| (*op, r)))
        .unwrap_or((Op::Eq, token));
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(format!("operator `{token}` has no version"));
    }
    let rest = rest.strip_prefix(['v', 'V']).unwrap_or(rest);
    let split = rest.find(['-', '+']).unwrap_or(rest.len());
    let (core, suffix) = rest.split_at(split);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(format!("`{rest}` is not a version"));
    }
    let is_x = |p: &str| matches!(p, "x" | "X" | "*");
    let mut nums = [0u64; 3];
    let mut dirty_from = parts.len();
    for (i, p) in parts.iter().enumerate() {
        if is_x(p) {
            dirty_from = dirty_from.min(i);
        } else if i < dirty_from {
            nums[i] = p
                .parse()
                .map_err(|_| format!("`{p}` in `{rest}` is not a number"))?;
        }
    }
    // `*` alone (or `x`) means any non-pre-release version.
    if dirty_from == 0 {
        return Ok(Comparator {
            op: if op == Op::Eq || op == Op::Tilde || op == Op::Caret {
                Op::Ge
            } else {
                op
            },
            version: Version::new(0, 0, 0),
            minor_dirty: true,
            patch_dirty: true,
        });
    }
    let version = Version::parse(&format!("{}.{}.{}{suffix}", nums[0], nums[1], nums[2]))
        .map_err(|e| format!("`{rest}` is not a version: {e}"))?;
    Ok(Comparator {
        op,
        version,
        minor_dirty: dirty_from <= 1,
        patch_dirty: dirty_from <= 2,
    })
}

impl Comparator {
    fn dirty(&self) -> bool {
        self.minor_dirty || self.patch_dirty
    }

    fn matches(&self, v: &Version) -> bool {
        if !v.pre.is_empty() && self.version.pre.is_empty() {
            return false;
        }
        let c = &self.version;
        let cmp = v.cmp_precedence(c);
        match self.op {
            Op::Eq if self.dirty() => self.tilde(v),
            Op::Eq => cmp == Ordering::Equal,
            Op::Ne if self.dirty() => !self.tilde(v),
            Op::Ne => cmp != Ordering::Equal,
            Op::Gt if !self.dirty() => cmp == Ordering::Greater,
            Op::Gt => {
                if v.major != c.major {
                    v.major > c.major
                } else if self.minor_dirty {
                    false
                } else {
                    v.minor > c.minor
                }
            }
            Op::Lt => cmp == Ordering::Less,
            Op::Ge => cmp != Ordering::Less,
            Op::Le if !self.dirty() => cmp != Ordering::Greater,
            Op::Le => {
                if v.major != c.major {
                    v.major < c.major
                } else if self.minor_dirty {
                    true
                } else {
                    v.minor <= c.minor
                }
            }
            Op::Tilde => self.tilde(v),
            Op::Caret => {
                if cmp == Ordering::Less {
                    false
                } else if c.major > 0 || self.minor_dirty {
                    v.major == c.major
                } else if c.minor > 0 || self.patch_dirty {
                    v.major == 0 && v.minor == c.minor
                } else {
                    v.major == 0 && v.minor == 0 && v.patch == c.patch
                }
            }
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.version;
        if v.cmp_precedence(c) == Ordering::Less {
            return false;
        }
        v.major == c.major && (self.minor_dirty || v.minor == c.minor)
    }
}

/// Whether a version is a pre-release (used to pick the newest stable version by default).
pub fn is_prerelease(v: &Version) -> bool {
    v.pre != Prerelease::EMPTY
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(constraint: &str, version: &str) -> bool {
        Constraint::parse(constraint)
            .unwrap()
            .matches(&parse_version(version).unwrap())
    }

    #[test]
    fn caret() {
        assert!(ok("^1.2", "1.2.0"));
        assert!(ok("^1.2", "1.9.9"));
        assert!(!ok("^1.2", "2.0.0"));
        assert!(!ok("^1.2.3", "1.2.2"));
        assert!(ok("^0.2.3", "0.2.9"));
        assert!(!ok("^0.2.3", "0.3.0"));
        assert!(ok("^0.0.3", "0.0.3"));
        assert!(!ok("^0.0.3", "0.0.4"));
        assert!(ok("^0", "0.9.0"));
        assert!(!ok("^0", "1.0.0"));
        assert!(ok("^0.0", "0.0.9"));
        assert!(!ok("^0.0", "0.1.0"));
    }

    #[test]
    fn tilde_and_wildcards() {
        assert!(ok("~1.2.3", "1.2.9"));
        assert!(!ok("~1.2.3", "1.3.0"));
        assert!(ok("~1", "1.9.0"));
        assert!(ok("1.2.x", "1.2.7"));
        assert!(!ok("1.2.x", "1.3.0"));
        assert!(ok("1.2", "1.2.7"));
        assert!(ok("6.x", "6.5.4"));
        assert!(!ok("6.x", "7.0.0"));
        assert!(ok("*", "3.0.0"));
        assert!(ok("~> 1.2", "1.2.5"));
        assert!(ok("1.2.3", "1.2.3"));
        assert!(!ok("1.2.3", "1.2.4"));
    }

    #[test]
    fn ranges_and_alternatives() {
        assert!(ok(">=1 <2", "1.5.0"));
        assert!(!ok(">=1 <2", "2.0.0"));
        assert!(ok(">= 1.2, < 3.0.0", "2.9.9"));
        assert!(ok("1.2 - 1.4.5", "1.4.5"));
        assert!(!ok("1.2 - 1.4.5", "1.4.6"));
        assert!(ok("1.x || 3.x", "3.1.0"));
        assert!(!ok("1.x || 3.x", "2.1.0"));
        assert!(ok(">1.2", "1.3.0"));
        assert!(!ok(">1.2", "1.2.9"));
        assert!(!ok(">1", "1.9.0"));
        assert!(ok("<=1.2", "1.2.9"));
        assert!(!ok("<=1.2", "1.3.0"));
        assert!(ok("!=1.2.3", "1.2.4"));
        assert!(!ok("!=1.2.x", "1.2.4"));
        assert!(ok("v1.2.x", "v1.2.1"));
    }

    #[test]
    fn prerelease_rules() {
        assert!(!ok("^1.2", "1.3.0-rc.1"));
        assert!(!ok("*", "1.0.0-alpha"));
        assert!(ok(">=1.0.0-0", "1.0.0-alpha"));
        assert!(ok(">=1.2.3-beta.1", "1.2.3-beta.2"));
        assert!(!ok(">=1.2.3-beta.2", "1.2.3-beta.1"));
        assert!(ok("^1.2.3-alpha", "1.4.0"));
    }

    #[test]
    fn best_picks_highest_match() {
        let c = Constraint::parse("^1.2").unwrap();
        let versions: Vec<Version> = ["1.1.0", "1.2.0", "1.10.1", "2.0.0", "1.11.0-rc.1"]
            .iter()
            .map(|v| parse_version(v).unwrap())
            .collect();
        let best = c.best(versions.iter().map(|v| (v, ()))).unwrap().0;
        assert_eq!(best.to_string(), "1.10.1");
    }

    #[test]
    fn lenient_versions() {
        assert_eq!(parse_version("v1.2").unwrap().to_string(), "1.2.0");
        assert_eq!(parse_version("2").unwrap().to_string(), "2.0.0");
        assert_eq!(
            parse_version("1.2-beta.1").unwrap().to_string(),
            "1.2.0-beta.1"
        );
        assert!(parse_version("latest").is_none());
        assert!(parse_version("1.2.3.4").is_none());
    }

    #[test]
    fn bad_constraints_are_errors() {
        assert!(Constraint::parse("").is_err());
        assert!(Constraint::parse(">=").is_err());
        assert!(Constraint::parse("1.x ||").is_err());
        assert!(Constraint::parse("banana").is_err());
    }
}
