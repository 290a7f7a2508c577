//! The standard library: reusable components (KDL definitions + minijinja templates under
//! `stdlib/`) compiled into the binary, so `use "tenant" …` works with nothing installed.
//!
//! Each component declares typed parameters; [`StdComponent::bind`] checks a `use` node against
//! them (unknown, missing, wrongly typed or out-of-choice parameters are diagnostics on the `use`
//! node) before any template runs.

use std::sync::OnceLock;

use kdl::KdlValue;
use serde_json::{Map, Value};

use crate::diag::{Error, Result, SourceFile, suggestion};
use crate::model::{Param, Spanned};
use crate::project::{Decoder, parse_kdl};
use crate::template::{Templater, environment};

/// Every file of `stdlib/`, embedded. A unit test checks this list against the directory.
const FILES: &[(&str, &str)] = &[
    (
        "cron-job/component.kdl",
        include_str!("../../stdlib/cron-job/component.kdl"),
    ),
    (
        "cron-job/cron-job.yaml.j2",
        include_str!("../../stdlib/cron-job/cron-job.yaml.j2"),
    ),
    (
        "tenant/component.kdl",
        include_str!("../../stdlib/tenant/component.kdl"),
    ),
    (
        "tenant/tenant.yaml.j2",
        include_str!("../../stdlib/tenant/tenant.yaml.j2"),
    ),
    (
        "web-service/component.kdl",
        include_str!("../../stdlib/web-service/component.kdl"),
    ),
    (
        "web-service/web-service.yaml.j2",
        include_str!("../../stdlib/web-service/web-service.yaml.j2"),
    ),
];

/// The type of a stdlib parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    String,
    Integer,
    Boolean,
    /// Written as a comma-separated string, seen by templates as a list of strings.
    List,
}

impl ParamType {
    fn name(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Boolean => "boolean",
            ParamType::List => "list",
        }
    }
}

/// A declared parameter of a stdlib component.
#[derive(Debug, Clone)]
pub struct ParamSpec {
    pub name: String,
    pub ty: ParamType,
    pub required: bool,
    pub default: Option<Value>,
    pub one_of: Vec<String>,
    pub description: String,
}

/// A stdlib component.
#[derive(Debug, Clone)]
pub struct StdComponent {
    pub name: String,
    pub description: String,
    pub params: Vec<ParamSpec>,
    /// Template file names (relative to the component directory) and their text, in order.
    pub templates: Vec<(String, &'static str)>,
}

/// All stdlib components, sorted by name.
pub fn components() -> Result<&'static [StdComponent]> {
    static LOADED: OnceLock<std::result::Result<Vec<StdComponent>, String>> = OnceLock::new();
    LOADED.get_or_init(load_all).as_deref().map_err(|e| {
        Error::failure(
            "kiln::stdlib::broken",
            format!("the embedded stdlib is broken: {e}"),
        )
    })
}

/// The stdlib component called `name`.
pub fn get(name: &str) -> Result<Option<&'static StdComponent>> {
    Ok(components()?.iter().find(|c| c.name == name))
}

fn load_all() -> std::result::Result<Vec<StdComponent>, String> {
    let mut out = Vec::new();
    for (path, text) in FILES {
        let Some(dir) = path.strip_suffix("/component.kdl") else {
            continue;
        };
        let file = SourceFile::new(format!("stdlib/{path}"), format!("stdlib/{path}"), *text);
        out.push(load_component(dir, &file).map_err(|e| e.render_plain())?);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn load_component(dir: &str, file: &SourceFile) -> Result<StdComponent> {
    let doc = parse_kdl(file)?;
    let d = Decoder { file };
    let mut component = StdComponent {
        name: dir.to_string(),
        description: String::new(),
        params: Vec::new(),
        templates: Vec::new(),
    };
    for node in doc.nodes() {
        match node.name().value() {
            "description" => {
                component.description = d.single_string_arg(node, "a description")?.value
            }
            "param" => {
                d.check_props(
                    node,
                    &["type", "required", "default", "one-of", "description"],
                )?;
                let name = d.single_string_arg(node, "a parameter name")?.value;
                let ty = match d.string_prop(node, "type")?.map(|t| t.value).as_deref() {
                    Some("string") => ParamType::String,
                    Some("integer") => ParamType::Integer,
                    Some("boolean") => ParamType::Boolean,
                    Some("list") => ParamType::List,
                    other => {
                        return Err(Error::failure(
                            "kiln::stdlib::broken",
                            format!("parameter `{name}` has type {other:?}"),
                        ));
                    }
                };
                let required = matches!(node.get("required"), Some(KdlValue::Bool(true)));
                let default = match node.get("default") {
                    Some(KdlValue::String(s)) => Some(Value::String(s.clone())),
                    Some(KdlValue::Integer(i)) => Some(Value::from(*i as i64)),
                    Some(KdlValue::Bool(b)) => Some(Value::Bool(*b)),
                    _ => None,
                };
                let one_of = d
                    .string_prop(node, "one-of")?
                    .map(|s| s.value.split(',').map(|s| s.trim().to_string()).collect())
                    .unwrap_or_default();
                let description = d
                    .string_prop(node, "description")?
                    .map(|s| s.value)
                    .unwrap_or_default();
                component.params.push(ParamSpec {
                    name,
                    ty,
                    required,
                    default,
                    one_of,
                    description,
                });
            }
            "template" => {
                let name = d.single_string_arg(node, "a template file")?.value;
                let path = format!("{dir}/{name}");
                let text = FILES
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, t)| *t)
                    .ok_or_else(|| {
                        Error::failure(
                            "kiln::stdlib::broken",
                            format!("template `{path}` is not embedded"),
                        )
                    })?;
                component.templates.push((name, text));
            }
            other => {
                return Err(d.unknown_node(
                    node,
                    other,
                    &["description", "param", "template"],
                    "in a stdlib component",
                ));
            }
        }
    }
    Ok(component)
}

impl StdComponent {
    /// Checks `use` parameters against the declared ones and evaluates them (templates first,
    /// then types and defaults). Keys in the result use `_` for `-`, as templates see them.
    pub fn bind(
        &self,
        file: &SourceFile,
        use_span: miette::SourceSpan,
        params: &[Param],
        templater: &Templater<'_>,
    ) -> Result<Map<String, Value>> {
        let names: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
        let mut out = Map::new();
        for param in params {
            let Some(spec) = self.params.iter().find(|p| p.name == param.key.value) else {
                return Err(Error::input(
                    "kiln::stdlib::unknown-param",
                    format!("`{}` has no parameter `{}`", self.name, param.key.value),
                )
                .at(file, param.key.span, "unknown parameter")
                .help(suggestion(&param.key.value, &names)));
            };
            let value = templater.value(&param.value)?;
            let value = coerce(spec, value).map_err(|expected| {
                Error::input(
                    "kiln::stdlib::param-type",
                    format!(
                        "parameter `{}` of `{}` must be {expected}",
                        spec.name, self.name
                    ),
                )
                .at(file, param.value.span, format!("expected {expected}"))
                .help(if spec.description.is_empty() {
                    format!("`{}` is a {}", spec.name, spec.ty.name())
                } else {
                    format!("`{}`: {}", spec.name, spec.description)
                })
            })?;
            out.insert(spec.name.replace('-', "_"), value);
        }
        for spec in &self.params {
            let key = spec.name.replace('-', "_");
            if out.contains_key(&key) {
                continue;
            }
            match &spec.default {
                Some(d) if !spec.required => {
                    let v = coerce(spec, d.clone()).map_err(|e| {
                        Error::failure(
                            "kiln::stdlib::broken",
                            format!("default of `{}`: expected {e}", spec.name),
                        )
                    })?;
                    out.insert(key, v);
                }
                _ => {
                    return Err(Error::input(
                        "kiln::stdlib::missing-param",
                        format!("`{}` needs the parameter `{}`", self.name, spec.name),
                    )
                    .at(file, use_span, format!("missing `{}=`", spec.name))
                    .help(format!(
                        "add `{}=…` ({}{})",
                        spec.name,
                        spec.ty.name(),
                        if spec.description.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", spec.description)
                        }
                    )));
                }
            }
        }
        Ok(out)
    }

    /// Renders the templates with `context` (which gets `params` and `component` added) and
    /// returns each template's name and output.
    ///
    /// The output carries a [`LINE_MARKER`] comment on every document marker, so
    /// [`template_line`] can tell which template line a rendered document came from.
    pub fn render(
        &self,
        component: &str,
        params: Map<String, Value>,
        mut context: Value,
    ) -> Result<Vec<(String, String)>> {
        context["params"] = Value::Object(params);
        context["component"] = Value::String(component.to_string());
        let env = environment();
        let ctx = minijinja::Value::from_serialize(&context);
        self.templates
            .iter()
            .map(|(name, text)| {
                env.render_str(&mark_documents(text), &ctx)
                    .map(|out| (name.clone(), out))
                    .map_err(|e| {
                        Error::failure(
                            "kiln::stdlib::render",
                            format!("stdlib template `{}/{name}` failed: {e}", self.name),
                        )
                        .help("this is a bug in the stdlib component; please report it")
                    })
            })
            .collect()
    }
}

/// The comment [`mark_documents`] puts on document markers, followed by a template line number.
pub const LINE_MARKER: &str = "# kiln:template-line ";

/// Turns every `---` line of a template into `--- # kiln:template-line N`, N being the template
/// line the document's content starts on (the line after the marker), and gives the first
/// document a marker of its own. YAML ignores the comments; templates cannot see them, since
/// they are added outside any template tag.
///
/// The first document's marker is left out when the template starts by trimming whitespace
/// (`{%-`, `{{-`, `{#-`), which would join the marker and the content on one line.
fn mark_documents(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    let trims = ["{%-", "{{-", "{#-"];
    if !trims.iter().any(|t| text.trim_start().starts_with(t)) {
        out.push_str(&format!("--- {LINE_MARKER}1\n"));
    }
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        if body.trim_end() == "---" {
            out.push_str(&format!("--- {LINE_MARKER}{}{end}", i + 2));
        } else {
            out.push_str(line);
        }
    }
    out
}

/// The template line the rendered document starting on 1-based `line` of `rendered` came from:
/// the number on its marker, else on the nearest marker above it.
pub fn template_line(rendered: &str, line: usize) -> Option<usize> {
    let lines: Vec<&str> = rendered.lines().take(line).collect();
    lines.iter().rev().find_map(|l| {
        l.strip_prefix("--- ")?
            .strip_prefix(LINE_MARKER)?
            .trim()
            .parse()
            .ok()
    })
}

/// Converts a value to the parameter's type, or says what was expected.
fn coerce(spec: &ParamSpec, value: Value) -> std::result::Result<Value, String> {
    let v = match (spec.ty, value) {
        (ParamType::String, Value::String(s)) => Value::String(s),
        (ParamType::Integer, Value::Number(n)) if n.is_i64() => Value::Number(n),
        (ParamType::Integer, Value::String(s)) if s.trim().parse::<i64>().is_ok() => {
            Value::from(s.trim().parse::<i64>().unwrap_or_default())
        }
        (ParamType::Boolean, Value::Bool(b)) => Value::Bool(b),
        (ParamType::List, Value::String(s)) => Value::Array(
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.into()))
                .collect(),
        ),
        (ParamType::List, Value::Array(items)) if items.iter().all(Value::is_string) => {
            Value::Array(items)
        }
        (ty, _) => {
            return Err(match ty {
                ParamType::String => "a string".into(),
                ParamType::Integer => "an integer".into(),
                ParamType::Boolean => "a boolean (#true or #false)".into(),
                ParamType::List => "a comma-separated string".into(),
            });
        }
    };
    if !spec.one_of.is_empty() && !spec.one_of.iter().any(|c| v.as_str() == Some(c)) {
        return Err(format!(
            "one of {}",
            spec.one_of
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(v)
}

/// Helps `use` of an unknown name: the closest stdlib names.
pub fn unknown(file: &SourceFile, name: &Spanned<String>) -> Result<Error> {
    let names: Vec<&str> = components()?.iter().map(|c| c.name.as_str()).collect();
    Ok(Error::input(
        "kiln::stdlib::unknown",
        format!("no stdlib component is called `{}`", name.value),
    )
    .at(file, name.span, "unknown stdlib component")
    .help(suggestion(&name.value, &names)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stdlib_file_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib");
        let mut on_disk = Vec::new();
        for dir in std::fs::read_dir(&root).unwrap() {
            let dir = dir.unwrap();
            if dir.file_type().unwrap().is_dir() {
                for f in std::fs::read_dir(dir.path()).unwrap() {
                    let f = f.unwrap();
                    on_disk.push(format!(
                        "{}/{}",
                        dir.file_name().to_string_lossy(),
                        f.file_name().to_string_lossy()
                    ));
                }
            }
        }
        on_disk.sort();
        let embedded: Vec<String> = FILES.iter().map(|(p, _)| p.to_string()).collect();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn components_load_with_typed_params() {
        let names: Vec<&str> = components()
            .unwrap()
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["cron-job", "tenant", "web-service"]);
        let web = get("web-service").unwrap().unwrap();
        let port = web.params.iter().find(|p| p.name == "port").unwrap();
        assert_eq!(
            (port.ty, port.default.clone()),
            (ParamType::Integer, Some(Value::from(8080)))
        );
    }

    #[test]
    fn rendered_documents_know_their_template_line() {
        let web = get("web-service").unwrap().unwrap();
        let template = web.templates[0].1;
        let line_of = |needle: &str| {
            template
                .lines()
                .position(|l| l.starts_with(needle))
                .map(|i| i + 1)
                .unwrap()
        };
        let params = web
            .params
            .iter()
            .map(|p| {
                let value = match p.name.as_str() {
                    "name" | "namespace" | "image" => Value::from("x"),
                    "host" => Value::from("x.example.com"),
                    "min-available" => Value::from(1),
                    _ => p.default.clone().unwrap_or(Value::Null),
                };
                (p.name.replace('-', "_"), value)
            })
            .collect();
        let out = web
            .render("web", params, serde_json::json!({}))
            .unwrap()
            .remove(0)
            .1;
        let docs = kiln_yaml::parse_documents(&out).unwrap();
        let kinds: Vec<(&str, Option<usize>)> = docs
            .iter()
            .map(|d| {
                (
                    d.value["kind"].as_str().unwrap(),
                    template_line(&out, d.line),
                )
            })
            .collect();
        let ingress = template.find("kind: Ingress").unwrap();
        let ingress_start = template[..ingress].lines().count();
        assert_eq!(
            kinds,
            [
                ("Deployment", Some(1)),
                ("Service", Some(line_of("kind: Service") - 1)),
                ("Ingress", Some(ingress_start)),
                (
                    "PodDisruptionBudget",
                    Some(line_of("kind: PodDisruptionBudget") - 1)
                ),
            ]
        );
    }

    #[test]
    fn coercion_checks_types_and_choices() {
        let cron = get("cron-job").unwrap().unwrap();
        let spec = cron
            .params
            .iter()
            .find(|p| p.name == "concurrency")
            .unwrap();
        assert!(coerce(spec, Value::from("Forbid")).is_ok());
        assert_eq!(
            coerce(spec, Value::from("Never")).unwrap_err(),
            "one of `Allow`, `Forbid`, `Replace`"
        );
        let retries = cron.params.iter().find(|p| p.name == "retries").unwrap();
        assert_eq!(coerce(retries, Value::from("3")).unwrap(), Value::from(3));
        assert!(coerce(retries, Value::from(true)).is_err());
    }
}
