//! The `manifests` renderer: plain YAML/JSON Kubernetes manifests from files, directories
//! (recursive, sorted by path) and globs, multi-document YAML included.
//!
//! Every document must be a Kubernetes object; `kind: List` documents are expanded into their
//! items, as kubectl does. Each object records the file and line its document starts on.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use kiln_bundle::Provenance;
use serde_json::Value;

use super::{Object, Prepared, RenderContext, check_object};
use crate::cache::KeyBuilder;
use crate::diag::{Error, Result, SourceFile};
use crate::resolve::Location;

/// A file read for a component.
#[derive(Debug)]
pub struct Input {
    pub source: Option<String>,
    /// The path inside the source, `/`-separated.
    pub rel: String,
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Reads the files of a `manifests` component; its key covers their names and bytes.
pub fn prepare<'a>(
    component: &'a str,
    inputs: &[Location],
    cx: &'a RenderContext<'a>,
) -> Result<Prepared<'a>> {
    let files = collect(inputs, cx.project_file)?;
    let mut key = KeyBuilder::new("manifests");
    key.field(component.as_bytes());
    for f in &files {
        key.field(f.source.as_deref().unwrap_or("").as_bytes())
            .field(f.rel.as_bytes())
            .field(&f.bytes);
    }
    Ok(Prepared::new(key.finish(), move || {
        let mut out = Vec::new();
        for f in &files {
            parse_file(component, f, cx, &mut out)?;
        }
        Ok(out)
    }))
}

/// The files `inputs` name, each once, in the order written (and sorted within a directory or glob).
pub fn collect(inputs: &[Location], kdl: &SourceFile) -> Result<Vec<Input>> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for loc in inputs {
        let mut rels = expand(loc, kdl)?;
        rels.retain(|r| seen.insert((loc.source.clone(), r.clone())));
        for rel in rels {
            let path = loc.root.join(&rel);
            let shown = || match &loc.source {
                Some(s) => format!("{s}:{rel}"),
                None => rel.clone(),
            };
            let failed = |e| {
                Error::io_input("manifest", Path::new(&shown()), e).at(
                    kdl,
                    loc.span,
                    format!("reading `{}` failed", loc.display()),
                )
            };
            // Opening a FIFO would wait for a writer forever: look before reading.
            let meta = std::fs::metadata(&path).map_err(failed)?;
            if !meta.is_file() {
                return Err(Error::input(
                    "kiln::manifests::special-file",
                    format!("`{}` is not a regular file", shown()),
                )
                .at(kdl, loc.span, format!("`{}` includes it", loc.display()))
                .help("manifests are read from regular files (or symlinks to them); remove the pipe, socket or device, or name the files to read"));
            }
            let bytes = std::fs::read(&path).map_err(failed)?;
            out.push(Input {
                source: loc.source.clone(),
                rel,
                path,
                bytes,
            });
        }
    }
    Ok(out)
}

fn is_glob(path: &str) -> bool {
    path.contains(['*', '?', '[', '{'])
}

/// The source-relative paths a location names.
fn expand(loc: &Location, kdl: &SourceFile) -> Result<Vec<String>> {
    if is_glob(&loc.path) {
        let matcher: GlobMatcher = GlobBuilder::new(&loc.path)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                Error::input("kiln::manifests::glob", format!("invalid glob `{}`", loc.display()))
                    .at(kdl, loc.span, e.kind().to_string())
                    .help("globs use `*` within a directory, `**` across directories, `?`, `[abc]` and `{a,b}`")
            })?
            .compile_matcher();
        // Walk from the last directory before the first glob character.
        let literal: Vec<&str> = loc
            .path
            .split('/')
            .take_while(|seg| !is_glob(seg))
            .collect();
        let base = literal.join("/");
        let mut files = Vec::new();
        walk(&loc.root, &base, &mut files, kdl, loc)?;
        files.retain(|f| matcher.is_match(f));
        if files.is_empty() {
            return Err(Error::input(
                "kiln::manifests::no-match",
                format!("`{}` matches no files", loc.display()),
            )
            .at(kdl, loc.span, "matches nothing")
            .help("check the pattern; `*` does not cross `/`, use `**/` for subdirectories"));
        }
        return Ok(files);
    }
    let full = loc.full();
    let meta = std::fs::metadata(&full).map_err(|e| {
        let missing = e.kind() == std::io::ErrorKind::NotFound;
        Error::input(
            if missing {
                "kiln::manifests::missing"
            } else {
                "kiln::io"
            },
            if missing {
                format!("`{}` does not exist", loc.display())
            } else {
                format!("cannot read `{}`", loc.display())
            },
        )
        .at(
            kdl,
            loc.span,
            if missing {
                "no such file or directory"
            } else {
                "unreadable"
            },
        )
        .help(match &loc.source {
            Some(s) => format!("the path is relative to the directory of source `{s}`"),
            None => "the path is relative to the project directory".into(),
        })
        .caused_by(e)
    })?;
    if meta.is_dir() {
        let mut files = Vec::new();
        walk(&loc.root, &loc.path, &mut files, kdl, loc)?;
        files.retain(|f| {
            Path::new(f)
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e))
        });
        if files.is_empty() {
            return Err(Error::input(
                "kiln::manifests::empty",
                format!("directory `{}` holds no manifests", loc.display()),
            )
            .at(kdl, loc.span, "no .yaml, .yml or .json files in here")
            .help("a directory contributes its .yaml, .yml and .json files, recursively"));
        }
        Ok(files)
    } else {
        Ok(vec![loc.path.clone()])
    }
}

/// Every file under `root/rel`, as sorted `/`-separated paths relative to `root`; hidden entries
/// are skipped and symlinked directories are not followed.
fn walk(
    root: &Path,
    rel: &str,
    out: &mut Vec<String>,
    kdl: &SourceFile,
    loc: &Location,
) -> Result<()> {
    let dir = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && is_glob(&loc.path) => return Ok(()),
        Err(e) => {
            return Err(Error::input(
                "kiln::io",
                format!(
                    "cannot list directory `{}`",
                    if rel.is_empty() { "." } else { rel }
                ),
            )
            .at(kdl, loc.span, format!("reading `{}` failed", loc.display()))
            .help(format!("the operating system said: {e}"))
            .caused_by(e));
        }
    };
    let mut names: Vec<(String, bool)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io_input("directory", &dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        names.push((name, is_dir));
    }
    names.sort();
    for (name, is_dir) in names {
        let child = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if is_dir {
            walk(root, &child, out, kdl, loc)?;
        } else {
            out.push(child);
        }
    }
    Ok(())
}

/// The name a file is shown by in diagnostics: relative to the project directory when inside it.
pub fn display_name(path: &Path, project_root: &Path) -> String {
    path.strip_prefix(project_root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

fn parse_file(
    component: &str,
    f: &Input,
    cx: &RenderContext<'_>,
    out: &mut Vec<Object>,
) -> Result<()> {
    let name = display_name(&f.path, &cx.project_root);
    let text = match std::str::from_utf8(&f.bytes) {
        Ok(t) => t,
        Err(e) => {
            return Err(Error::input(
                "kiln::manifests::encoding",
                format!("`{name}` is not UTF-8 text"),
            )
            .help(format!(
                "manifests are UTF-8 YAML or JSON; the first invalid byte is at offset {}",
                e.valid_up_to()
            )));
        }
    };
    let file = || SourceFile::new(name.clone(), f.path.clone(), text);
    let docs = kiln_yaml::parse_documents(text).map_err(|e| {
        let file = file();
        let span = match (e.line, e.column) {
            (Some(l), Some(c)) => file.point_span(l, c),
            (Some(l), None) => file.line_span(l),
            _ => file.line_span(1),
        };
        Error::input("kiln::manifests::yaml", format!("invalid YAML in `{name}`"))
            .at(&file, span, first_line(&e.message))
            .help("fix the YAML syntax; documents are separated by `---` lines")
    })?;
    for doc in docs {
        let provenance = Provenance {
            component: component.to_string(),
            source: f.source.clone(),
            file: f.rel.clone(),
            line: doc.line,
            producer: "manifests".into(),
        };
        let items = match list_items(&doc.value) {
            Some(items) => items,
            None => vec![doc.value],
        };
        for value in items {
            if let Err(problem) = check_object(&value) {
                let file = file();
                return Err(Error::input(
                    "kiln::manifests::not-an-object",
                    format!(
                        "the document at `{name}` line {} is not a Kubernetes object: it {problem}",
                        doc.line
                    ),
                )
                .at(
                    &file,
                    file.line_span(doc.line),
                    format!("this document {problem}"),
                )
                .help("every document needs `apiVersion`, `kind` and `metadata.name`"));
            }
            out.push((value, provenance.clone()));
        }
    }
    Ok(())
}

/// The items of a `kind: List` (or `*List`) document, which kubectl applies item by item.
fn list_items(value: &Value) -> Option<Vec<Value>> {
    let kind = value.get("kind")?.as_str()?;
    if !kind.ends_with("List") || value.get("metadata").and_then(|m| m.get("name")).is_some() {
        return None;
    }
    value.get("items")?.as_array().cloned()
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(root: &Path, path: &str) -> Location {
        Location {
            source: Some("app".into()),
            root: root.to_path_buf(),
            path: path.into(),
            span: miette::SourceSpan::new(0.into(), 0),
        }
    }

    fn setup() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let cm = |n: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}\n");
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/z.yaml"), cm("z")).unwrap();
        std::fs::write(
            dir.path().join("a/b/y.yml"),
            format!("{}---\n{}", cm("y1"), cm("y2")),
        )
        .unwrap();
        std::fs::write(dir.path().join("a/notes.txt"), "not yaml").unwrap();
        std::fs::write(dir.path().join("a/.hidden.yaml"), cm("hidden")).unwrap();
        std::fs::write(
            dir.path().join("a/j.json"),
            r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"j"}}"#,
        )
        .unwrap();
        dir
    }

    fn kdl() -> SourceFile {
        SourceFile::new("kiln.kdl", "kiln.kdl", "")
    }

    #[test]
    fn directories_are_recursive_sorted_and_skip_hidden_and_other_files() {
        let dir = setup();
        let files = collect(&[loc(dir.path(), "a")], &kdl()).unwrap();
        let rels: Vec<&str> = files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["a/b/y.yml", "a/j.json", "a/z.yaml"]);
    }

    #[test]
    fn globs_match_within_and_across_directories() {
        let dir = setup();
        let rels = |p: &str| {
            collect(&[loc(dir.path(), p)], &kdl())
                .unwrap()
                .into_iter()
                .map(|f| f.rel)
                .collect::<Vec<_>>()
        };
        assert_eq!(rels("a/*.yaml"), ["a/z.yaml"]);
        assert_eq!(rels("a/**/*.y*ml"), ["a/b/y.yml", "a/z.yaml"]);
        assert_eq!(
            collect(&[loc(dir.path(), "a/*.toml")], &kdl())
                .unwrap_err()
                .code,
            "kiln::manifests::no-match"
        );
        assert_eq!(
            collect(&[loc(dir.path(), "nope.yaml")], &kdl())
                .unwrap_err()
                .code,
            "kiln::manifests::missing"
        );
    }

    fn render(c: &str, inputs: &[Location], cx: &RenderContext<'_>) -> Result<Vec<Object>> {
        prepare(c, inputs, cx)?
            .run(None)
            .map(|(objects, _)| objects)
    }

    #[test]
    fn documents_carry_file_and_line() {
        let dir = setup();
        let cx = RenderContext {
            project_file: &kdl(),
            project_root: dir.path().to_path_buf(),
            cache: None,
        };
        let objs = render("web", &[loc(dir.path(), "a/b")], &cx).unwrap();
        let lines: Vec<(&str, usize)> = objs
            .iter()
            .map(|(_, p)| (p.file.as_str(), p.line))
            .collect();
        assert_eq!(lines, [("a/b/y.yml", 1), ("a/b/y.yml", 6)]);
        assert_eq!(objs[1].1.source.as_deref(), Some("app"));
    }

    #[cfg(unix)]
    #[test]
    fn a_pipe_among_manifests_is_a_diagnostic_not_a_hang() {
        let dir = setup();
        let fifo = dir.path().join("a/pipe.yaml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path and a plain mode.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let e = collect(&[loc(dir.path(), "a")], &kdl()).unwrap_err();
        assert_eq!(e.code, "kiln::manifests::special-file");
        assert!(e.to_string().contains("app:a/pipe.yaml"), "{e}");
    }

    #[test]
    fn lists_are_expanded_and_non_objects_rejected() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("l.yaml"), "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n").unwrap();
        std::fs::write(
            dir.path().join("bad.yaml"),
            "apiVersion: v1\nkind: ConfigMap\n---\n- 1\n",
        )
        .unwrap();
        let cx = RenderContext {
            project_file: &kdl(),
            project_root: dir.path().to_path_buf(),
            cache: None,
        };
        assert_eq!(
            render("c", &[loc(dir.path(), "l.yaml")], &cx)
                .unwrap()
                .len(),
            2
        );
        let e = render("c", &[loc(dir.path(), "bad.yaml")], &cx).unwrap_err();
        assert_eq!(e.code, "kiln::manifests::not-an-object");
        assert!(e.to_string().contains("has no `metadata`"), "{e}");
    }
}
