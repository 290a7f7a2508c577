//! Rendering a `use` of a stdlib component: its templates with the bound parameters, parsed as
//! YAML and checked like any manifest.
//!
//! Provenance points where a reviewer can read what made the object: `file` and `line` are the
//! stdlib template and the template line the object's document starts on, and `producer` is
//! `stdlib:NAME (use at FILE:LINE)`, naming the `use` node of the project file that bound the
//! parameters.

use kiln_bundle::Provenance;
use serde_json::{Map, Value};

use super::{Prepared, RenderContext, check_object};
use crate::cache::KeyBuilder;
use crate::diag::{Error, Result};
use crate::resolve::Planned;
use crate::stdlib::{StdComponent, template_line};

pub fn prepare<'a>(
    planned: &'a Planned,
    std: &'static StdComponent,
    params: &Map<String, Value>,
    context: &Value,
    cx: &'a RenderContext<'a>,
) -> Result<Prepared<'a>> {
    let producer = format!(
        "stdlib:{} (use at {}:{})",
        std.name,
        cx.project_file.name,
        line_of(&cx.project_file.text, planned.span.offset())
    );
    let params_json = serde_json::to_vec(params).unwrap_or_default();
    let context_json = serde_json::to_vec(context).unwrap_or_default();
    let mut key = KeyBuilder::new("stdlib");
    key.field(planned.name.as_bytes())
        .field(std.name.as_bytes())
        .field(producer.as_bytes());
    for (name, text) in &std.templates {
        key.field(name.as_bytes()).field(text.as_bytes());
    }
    key.field(&params_json).field(&context_json);
    let (params, context) = (params.clone(), context.clone());
    Ok(Prepared::new(key.finish(), move || {
        let mut out = Vec::new();
        for (template, text) in std.render(&planned.name, params, context)? {
            let file = format!("stdlib/{}/{template}", std.name);
            let docs = kiln_yaml::parse_documents(&text).map_err(|e| {
                Error::input("kiln::stdlib::output", format!("`use \"{}\"` produced invalid YAML: {}", std.name, e.message))
                    .at(cx.project_file, planned.span, "rendered from here")
                    .help("a parameter value probably broke the template's YAML; check the values given to `use`")
            })?;
            for doc in docs {
                if let Err(problem) = check_object(&doc.value) {
                    return Err(Error::input(
                        "kiln::stdlib::output",
                        format!("`use \"{}\"` produced a document that {problem}", std.name),
                    )
                    .at(cx.project_file, planned.span, "rendered from here")
                    .help("check the parameters given to `use`"));
                }
                let provenance = Provenance {
                    component: planned.name.clone(),
                    source: None,
                    file: file.clone(),
                    line: template_line(&text, doc.line).unwrap_or(doc.line),
                    producer: producer.clone(),
                };
                out.push((doc.value, provenance));
            }
        }
        Ok(out)
    }))
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
