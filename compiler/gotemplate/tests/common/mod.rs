//! Helpers shared by the integration tests.
#![allow(dead_code)]

use kiln_gotemplate::{ArgType, FuncMap, MissingKey, Signature, Templates, Value};

/// A few functions in the style Helm registers, to exercise user functions and `CallContext`.
pub fn funcs() -> FuncMap {
    let mut f = FuncMap::new();
    f.insert("upper", Signature::fixed(&[ArgType::String]), |_, a| {
        Ok(Value::from(
            a[0].as_str().unwrap_or_default().to_uppercase(),
        ))
    });
    f.insert(
        "include",
        Signature::fixed(&[ArgType::String, ArgType::Any]),
        |ctx, a| {
            let name = a[0].as_str().unwrap_or_default().to_string();
            Ok(Value::from(ctx.include(&name, a[1].clone())?))
        },
    );
    f.insert(
        "tpl",
        Signature::fixed(&[ArgType::String, ArgType::Any]),
        |ctx, a| {
            let name = ctx.template_name().to_string();
            let text = a[0].as_str().unwrap_or_default().to_string();
            Ok(Value::from(ctx.execute_text(&name, &text, a[1].clone())?))
        },
    );
    f.insert("fail", Signature::fixed(&[ArgType::String]), |_, a| {
        Err(a[0].as_str().unwrap_or_default().into())
    });
    f.insert("list", Signature::variadic(&[], ArgType::Any), |_, a| {
        Ok(Value::list(a.to_vec()))
    });
    f.insert("dict", Signature::variadic(&[], ArgType::Any), |_, a| {
        let m = kiln_gotemplate::Map::new();
        for pair in a.chunks(2) {
            let k = pair[0]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| pair[0].to_string());
            m.insert(k, pair.get(1).cloned().unwrap_or_default());
        }
        Ok(Value::Map(m))
    });
    f.insert(
        "set",
        Signature::fixed(&[ArgType::Map, ArgType::String, ArgType::Any]),
        |_, a| {
            if let Value::Map(m) = &a[0] {
                m.insert(a[1].as_str().unwrap_or_default(), a[2].clone());
            }
            Ok(a[0].clone())
        },
    );
    f.insert("add", Signature::variadic(&[], ArgType::Any), |_, a| {
        Ok(Value::Int(a.iter().filter_map(Value::as_i64).sum()))
    });
    f.insert(
        "trunc",
        Signature::fixed(&[ArgType::Int, ArgType::String]),
        |_, a| {
            let n = a[0].as_i64().unwrap_or(0).max(0) as usize;
            Ok(Value::from(
                a[1].as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(n)
                    .collect::<String>(),
            ))
        },
    );
    f.insert("half", Signature::fixed(&[ArgType::Float64]), |_, a| {
        Ok(Value::Float(a[0].as_f64().unwrap_or(0.0) / 2.0))
    });
    f
}

pub fn data(json: &str) -> Value {
    Value::from(serde_json::from_str::<serde_json::Value>(json).expect("test data is JSON"))
}

/// Parses `text` as template "t" and runs it with `json` data in the given mode.
pub fn run_mode(text: &str, json: &str, mode: MissingKey) -> Result<String, String> {
    let mut t = Templates::new(funcs());
    t.set_missing_key(mode);
    t.parse("t", text).map_err(|e| e.to_string())?;
    t.execute("t", &data(json)).map_err(|e| e.to_string())
}

pub fn run(text: &str, json: &str) -> Result<String, String> {
    run_mode(text, json, MissingKey::Default)
}

/// Output, panicking with the error.
pub fn ok(text: &str, json: &str) -> String {
    match run(text, json) {
        Ok(s) => s,
        Err(e) => panic!("template {text:?} failed: {e}"),
    }
}

/// The error, panicking on success.
pub fn err(text: &str, json: &str) -> String {
    match run(text, json) {
        Ok(s) => panic!("template {text:?} succeeded with {s:?}"),
        Err(e) => e,
    }
}
