//! Go objects behind the `Object` trait: fields, methods with arguments, named slice and map
//! types, `String()` formatting, the `call` builtin.

mod common;

use std::sync::Arc;

use kiln_gotemplate::{FuncError, FuncMap, Map, Object, Templates, Value};

/// Like Helm's `chartutil.VersionSet`: a `[]string` with a `Has` method.
#[derive(Debug)]
struct VersionSet(Vec<&'static str>);

impl Object for VersionSet {
    fn type_name(&self) -> &str {
        "chartutil.VersionSet"
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        match name {
            "Has" => Some(match args {
                [Value::String(s)] => Ok(Value::Bool(self.0.contains(&&**s))),
                _ => Err(FuncError::new(format!(
                    "wrong number of args for Has: want 1 got {}",
                    args.len()
                ))),
            }),
            _ => None,
        }
    }
    fn underlying(&self) -> Option<Value> {
        Some(Value::list(
            self.0.iter().map(|s| Value::from(*s)).collect::<Vec<_>>(),
        ))
    }
}

/// Like Helm's `chartutil.KubeVersion`: fields and a `String()` method.
#[derive(Debug)]
struct KubeVersion;

impl Object for KubeVersion {
    fn type_name(&self) -> &str {
        "chartutil.KubeVersion"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" => Some(Value::from("v1.35.0")),
            "Major" => Some(Value::from("1")),
            _ => None,
        }
    }
    fn format(&self) -> String {
        "v1.35.0".into()
    }
}

/// A function value for `call`.
#[derive(Debug)]
struct Adder;

impl Object for Adder {
    fn type_name(&self) -> &str {
        "func(int, int) int"
    }
    fn call(&self, args: &[Value]) -> Option<Result<Value, FuncError>> {
        Some(Ok(Value::Int(args.iter().filter_map(Value::as_i64).sum())))
    }
}

fn data() -> Value {
    let caps = Map::new();
    caps.insert(
        "APIVersions",
        Value::Object(Arc::new(VersionSet(vec!["v1", "apps/v1"]))),
    );
    caps.insert("KubeVersion", Value::object(KubeVersion));
    let top = Map::new();
    top.insert("Capabilities", Value::Map(caps));
    top.insert("add", Value::object(Adder));
    Value::Map(top)
}

fn render(text: &str) -> Result<String, String> {
    let mut t = Templates::new(FuncMap::new());
    t.parse("t", text).map_err(|e| e.to_string())?;
    t.execute("t", &data()).map_err(|e| e.to_string())
}

#[test]
fn methods_with_arguments() {
    assert_eq!(render(r#"{{ .Capabilities.APIVersions.Has "apps/v1" }} {{ .Capabilities.APIVersions.Has "x" }}"#).unwrap(), "true false");
    assert_eq!(
        render(r#"{{ if .Capabilities.APIVersions.Has "v1" }}yes{{ end }}"#).unwrap(),
        "yes"
    );
    assert_eq!(
        render(r#"{{ "v1" | .Capabilities.APIVersions.Has }}"#).unwrap(),
        "true"
    );
    let e = render("{{ .Capabilities.APIVersions.Has }}").unwrap_err();
    assert!(
        e.ends_with("error calling Has: wrong number of args for Has: want 1 got 0"),
        "{e}"
    );
}

#[test]
fn named_slices_range_and_len() {
    assert_eq!(
        render("{{ range .Capabilities.APIVersions }}{{ . }};{{ end }}").unwrap(),
        "v1;apps/v1;"
    );
    assert_eq!(
        render("{{ len .Capabilities.APIVersions }} {{ index .Capabilities.APIVersions 1 }}")
            .unwrap(),
        "2 apps/v1"
    );
}

#[test]
fn fields_and_string_method() {
    assert_eq!(
        render("{{ .Capabilities.KubeVersion.Version }}/{{ .Capabilities.KubeVersion.Major }}")
            .unwrap(),
        "v1.35.0/1"
    );
    assert_eq!(render("{{ .Capabilities.KubeVersion }} {{ printf \"%v|%s\" .Capabilities.KubeVersion .Capabilities.KubeVersion }}").unwrap(), "v1.35.0 v1.35.0|v1.35.0");
    let e = render("{{ .Capabilities.KubeVersion.Nope }}").unwrap_err();
    assert!(
        e.ends_with("can't evaluate field Nope in type interface {}"),
        "{e}"
    );
    let e = render("{{ .Capabilities.KubeVersion.Version 1 }}").unwrap_err();
    assert!(
        e.ends_with("Version has arguments but cannot be invoked as function"),
        "{e}"
    );
}

#[test]
fn call_builtin() {
    assert_eq!(render("{{ call .add 1 2 }}").unwrap(), "3");
    let e = render("{{ call .Capabilities 1 }}").unwrap_err();
    assert!(
        e.ends_with(
            "error calling call: non-function .Capabilities of type map[string]interface {}"
        ),
        "{e}"
    );
    let e = render("{{ call .missing }}").unwrap_err();
    assert!(e.ends_with("error calling call: call of nil"), "{e}");
}

#[test]
fn values_convert_from_and_to_json() {
    let j = serde_json::json!({"a": [1, 2.5, "s", null, true], "b": {"c": {}}});
    let v = Value::from(&j);
    assert_eq!(serde_json::Value::from(&v), j);
    assert_eq!(v.to_string(), "map[a:[1 2.5 s <nil> true] b:map[c:map[]]]");
    let f = Value::from_json_with(&serde_json::json!(3), kiln_gotemplate::JsonNumbers::Float64);
    assert_eq!(f.type_name(), "float64");
    assert!(!Value::Nil.is_true() && !Value::from("").is_true() && Value::from(0.5).is_true());
    assert!(!Value::Map(Map::new()).is_true() && Value::object(KubeVersion).is_true());
}
