//! Sprig's string functions (`trunc`, `quote`, `indent`, `replace`, `split`, case conversions, ...),
//! with Sprig's argument order and Go's byte-oriented semantics.

use kiln_gotemplate::{ArgType as A, FuncError, FuncMap, Map, Signature, Value};

use super::conv::{strslice, strval};

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn i(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn fixed(p: &[A]) -> Signature {
    Signature::fixed(p)
}

/// `prefix`, then `text` with `width` spaces before each line (Sprig's `indent`/`nindent`), built
/// in one buffer: charts run every `include` through it.
fn indent(prefix: &str, width: i64, text: &str) -> String {
    let width = usize::try_from(width).unwrap_or(0);
    let lines = text.bytes().filter(|&b| b == b'\n').count() + 1;
    let mut out = String::with_capacity(prefix.len() + text.len() + lines * width);
    let pad = " ".repeat(width);
    out.push_str(prefix);
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str(&pad);
        out.push_str(line);
    }
    out
}

/// Byte-range slice of a string like Go's `s[a:b]`, tolerating cuts inside UTF-8 sequences.
pub fn byte_slice(st: &str, a: usize, b: usize) -> String {
    let bytes = st.as_bytes();
    let b = b.min(bytes.len());
    let a = a.min(b);
    String::from_utf8_lossy(&bytes[a..b]).into_owned()
}

fn title(st: &str) -> String {
    let mut out = String::with_capacity(st.len());
    let mut prev_sep = true;
    for c in st.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = !(c.is_alphanumeric() || c == '_');
    }
    out
}

fn untitle(st: &str) -> String {
    let mut out = String::with_capacity(st.len());
    let mut prev_space = true;
    for c in st.chars() {
        if prev_space {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        prev_space = c.is_whitespace();
    }
    out
}

fn swapcase(st: &str) -> String {
    st.chars()
        .flat_map(|c| {
            if c.is_uppercase() {
                c.to_lowercase().collect::<Vec<_>>()
            } else if c.is_lowercase() {
                c.to_uppercase().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Splits an identifier into words at separators, case changes and acronym ends.
fn words(st: &str) -> Vec<String> {
    let chars: Vec<char> = st.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for (idx, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some(&p) = cur.chars().last().as_ref() {
            let next_lower = chars.get(idx + 1).is_some_and(|n| n.is_lowercase());
            let boundary = (p.is_lowercase() && c.is_uppercase())
                || (p.is_uppercase() && c.is_uppercase() && next_lower)
                || (p.is_ascii_digit() && c.is_alphabetic() && c.is_uppercase());
            if boundary {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn snakecase(st: &str, sep: &str) -> String {
    words(st)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join(sep)
}

fn camelcase(st: &str) -> String {
    let mut out = String::new();
    for part in st.split('_') {
        let mut cs = part.chars();
        if let Some(f) = cs.next() {
            out.extend(f.to_uppercase());
            out.push_str(cs.as_str());
        }
    }
    out
}

fn wrap(st: &str, width: usize, sep: &str) -> String {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    for para in st.split('\n') {
        let mut line = String::new();
        for w in para.split(' ').filter(|w| !w.is_empty()) {
            if !line.is_empty() && line.len() + 1 + w.len() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(w);
        }
        lines.push(line);
    }
    lines.join(sep)
}

fn split_map<'a>(parts: impl Iterator<Item = &'a str>) -> Value {
    let m: Map = parts
        .enumerate()
        .map(|(n, p)| (format!("_{n}"), Value::from(p)))
        .collect();
    Value::Map(m)
}

/// Go's `strings.SplitN`.
fn splitn(st: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let chars: Vec<String> = st.chars().map(|c| c.to_string()).collect();
        if n < 0 || chars.len() <= n as usize {
            return chars;
        }
        let mut out: Vec<String> = chars[..n as usize - 1].to_vec();
        out.push(chars[n as usize - 1..].concat());
        return out;
    }
    if n < 0 {
        return st.split(sep).map(str::to_string).collect();
    }
    st.splitn(n as usize, sep).map(str::to_string).collect()
}

pub fn register(m: &mut FuncMap) {
    m.insert("hello", fixed(&[]), |_, _| Ok("Hello!".into()));
    m.insert("upper", fixed(&[A::String]), |_, a| {
        Ok(s(&a[0]).to_uppercase().into())
    });
    m.insert("lower", fixed(&[A::String]), |_, a| {
        Ok(s(&a[0]).to_lowercase().into())
    });
    m.insert("title", fixed(&[A::String]), |_, a| {
        Ok(title(s(&a[0])).into())
    });
    m.insert("untitle", fixed(&[A::String]), |_, a| {
        Ok(untitle(s(&a[0])).into())
    });
    m.insert("swapcase", fixed(&[A::String]), |_, a| {
        Ok(swapcase(s(&a[0])).into())
    });
    m.insert("snakecase", fixed(&[A::String]), |_, a| {
        Ok(snakecase(s(&a[0]), "_").into())
    });
    m.insert("kebabcase", fixed(&[A::String]), |_, a| {
        Ok(snakecase(s(&a[0]), "-").into())
    });
    m.insert("camelcase", fixed(&[A::String]), |_, a| {
        Ok(camelcase(s(&a[0])).into())
    });
    m.insert("trim", fixed(&[A::String]), |_, a| {
        Ok(s(&a[0]).trim().into())
    });
    m.insert("trimAll", fixed(&[A::String, A::String]), |_, a| {
        let cut: Vec<char> = s(&a[0]).chars().collect();
        Ok(s(&a[1]).trim_matches(|c| cut.contains(&c)).into())
    });
    m.insert("trimall", fixed(&[A::String, A::String]), |_, a| {
        let cut: Vec<char> = s(&a[0]).chars().collect();
        Ok(s(&a[1]).trim_matches(|c| cut.contains(&c)).into())
    });
    m.insert("trimPrefix", fixed(&[A::String, A::String]), |_, a| {
        Ok(s(&a[1]).strip_prefix(s(&a[0])).unwrap_or(s(&a[1])).into())
    });
    m.insert("trimSuffix", fixed(&[A::String, A::String]), |_, a| {
        Ok(s(&a[1]).strip_suffix(s(&a[0])).unwrap_or(s(&a[1])).into())
    });
    m.insert("trunc", fixed(&[A::Int, A::String]), |_, a| {
        let (c, st) = (i(&a[0]), s(&a[1]));
        let len = st.len() as i64;
        Ok(if c < 0 && len + c > 0 {
            byte_slice(st, (len + c) as usize, st.len())
        } else if c >= 0 && len > c {
            byte_slice(st, 0, c as usize)
        } else {
            st.to_string()
        }
        .into())
    });
    m.insert("abbrev", fixed(&[A::Int, A::String]), |_, a| {
        let (w, st) = (i(&a[0]), s(&a[1]));
        if w < 4 || st.len() as i64 <= w {
            return Ok(st.into());
        }
        Ok(format!("{}...", byte_slice(st, 0, (w - 3) as usize)).into())
    });
    m.insert("abbrevboth", fixed(&[A::Int, A::Int, A::String]), |_, a| {
        let (left, w, st) = (i(&a[0]).max(0) as usize, i(&a[1]), s(&a[2]));
        if w < 4 || st.len() as i64 <= w {
            return Ok(st.into());
        }
        let w = w as usize;
        let left = left.min(st.len());
        if left <= 4 {
            return Ok(format!("{}...", byte_slice(st, 0, w - 3)).into());
        }
        if left + w - 3 < st.len() {
            return Ok(format!("...{}...", byte_slice(st, left, left + w - 6)).into());
        }
        Ok(format!("...{}", byte_slice(st, st.len() - (w - 3), st.len())).into())
    });
    m.insert("substr", fixed(&[A::Int, A::Int, A::String]), |_, a| {
        let (start, end, st) = (i(&a[0]), i(&a[1]), s(&a[2]));
        let len = st.len() as i64;
        Ok(if start < 0 {
            byte_slice(st, 0, end.clamp(0, len) as usize)
        } else if end < 0 || end > len {
            byte_slice(st, start as usize, st.len())
        } else {
            byte_slice(st, start as usize, end as usize)
        }
        .into())
    });
    m.insert("repeat", fixed(&[A::Int, A::String]), |_, a| {
        let n = i(&a[0]);
        if n < 0 {
            return Err(FuncError::new("strings: negative Repeat count"));
        }
        Ok(s(&a[1]).repeat(n as usize).into())
    });
    m.insert("nospace", fixed(&[A::String]), |_, a| {
        Ok(s(&a[0])
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .into())
    });
    m.insert("initials", fixed(&[A::String]), |_, a| {
        Ok(s(&a[0])
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .collect::<String>()
            .into())
    });
    m.insert("wrap", fixed(&[A::Int, A::String]), |_, a| {
        Ok(wrap(s(&a[1]), i(&a[0]).max(1) as usize, "\n").into())
    });
    m.insert(
        "wrapWith",
        fixed(&[A::Int, A::String, A::String]),
        |_, a| Ok(wrap(s(&a[2]), i(&a[0]).max(1) as usize, s(&a[1])).into()),
    );
    m.insert("contains", fixed(&[A::String, A::String]), |_, a| {
        Ok(s(&a[1]).contains(s(&a[0])).into())
    });
    m.insert("hasPrefix", fixed(&[A::String, A::String]), |_, a| {
        Ok(s(&a[1]).starts_with(s(&a[0])).into())
    });
    m.insert("hasSuffix", fixed(&[A::String, A::String]), |_, a| {
        Ok(s(&a[1]).ends_with(s(&a[0])).into())
    });
    m.insert("quote", Signature::variadic(&[], A::Any), |_, a| {
        let out: Vec<String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(|v| kiln_gotemplate::gofmt::quote(&strval(v)))
            .collect();
        Ok(out.join(" ").into())
    });
    m.insert("squote", Signature::variadic(&[], A::Any), |_, a| {
        let out: Vec<String> = a
            .iter()
            .filter(|v| !v.is_nil())
            .map(|v| format!("'{}'", strval(v)))
            .collect();
        Ok(out.join(" ").into())
    });
    m.insert("cat", Signature::variadic(&[], A::Any), |_, a| {
        let out: Vec<String> = a.iter().filter(|v| !v.is_nil()).map(strval).collect();
        Ok(out.join(" ").into())
    });
    m.insert("indent", fixed(&[A::Int, A::String]), |_, a| {
        Ok(indent("", i(&a[0]), s(&a[1])).into())
    });
    m.insert("nindent", fixed(&[A::Int, A::String]), |_, a| {
        Ok(indent("\n", i(&a[0]), s(&a[1])).into())
    });
    m.insert(
        "replace",
        fixed(&[A::String, A::String, A::String]),
        |_, a| {
            let (old, new, src) = (s(&a[0]), s(&a[1]), s(&a[2]));
            if old.is_empty() {
                // Go inserts `new` around every rune when `old` is empty.
                let mut out = String::from(new);
                for c in src.chars() {
                    out.push(c);
                    out.push_str(new);
                }
                return Ok(out.into());
            }
            Ok(src.replace(old, new).into())
        },
    );
    m.insert("plural", fixed(&[A::String, A::String, A::Int]), |_, a| {
        Ok(if i(&a[2]) == 1 { s(&a[0]) } else { s(&a[1]) }.into())
    });
    m.insert(
        "toString",
        fixed(&[A::Any]),
        |_, a| Ok(strval(&a[0]).into()),
    );
    m.insert("toStrings", fixed(&[A::Any]), |_, a| {
        Ok(Value::list(
            strslice(&a[0])
                .into_iter()
                .map(Value::from)
                .collect::<Vec<_>>(),
        ))
    });
    m.insert("join", fixed(&[A::String, A::Any]), |_, a| {
        Ok(strslice(&a[1]).join(s(&a[0])).into())
    });
    m.insert("split", fixed(&[A::String, A::String]), |_, a| {
        Ok(split_map(
            splitn(s(&a[1]), s(&a[0]), -1).iter().map(String::as_str),
        ))
    });
    m.insert("splitn", fixed(&[A::String, A::Int, A::String]), |_, a| {
        Ok(split_map(
            splitn(s(&a[2]), s(&a[0]), i(&a[1]))
                .iter()
                .map(String::as_str),
        ))
    });
    m.insert("splitList", fixed(&[A::String, A::String]), |_, a| {
        Ok(Value::list(
            splitn(s(&a[1]), s(&a[0]), -1)
                .into_iter()
                .map(Value::from)
                .collect::<Vec<_>>(),
        ))
    });
    m.insert("sortAlpha", fixed(&[A::Any]), |_, a| {
        let mut v = strslice(&a[0]);
        v.sort();
        Ok(Value::list(
            v.into_iter().map(Value::from).collect::<Vec<_>>(),
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_conversions() {
        assert_eq!(title("hello world-foo"), "Hello World-Foo");
        assert_eq!(snakecase("FirstName", "_"), "first_name");
        assert_eq!(snakecase("HTTPServer", "_"), "http_server");
        assert_eq!(snakecase("fooBar", "-"), "foo-bar");
        assert_eq!(camelcase("http_server"), "HttpServer");
        assert_eq!(swapcase("aBc"), "AbC");
    }

    #[test]
    fn go_splitn() {
        assert_eq!(splitn("a,b,c", ",", 2), vec!["a", "b,c"]);
        assert_eq!(splitn("a,b,c", ",", -1), vec!["a", "b", "c"]);
        assert!(splitn("a", ",", 0).is_empty());
    }
}
