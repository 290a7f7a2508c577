//! Template functions: the [`FuncMap`] a template set is parsed with, Go-like signatures that the
//! executor checks and converts arguments against (so arity and type errors read like Go's), and
//! the [`CallContext`] through which a function reaches back into the running template set
//! (`include`, `tpl`).

use foldhash::HashMap;
use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::error::Error;
use crate::template::MissingKey;
use crate::value::Value;

/// What a function returns: a value, or an error that stops execution
/// (Go prints it as `error calling NAME: MESSAGE`).
pub type FuncResult = Result<Value, FuncError>;

/// The Go parameter type a function declares; arguments are converted and checked against it
/// the way Go's `text/template` does with reflection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgType {
    /// `interface{}`: anything, nil included.
    Any,
    /// `string`.
    String,
    /// `int`.
    Int,
    /// `int64`.
    Int64,
    /// `float64` (integer constants convert, as in Go).
    Float64,
    /// `bool`.
    Bool,
    /// `[]interface{}` (nil allowed).
    List,
    /// `map[string]interface{}` (nil allowed).
    Map,
    /// `[]byte` (nil allowed).
    Bytes,
}

impl ArgType {
    /// Go's spelling of the type, as error messages print it.
    pub fn go_name(self) -> &'static str {
        match self {
            ArgType::Any => "interface {}",
            ArgType::String => "string",
            ArgType::Int => "int",
            ArgType::Int64 => "int64",
            ArgType::Float64 => "float64",
            ArgType::Bool => "bool",
            ArgType::List => "[]interface {}",
            ArgType::Map => "map[string]interface {}",
            ArgType::Bytes => "[]uint8",
        }
    }
}

/// A function's parameters: fixed ones, then optionally a variadic tail (`...T`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub params: Vec<ArgType>,
    pub variadic: Option<ArgType>,
}

impl Signature {
    /// Exactly these parameters.
    pub fn fixed(params: &[ArgType]) -> Self {
        Signature {
            params: params.to_vec(),
            variadic: None,
        }
    }

    /// These parameters followed by any number of `rest`.
    pub fn variadic(params: &[ArgType], rest: ArgType) -> Self {
        Signature {
            params: params.to_vec(),
            variadic: Some(rest),
        }
    }

    /// The parameter type of argument `i` (0-based), or `None` past a non-variadic end.
    pub fn param(&self, i: usize) -> Option<ArgType> {
        self.params.get(i).copied().or(self.variadic)
    }
}

/// The body of a template function.
pub type FuncBody = dyn Fn(&mut CallContext<'_>, &[Value]) -> FuncResult + Send + Sync;

/// A named function with its signature.
#[derive(Clone)]
pub struct Function {
    /// Shared: every call site of a function holds a clone.
    pub(crate) signature: Arc<Signature>,
    pub(crate) body: Arc<FuncBody>,
    /// See [`FuncMap::mark_stateful`].
    pub(crate) stateful: bool,
}

impl Function {
    pub fn new<F>(signature: Signature, body: F) -> Self
    where
        F: Fn(&mut CallContext<'_>, &[Value]) -> FuncResult + Send + Sync + 'static,
    {
        Function {
            signature: Arc::new(signature),
            body: Arc::new(body),
            stateful: false,
        }
    }

    pub fn signature(&self) -> &Signature {
        &self.signature
    }
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Function")
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

/// Named functions available to templates (Go's `template.FuncMap`). They must be registered
/// before parsing: an unknown function is a parse error, as in Go. They shadow builtins of the
/// same name, as in Go.
#[derive(Debug, Clone, Default)]
pub struct FuncMap {
    funcs: HashMap<String, Function>,
}

impl FuncMap {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a function.
    pub fn insert<F>(&mut self, name: impl Into<String>, signature: Signature, body: F)
    where
        F: Fn(&mut CallContext<'_>, &[Value]) -> FuncResult + Send + Sync + 'static,
    {
        self.funcs
            .insert(name.into(), Function::new(signature, body));
    }

    /// Adds (or replaces) an already built function.
    pub fn insert_function(&mut self, name: impl Into<String>, f: Function) {
        self.funcs.insert(name.into(), f);
    }

    pub fn get(&self, name: &str) -> Option<&Function> {
        self.funcs.get(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.funcs.contains_key(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.funcs.keys().map(String::as_str)
    }

    /// Marks every function registered so far as stateful: its result depends on more than its
    /// arguments and the data, e.g. on a random generator kept in the render's state. The
    /// executor reuses the text of an `include` that ran with the same data and saw no data
    /// change only when no stateful function ran in it.
    pub fn mark_stateful(&mut self) {
        self.funcs.values_mut().for_each(|f| f.stateful = true);
    }

    /// Adds every function of `other`, replacing same-named ones.
    pub fn extend(&mut self, other: FuncMap) {
        self.funcs.extend(other.funcs);
    }
}

/// An error returned by a template function. Displayed after Go's `error calling NAME: `.
#[derive(Debug, Clone)]
pub struct FuncError {
    message: Option<String>,
    source: Option<Box<Error>>,
}

impl FuncError {
    /// An error with this message (Go's `errors.New(msg)`).
    pub fn new(message: impl Into<String>) -> Self {
        FuncError {
            message: Some(message.into()),
            source: None,
        }
    }

    /// An error from executing or parsing another template, kept whole so callers can walk the
    /// include chain; displays as `MESSAGE: SOURCE` (Go's `fmt.Errorf("%s: %w")`).
    pub fn wrap(message: impl Into<String>, source: Error) -> Self {
        FuncError {
            message: Some(message.into()),
            source: Some(Box::new(source)),
        }
    }

    /// The message part (without the nested template error), if any.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The nested template error, if the function failed while running another template.
    pub fn template_error(&self) -> Option<&Error> {
        self.source.as_deref()
    }
}

impl From<Error> for FuncError {
    fn from(e: Error) -> Self {
        FuncError {
            message: None,
            source: Some(Box::new(e)),
        }
    }
}

impl From<String> for FuncError {
    fn from(s: String) -> Self {
        FuncError::new(s)
    }
}

impl From<&str> for FuncError {
    fn from(s: &str) -> Self {
        FuncError::new(s)
    }
}

impl fmt::Display for FuncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.message, &self.source) {
            (Some(m), Some(s)) => write!(f, "{m}: {s}"),
            (Some(m), None) => f.write_str(m),
            (None, Some(s)) => write!(f, "{s}"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for FuncError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// What the executor lets a function do with the running template set.
pub(crate) trait ExecHost {
    fn include(&mut self, name: &str, data: Value) -> Result<Arc<str>, Error>;
    fn execute_text(&mut self, name: &str, text: &str, data: Value) -> Result<Arc<str>, Error>;
    fn template_name(&self) -> &str;
    fn has_template(&self, name: &str) -> bool;
    fn missing_key(&self) -> MissingKey;
    fn user_state(&mut self) -> Option<&mut (dyn Any + Send)>;
}

/// A function's handle on the execution that called it.
pub struct CallContext<'a> {
    pub(crate) host: &'a mut dyn ExecHost,
}

impl CallContext<'_> {
    /// Executes the named template with `data` (Helm's `include`), seeing templates defined by
    /// enclosing [`CallContext::execute_text`] calls. Errors come back whole (Go's message).
    /// The text is rendered into a reused buffer and comes back in one exact-size allocation,
    /// ready to become a [`Value`].
    pub fn include(&mut self, name: &str, data: Value) -> Result<Arc<str>, Error> {
        self.host.include(name, data)
    }

    /// Parses `text` as a template called `name` and executes it with `data` (Helm's `tpl`).
    /// `define`s in `text` are visible while it runs (to nested `include`/`template` too) and
    /// vanish afterwards; the template set itself is not changed.
    pub fn execute_text(&mut self, name: &str, text: &str, data: Value) -> Result<Arc<str>, Error> {
        self.host.execute_text(name, text, data)
    }

    /// Name of the template being executed (Go's `s.tmpl.Name()`).
    pub fn template_name(&self) -> &str {
        self.host.template_name()
    }

    /// Whether a template of that name can be executed from here.
    pub fn has_template(&self, name: &str) -> bool {
        self.host.has_template(name)
    }

    /// The set's `missingkey` option.
    pub fn missing_key(&self) -> MissingKey {
        self.host.missing_key()
    }

    /// Per-execution state the caller passed to [`crate::Templates::execute_with_state`]
    /// (e.g. Helm's include recursion counters), if it has type `T`.
    pub fn state<T: Any + Send>(&mut self) -> Option<&mut T> {
        let s = self.host.user_state()?;
        (s as &mut dyn Any).downcast_mut::<T>()
    }
}
