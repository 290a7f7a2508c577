//! The fast reader and the event decoder against the complete decoder (serde-saphyr), which
//! kiln used alone before: on every text either accepts, it must give the complete decoder's
//! value.

use std::path::Path;

use serde_json::Value;

use crate::decode::{self, Duplicates, Mode, Unsupported};
use crate::{Resolution, fast, split_documents};

fn complete(text: &str, resolution: Resolution) -> Result<Value, String> {
    let mut v: Value = serde_saphyr::from_str_with_options(text, crate::options_for(resolution))
        .map_err(|e| e.to_string())?;
    crate::eof_block_scalar::trim_final_line_feed(text, &mut v);
    Ok(v)
}

/// Checks Helm's decoding (duplicates, Go keys) and the head scan of one text.
fn check_helm(text: &str, origin: &str) {
    let complete = crate::helm::complete(text);
    if let Ok(v) = decode::single(text, crate::helm::MODE) {
        assert_eq!(
            Some(&v),
            complete.as_ref().ok(),
            "{origin} decodes differently for Helm"
        );
    }
    if let Some(v) = fast::single(text, crate::helm::MODE) {
        assert_eq!(
            Some(&v),
            complete.as_ref().ok(),
            "{origin}: the fast reader decodes differently for Helm"
        );
    }
    let head = |v: Value| (!v.is_null()).then(|| crate::helm::ManifestHead::of(&v));
    assert_eq!(
        fast::head(text, crate::helm::MODE).map(head),
        fast::single(text, crate::helm::MODE).map(head),
        "{origin}: the head reader reads differently from the fast reader"
    );
    match &complete {
        Ok(v) => assert_eq!(
            crate::helm::scan_head(text).ok(),
            Some((!v.is_null()).then(|| crate::helm::ManifestHead::of(v))),
            "{origin}: head scan"
        ),
        Err(_) => assert!(crate::helm::scan_head(text).is_err(), "{origin}: head scan"),
    }
}

/// Which decoders took a text (in both resolutions).
struct Taken {
    /// The fast reader.
    fast: bool,
    /// The event decoder.
    events: bool,
}

/// Checks one text in both resolutions; returns which decoders took it.
fn check(text: &str, origin: &str) -> Taken {
    check_helm(text, origin);
    let mut taken = Taken {
        fast: true,
        events: true,
    };
    let show_slow = std::env::var_os("KILN_YAML_SHOW_SLOW").is_some();
    for resolution in [Resolution::Yaml11, Resolution::Yaml12] {
        let mode = Mode {
            resolution,
            duplicates: Duplicates::Unsupported,
            go_keys: false,
        };
        match fast::single(text, mode) {
            Some(v) => assert_eq!(
                Ok(&v),
                complete(text, resolution).as_ref(),
                "{origin} ({resolution:?}): the fast reader decodes differently"
            ),
            None => {
                if show_slow && complete(text, resolution).is_ok() {
                    let (line, at) = fast::GAVE_UP.with(|g| g.get());
                    let around = text.get(at.saturating_sub(40)..(at + 40).min(text.len()));
                    eprintln!("not read by the fast reader (fast.rs:{line}): {origin} {around:?}");
                }
                taken.fast = false
            }
        }
        match decode::single(text, mode) {
            Ok(v) => assert_eq!(
                Ok(&v),
                complete(text, resolution).as_ref(),
                "{origin} ({resolution:?}) decodes differently"
            ),
            Err(Unsupported) => {
                if show_slow && complete(text, resolution).is_ok() {
                    eprintln!("complete decoder only: {origin}");
                }
                taken.events = false
            }
        }
    }
    taken
}

const SCALARS: &[&str] = &[
    "",
    "~",
    "null",
    "Null",
    "NULL",
    "nuLL",
    "true",
    "True",
    "TRUE",
    "tRUE",
    "false",
    "yes",
    "Yes",
    "YES",
    "no",
    "No",
    "on",
    "On",
    "ON",
    "off",
    "Off",
    "y",
    "Y",
    "n",
    "N",
    "0",
    "-0",
    "+0",
    "00",
    "0777",
    "-0777",
    "0o17",
    "0O17",
    "0x1F",
    "0X1F",
    "0x1f",
    "-0x1F",
    "0x_1F",
    "0b101",
    "0B101",
    "08",
    "0999",
    "1_000",
    "1__000",
    "_1000",
    "1000_",
    "1_000.5",
    "12",
    "+12",
    "-12",
    "1.",
    ".5",
    "-.5",
    "+.5",
    "1.5",
    "1e3",
    "1E3",
    "1e-3",
    "-1.5e+3",
    "1e999",
    ".inf",
    "-.inf",
    "+.inf",
    ".Inf",
    ".INF",
    ".nan",
    ".NaN",
    "-.nan",
    "+.NaN",
    "inf",
    "-inf",
    "infinity",
    "nan",
    "NaN",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "0xFFFFFFFFFFFFFFFFFFFF",
    "1:20",
    "1.2.3",
    "-",
    "+",
    ".",
    "0x",
    "0b",
    "0o",
    "0_",
    "2001-12-14",
    "12:30:00",
    "~x",
    "nulls",
    "yesno",
    "0.1.0",
    "v1",
    "1Gi",
    "100m",
    "0.5",
    "1e",
    "e5",
    "+-1",
    "--1",
];

#[test]
fn scalars_resolve_as_the_complete_decoder_does() {
    for s in SCALARS {
        for text in [
            format!("a: {s}\n"),
            format!("- {s}\n"),
            format!("a: '{s}'\n"),
            format!("{s}\n"),
            format!("{s}: x\n"),
            format!("a: &x {s}\nb: *x\n"),
        ] {
            check(&text, "scalar");
        }
    }
}

#[test]
fn structures_decode_as_the_complete_decoder_does() {
    let texts = [
        "a: 1\nb:\n  - x\n  - {c: d, e: [1, 2]}\n",
        "x: &x {b: 1, c: 2}\nd:\n  <<: *x\n  c: 3\n",
        "x: &x {b: 1, c: 2}\nd:\n  c: 3\n  <<: *x\n  e: 4\n",
        "x: &x {b: 1, c: 2}\ny: &y {c: 5, f: 6}\nd:\n  <<: [*x, *y]\n  e: 4\n",
        "d:\n  <<: {a: 1}\n  <<: {a: 2}\n",
        "d:\n  <<: ~\n  a: 1\n",
        "d:\n  '<<': {a: 1}\n",
        "x: &x {<<: {q: 1}, r: 2}\nd:\n  <<: *x\n",
        "a: &a [1, {c: 2}]\nb: *a\n",
        "a: |\n  x\n  y\nb: >-\n  folded\n  text\n",
        "a: |\n  x\n  y",
        "a: >\n  x\n\n  y",
        "a: |+\n  x\n",
        "a: |-\n  x",
        "- |\n  last",
        "a: \"q\\n\"",
        "a: !!str 12\nb: !!str\n",
        "a: 1\na: 2\n",
        "? [a]\n: 1\n",
        "a: !!binary aGVsbG8=\n",
        "a: !custom x\n",
        "a: 1\n---\nb: 2\n",
        "a: 1\n...\n",
        "%YAML 1.2\n---\na: 1\n",
        "",
        "# only a comment\n",
        "---\n",
        "a: [unclosed\n",
        "a:\n\tb: tab\n",
    ];
    for text in texts {
        check(text, "structure");
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// Every YAML file of the conformance corpora (charts, values, overlays, expected outputs).
#[test]
fn conformance_corpora_decode_as_the_complete_decoder_does() {
    let root = std::env::var("KILN_CONFORMANCE")
        .unwrap_or_else(|_| "/work/shared/conformance".to_string());
    let mut files = Vec::new();
    yaml_files(Path::new(&root), &mut files);
    if files.is_empty() {
        eprintln!("SKIPPED: no conformance corpora at {root} (set KILN_CONFORMANCE)");
        return;
    }
    let (mut documents, mut fast, mut events) = (0, 0, 0);
    let valid = |t: &str| complete(t, Resolution::Yaml11).is_ok();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        // Chart templates are Go templates, mostly not YAML: only valid documents count.
        for (chunk, _) in split_documents(&text) {
            if !valid(chunk) {
                continue;
            }
            documents += 1;
            let taken = check(chunk, &file.display().to_string());
            fast += usize::from(taken.fast);
            events += usize::from(taken.events);
        }
    }
    eprintln!(
        "{documents} YAML documents: {fast} read by the fast reader, {events} by the event decoder"
    );
    assert!(
        events * 100 > documents * 99,
        "the event decoder takes too few documents"
    );
    assert!(
        fast * 100 > documents * 95,
        "the fast reader takes too few documents"
    );
}
