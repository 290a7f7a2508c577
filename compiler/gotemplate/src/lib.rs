//! A Go `text/template` engine, faithful to Go's documented behaviour, for rendering Helm charts.
//!
//! Written by hand: no maintained Rust crate reproduces Go's semantics (sorted map ranges,
//! break/continue, Go's fmt formatting and comparison rules) closely enough for object-for-object
//! equality with `helm template`.
//!
//! ```ignore
//! let mut funcs = FuncMap::new();
//! funcs.insert("upper", Signature::fixed(&[ArgType::String]), |_, a| {
//!     Ok(Value::from(a[0].as_str().unwrap_or_default().to_uppercase()))
//! });
//! let mut t = Templates::new(funcs);
//! t.set_missing_key(MissingKey::Zero);
//! t.parse("x.yaml", "{{ .name | upper }}")?;
//! let out = t.execute("x.yaml", &Value::from(serde_json::json!({"name": "a"})))?;
//! ```

mod ast;
mod builtins;
mod error;
mod exec;
mod func;
pub mod gofmt;
mod lex;
mod parse;
mod strconv;
mod template;
mod value;

pub use error::{Error, ExecError, Location, ParseError};
pub use func::{
    ArgType, CallContext, FuncBody, FuncError, FuncMap, FuncResult, Function, Signature,
};
pub use template::{MissingKey, Templates};
pub use value::{JsonNumbers, Map, Object, Value};
