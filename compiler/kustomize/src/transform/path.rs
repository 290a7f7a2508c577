//! kyaml-style field paths used by `replacements` and `vars`: dot-separated fields, `[k=v]`
//! list-element matchers, `*` wildcards and numeric indexes, with optional creation.

use serde_json::{Map, Value};

use crate::error::{KustomizeError, Result};

/// kustomize's `SmarterPathSplitter`: splits on `.` except inside `[...]`.
pub fn split(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
            }
            '.' if depth == 0 => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Splits the legacy var field path form `a.b[0].c` / `a.b[name=x].c`.
pub fn split_legacy(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in split(path) {
        if let Some(i) = part.find('[')
            && i > 0
            && part.ends_with(']')
        {
            out.push(part[..i].to_string());
            out.push(part[i..].to_string());
        } else {
            out.push(part);
        }
    }
    out
}

/// `[a.b/c]` (no `=`) names a map key holding dots.
fn bracket_key(seg: &str) -> Option<&str> {
    let inner = seg.strip_prefix('[')?.strip_suffix(']')?;
    (!inner.contains('=')).then_some(inner)
}

fn matcher(seg: &str) -> Option<(&str, &str)> {
    let inner = seg.strip_prefix('[')?.strip_suffix(']')?;
    inner.split_once('=')
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Collects mutable references to every node the path reaches; with `create`, missing map
/// fields and `[k=v]` elements are created (the last as `leaf`).
pub fn find_mut<'a>(
    node: &'a mut Value,
    segs: &[String],
    create: Option<&Value>,
    out: &mut Vec<&'a mut Value>,
) -> Result<()> {
    let Some((seg, rest)) = segs.split_first() else {
        out.push(node);
        return Ok(());
    };
    let next_empty = |rest: &[String]| -> Value {
        match rest.first() {
            None => create.cloned().unwrap_or(Value::Null),
            Some(s) if s.starts_with('[') || s.parse::<usize>().is_ok() || s == "*" || s == "-" => {
                Value::Array(vec![])
            }
            Some(_) => Value::Object(Map::new()),
        }
    };
    if let Some((k, v)) = matcher(seg) {
        let Value::Array(items) = node else {
            if node.is_null() && create.is_some() {
                *node = Value::Array(vec![]);
                return find_mut(node, segs, create, out);
            }
            return Ok(());
        };
        let hits: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, it)| {
                if k.is_empty() {
                    scalar_text(it).as_deref() == Some(v)
                } else {
                    it.get(k).and_then(scalar_text).as_deref() == Some(v)
                }
            })
            .map(|(i, _)| i)
            .collect();
        if hits.is_empty() {
            if create.is_some() && !k.is_empty() {
                let mut m = Map::new();
                m.insert(k.to_string(), Value::String(v.to_string()));
                items.push(Value::Object(m));
                let last = items.len() - 1;
                return find_mut(&mut items[last], rest, create, out);
            }
            return Ok(());
        }
        for (i, it) in items.iter_mut().enumerate() {
            if hits.contains(&i) {
                find_mut(it, rest, create, out)?;
            }
        }
        return Ok(());
    }
    if let Some(key) = bracket_key(seg)
        && key.parse::<usize>().is_err()
    {
        let owned = key.to_string();
        let mut segs2 = vec![owned];
        segs2.extend(rest.iter().cloned());
        return find_mut(node, &segs2, create, out);
    }
    if seg == "*" {
        match node {
            Value::Array(items) => {
                for it in items {
                    find_mut(it, rest, create, out)?;
                }
            }
            Value::Object(m) => {
                for (_, it) in m.iter_mut() {
                    find_mut(it, rest, create, out)?;
                }
            }
            _ => {}
        }
        return Ok(());
    }
    if let Value::Array(items) = node {
        if let Ok(i) = seg.parse::<usize>() {
            if let Some(it) = items.get_mut(i) {
                return find_mut(it, rest, create, out);
            }
            return Ok(());
        }
        return Err(KustomizeError::build(format!(
            "wrong node kind: expected MappingNode but got SequenceNode: node contents:\n  field '{seg}'"
        )));
    }
    if node.is_null() && create.is_some() {
        *node = Value::Object(Map::new());
    }
    let Value::Object(map) = node else {
        return Ok(());
    };
    if !map.contains_key(seg.as_str()) || map.get(seg.as_str()).is_some_and(Value::is_null) {
        if create.is_none() {
            return Ok(());
        }
        map.insert(seg.clone(), next_empty(rest));
    }
    let child = map.get_mut(seg.as_str()).expect("present");
    find_mut(child, rest, create, out)
}

/// Reads the value at a path (first match).
pub fn get<'a>(node: &'a Value, segs: &[String]) -> Option<&'a Value> {
    let Some((seg, rest)) = segs.split_first() else {
        return Some(node);
    };
    if let Some((k, v)) = matcher(seg) {
        let items = node.as_array()?;
        let it = items.iter().find(|it| {
            if k.is_empty() {
                scalar_text(it).as_deref() == Some(v)
            } else {
                it.get(k).and_then(scalar_text).as_deref() == Some(v)
            }
        })?;
        return get(it, rest);
    }
    if let Some(idx) = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        if let Ok(i) = idx.parse::<usize>() {
            return get(node.as_array()?.get(i)?, rest);
        }
        return get(node.as_object()?.get(idx)?, rest);
    }
    match node {
        Value::Array(items) => get(items.get(seg.parse::<usize>().ok()?)?, rest),
        Value::Object(m) => get(m.get(seg.as_str())?, rest),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn split_keeps_brackets_whole() {
        assert_eq!(
            split("spec.containers.[name=a.b].image"),
            vec!["spec", "containers", "[name=a.b]", "image"]
        );
    }

    #[test]
    fn find_creates_missing_fields() {
        let mut v = json!({"spec": {}});
        let mut out = Vec::new();
        find_mut(
            &mut v,
            &split("spec.template.x"),
            Some(&json!("")),
            &mut out,
        )
        .unwrap();
        assert_eq!(out.len(), 1);
        *out[0] = json!("y");
        assert_eq!(v, json!({"spec": {"template": {"x": "y"}}}));
    }

    #[test]
    fn get_reads_list_elements() {
        let v = json!({"spec": {"ports": [{"name": "a", "port": 1}, {"name": "b", "port": 2}]}});
        assert_eq!(
            get(&v, &split_legacy("spec.ports[1].port")),
            Some(&json!(2))
        );
        assert_eq!(get(&v, &split("spec.ports.[name=b].port")), Some(&json!(2)));
    }
}
