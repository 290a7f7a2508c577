//! `values.schema.json` validation, as Helm does it after coalescing: the top chart's schema against
//! all values, each enabled subchart's schema against its own values, errors collected per chart.

use serde_json::{Map, Value};

use crate::chart::Chart;
use crate::error::HelmError;

fn validate_one(
    chart: &Chart,
    values: &Map<String, Value>,
    out: &mut String,
) -> Result<(), HelmError> {
    if let Some(schema) = &chart.schema {
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
        let instance = Value::Object(values.clone());
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| {
                let path = e.instance_path().to_string();
                let at = if path.is_empty() {
                    "/".to_string()
                } else {
                    path
                };
                format!("- at '{at}': {}", describe(&e))
            })
            .collect();
        if !errors.is_empty() {
            out.push_str(&format!("{}:\n{}\n", chart.name(), errors.join("\n")));
        }
    }
    for sub in &chart.dependencies {
        let sv = match values.get(sub.name()) {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        validate_one(sub, &sv, out)?;
    }
    Ok(())
}

/// Helm's (santhosh-tekuri/jsonschema) wording for the most common failure, the type mismatch.
fn describe(e: &jsonschema::ValidationError<'_>) -> String {
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
pub fn validate(chart: &Chart, values: &Map<String, Value>) -> Result<(), HelmError> {
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
