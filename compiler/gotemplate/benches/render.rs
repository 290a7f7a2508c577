//! Parse and execute a large Helm-like template set: many `define`s called through `include`,
//! ranges over maps and lists, conditionals, `printf`, field chains.

use criterion::{Criterion, criterion_group, criterion_main};
use kiln_gotemplate::{ArgType, FuncMap, Map, MissingKey, Signature, Templates, Value};

fn funcs() -> FuncMap {
    let mut f = FuncMap::new();
    f.insert(
        "include",
        Signature::fixed(&[ArgType::String, ArgType::Any]),
        |ctx, a| {
            let name = a[0].as_str().unwrap_or_default().to_string();
            Ok(Value::from(ctx.include(&name, a[1].clone())?))
        },
    );
    f.insert(
        "tpl",
        Signature::fixed(&[ArgType::String, ArgType::Any]),
        |ctx, a| {
            let text = a[0].as_str().unwrap_or_default();
            Ok(Value::from(ctx.execute_text(
                "gotpl",
                text,
                a[1].clone(),
            )?))
        },
    );
    f.insert("quote", Signature::variadic(&[], ArgType::Any), |_, a| {
        Ok(Value::from(
            a.iter()
                .map(|v| kiln_gotemplate::gofmt::quote(&kiln_gotemplate::gofmt::sprint_value(v)))
                .collect::<Vec<_>>()
                .join(" "),
        ))
    });
    f.insert(
        "nindent",
        Signature::fixed(&[ArgType::Int, ArgType::String]),
        |_, a| {
            let pad = " ".repeat(a[0].as_i64().unwrap_or(0).max(0) as usize);
            let s = a[1].as_str().unwrap_or_default();
            Ok(Value::from(format!(
                "\n{pad}{}",
                s.replace('\n', &format!("\n{pad}"))
            )))
        },
    );
    f
}

const HELPERS: &str = r#"
{{- define "chart.name" -}}{{ default .Chart.Name .Values.nameOverride | printf "%s" }}{{- end }}
{{- define "default" -}}{{ . }}{{- end }}
{{- define "chart.fullname" -}}
{{- if .Values.fullnameOverride }}{{ .Values.fullnameOverride }}
{{- else }}{{ printf "%s-%s" .Release.Name .Chart.Name }}{{ end }}
{{- end }}
{{- define "chart.labels" -}}
app.kubernetes.io/name: {{ include "chart.fullname" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- range $k, $v := .Values.labels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end }}
"#;

fn component(i: usize) -> String {
    format!(
        r#"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ include "chart.fullname" . }}}}-c{i}
  labels:
    {{{{- include "chart.labels" . | nindent 4 }}}}
spec:
  replicas: {{{{ .Values.replicas }}}}
  template:
    spec:
      containers:
      {{{{- range $name, $c := .Values.containers }}}}
        - name: {{{{ $name }}}}
          image: "{{{{ $c.image.repository }}}}:{{{{ $c.image.tag | default $.Chart.AppVersion }}}}"
          {{{{- if $c.env }}}}
          env:
          {{{{- range $c.env }}}}
            - name: {{{{ .name }}}}
              value: {{{{ .value | quote }}}}
          {{{{- end }}}}
          {{{{- end }}}}
          {{{{- with $c.resources }}}}
          resources:
            limits:
              cpu: {{{{ .cpu }}}}
              memory: {{{{ printf "%dMi" .memory }}}}
          {{{{- end }}}}
      {{{{- end }}}}
"#
    )
}

/// Bitnami's `common.tplvalues.render`: every field of the values goes through `tpl`.
const TPL_HELPERS: &str = r#"
{{- define "tplvalues.render" -}}
{{- if typeIs "string" .value }}{{ tpl .value .context }}{{ else }}{{ tpl (.value | toString) .context }}{{ end }}
{{- end }}
"#;

fn tpl_component(i: usize) -> String {
    format!(
        r#"
---
kind: ConfigMap
metadata:
  name: {{{{ include "tplvalues.render" (dict "value" .Values.name "context" $) }}}}-{i}
data:
  {{{{- range $k, $v := .Values.labels }}}}
  {{{{ $k }}}}: {{{{ include "tplvalues.render" (dict "value" $v "context" $) }}}}
  {{{{- end }}}}
"#
    )
}

fn data() -> Value {
    let mut containers = serde_json::Map::new();
    for c in 0..4 {
        containers.insert(
            format!("c{c}"),
            serde_json::json!({
                "image": {"repository": format!("registry.example/app{c}"), "tag": "1.2.3"},
                "env": (0..6).map(|e| serde_json::json!({"name": format!("E{e}"), "value": e})).collect::<Vec<_>>(),
                "resources": {"cpu": "100m", "memory": 128},
            }),
        );
    }
    let top = Map::new();
    top.insert(
        "Values",
        Value::from(serde_json::json!({
            "replicas": 3,
            "labels": {"team": "a", "tier": "backend", "env": "prod"},
            "containers": containers,
        })),
    );
    top.insert(
        "Release",
        Value::from(serde_json::json!({"Name": "rel", "Namespace": "ns"})),
    );
    top.insert(
        "Chart",
        Value::from(serde_json::json!({"Name": "chart", "AppVersion": "9.9"})),
    );
    Value::Map(top)
}

fn build(text: &str) -> Templates {
    let mut f = funcs();
    f.insert(
        "default",
        Signature::variadic(&[ArgType::Any], ArgType::Any),
        |_, a| {
            Ok(a.iter()
                .rev()
                .find(|v| v.is_true())
                .cloned()
                .unwrap_or_default())
        },
    );
    let mut t = Templates::new(f);
    t.set_missing_key(MissingKey::Zero);
    t.parse("_helpers.tpl", HELPERS).expect("helpers");
    t.parse("big.yaml", text).expect("template");
    t
}

fn bench(c: &mut Criterion) {
    let text: String = (0..100).map(component).collect();
    let data = data();
    let set = build(&text);
    let out = set.execute("big.yaml", &data).expect("render");
    assert!(out.len() > 100_000, "{}", out.len());
    c.bench_function("parse 100 deployments", |b| b.iter(|| build(&text)));
    c.bench_function("execute 100 deployments", |b| {
        b.iter(|| set.execute("big.yaml", &data).expect("render"))
    });
    c.bench_function("parse+execute 100 deployments", |b| {
        b.iter(|| build(&text).execute("big.yaml", &data).expect("render"))
    });
}

fn bench_tpl(c: &mut Criterion) {
    let mut f = funcs();
    f.insert("dict", Signature::variadic(&[], ArgType::Any), |_, a| {
        let m = Map::new();
        for kv in a.chunks(2) {
            let k = kv[0].as_str().unwrap_or_default().to_string();
            m.insert(k, kv.get(1).cloned().unwrap_or_default());
        }
        Ok(Value::Map(m))
    });
    f.insert(
        "typeIs",
        Signature::fixed(&[ArgType::String, ArgType::Any]),
        |_, a| {
            Ok(Value::Bool(
                a[0].as_str() == Some(a[1].type_name().as_str()),
            ))
        },
    );
    f.insert("toString", Signature::fixed(&[ArgType::Any]), |_, a| {
        Ok(Value::from(a[0].to_string()))
    });
    let mut set = Templates::new(f);
    set.set_missing_key(MissingKey::Zero);
    set.parse("_tplvalues.tpl", TPL_HELPERS).expect("helpers");
    let text: String = (0..50).map(tpl_component).collect();
    set.parse("cm.yaml", &text).expect("template");
    let top = Map::new();
    top.insert(
        "Values",
        Value::from(serde_json::json!({
            "name": "{{ .Release.Name }}-app",
            "labels": {"team": "{{ .Release.Namespace }}", "tier": "backend", "env": "{{ .Values.name }}"},
        })),
    );
    top.insert(
        "Release",
        Value::from(serde_json::json!({"Name": "rel", "Namespace": "ns"})),
    );
    let data = Value::Map(top);
    let out = set.execute("cm.yaml", &data).expect("render");
    assert!(out.contains("team: ns"), "{out}");
    c.bench_function("execute 50 configmaps through tpl", |b| {
        b.iter(|| set.execute("cm.yaml", &data).expect("render"))
    });
}

criterion_group!(benches, bench, bench_tpl);
criterion_main!(benches);
