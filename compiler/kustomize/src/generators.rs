//! `configMapGenerator` and `secretGenerator`: key/value sources (literals, files, env files)
//! turned into ConfigMaps and Secrets the way kustomize builds them.

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::error::{KustomizeError, Result};
use crate::kustomization::{GeneratorArgs, GeneratorOptions};
use crate::loader::Loader;
use crate::resource::{Behavior, Resource};

/// kustomize's `MergeGlobalOptionsIntoLocal`: local options win, global ones fill the gaps.
pub fn merge_options(
    local: Option<&GeneratorOptions>,
    global: Option<&GeneratorOptions>,
) -> GeneratorOptions {
    let mut out = local.cloned().unwrap_or_default();
    if let Some(g) = global {
        for (mine, theirs) in [
            (&mut out.labels, &g.labels),
            (&mut out.annotations, &g.annotations),
        ] {
            if let Some(t) = theirs {
                let m = mine.get_or_insert_with(Default::default);
                for (k, v) in t {
                    m.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        if g.disable_name_suffix_hash == Some(true) {
            out.disable_name_suffix_hash = Some(true);
        }
        if g.immutable == Some(true) {
            out.immutable = Some(true);
        }
    }
    out
}

fn remove_quotes(v: &str) -> &str {
    let b = v.as_bytes();
    if b.len() >= 2
        && ((b[0] == b'"' && b[b.len() - 1] == b'"') || (b[0] == b'\'' && b[b.len() - 1] == b'\''))
    {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

fn is_env_var_name(k: &str) -> bool {
    let mut chars = k.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '-' || c == '.' => {}
        _ => return false,
    }
    k.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

fn is_config_map_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 253
        && k != "."
        && k != ".."
        && !k.starts_with("..")
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// Parses an env file: `KEY=value` lines, `#` comments, a bare `KEY` reads the environment.
pub fn parse_env(text: &str, file: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let mut line = raw.strip_suffix('\r').unwrap_or(raw);
        if i == 0 {
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (line.to_string(), std::env::var(line).unwrap_or_default()),
        };
        if !is_env_var_name(&key) {
            return Err(KustomizeError::file(
                file,
                format!(
                    "line {}: \"{key}\" is not a valid key name: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
                    i + 1
                ),
            ));
        }
        out.push((key, value.into_bytes()));
    }
    Ok(out)
}

fn basename(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

/// Collects the key/value pairs of a generator in kustomize's order: envs, literals, files.
fn pairs(
    ldr: &Loader,
    args: &GeneratorArgs,
    kfile: &str,
    field: &str,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut all = Vec::new();
    let mut envs: Vec<&String> = args.envs.iter().flatten().collect();
    if let Some(e) = &args.env {
        envs.push(e);
    }
    for env in envs {
        let text = ldr.load_string(env)?;
        all.extend(parse_env(&text, &ldr.display(env).display().to_string())?);
    }
    for lit in args.literals.iter().flatten() {
        let Some((k, v)) = lit.split_once('=') else {
            return Err(KustomizeError::field(
                kfile,
                field,
                format!("invalid literal source {lit}, expected key=value"),
            ));
        };
        all.push((k.to_string(), remove_quotes(v).as_bytes().to_vec()));
    }
    for f in args.files.iter().flatten() {
        let (key, path) = match f.split_once('=') {
            Some((k, p)) => {
                if k.is_empty() {
                    return Err(KustomizeError::field(
                        kfile,
                        field,
                        format!("key name for file path {p} missing"),
                    ));
                }
                if p.is_empty() {
                    return Err(KustomizeError::field(
                        kfile,
                        field,
                        format!("file path for key name {k} missing"),
                    ));
                }
                (k.to_string(), p)
            }
            None => (basename(f).to_string(), f.as_str()),
        };
        let content = ldr.load(path)?;
        all.push((key, content));
    }
    let mut seen = std::collections::HashSet::new();
    for (k, _) in &all {
        if !is_config_map_key(k) {
            return Err(KustomizeError::field(
                kfile,
                field,
                format!("\"{k}\" is not a valid key name for a ConfigMap or Secret"),
            ));
        }
        if !seen.insert(k.clone()) {
            return Err(KustomizeError::field(
                kfile,
                field,
                format!(
                    "{} {} illegally repeats the key `{k}`",
                    if field == "secretGenerator" {
                        "secret"
                    } else {
                        "configmap"
                    },
                    args.name.as_deref().unwrap_or("")
                ),
            ));
        }
    }
    Ok(all)
}

/// kustomize reads any other value than create, merge or replace as "unspecified", which
/// behaves like create; kiln does the same and warns.
fn behavior(s: Option<&str>, kfile: &str, field: &str) -> Behavior {
    match s.unwrap_or("") {
        "" => Behavior::Unspecified,
        "create" => Behavior::Create,
        "merge" => Behavior::Merge,
        "replace" => Behavior::Replace,
        other => {
            eprintln!(
                "# Warning: {kfile}: field `{field}.behavior`: unknown generator behavior '{other}' is treated as create (use create, merge or replace)."
            );
            Behavior::Unspecified
        }
    }
}

/// kyaml's `encodeBase64`: standard base64 broken into lines of 70 characters (each followed by
/// a newline) once it is longer than one line.
pub fn encode_base64(data: &[u8]) -> String {
    let enc = base64::engine::general_purpose::STANDARD.encode(data);
    let lines = enc.len() / 70 + 1;
    if lines <= 1 {
        return enc;
    }
    let mut out = String::with_capacity(enc.len() + lines);
    for chunk in enc.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out
}

/// Builds one ConfigMap (`secret == false`) or Secret from its generator arguments.
pub fn generate(
    ldr: &Loader,
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
    secret: bool,
    kfile: &str,
) -> Result<Resource> {
    let field = if secret {
        "secretGenerator"
    } else {
        "configMapGenerator"
    };
    let name = args.name.clone().unwrap_or_default();
    if name.is_empty() {
        return Err(KustomizeError::field(
            kfile,
            field,
            "a generator needs a name",
        ));
    }
    let opts = merge_options(args.options.as_ref(), global);
    let mut md = Map::new();
    md.insert("name".into(), Value::String(name));
    if let Some(ns) = args.namespace.as_deref().filter(|n| !n.is_empty()) {
        md.insert("namespace".into(), Value::String(ns.into()));
    }
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), "v1".into());
    obj.insert(
        "kind".into(),
        (if secret { "Secret" } else { "ConfigMap" }).into(),
    );
    obj.insert("metadata".into(), Value::Object(md));
    let kvs = pairs(ldr, args, kfile, field)?;
    if secret {
        obj.insert(
            "type".into(),
            Value::String(
                args.type_
                    .clone()
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| "Opaque".into()),
            ),
        );
        if !kvs.is_empty() {
            let mut data = Map::new();
            for (k, v) in kvs {
                data.insert(k, Value::String(encode_base64(&v)));
            }
            obj.insert("data".into(), Value::Object(data));
        }
    } else {
        let mut data = Map::new();
        let mut binary = Map::new();
        for (k, v) in kvs {
            match String::from_utf8(v) {
                Ok(s) => data.insert(k, Value::String(s)),
                Err(e) => binary.insert(k, Value::String(encode_base64(e.as_bytes()))),
            };
        }
        if !data.is_empty() {
            obj.insert("data".into(), Value::Object(data));
        }
        if !binary.is_empty() {
            obj.insert("binaryData".into(), Value::Object(binary));
        }
    }
    let mut obj = Value::Object(obj);
    for (field_name, map) in [("labels", &opts.labels), ("annotations", &opts.annotations)] {
        if let Some(m) = map.as_ref().filter(|m| !m.is_empty()) {
            obj["metadata"][field_name] = json!(m);
        }
    }
    if opts.immutable == Some(true) {
        obj["immutable"] = Value::Bool(true);
    }
    let mut res = Resource::new(obj);
    res.behavior = behavior(args.behavior.as_deref(), kfile, field);
    res.needs_hash = opts.disable_name_suffix_hash != Some(true);
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lines_skip_comments_and_blank_lines() {
        let kv = parse_env("# c\n\nA=1\n  B=x=y\n", "f.env").unwrap();
        assert_eq!(
            kv,
            vec![("A".into(), b"1".to_vec()), ("B".into(), b"x=y".to_vec())]
        );
    }

    #[test]
    fn bad_env_key_is_an_error() {
        assert!(parse_env("1A=2", "f.env").is_err());
    }

    #[test]
    fn literal_quotes_are_removed() {
        assert_eq!(remove_quotes("\"a b\""), "a b");
        assert_eq!(remove_quotes("'x'"), "x");
        assert_eq!(remove_quotes("\"x"), "\"x");
    }
}
