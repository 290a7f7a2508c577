//! Helm's own template functions: `include`, `tpl`, `required`, `fail`, `lookup` (which finds
//! nothing, as in `helm template`) and `getHostByName` (an empty string: Helm only resolves names
//! with `--enable-dns`, and a build must not depend on DNS).

use kiln_gotemplate::{ArgType as A, Error, FuncError, FuncMap, Signature, Value};

use crate::render::RenderState;

/// Helm's limit on how often one template may include itself.
const RECURSION_MAX: usize = 1000;

pub fn register(m: &mut FuncMap) {
    m.insert("include", Signature::fixed(&[A::String, A::Any]), |ctx, a| {
        let name = a[0].as_str().unwrap_or_default();
        if let Some(st) = ctx.state::<RenderState>() {
            let n = match st.includes.get_mut(name) {
                Some(n) => n,
                None => st.includes.entry(name.to_string()).or_insert(0),
            };
            if *n > RECURSION_MAX {
                return Err(FuncError::new(format!(
                    "rendering template has a nested reference name: {name}: unable to execute template"
                )));
            }
            *n += 1;
        }
        let r = ctx.include(name, a[1].clone());
        if let Some(st) = ctx.state::<RenderState>()
            && let Some(n) = st.includes.get_mut(name)
        {
            *n = n.saturating_sub(1);
        }
        r.map(Value::from).map_err(FuncError::from)
    });
    m.insert("tpl", Signature::fixed(&[A::String, A::Any]), |ctx, a| {
        let text = a[0].as_str().unwrap_or_default();
        match ctx.execute_text("gotpl", text, a[1].clone()) {
            Ok(out) if out.contains("<no value>") => Ok(Value::from(out.replace("<no value>", ""))),
            Ok(out) => Ok(Value::from(out)),
            Err(e @ Error::Parse(_)) => Err(FuncError::wrap(
                format!("cannot parse template {text:?}"),
                e,
            )),
            Err(e) => Err(FuncError::wrap(
                format!("error during tpl function execution for {text:?}"),
                e,
            )),
        }
    });
    m.insert(
        "required",
        Signature::fixed(&[A::String, A::Any]),
        |_, a| {
            let missing = match &a[1] {
                Value::Nil => true,
                Value::String(s) => s.is_empty(),
                _ => false,
            };
            if missing {
                return Err(FuncError::new(a[0].as_str().unwrap_or_default()));
            }
            Ok(a[1].clone())
        },
    );
    m.insert("fail", Signature::fixed(&[A::String]), |_, a| {
        Err(FuncError::new(a[0].as_str().unwrap_or_default()))
    });
    m.insert("getHostByName", Signature::fixed(&[A::String]), |_, _| {
        Ok(Value::from(""))
    });
    m.insert(
        "lookup",
        Signature::fixed(&[A::String, A::String, A::String, A::String]),
        |_, _| Ok(Value::Map(kiln_gotemplate::Map::new())),
    );
}
