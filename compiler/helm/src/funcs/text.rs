//! Regular expressions (Go RE2 syntax, which the `regex` crate shares), `path` helpers, semver
//! functions and URL helpers from Sprig.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use kiln_gotemplate::{ArgType as A, FuncError, FuncMap, Object, Signature, Value};

use crate::semver;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// Compiles `p`, reusing earlier compilations: charts call `regexReplaceAll` and friends with the
/// same few patterns thousands of times, and compiling costs far more than matching. Shared by
/// every render thread, and shared rather than cloned: a cloned `Regex` starts with empty match
/// caches, which made every call rebuild its lazy DFA.
fn re(p: &str) -> Result<Arc<regex::Regex>, FuncError> {
    static CACHE: LazyLock<Mutex<HashMap<String, Arc<regex::Regex>>>> =
        LazyLock::new(Mutex::default);
    let cache = || CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = cache().get(p).cloned() {
        return Ok(r);
    }
    let r = Arc::new(
        regex::Regex::new(&go_regex(p))
            .map_err(|e| FuncError::new(format!("error parsing regexp: {e}")))?,
    );
    let mut c = cache();
    if c.len() >= 512 {
        c.clear();
    }
    c.insert(p.to_string(), r.clone());
    Ok(r)
}

/// Adapts RE2 syntax to the `regex` crate: a `-` next to a class escape inside `[...]`
/// (`[\w-.]`) is a literal in Go, and Go's Perl classes and word boundaries are ASCII
/// ([`ascii_class`]).
pub fn go_regex(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len());
    let mut in_class = false;
    let mut prev_was_class_escape = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            match ascii_class(n, in_class) {
                Some(class) => out.push_str(class),
                None => {
                    out.push(c);
                    out.push(n);
                }
            }
            prev_was_class_escape = in_class && "dDsSwW".contains(n);
            i += 2;
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            } else if c == '-' {
                let next_is_escape =
                    i + 2 < chars.len() && chars[i + 1] == '\\' && "dDsSwW".contains(chars[i + 2]);
                if prev_was_class_escape || next_is_escape {
                    out.push_str("\\-");
                    prev_was_class_escape = false;
                    i += 1;
                    continue;
                }
            } else if c == '[' && chars.get(i + 1) != Some(&':') {
                out.push_str("\\[");
                prev_was_class_escape = false;
                i += 1;
                continue;
            }
        } else if c == '[' {
            in_class = true;
            out.push(c);
            i += 1;
            if chars.get(i) == Some(&'^') {
                out.push('^');
                i += 1;
            }
            if chars.get(i) == Some(&']') {
                out.push_str("\\]");
                i += 1;
            }
            prev_was_class_escape = false;
            continue;
        }
        prev_was_class_escape = false;
        out.push(c);
        i += 1;
    }
    out
}

/// What Go means by the escape `\\{escape}` where the `regex` crate means something else: Go's
/// `\\d`, `\\s`, `\\w` (and their negations) and `\\b`, `\\B` are ASCII, the crate's are Unicode.
/// Besides matching like Go (`\\d` is not an Arabic-Indic digit), ASCII classes compile an order
/// of magnitude faster and build no UTF-8 automaton (whose tables cost hundreds of KiB).
fn ascii_class(escape: char, in_class: bool) -> Option<&'static str> {
    Some(match (escape, in_class) {
        ('d', false) => "[0-9]",
        ('d', true) => "0-9",
        ('D', _) => "[^0-9]",
        ('s', false) => r"[\t\n\f\r\x20]",
        ('s', true) => r"\t\n\f\r\x20",
        ('S', _) => r"[^\t\n\f\r\x20]",
        ('w', false) => "[0-9A-Za-z_]",
        ('w', true) => "0-9A-Za-z_",
        ('W', _) => "[^0-9A-Za-z_]",
        ('b', false) => r"(?-u:\b)",
        ('B', false) => r"(?-u:\B)",
        _ => return None,
    })
}

fn strs(v: Vec<String>) -> Value {
    Value::list(v.into_iter().map(Value::from).collect::<Vec<_>>())
}

/// Go's `path.Clean`.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            x => out.push(x),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

fn dir(p: &str) -> String {
    match p.rfind('/') {
        Some(i) => clean(&p[..=i]),
        None => ".".into(),
    }
}

fn ext(p: &str) -> String {
    let b = p.rsplit('/').next().unwrap_or(p);
    match b.rfind('.') {
        Some(i) => b[i..].to_string(),
        None => String::new(),
    }
}

/// The object `semver` returns: fields and methods of Masterminds' `*semver.Version`.
#[derive(Debug)]
struct SemverObj(semver::Version);

impl Object for SemverObj {
    fn type_name(&self) -> &str {
        "*semver.Version"
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        let v = &self.0;
        Some(Ok(match name {
            "Major" => Value::Int(v.major as i64),
            "Minor" => Value::Int(v.minor as i64),
            "Patch" => Value::Int(v.patch as i64),
            "Prerelease" => Value::from(v.pre.as_str()),
            "Metadata" => Value::from(v.metadata.as_str()),
            "Original" => Value::from(v.original.as_str()),
            "String" => Value::from(v.to_string()),
            "Compare" | "LessThan" | "GreaterThan" | "Equal" => {
                let other = match args {
                    [Value::Object(o)] if o.type_name() == "*semver.Version" => {
                        semver::Version::parse(&o.format())
                    }
                    [other] => {
                        return Some(Err(FuncError::new(format!(
                            "wrong type for value; expected *semver.Version; got {}",
                            other.type_name()
                        ))));
                    }
                    _ => {
                        return Some(Err(FuncError::new(format!(
                            "wrong number of args for {name}: want 1 got {}",
                            args.len()
                        ))));
                    }
                };
                let Ok(other) = other else { return None };
                let ord = v.compare(&other);
                match name {
                    "Compare" => Value::Int(ord as i64),
                    "LessThan" => Value::Bool(ord.is_lt()),
                    "GreaterThan" => Value::Bool(ord.is_gt()),
                    _ => Value::Bool(ord.is_eq()),
                }
            }
            _ => return None,
        }))
    }
    fn format(&self) -> String {
        self.0.to_string()
    }
    /// Masterminds' `Version` marshals to its normalised string.
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.0.to_string()))
    }
}

pub fn register(m: &mut FuncMap) {
    let fixed = Signature::fixed;
    m.insert("regexMatch", fixed(&[A::String, A::String]), |_, a| {
        Ok(Value::Bool(re(s(&a[0]))?.is_match(s(&a[1]))))
    });
    m.insert("mustRegexMatch", fixed(&[A::String, A::String]), |_, a| {
        Ok(Value::Bool(re(s(&a[0]))?.is_match(s(&a[1]))))
    });
    for name in ["regexFindAll", "mustRegexFindAll"] {
        m.insert(name, fixed(&[A::String, A::String, A::Int]), |_, a| {
            let n = a[2].as_i64().unwrap_or(-1);
            let r = re(s(&a[0]))?;
            let it = r.find_iter(s(&a[1])).map(|x| x.as_str().to_string());
            Ok(strs(if n < 0 {
                it.collect()
            } else {
                it.take(n as usize).collect()
            }))
        });
    }
    for name in ["regexFind", "mustRegexFind"] {
        m.insert(name, fixed(&[A::String, A::String]), |_, a| {
            Ok(re(s(&a[0]))?
                .find(s(&a[1]))
                .map(|x| x.as_str())
                .unwrap_or_default()
                .into())
        });
    }
    for name in ["regexReplaceAll", "mustRegexReplaceAll"] {
        m.insert(name, fixed(&[A::String, A::String, A::String]), |_, a| {
            Ok(re(s(&a[0]))?
                .replace_all(s(&a[1]), s(&a[2]))
                .into_owned()
                .into())
        });
    }
    for name in ["regexReplaceAllLiteral", "mustRegexReplaceAllLiteral"] {
        m.insert(name, fixed(&[A::String, A::String, A::String]), |_, a| {
            Ok(re(s(&a[0]))?
                .replace_all(s(&a[1]), regex::NoExpand(s(&a[2])))
                .into_owned()
                .into())
        });
    }
    for name in ["regexSplit", "mustRegexSplit"] {
        m.insert(name, fixed(&[A::String, A::String, A::Int]), |_, a| {
            let n = a[2].as_i64().unwrap_or(-1);
            let r = re(s(&a[0]))?;
            Ok(strs(if n < 0 {
                r.split(s(&a[1])).map(str::to_string).collect()
            } else if n == 0 {
                Vec::new()
            } else {
                r.splitn(s(&a[1]), n as usize).map(str::to_string).collect()
            }))
        });
    }
    m.insert("regexQuoteMeta", fixed(&[A::String]), |_, a| {
        Ok(regex::escape(s(&a[0])).into())
    });

    m.insert(
        "base",
        fixed(&[A::String]),
        |_, a| Ok(base(s(&a[0])).into()),
    );
    m.insert("dir", fixed(&[A::String]), |_, a| Ok(dir(s(&a[0])).into()));
    m.insert("clean", fixed(&[A::String]), |_, a| {
        Ok(clean(s(&a[0])).into())
    });
    m.insert("ext", fixed(&[A::String]), |_, a| Ok(ext(s(&a[0])).into()));
    m.insert("isAbs", fixed(&[A::String]), |_, a| {
        Ok(Value::Bool(s(&a[0]).starts_with('/')))
    });
    m.insert("osBase", fixed(&[A::String]), |_, a| {
        Ok(base(s(&a[0])).into())
    });
    m.insert(
        "osDir",
        fixed(&[A::String]),
        |_, a| Ok(dir(s(&a[0])).into()),
    );
    m.insert("osClean", fixed(&[A::String]), |_, a| {
        Ok(clean(s(&a[0])).into())
    });
    m.insert(
        "osExt",
        fixed(&[A::String]),
        |_, a| Ok(ext(s(&a[0])).into()),
    );
    m.insert("osIsAbs", fixed(&[A::String]), |_, a| {
        Ok(Value::Bool(s(&a[0]).starts_with('/')))
    });

    m.insert("semverCompare", fixed(&[A::String, A::String]), |_, a| {
        semver::semver_compare(s(&a[0]), s(&a[1]))
            .map(Value::Bool)
            .map_err(FuncError::new)
    });
    m.insert("semver", fixed(&[A::String]), |_, a| {
        semver::Version::parse(s(&a[0]))
            .map(|v| Value::object(SemverObj(v)))
            .map_err(FuncError::new)
    });

    m.insert("urlParse", fixed(&[A::String]), |_, a| {
        let u = url::Url::parse(s(&a[0]))
            .map_err(|e| FuncError::new(format!("unable to parse url: {e}")))?;
        let d = kiln_gotemplate::Map::new();
        let host = match u.port() {
            Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
            None => u.host_str().unwrap_or_default().to_string(),
        };
        d.insert("scheme", Value::from(u.scheme()));
        d.insert("host", Value::from(host));
        d.insert("hostname", Value::from(u.host_str().unwrap_or_default()));
        d.insert("path", Value::from(u.path()));
        d.insert("query", Value::from(u.query().unwrap_or_default()));
        d.insert("opaque", Value::from(""));
        d.insert("fragment", Value::from(u.fragment().unwrap_or_default()));
        let userinfo = match (u.username(), u.password()) {
            ("", None) => String::new(),
            (user, None) => user.to_string(),
            (user, Some(p)) => format!("{user}:{p}"),
        };
        d.insert("userinfo", Value::from(userinfo));
        Ok(Value::Map(d))
    });
    m.insert("urlJoin", fixed(&[A::Map]), |_, a| {
        let d = a[0].as_map().cloned().unwrap_or_default();
        let g = |k: &str| {
            d.get(k)
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        let mut out = String::new();
        if !g("scheme").is_empty() {
            out.push_str(&g("scheme"));
            out.push(':');
        }
        if !g("host").is_empty() || !g("userinfo").is_empty() {
            out.push_str("//");
            if !g("userinfo").is_empty() {
                out.push_str(&g("userinfo"));
                out.push('@');
            }
            out.push_str(&g("host"));
        }
        out.push_str(&g("path"));
        if !g("query").is_empty() {
            out.push('?');
            out.push_str(&g("query"));
        }
        if !g("fragment").is_empty() {
            out.push('#');
            out.push_str(&g("fragment"));
        }
        Ok(out.into())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_regex_classes() {
        let r = regex::Regex::new(&go_regex(r"^[\w-\.]+$")).unwrap();
        assert!(r.is_match("a-b.c"));
        assert!(regex::Regex::new(&go_regex(r"[]a]")).unwrap().is_match("]"));
    }

    /// Go's Perl classes and word boundaries are ASCII, inside and outside brackets.
    #[test]
    fn go_regex_perl_classes_are_ascii() {
        let m = |p: &str, s: &str| regex::Regex::new(&go_regex(p)).unwrap().is_match(s);
        assert!(m(r"^\d+$", "0129"));
        assert!(!m(r"^\d+$", "\u{663}"));
        assert!(m(r"^\D$", "\u{663}"));
        assert!(m(r"^[\d]$", "7") && !m(r"^[\d]$", "\u{663}"));
        assert!(m(r"^[^\d]$", "\u{663}") && !m(r"^[^\d]$", "7"));
        assert!(m(r"^[^\D]$", "7") && !m(r"^[^\D]$", "\u{663}"));
        assert!(m(r"^\w+$", "aZ_9") && !m(r"^\w$", "é") && m(r"^\W$", "é"));
        assert!(m(r"^[\w.]+$", "a.b") && !m(r"^[\w.]+$", "é"));
        assert!(m(r"^[\W]$", "é") && !m(r"^[^\W]$", "é") && m(r"^[^\W]$", "e"));
        assert!(m(r"^\s+$", " \t\n\r\x0c") && !m(r"^\s$", "\x0b") && !m(r"^\s$", "\u{a0}"));
        assert!(m(r"^\S$", "\u{a0}") && m(r"^[^\s]$", "\x0b") && m(r"^[\s]$", " "));
        assert!(m(r"x\b", "x é") && m(r"x\b", "xé") && !m(r"x\b", "xy"));
        assert!(m(r"x\B", "xy") && !m(r"x\B", "x y"));
        assert!(m(r"(?i)^\w$", "\u{212a}"));
        assert!(m(r"^[\w-.]+$", "a-b.c") && m(r"^[.-\w]+$", "a-b.c"));
        assert!(m(r"^\\d$", "\\d") && m(r"^\.\d$", ".5"));
    }

    #[test]
    fn go_paths() {
        assert_eq!(clean("a//b/../c/."), "a/c");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(base("a/b.txt"), "b.txt");
        assert_eq!(dir("a/b/c.txt"), "a/b");
        assert_eq!(ext("a/b.tar.gz"), ".gz");
    }
}
