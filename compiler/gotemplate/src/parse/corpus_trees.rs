//! A check for parser changes that must not change trees: `KILN_TREE_DIGESTS=FILE cargo test -p
//! kiln-gotemplate --lib corpus_tree_digests -- --ignored` writes a digest of the trees (or the
//! error) of every chart template under `$KILN_PARSE_CHARTS` (default: the conformance corpus);
//! compare the files written before and after a change.

use std::fmt::Write;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use crate::func::{ArgType, FuncMap, Signature};
use crate::value::Value;

#[test]
#[ignore = "writes digests to $KILN_TREE_DIGESTS for comparing parser versions"]
fn corpus_tree_digests() {
    let Some(out) = std::env::var_os("KILN_TREE_DIGESTS") else {
        eprintln!("corpus_tree_digests: set KILN_TREE_DIGESTS to a file to write; skipped");
        return;
    };
    let mut funcs = FuncMap::new();
    let mut report = String::new();
    for path in crate::corpus::template_files() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let text: Arc<str> = text.into();
        let name = path.to_string_lossy();
        let trees = loop {
            match super::parse(&name, &text, &("{{".into(), "}}".into()), &funcs) {
                Err(e) => {
                    let message = e.to_string();
                    if let Some(f) = message
                        .split_once("function \"")
                        .and_then(|(_, rest)| rest.split_once("\" not defined"))
                    {
                        funcs.insert(f.0, Signature::variadic(&[], ArgType::Any), |_, _| {
                            Ok(Value::Nil)
                        });
                        continue;
                    }
                    break message;
                }
                Ok(trees) => break format!("{trees:?}"),
            }
        };
        let mut h = DefaultHasher::new();
        trees.hash(&mut h);
        writeln!(report, "{name} {:016x} {}", h.finish(), trees.len()).unwrap();
    }
    std::fs::write(out, report).unwrap();
}
