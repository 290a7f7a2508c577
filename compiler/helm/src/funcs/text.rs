//! Regular expression functions (patterns compiled by [`super::goregex`]), `path` helpers,
//! semver functions and URL helpers from Sprig.

use kiln_gotemplate::{ArgType as A, FuncError, FuncMap, Object, Signature, Value};

use super::goregex::re;
use crate::semver;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
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
    for name in ["regexMatch", "mustRegexMatch"] {
        m.insert(name, fixed(&[A::String, A::String]), |_, a| {
            Ok(Value::Bool(re(s(&a[0]))?.is_match(s(&a[1]))?))
        });
    }
    for name in ["regexFindAll", "mustRegexFindAll"] {
        m.insert(name, fixed(&[A::String, A::String, A::Int]), |_, a| {
            let n = a[2].as_i64().unwrap_or(-1);
            let limit = usize::try_from(n).unwrap_or(usize::MAX);
            Ok(strs(re(s(&a[0]))?.find_all(s(&a[1]), limit)?))
        });
    }
    for name in ["regexFind", "mustRegexFind"] {
        m.insert(name, fixed(&[A::String, A::String]), |_, a| {
            Ok(re(s(&a[0]))?.find(s(&a[1]))?.into())
        });
    }
    for name in ["regexReplaceAll", "mustRegexReplaceAll"] {
        m.insert(name, fixed(&[A::String, A::String, A::String]), |_, a| {
            Ok(re(s(&a[0]))?.replace_all(s(&a[1]), s(&a[2]), false)?.into())
        });
    }
    for name in ["regexReplaceAllLiteral", "mustRegexReplaceAllLiteral"] {
        m.insert(name, fixed(&[A::String, A::String, A::String]), |_, a| {
            Ok(re(s(&a[0]))?.replace_all(s(&a[1]), s(&a[2]), true)?.into())
        });
    }
    for name in ["regexSplit", "mustRegexSplit"] {
        m.insert(name, fixed(&[A::String, A::String, A::Int]), |_, a| {
            let n = a[2].as_i64().unwrap_or(-1);
            Ok(strs(if n == 0 {
                Vec::new()
            } else {
                let limit = usize::try_from(n).unwrap_or(usize::MAX);
                re(s(&a[0]))?.split(s(&a[1]), limit)?
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
    fn go_paths() {
        assert_eq!(clean("a//b/../c/."), "a/c");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(base("a/b.txt"), "b.txt");
        assert_eq!(dir("a/b/c.txt"), "a/b");
        assert_eq!(ext("a/b.tar.gz"), ".gz");
    }
}
