//! Sprig's defaults and logic helpers (`default`, `empty`, `coalesce`, `ternary`, `all`, `any`) and
//! reflection helpers (`typeOf`, `kindOf`, `typeIs`, `kindIs`, `deepEqual`) reporting Go type names.

use kiln_gotemplate::{ArgType as A, FuncMap, Signature, Value};

use super::conv::empty;

pub fn register(m: &mut FuncMap) {
    m.insert("default", Signature::variadic(&[A::Any], A::Any), |_, a| {
        let given = &a[1..];
        if given.is_empty() || empty(&given[0]) {
            return Ok(a[0].clone());
        }
        Ok(given[0].clone())
    });
    m.insert("empty", Signature::fixed(&[A::Any]), |_, a| {
        Ok(Value::Bool(empty(&a[0])))
    });
    m.insert("coalesce", Signature::variadic(&[], A::Any), |_, a| {
        Ok(a.iter().find(|v| !empty(v)).cloned().unwrap_or_default())
    });
    m.insert("all", Signature::variadic(&[], A::Any), |_, a| {
        Ok(Value::Bool(a.iter().all(|v| !empty(v))))
    });
    m.insert("any", Signature::variadic(&[], A::Any), |_, a| {
        Ok(Value::Bool(a.iter().any(|v| !empty(v))))
    });
    m.insert(
        "ternary",
        Signature::fixed(&[A::Any, A::Any, A::Bool]),
        |_, a| {
            Ok(if a[2].as_bool().unwrap_or(false) {
                a[0].clone()
            } else {
                a[1].clone()
            })
        },
    );
    m.insert("typeOf", Signature::fixed(&[A::Any]), |_, a| {
        Ok(a[0].type_name().into())
    });
    m.insert("typeIs", Signature::fixed(&[A::String, A::Any]), |_, a| {
        Ok(Value::Bool(
            a[0].as_str() == Some(a[1].type_name().as_str()),
        ))
    });
    m.insert(
        "typeIsLike",
        Signature::fixed(&[A::String, A::Any]),
        |_, a| {
            let t = a[1].type_name();
            let want = a[0].as_str().unwrap_or_default();
            Ok(Value::Bool(want == t || want == format!("*{t}")))
        },
    );
    m.insert("kindOf", Signature::fixed(&[A::Any]), |_, a| {
        Ok(kind_name(&a[0]).into())
    });
    m.insert("kindIs", Signature::fixed(&[A::String, A::Any]), |_, a| {
        Ok(Value::Bool(a[0].as_str() == Some(kind_name(&a[1]))))
    });
    m.insert("deepEqual", Signature::fixed(&[A::Any, A::Any]), |_, a| {
        Ok(Value::Bool(super::conv::deep_equal(&a[0], &a[1])))
    });
}

/// `reflect.Kind` name, with `int64` its own kind.
fn kind_name(v: &Value) -> &'static str {
    if super::conv::as_int64(v).is_some() {
        "int64"
    } else {
        v.kind_name()
    }
}
