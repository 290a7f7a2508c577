//! Rendering a `use` of a stdlib component: its templates with the bound parameters, parsed as
//! YAML and checked like any manifest.

use kiln_bundle::Provenance;
use serde_json::{Map, Value};

use super::{Object, RenderContext, cached, check_object};
use crate::cache::KeyBuilder;
use crate::diag::{Error, Result};
use crate::resolve::Planned;
use crate::stdlib::StdComponent;

pub fn render(
    planned: &Planned,
    std: &StdComponent,
    params: &Map<String, Value>,
    context: &Value,
    cx: &RenderContext<'_>,
) -> Result<Vec<Object>> {
    let mut key = KeyBuilder::new("stdlib");
    key.field(planned.name.as_bytes())
        .field(std.name.as_bytes());
    for (name, text) in &std.templates {
        key.field(name.as_bytes()).field(text.as_bytes());
    }
    key.field(&serde_json::to_vec(params).unwrap_or_default());
    key.field(&serde_json::to_vec(context).unwrap_or_default());
    cached(cx, key.finish(), || {
        let mut out = Vec::new();
        for (template, text) in std.render(&planned.name, params.clone(), context.clone())? {
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
                    line: doc.line,
                    producer: format!("stdlib:{}", std.name),
                };
                out.push((doc.value, provenance));
            }
        }
        Ok(out)
    })
}
