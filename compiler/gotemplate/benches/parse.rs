//! Parses every template file of real Helm charts: the cost `kiln helm template` pays before it
//! renders anything. The charts are found under `$KILN_PARSE_CHARTS` (default: the conformance
//! corpus, `/work/shared/conformance/helm/cases`); every file below a `templates` directory is
//! parsed. Without charts the benchmark says so and does nothing.
//!
//! `KILN_PARSE_ONCE=1` parses the corpus once without criterion, for instruction counting:
//! `KILN_PARSE_ONCE=1 valgrind --tool=callgrind target/release/deps/parse-*`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use criterion::{Criterion, Throughput};
use kiln_gotemplate::{ArgType, Error, FuncMap, Signature, Templates, Value};

const DEFAULT_CHARTS: &str = "/work/shared/conformance/helm/cases";

fn template_files(dir: &Path, in_templates: bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            let templates = in_templates || e.file_name() == "templates";
            template_files(&path, templates, out);
        } else if in_templates && kind.is_file() {
            out.push(path);
        }
    }
}

/// The function a template names, when parsing failed only because it is not registered.
fn undefined_function(e: &Error) -> Option<String> {
    let text = e.to_string();
    let rest = &text[text.find("function \"")? + "function \"".len()..];
    let name = &rest[..rest.find("\" not defined")?];
    Some(name.to_string())
}

/// The corpus files (name, text) that parse, and a function map naming every function they call
/// (with no-op bodies: only parsing is measured).
fn corpus() -> (FuncMap, Vec<(String, Arc<str>)>) {
    let root = std::env::var("KILN_PARSE_CHARTS").unwrap_or_else(|_| DEFAULT_CHARTS.into());
    let mut paths = Vec::new();
    template_files(Path::new(&root), false, &mut paths);
    let mut funcs = FuncMap::new();
    let mut files = Vec::new();
    for path in paths {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let name = path.to_string_lossy().into_owned();
        let text: Arc<str> = Arc::from(text);
        loop {
            match Templates::new(funcs.clone()).parse_detached(&name, text.clone()) {
                Ok(_) => {
                    files.push((name, text));
                    break;
                }
                Err(e) => match undefined_function(&e) {
                    Some(f) => funcs.insert(f, Signature::variadic(&[], ArgType::Any), |_, _| {
                        Ok(Value::Nil)
                    }),
                    None => break,
                },
            }
        }
    }
    (funcs, files)
}

fn parse_all(set: &Templates, files: &[(String, Arc<str>)]) -> usize {
    files
        .iter()
        .map(|(name, text)| {
            let parsed = set.parse_detached(name, text.clone());
            std::hint::black_box(parsed.expect("parsed before"));
            1
        })
        .sum()
}

fn main() {
    let (funcs, files) = corpus();
    if files.is_empty() {
        eprintln!(
            "parse bench: no chart templates under $KILN_PARSE_CHARTS or {DEFAULT_CHARTS}; skipped"
        );
        return;
    }
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    let set = Templates::new(funcs);
    if std::env::var_os("KILN_PARSE_ONCE").is_some() {
        parse_all(&set, &files);
        eprintln!("parsed {} files, {bytes} bytes", files.len());
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function(format!("corpus ({} files)", files.len()), |b| {
        b.iter(|| parse_all(&set, &files))
    });
    g.finish();
    c.final_summary();
}
