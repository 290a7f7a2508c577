//! Template strings: minijinja expressions inside KDL string values (`"{{ vars.replicas }}"`),
//! evaluated once per target with strict undefined-variable errors.
//!
//! A string that is exactly one `{{ expression }}` keeps the expression's type (a number stays a
//! number), so `replicas "{{ vars.replicas }}"` gives Helm an integer; any other string renders
//! to a string.

use indexmap::IndexMap;
use miette::SourceSpan;
use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;

use crate::diag::{Error, Result, SourceFile, did_you_mean};
use crate::model::{Spanned, Val, ValKind};

/// A minijinja environment configured for kiln: strict undefined, no auto-escaping.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_keep_trailing_newline(true);
    env
}

/// Evaluates template strings of one file against one context.
pub struct Templater<'a> {
    env: Environment<'static>,
    file: &'a SourceFile,
    context: Value,
}

impl<'a> Templater<'a> {
    /// `context` is the object templates see (`target`, `vars`, `project`).
    pub fn new(file: &'a SourceFile, context: Value) -> Self {
        Templater {
            env: environment(),
            file,
            context,
        }
    }

    /// Evaluates a string to a string.
    pub fn string(&self, s: &Spanned<String>) -> Result<String> {
        match self.eval(&s.value, s.span)? {
            Value::String(out) => Ok(out),
            Value::Null => Ok(String::new()),
            other => Ok(other.to_string()),
        }
    }

    /// Evaluates a KDL value into JSON, evaluating every string in it.
    pub fn value(&self, v: &Val) -> Result<Value> {
        Ok(match &v.kind {
            ValKind::Null => Value::Null,
            ValKind::Bool(b) => Value::Bool(*b),
            ValKind::Int(i) => Value::from(*i),
            ValKind::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            ValKind::Str(s) => self.eval(s, v.span)?,
            ValKind::List(items) => {
                Value::Array(items.iter().map(|i| self.value(i)).collect::<Result<_>>()?)
            }
            ValKind::Map(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.value(v)?)))
                    .collect::<Result<serde_json::Map<_, _>>>()?,
            ),
        })
    }

    fn eval(&self, text: &str, span: SourceSpan) -> Result<Value> {
        if !text.contains("{{") && !text.contains("{%") {
            return Ok(Value::String(text.to_string()));
        }
        let ctx = minijinja::Value::from_serialize(&self.context);
        if let Some(expr) = whole_expression(text) {
            let offset = text.find(expr).unwrap_or(0);
            let value = self
                .env
                .compile_expression(expr)
                .and_then(|e| e.eval(&ctx))
                .map_err(|e| self.error(e, text, span, offset))?;
            if value.is_undefined() {
                let label_span =
                    sub_span(self.file, span, text, offset..offset + expr.len()).unwrap_or(span);
                return Err(self.undefined(expr, label_span));
            }
            return serde_json::to_value(&value).map_err(|e| {
                Error::input(
                    "kiln::template::value",
                    format!("`{expr}` gives a value that is not data: {e}"),
                )
                .at(self.file, span, "here")
                .help("templates may produce strings, numbers, booleans, lists and maps")
            });
        }
        self.env
            .render_str(text, &ctx)
            .map(Value::String)
            .map_err(|e| self.error(e, text, span, 0))
    }

    fn error(&self, err: minijinja::Error, text: &str, span: SourceSpan, offset: usize) -> Error {
        let inner = err.range().map(|r| (r.start + offset)..(r.end + offset));
        let label_span = inner
            .clone()
            .and_then(|r| sub_span(self.file, span, text, r))
            .unwrap_or(span);
        let snippet = inner.and_then(|r| text.get(r)).unwrap_or(text).trim();
        if err.kind() == minijinja::ErrorKind::UndefinedError {
            self.undefined(snippet, label_span)
        } else {
            let detail = err
                .detail()
                .map(str::to_string)
                .unwrap_or_else(|| err.kind().to_string());
            Error::input("kiln::template::error", format!("template error: {detail}"))
                .at(self.file, label_span, err.kind().to_string())
                .help("templates use minijinja (Jinja2) syntax: `{{ vars.name }}`")
        }
    }
}

impl Templater<'_> {
    fn undefined(&self, snippet: &str, label_span: SourceSpan) -> Error {
        let names = available(&self.context);
        let hint = match did_you_mean(snippet, names.iter().map(String::as_str)) {
            Some(c) => format!("did you mean `{c}`?"),
            None if names.is_empty() => "no variables are defined".into(),
            None => format!(
                "defined here: {}",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Error::input(
            "kiln::template::undefined",
            format!("undefined template variable `{snippet}`"),
        )
        .at(self.file, label_span, "undefined")
        .help(hint)
    }
}

/// `{{ expr }}` with nothing around it: the inner expression.
fn whole_expression(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    if inner.contains("{{") || inner.contains("}}") || text.contains("{%") {
        return None;
    }
    Some(inner.trim())
}

/// The span of bytes `range` of a string value when the KDL text holds it verbatim (a plain
/// quoted string without escapes), so labels can point inside the string.
fn sub_span(
    file: &SourceFile,
    span: SourceSpan,
    text: &str,
    range: std::ops::Range<usize>,
) -> Option<SourceSpan> {
    let source = file.text.get(span.offset()..span.offset() + span.len())?;
    let quoted = format!("{text}\"");
    if !source.ends_with(&quoted) {
        return None;
    }
    let start = span.offset() + span.len() - quoted.len() + range.start;
    Some(SourceSpan::new(start.into(), range.len()))
}

/// Dotted names of every leaf and map in the context, for suggestions.
fn available(context: &Value) -> Vec<String> {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<String>) {
        if let Value::Object(map) = v {
            for (k, v) in map {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.push(name.clone());
                walk(&name, v, out);
            }
        }
    }
    let mut out = Vec::new();
    walk("", context, &mut out);
    out
}

/// The context templates see for a target.
pub fn target_context(project: &str, target: &str, context: Option<&str>, vars: Value) -> Value {
    let mut t = IndexMap::new();
    t.insert("name", Value::String(target.to_string()));
    t.insert(
        "context",
        context
            .map(|c| Value::String(c.to_string()))
            .unwrap_or(Value::Null),
    );
    serde_json::json!({
        "project": { "name": project },
        "target": t,
        "vars": vars,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new("kiln.kdl", "kiln.kdl", text)
    }

    fn ctx() -> Value {
        target_context(
            "shop",
            "staging",
            Some("kind"),
            serde_json::json!({"replicas": 2, "domain": "x.dev"}),
        )
    }

    #[test]
    fn whole_expressions_keep_their_type() {
        let f = file("a \"{{ vars.replicas }}\"");
        let t = Templater::new(&f, ctx());
        let v = Val {
            kind: ValKind::Str("{{ vars.replicas }}".into()),
            span: SourceSpan::new(2.into(), 21),
        };
        assert_eq!(t.value(&v).unwrap(), serde_json::json!(2));
        let s = Spanned::new(
            "web.{{ target.name }}.{{ vars.domain }}".to_string(),
            SourceSpan::new(0.into(), 0),
        );
        assert_eq!(t.string(&s).unwrap(), "web.staging.x.dev");
    }

    #[test]
    fn undefined_variables_are_errors_pointing_inside_the_string() {
        let text = "a \"{{ vars.replicsa }}\"";
        let f = file(text);
        let t = Templater::new(&f, ctx());
        let s = Spanned::new(
            "{{ vars.replicsa }}".to_string(),
            SourceSpan::new(2.into(), 21),
        );
        let e = t.string(&s).unwrap_err();
        assert_eq!(e.code, "kiln::template::undefined");
        let out = e.render_plain();
        assert!(out.contains("did you mean `vars.replicas`?"), "{out}");
    }

    #[test]
    fn plain_strings_pass_through() {
        let f = file("");
        let t = Templater::new(&f, ctx());
        let s = Spanned::new(
            "plain {not} a template".to_string(),
            SourceSpan::new(0.into(), 0),
        );
        assert_eq!(t.string(&s).unwrap(), "plain {not} a template");
    }
}
