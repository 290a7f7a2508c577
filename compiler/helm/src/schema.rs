//! `values.schema.json` validation, as Helm does it after coalescing: the top chart's schema against
//! all values, each enabled subchart's schema against its own values, errors collected per chart.

//!
//! Most values are valid, and compiling a schema with the `jsonschema` crate costs far more than
//! one validation, so a fast path answers first: [`json`] reads the parts of the schema that
//! matter, [`meta`] checks them, [`eval`] walks schema and values together. Only when it cannot
//! say "valid" does the general path (`jsonschema`) run, which produces the errors.

mod eval;
mod json;
mod meta;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use crate::chart::Chart;
use crate::error::HelmError;

/// The fast path's verdict: `Some(true)` only where the general path finds the schema sound and
/// the values valid, `Some(false)` only where it finds them invalid, `None` when it cannot tell.
fn fast_check(schema: &[u8], values: &Value) -> Option<bool> {
    let root = json::read(schema)?;
    let verdict = meta::check(&root).and_then(|checked| {
        let verdict = eval::is_valid(&checked, values);
        crate::dispose::dispose(checked);
        verdict
    });
    // The read schema is a few thousand small allocations.
    crate::dispose::dispose(root);
    verdict
}

fn validate_one(chart: &Chart, values: &Value, out: &mut String) -> Result<(), HelmError> {
    if let Some(schema) = &chart.schema
        && fast_check(schema, values) != Some(true)
    {
        let schema: Value = serde_json::from_slice(schema).map_err(|e| {
            HelmError::load(
                &chart.origin.join("values.schema.json"),
                format!("invalid JSON schema: {e}"),
            )
        })?;
        let validator = jsonschema::validator_for(&schema).map_err(|e| {
            HelmError::load(
                &chart.origin.join("values.schema.json"),
                format!("invalid JSON schema: {e}"),
            )
        })?;
        let mut errors: Vec<(String, String)> = Vec::new();
        let mut missing: Vec<(String, Vec<String>)> = Vec::new();
        for e in validator.iter_errors(values) {
            let at = e.instance_path().to_string();
            // Missing properties at one place are one error, as santhosh-tekuri reports them.
            if let jsonschema::error::ValidationErrorKind::Required { property } = e.kind() {
                let name = property.as_str().unwrap_or_default().to_string();
                match missing.iter_mut().find(|(p, _)| *p == at) {
                    Some((_, names)) => names.push(name),
                    None => {
                        missing.push((at.clone(), vec![name]));
                        errors.push((at, String::new()));
                    }
                }
                continue;
            }
            errors.push((at, describe(&e)));
        }
        let errors: Vec<String> = errors
            .into_iter()
            .map(|(at, message)| {
                let message = match missing.iter().find(|(p, _)| message.is_empty() && *p == at) {
                    Some((_, names)) if names.len() == 1 => {
                        format!("missing property {}", quote(&names[0]))
                    }
                    Some((_, names)) => format!(
                        "missing properties {}",
                        names
                            .iter()
                            .map(|n| quote(n))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    None => message,
                };
                format!("- at '{at}': {message}")
            })
            .collect();
        if !errors.is_empty() {
            out.push_str(&format!("{}:\n{}\n", chart.name(), errors.join("\n")));
        }
        // A compiled schema is thousands of small allocations (a tenth of the validation's cost).
        crate::dispose::dispose((validator, schema));
    }
    let empty = Value::Object(Map::new());
    for sub in &chart.dependencies {
        let sv = match values.get(sub.name()) {
            Some(v @ Value::Object(_)) => v,
            _ => &empty,
        };
        validate_one(sub, sv, out)?;
    }
    Ok(())
}

/// santhosh-tekuri/jsonschema's quoting: Go `%q` with `'` delimiters.
fn quote(s: &str) -> String {
    let q = kiln_gotemplate::gofmt::quote(s);
    let inner = &q[1..q.len() - 1];
    format!("'{}'", inner.replace("\\\"", "\"").replace('\'', "\\'"))
}

/// A primitive as santhosh-tekuri displays it (strings quoted, numbers as Go's `%v`).
fn display(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        Value::Array(_) | Value::Object(_) => "value".into(),
        Value::Number(n) => number(n.as_f64().unwrap_or_default()),
        other => other.to_string(),
    }
}

fn number(f: f64) -> String {
    kiln_gotemplate::gofmt::sprint_value(&kiln_gotemplate::Value::Float(f))
}

/// Helm's (santhosh-tekuri/jsonschema) wording for a failure.
fn describe(e: &jsonschema::ValidationError<'_>) -> String {
    use jsonschema::error::ValidationErrorKind as K;
    let instance = e.instance();
    let got_f64 = || number(instance.as_f64().unwrap_or_default());
    let got_len = || match instance.as_ref() {
        Value::String(s) => s.chars().count(),
        Value::Array(a) => a.len(),
        _ => 0,
    };
    match e.kind() {
        K::Enum { options } => {
            if let Value::Array(items) = options.as_ref()
                && items.iter().all(|i| !i.is_array() && !i.is_object())
            {
                let shown: Vec<String> = items.iter().map(display).collect();
                return match shown.len() {
                    1 => format!("value must be {}", shown[0]),
                    _ => format!("value must be one of {}", shown.join(", ")),
                };
            }
            return "enum failed".into();
        }
        K::Constant { expected_value } => {
            return match expected_value.as_ref() {
                Value::Array(_) | Value::Object(_) => "const failed".into(),
                v => format!("value must be {}", display(v)),
            };
        }
        K::Minimum { limit } => {
            return format!("minimum: got {}, want {}", got_f64(), display(limit));
        }
        K::Maximum { limit } => {
            return format!("maximum: got {}, want {}", got_f64(), display(limit));
        }
        K::ExclusiveMinimum { limit } => {
            return format!(
                "exclusiveMinimum: got {}, want {}",
                got_f64(),
                display(limit)
            );
        }
        K::ExclusiveMaximum { limit } => {
            return format!(
                "exclusiveMaximum: got {}, want {}",
                got_f64(),
                display(limit)
            );
        }
        K::MinLength { limit } => return format!("minLength: got {}, want {limit}", got_len()),
        K::MaxLength { limit } => return format!("maxLength: got {}, want {limit}", got_len()),
        K::MinItems { limit } => return format!("minItems: got {}, want {limit}", got_len()),
        K::MaxItems { limit } => return format!("maxItems: got {}, want {limit}", got_len()),
        K::Pattern { pattern } => {
            return format!(
                "{} does not match pattern {}",
                quote(instance.as_str().unwrap_or_default()),
                quote(pattern)
            );
        }
        K::AdditionalProperties { unexpected } => {
            let names: Vec<String> = unexpected.iter().map(|n| quote(n)).collect();
            return format!("additional properties {} not allowed", names.join(", "));
        }
        _ => {}
    }
    if let jsonschema::error::ValidationErrorKind::Type {
        kind: jsonschema::error::TypeKind::Single(want),
    } = e.kind()
    {
        let got = match e.instance().as_ref() {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_f64() && n.as_f64().is_some_and(|f| f.fract() != 0.0) => {
                "number"
            }
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        return format!("got {got}, want {want}");
    }
    e.to_string()
}

/// Validates coalesced values against every schema in the chart tree.
/// Whether `chart` or one of its subcharts has a schema to validate against.
pub fn any(chart: &Chart) -> bool {
    chart.schema.is_some() || chart.dependencies.iter().any(any)
}

/// Validates the coalesced `values` (an object) against the schemas of `chart` and its subcharts.
pub fn validate(chart: &Chart, values: &Value) -> Result<(), HelmError> {
    let mut out = String::new();
    validate_one(chart, values, &mut out)?;
    if out.is_empty() {
        return Ok(());
    }
    Err(HelmError::msg(format!(
        "values don't meet the specifications of the schema(s) in the following chart(s):\n{}",
        out.trim_end()
    ))
    .with_chart(chart.name())
    .with_help("fix the values (or the chart's values.schema.json) so they validate"))
}
