//! Sprig's list and dict functions (`list`, `append`, `first`, `uniq`, `has`, `dict`, `set`, `merge`,
//! `dig`, `pluck`, ...) with Go's semantics: maps are shared and mutated in place by `set`/`unset`/
//! `merge`, lists are copied, and `merge` follows mergo's rules (a "empty" destination value is
//! replaced).

use kiln_gotemplate::{ArgType as A, FuncError, FuncMap, Map, Signature, Value};

use super::conv::{empty, items, need_list, strval};

fn fixed(p: &[A]) -> Signature {
    Signature::fixed(p)
}

fn list(v: Vec<Value>) -> Value {
    Value::list(v)
}

fn map_arg(v: &Value, what: &str) -> Result<Map, FuncError> {
    match v {
        Value::Map(m) => Ok(m.clone()),
        Value::Nil => Ok(kiln_gotemplate::Map::new()),
        other => Err(FuncError::new(format!(
            "wrong type for value; expected map[string]interface {{}}; got {} ({what})",
            other.type_name()
        ))),
    }
}

/// mergo's `Merge` (and `WithOverride`) for `map[string]interface{}`.
pub fn mergo(dst: &Map, src: &Map, overwrite: bool) {
    for (k, sv) in src.entries() {
        if sv.is_nil() {
            continue;
        }
        let dv = dst.get(&k);
        if let (Value::Map(sm), Some(Value::Map(dm))) = (&sv, &dv) {
            mergo(dm, sm, overwrite);
            continue;
        }
        let dst_empty = dv.as_ref().is_none_or(empty);
        if !dst_empty && matches!(sv, Value::List(_)) && !overwrite {
            continue;
        }
        if let (Value::List(sl), true) = (&sv, overwrite)
            && sl.is_empty()
            && !dst_empty
        {
            continue;
        }
        if overwrite || dst_empty {
            dst.insert(k, sv);
        }
    }
}

fn deep_eq(a: &Value, b: &Value) -> bool {
    super::conv::deep_equal(a, b)
}

pub fn register(m: &mut FuncMap) {
    m.insert("list", Signature::variadic(&[], A::Any), |_, a| {
        Ok(list(a.to_vec()))
    });
    m.insert("tuple", Signature::variadic(&[], A::Any), |_, a| {
        Ok(list(a.to_vec()))
    });
    for (name, must) in [
        ("append", false),
        ("push", false),
        ("mustAppend", true),
        ("mustPush", true),
    ] {
        let _ = must;
        m.insert(name, fixed(&[A::Any, A::Any]), |_, a| {
            let mut l = need_list(&a[0], "push")?;
            l.push(a[1].clone());
            Ok(list(l))
        });
    }
    for name in ["prepend", "mustPrepend"] {
        m.insert(name, fixed(&[A::Any, A::Any]), |_, a| {
            let mut l = need_list(&a[0], "prepend")?;
            l.insert(0, a[1].clone());
            Ok(list(l))
        });
    }
    for name in ["first", "mustFirst"] {
        m.insert(name, fixed(&[A::Any]), |_, a| {
            let l = need_list(&a[0], "find first")?;
            Ok(l.first().cloned().unwrap_or_default())
        });
    }
    for name in ["last", "mustLast"] {
        m.insert(name, fixed(&[A::Any]), |_, a| {
            let l = need_list(&a[0], "find last")?;
            Ok(l.last().cloned().unwrap_or_default())
        });
    }
    for name in ["rest", "mustRest"] {
        m.insert(name, fixed(&[A::Any]), |_, a| {
            let l = need_list(&a[0], "find rest")?;
            if l.is_empty() {
                return Ok(Value::Nil);
            }
            Ok(list(l[1..].to_vec()))
        });
    }
    for name in ["initial", "mustInitial"] {
        m.insert(name, fixed(&[A::Any]), |_, a| {
            let l = need_list(&a[0], "find initial")?;
            if l.is_empty() {
                return Ok(Value::Nil);
            }
            Ok(list(l[..l.len() - 1].to_vec()))
        });
    }
    for name in ["reverse", "mustReverse"] {
        m.insert(name, fixed(&[A::Any]), |_, a| {
            let mut l = need_list(&a[0], "find reverse")?;
            l.reverse();
            Ok(list(l))
        });
    }
    for name in ["uniq", "mustUniq"] {
        m.insert(name, fixed(&[A::Any]), |_, a| {
            let l = need_list(&a[0], "find uniq")?;
            let mut out: Vec<Value> = Vec::new();
            for x in l {
                if !out.iter().any(|y| deep_eq(y, &x)) {
                    out.push(x);
                }
            }
            Ok(list(out))
        });
    }
    for name in ["compact", "mustCompact"] {
        m.insert(name, fixed(&[A::Any]), |_, a| {
            let l = need_list(&a[0], "compact")?;
            Ok(list(l.into_iter().filter(|x| !empty(x)).collect()))
        });
    }
    for name in ["without", "mustWithout"] {
        m.insert(name, Signature::variadic(&[A::Any], A::Any), |_, a| {
            let l = need_list(&a[0], "find without")?;
            let omit = &a[1..];
            Ok(list(
                l.into_iter()
                    .filter(|x| !omit.iter().any(|o| deep_eq(o, x)))
                    .collect(),
            ))
        });
    }
    for name in ["has", "mustHas"] {
        m.insert(name, fixed(&[A::Any, A::Any]), |_, a| {
            if a[1].is_nil() {
                return Ok(Value::Bool(false));
            }
            let l = need_list(&a[1], "find has")?;
            Ok(Value::Bool(l.iter().any(|x| deep_eq(x, &a[0]))))
        });
    }
    for name in ["slice", "mustSlice"] {
        m.insert(name, Signature::variadic(&[A::Any], A::Any), |_, a| {
            let l = need_list(&a[0], "slice")?;
            let idx: Vec<i64> = a[1..].iter().map(super::conv::to_i64).collect();
            let (start, end) = match idx.as_slice() {
                [] => (0, l.len()),
                [s] => (*s as usize, l.len()),
                [s, e, ..] => (*s as usize, *e as usize),
            };
            if start > end || end > l.len() {
                return Err(FuncError::new(format!(
                    "slice bounds out of range [{start}:{end}]"
                )));
            }
            Ok(list(l[start..end].to_vec()))
        });
    }
    m.insert("concat", Signature::variadic(&[], A::Any), |_, a| {
        let mut out = Vec::new();
        for l in a {
            out.extend(need_list(l, "concat")?);
        }
        Ok(list(out))
    });
    for name in ["chunk", "mustChunk"] {
        m.insert(name, fixed(&[A::Int, A::Any]), |_, a| {
            let size = a[0].as_i64().unwrap_or(0).max(1) as usize;
            let l = need_list(&a[1], "chunk")?;
            Ok(list(l.chunks(size).map(|c| list(c.to_vec())).collect()))
        });
    }
    m.insert("until", fixed(&[A::Int]), |_, a| {
        let n = a[0].as_i64().unwrap_or(0);
        let step = if n < 0 { -1 } else { 1 };
        Ok(list(
            until_step(0, n, step).into_iter().map(Value::Int).collect(),
        ))
    });
    m.insert("untilStep", fixed(&[A::Int, A::Int, A::Int]), |_, a| {
        let g = |i: usize| a[i].as_i64().unwrap_or(0);
        Ok(list(
            until_step(g(0), g(1), g(2))
                .into_iter()
                .map(Value::Int)
                .collect(),
        ))
    });
    m.insert("seq", Signature::variadic(&[], A::Int), |_, a| {
        let p: Vec<i64> = a.iter().map(|v| v.as_i64().unwrap_or(0)).collect();
        let nums = match p.as_slice() {
            [end] => {
                let inc = if *end < 1 { -1 } else { 1 };
                until_step(1, end + inc, inc)
            }
            [start, end] => {
                let step = if end < start { -1 } else { 1 };
                until_step(*start, end + step, step)
            }
            [start, step, end] => {
                let inc = if end < start { -1 } else { 1 };
                if end < start && *step > 0 {
                    Vec::new()
                } else {
                    until_step(*start, end + inc, *step)
                }
            }
            _ => Vec::new(),
        };
        Ok(nums
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(" ")
            .into())
    });

    m.insert("dict", Signature::variadic(&[], A::Any), |_, a| {
        let d = kiln_gotemplate::Map::new();
        for pair in a.chunks(2) {
            let key = strval(&pair[0]);
            let val = pair.get(1).cloned().unwrap_or_else(|| Value::from(""));
            d.insert(key, val);
        }
        Ok(Value::Map(d))
    });
    m.insert("get", fixed(&[A::Map, A::String]), |_, a| {
        let d = map_arg(&a[0], "get")?;
        Ok(d.get(a[1].as_str().unwrap_or_default())
            .unwrap_or_else(|| Value::from("")))
    });
    m.insert("set", fixed(&[A::Map, A::String, A::Any]), |_, a| {
        let d = map_arg(&a[0], "set")?;
        d.insert(a[1].as_str().unwrap_or_default(), a[2].clone());
        Ok(Value::Map(d))
    });
    m.insert("unset", fixed(&[A::Map, A::String]), |_, a| {
        let d = map_arg(&a[0], "unset")?;
        d.remove(a[1].as_str().unwrap_or_default());
        Ok(Value::Map(d))
    });
    m.insert("hasKey", fixed(&[A::Map, A::String]), |_, a| {
        let d = map_arg(&a[0], "hasKey")?;
        Ok(Value::Bool(
            d.contains_key(a[1].as_str().unwrap_or_default()),
        ))
    });
    m.insert(
        "pluck",
        Signature::variadic(&[A::String], A::Map),
        |_, a| {
            let key = a[0].as_str().unwrap_or_default();
            let mut out = Vec::new();
            for d in &a[1..] {
                if let Some(v) = map_arg(d, "pluck")?.get(key) {
                    out.push(v);
                }
            }
            Ok(list(out))
        },
    );
    m.insert("keys", Signature::variadic(&[], A::Map), |_, a| {
        let mut out = Vec::new();
        for d in a {
            out.extend(map_arg(d, "keys")?.keys().into_iter().map(Value::from));
        }
        Ok(list(out))
    });
    m.insert("values", fixed(&[A::Map]), |_, a| {
        let d = map_arg(&a[0], "values")?;
        Ok(list(d.entries().into_iter().map(|(_, v)| v).collect()))
    });
    m.insert("pick", Signature::variadic(&[A::Map], A::String), |_, a| {
        let d = map_arg(&a[0], "pick")?;
        let out = kiln_gotemplate::Map::new();
        for k in &a[1..] {
            let k = k.as_str().unwrap_or_default();
            if let Some(v) = d.get(k) {
                out.insert(k, v);
            }
        }
        Ok(Value::Map(out))
    });
    m.insert("omit", Signature::variadic(&[A::Map], A::String), |_, a| {
        let d = map_arg(&a[0], "omit")?;
        let omit: Vec<&str> = a[1..]
            .iter()
            .map(|k| k.as_str().unwrap_or_default())
            .collect();
        let out: kiln_gotemplate::Map = d
            .entries()
            .into_iter()
            .filter(|(k, _)| !omit.contains(&k.as_str()))
            .collect();
        Ok(Value::Map(out))
    });
    for (name, overwrite) in [
        ("merge", false),
        ("mustMerge", false),
        ("mergeOverwrite", true),
        ("mustMergeOverwrite", true),
    ] {
        m.insert(name, Signature::variadic(&[A::Map], A::Map), move |_, a| {
            let dst = map_arg(&a[0], "merge")?;
            for src in &a[1..] {
                mergo(&dst, &map_arg(src, "merge")?, overwrite);
            }
            Ok(Value::Map(dst))
        });
    }
    m.insert("dig", Signature::variadic(&[], A::Any), |_, a| {
        if a.len() < 3 {
            return Err(FuncError::new("dig needs at least three arguments"));
        }
        let dict = &a[a.len() - 1];
        let default = &a[a.len() - 2];
        let mut cur = match dict {
            Value::Map(m) => m.clone(),
            other => {
                return Err(FuncError::new(format!(
                    "wrong type for value; expected map[string]interface {{}}; got {}",
                    other.type_name()
                )));
            }
        };
        let keys = &a[..a.len() - 2];
        for (n, k) in keys.iter().enumerate() {
            let k = k
                .as_str()
                .ok_or_else(|| FuncError::new("dig keys must be strings"))?;
            match cur.get(k) {
                None => return Ok(default.clone()),
                Some(v) if n + 1 == keys.len() => return Ok(v),
                Some(Value::Map(m)) => cur = m,
                Some(_) => return Ok(default.clone()),
            }
        }
        Ok(default.clone())
    });
    for name in ["deepCopy", "mustDeepCopy"] {
        m.insert(name, fixed(&[A::Any]), |_, a| Ok(a[0].deep_copy()));
    }
    let _ = items;
}

fn until_step(start: i64, stop: i64, step: i64) -> Vec<i64> {
    let mut v = Vec::new();
    if stop < start {
        if step >= 0 {
            return v;
        }
        let mut i = start;
        while i > stop {
            v.push(i);
            i += step;
        }
        return v;
    }
    if step <= 0 {
        return v;
    }
    let mut i = start;
    while i < stop {
        v.push(i);
        i += step;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_fills_empty_destination_values() {
        let dst: Map = [
            ("a".to_string(), Value::Bool(false)),
            ("b".to_string(), Value::from("x")),
        ]
        .into_iter()
        .collect();
        let src: Map = [
            ("a".to_string(), Value::Bool(true)),
            ("b".to_string(), Value::from("y")),
        ]
        .into_iter()
        .collect();
        mergo(&dst, &src, false);
        assert_eq!(dst.get("a"), Some(Value::Bool(true)));
        assert_eq!(dst.get("b"), Some(Value::from("x")));
        mergo(&dst, &src, true);
        assert_eq!(dst.get("b"), Some(Value::from("y")));
    }

    #[test]
    fn until_step_counts_like_sprig() {
        assert_eq!(until_step(0, 5, 2), vec![0, 2, 4]);
        assert_eq!(until_step(3, 0, -1), vec![3, 2, 1]);
        assert!(until_step(0, 3, 0).is_empty());
    }
}
