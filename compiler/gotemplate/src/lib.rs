//! A Go `text/template` engine, faithful to Go's documented behaviour, for rendering Helm charts.
//!
//! Written by hand: no maintained Rust crate reproduces Go's semantics (sorted map ranges,
//! break/continue, Go's fmt formatting and comparison rules) closely enough for object-for-object
//! equality with `helm template`. The lexer, parser and executor follow Go's
//! `text/template/parse` and `text/template/exec.go` step by step, so output, error texts, lines
//! and columns match Go's (`tests/go_oracle.rs` checks them against Go through `helm template`).
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
//!
//! Things callers must know:
//! - Go prints a missing or nil value as `<no value>`; Helm then deletes that text from rendered
//!   files and `tpl` results. This engine prints Go's text and leaves the replacement to Helm.
//! - Helm decodes values files into `float64` numbers: convert them with
//!   [`Value::from_json_with`]`(v, JsonNumbers::Float64)` so that `%d`, `eq` and `%v` (`1e+06`)
//!   behave as in Helm; `--set` integers stay integers.
//! - Functions must be registered before parsing (an unknown name is a parse error, as in Go) and
//!   shadow builtins of the same name (Sprig's `slice` replaces Go's in Helm).
//! - [`CallContext::include`] and [`CallContext::execute_text`] give `include` and `tpl` their Go
//!   semantics; per-render state (recursion counters, seeded randomness) travels through
//!   [`Templates::execute_with_state`].
//!
//! Known differences from Go: every signed integer is one `int` kind (Go distinguishes `int` and
//! `int64`, which only shows in `%T` and in argument type errors); unsigned integers and complex
//! numbers are not supported (complex literals are a parse error); `%x`/`%b` on floats print the
//! bad-verb form; strings are UTF-8, so slicing inside a character replaces it with U+FFFD; an
//! `Object` method reports its own arity errors.

mod ast;
mod builtins;
#[cfg(test)]
mod corpus;
mod error;
mod exec;
mod func;
pub mod gofmt;
mod lex;
mod parse;
mod strconv;
mod template;
mod textcache;
mod value;

pub use error::{Error, ExecError, Location, ParseError};
pub use func::{
    ArgType, CallContext, FuncBody, FuncError, FuncMap, FuncResult, Function, Signature,
};
pub use template::{MissingKey, Parsed, Templates};
pub use value::{
    JsonNumbers, Map, Object, SharedWrite, Value, mark_all_shared, refusing_shared_writes,
};
