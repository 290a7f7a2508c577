//! Go's predefined template functions (`and`, `or`, `not`, `len`, `index`, `slice`, `print`,
//! `printf`, `println`, `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `html`, `js`, `urlquery`, `call`)
//! with Go's comparison rules and error texts.

use std::sync::Arc;

use crate::func::{ArgType, FuncError};
use crate::gofmt;
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    And,
    Or,
    Not,
    Len,
    Index,
    Slice,
    Print,
    Printf,
    Println,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Html,
    Js,
    Urlquery,
    Call,
}

impl Builtin {
    pub(crate) fn from_name(name: &str) -> Option<Builtin> {
        Some(match name {
            "and" => Builtin::And,
            "or" => Builtin::Or,
            "not" => Builtin::Not,
            "len" => Builtin::Len,
            "index" => Builtin::Index,
            "slice" => Builtin::Slice,
            "print" => Builtin::Print,
            "printf" => Builtin::Printf,
            "println" => Builtin::Println,
            "eq" => Builtin::Eq,
            "ne" => Builtin::Ne,
            "lt" => Builtin::Lt,
            "le" => Builtin::Le,
            "gt" => Builtin::Gt,
            "ge" => Builtin::Ge,
            "html" => Builtin::Html,
            "js" => Builtin::Js,
            "urlquery" => Builtin::Urlquery,
            "call" => Builtin::Call,
            _ => return None,
        })
    }

    /// Go's parameter list for the builtin (reflect.Value parameters behave as `interface{}`):
    /// fixed parameters and the variadic element type.
    pub(crate) fn params(self) -> (&'static [ArgType], Option<ArgType>) {
        use ArgType::Any;
        match self {
            Builtin::And
            | Builtin::Or
            | Builtin::Eq
            | Builtin::Index
            | Builtin::Slice
            | Builtin::Call => (&[Any], Some(Any)),
            Builtin::Not | Builtin::Len => (&[Any], None),
            Builtin::Ne | Builtin::Lt | Builtin::Le | Builtin::Gt | Builtin::Ge => {
                (&[Any, Any], None)
            }
            Builtin::Printf => (&[ArgType::String], Some(Any)),
            Builtin::Print | Builtin::Println | Builtin::Html | Builtin::Js | Builtin::Urlquery => {
                (&[], Some(Any))
            }
        }
    }

    /// Runs every builtin but `and`/`or` (short-circuiting, in the executor) and `call`.
    pub(crate) fn apply(self, args: &[Value]) -> Result<Value, FuncError> {
        match self {
            Builtin::Not => Ok(Value::Bool(!args[0].is_true())),
            Builtin::Len => length(&args[0]).map(Value::from),
            Builtin::Index => index(&args[0], &args[1..]),
            Builtin::Slice => slice(&args[0], &args[1..]),
            Builtin::Print => Ok(Value::from(gofmt::sprint(args))),
            Builtin::Printf => Ok(Value::from(gofmt::sprintf(
                args[0].as_str().unwrap_or(""),
                &args[1..],
            ))),
            Builtin::Println => Ok(Value::from(gofmt::sprintln(args))),
            Builtin::Eq => eq(&args[0], &args[1..]).map(Value::Bool),
            Builtin::Ne => eq(&args[0], &args[1..2]).map(|b| Value::Bool(!b)),
            Builtin::Lt => lt(&args[0], &args[1]).map(Value::Bool),
            Builtin::Le => le(&args[0], &args[1]).map(Value::Bool),
            Builtin::Gt => le(&args[0], &args[1]).map(|b| Value::Bool(!b)),
            Builtin::Ge => lt(&args[0], &args[1]).map(|b| Value::Bool(!b)),
            Builtin::Html => Ok(Value::from(html_escape(&eval_args(args)))),
            Builtin::Js => Ok(Value::from(js_escape(&eval_args(args)))),
            Builtin::Urlquery => Ok(Value::from(query_escape(&eval_args(args)))),
            Builtin::And | Builtin::Or | Builtin::Call => {
                Err(FuncError::new("internal error: special builtin"))
            }
        }
    }
}

fn length(v: &Value) -> Result<usize, FuncError> {
    match v {
        Value::Nil => Err(FuncError::new(
            "reflect: call of reflect.Value.Type on zero Value",
        )),
        other => other
            .len()
            .ok_or_else(|| FuncError::new(format!("len of type {}", other.type_name()))),
    }
}

/// Underlying list/map/string of a value for indexing, or the value itself.
fn basic(v: &Value) -> Value {
    match v {
        Value::Object(o) => o.underlying().unwrap_or_else(|| v.clone()),
        other => other.clone(),
    }
}

fn index_arg(index: &Value, cap: usize) -> Result<usize, FuncError> {
    let x = match &*scalar(index) {
        Value::Int(i) => *i,
        Value::Nil => return Err(FuncError::new("cannot index slice/array with nil")),
        other => {
            return Err(FuncError::new(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            )));
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(FuncError::new(format!("index out of range: {x}")));
    }
    Ok(x as usize)
}

fn index(item: &Value, indexes: &[Value]) -> Result<Value, FuncError> {
    let mut item = basic(item);
    if item.is_nil() {
        return Err(FuncError::new("index of untyped nil"));
    }
    for ix in indexes {
        item = basic(&item);
        item = match &item {
            Value::Nil => return Err(FuncError::new("index of nil pointer")),
            Value::List(l) => {
                let x = index_arg(ix, l.len())?;
                l.get(x)
                    .cloned()
                    .ok_or_else(|| FuncError::new("reflect: slice index out of range"))?
            }
            Value::Bytes(b) => {
                let x = index_arg(ix, b.len())?;
                Value::Int(i64::from(*b.get(x).ok_or_else(|| {
                    FuncError::new("reflect: slice index out of range")
                })?))
            }
            Value::String(s) => {
                let x = index_arg(ix, s.len())?;
                Value::Int(i64::from(*s.as_bytes().get(x).ok_or_else(|| {
                    FuncError::new("reflect: string index out of range")
                })?))
            }
            Value::Map(m) => match ix {
                Value::String(k) => m.get(k).unwrap_or(Value::Nil),
                Value::Nil => return Err(FuncError::new("value is nil; should be of type string")),
                other => {
                    return Err(FuncError::new(format!(
                        "value has type {}; should be string",
                        other.type_name()
                    )));
                }
            },
            other => {
                return Err(FuncError::new(format!(
                    "can't index item of type {}",
                    other.type_name()
                )));
            }
        };
    }
    Ok(item)
}

fn slice(item: &Value, indexes: &[Value]) -> Result<Value, FuncError> {
    let item = basic(item);
    if item.is_nil() {
        return Err(FuncError::new("slice of untyped nil"));
    }
    if indexes.len() > 3 {
        return Err(FuncError::new(format!(
            "too many slice indexes: {}",
            indexes.len()
        )));
    }
    let len = match &item {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err(FuncError::new("cannot 3-index slice a string"));
            }
            s.len()
        }
        Value::List(l) => l.len(),
        Value::Bytes(b) => b.len(),
        other => {
            return Err(FuncError::new(format!(
                "can't slice item of type {}",
                other.type_name()
            )));
        }
    };
    let mut idx = [0, len, len];
    for (i, ix) in indexes.iter().enumerate() {
        idx[i] = index_arg(ix, len)?;
    }
    if idx[0] > idx[1] {
        return Err(FuncError::new(format!(
            "invalid slice index: {} > {}",
            idx[0], idx[1]
        )));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(FuncError::new(format!(
            "invalid slice index: {} > {}",
            idx[1], idx[2]
        )));
    }
    Ok(match &item {
        Value::String(s) => {
            Value::from(String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]]).into_owned())
        }
        Value::List(l) => Value::List(Arc::new(l[idx[0]..idx[1]].to_vec())),
        Value::Bytes(b) => Value::Bytes(Arc::from(&b[idx[0]..idx[1]])),
        _ => Value::Nil,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::String(_) => Kind::String,
        _ => Kind::Invalid,
    }
}

const BAD_TYPE: &str = "invalid type for comparison";

fn incompatible(a: &Value, b: &Value) -> FuncError {
    FuncError::new(format!(
        "incompatible types for comparison: {} and {}",
        a.type_name(),
        b.type_name()
    ))
}

/// A named type over a basic kind (`int64`, a named string) compares as that kind, as Go's
/// `basicKind` sees through the type name.
fn scalar(v: &Value) -> std::borrow::Cow<'_, Value> {
    if let Value::Object(o) = v
        && let Some(u) = o.underlying()
        && basic_kind(&u) != Kind::Invalid
    {
        return std::borrow::Cow::Owned(u);
    }
    std::borrow::Cow::Borrowed(v)
}

/// Go's `eq`: true if `a` equals any of `others`.
pub(crate) fn eq(a: &Value, others: &[Value]) -> Result<bool, FuncError> {
    if others.is_empty() {
        return Err(FuncError::new("missing argument for comparison"));
    }
    let a = &*scalar(a);
    let k1 = basic_kind(a);
    for b in others {
        let b = &*scalar(b);
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            if !a.is_nil() && !b.is_nil() {
                return Err(incompatible(a, b));
            }
            false
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x), Value::Int(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::String(x), Value::String(y)) => x == y,
                _ => {
                    if a.is_nil() || b.is_nil() {
                        a.is_nil() == b.is_nil()
                    } else {
                        if std::mem::discriminant(a) != std::mem::discriminant(b) {
                            return Err(FuncError::new(format!(
                                "non-comparable types {}: {}, {}: {}",
                                gofmt::sprintf("%s", std::slice::from_ref(a)),
                                a.type_name(),
                                b.type_name(),
                                gofmt::sprint_value(b)
                            )));
                        }
                        match (a, b) {
                            (Value::Object(x), Value::Object(y)) => Arc::ptr_eq(x, y),
                            _ => {
                                return Err(FuncError::new(format!(
                                    "non-comparable type {}: {}",
                                    gofmt::sprintf("%s", std::slice::from_ref(b)),
                                    b.type_name()
                                )));
                            }
                        }
                    }
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `lt`.
pub(crate) fn lt(a: &Value, b: &Value) -> Result<bool, FuncError> {
    let (a, b) = (&*scalar(a), &*scalar(b));
    let k1 = basic_kind(a);
    if k1 == Kind::Invalid {
        return Err(FuncError::new(BAD_TYPE));
    }
    let k2 = basic_kind(b);
    if k2 == Kind::Invalid {
        return Err(FuncError::new(BAD_TYPE));
    }
    if k1 != k2 {
        return Err(incompatible(a, b));
    }
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => x < y,
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::String(x), Value::String(y)) => x < y,
        _ => return Err(FuncError::new(BAD_TYPE)),
    })
}

fn le(a: &Value, b: &Value) -> Result<bool, FuncError> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}

/// Go's `evalArgs`: the text of the arguments, missing values as `<no value>`.
fn eval_args(args: &[Value]) -> String {
    if let [Value::String(s)] = args {
        return s.to_string();
    }
    let printable: Vec<Value> = args
        .iter()
        .map(|a| match a {
            Value::Nil => Value::from("<no value>"),
            other => other.clone(),
        })
        .collect();
    gofmt::sprint(&printable)
}

/// Go's `template.HTMLEscapeString`.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
pub(crate) fn js_escape(s: &str) -> String {
    const HEX: &[u8] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => {
                let b = c as u8;
                out.push_str("\\u00");
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 0xF)] as char);
            }
            c if (c as u32) < 0x80 => out.push(c),
            c if gofmt::is_print(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
