//! Verification: recompute every digest of a bundle and name every file that is tampered,
//! missing, extra or malformed.
//!
//! A bundle verifies when its manifest is canonical JSON of the supported format, its waves and
//! components agree, every object file listed exists with the listed digest, decodes to an object
//! whose identity is the listed one and whose canonical form is the file itself, and no other
//! file is present. [`crate::Bundle::open`] refuses anything less.

use crate::canonical;
use crate::digest::Digest;
use crate::layout;
use crate::model::{FORMAT, Manifest, ObjectEntry, ObjectId};
use crate::par;
use crate::read::RawBundle;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// What verification found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    /// The bundle path as given.
    pub path: String,
    /// The bundle digest (blake3 of `bundle.json`), when the manifest could be read.
    pub digest: Option<Digest>,
    /// How many object files were checked.
    pub objects: usize,
    /// Every problem, in file order; empty when the bundle verifies.
    pub problems: Vec<Problem>,
}

/// One reason a bundle does not verify.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum Problem {
    /// There is no `bundle.json`.
    ManifestMissing,
    /// `bundle.json` is not a valid manifest.
    ManifestInvalid {
        message: String,
        line: usize,
        column: usize,
    },
    /// `bundle.json` is valid but not in canonical form (it was edited or written by another tool).
    ManifestNotCanonical,
    /// The manifest's format is not one this version reads.
    UnsupportedFormat { format: String },
    /// Waves and components disagree.
    Inconsistent { message: String },
    /// The bundle digest is not the one expected.
    DigestMismatch { expected: Digest, actual: Digest },
    /// A file's content does not match its digest.
    Tampered {
        file: String,
        expected: Digest,
        actual: Digest,
    },
    /// A file listed in the manifest is absent.
    Missing { file: String },
    /// A file is present but not listed in the manifest.
    Extra { file: String },
    /// An entry that can never be part of a bundle (symlink, device, escaping path, bad name).
    Rejected { file: String, reason: String },
    /// A listed file cannot be decoded as an object.
    Unparseable { file: String, message: String },
    /// A listed file decodes, but is not in canonical form.
    NotCanonical { file: String },
    /// The object in a file is not the one the manifest says.
    IdMismatch {
        file: String,
        expected: String,
        actual: String,
    },
}

impl Problem {
    /// One line describing the problem.
    pub fn describe(&self) -> String {
        match self {
            Problem::ManifestMissing => format!("{}: missing", layout::MANIFEST),
            Problem::ManifestInvalid {
                message,
                line,
                column,
            } => format!(
                "{}:{line}:{column}: invalid manifest: {message}",
                layout::MANIFEST
            ),
            Problem::ManifestNotCanonical => {
                format!("{}: not in canonical form (edited?)", layout::MANIFEST)
            }
            Problem::UnsupportedFormat { format } => format!(
                "{}: unsupported format `{format}` (this version reads `{FORMAT}`)",
                layout::MANIFEST
            ),
            Problem::Inconsistent { message } => format!("{}: {message}", layout::MANIFEST),
            Problem::DigestMismatch { expected, actual } => {
                format!("bundle digest is {actual}, expected {expected}")
            }
            Problem::Tampered {
                file,
                expected,
                actual,
            } => format!("{file}: tampered (digest {actual}, manifest says {expected})"),
            Problem::Missing { file } => format!("{file}: missing"),
            Problem::Extra { file } => format!("{file}: extra file not in the manifest"),
            Problem::Rejected { file, reason } => format!("{file}: rejected: {reason}"),
            Problem::Unparseable { file, message } => format!("{file}: cannot decode: {message}"),
            Problem::NotCanonical { file } => format!("{file}: not in canonical form"),
            Problem::IdMismatch {
                file,
                expected,
                actual,
            } => format!("{file}: holds {actual}, manifest says {expected}"),
        }
    }
}

impl VerifyReport {
    /// Whether the bundle verified.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// A human-readable report: a status line, then one line per problem.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let digest = self
            .digest
            .map(|d| d.to_string())
            .unwrap_or_else(|| "unknown digest".into());
        if self.is_ok() {
            let _ = writeln!(
                out,
                "ok: {} ({digest}, {} objects verified)",
                self.path, self.objects
            );
        } else {
            let n = self.problems.len();
            let _ = writeln!(
                out,
                "FAILED: {} ({digest}): {n} problem{}",
                self.path,
                if n == 1 { "" } else { "s" }
            );
            for p in &self.problems {
                let _ = writeln!(out, "  {}", p.describe());
            }
        }
        out
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

/// A verified manifest with the decoded objects, in manifest order.
pub(crate) struct Verified {
    pub manifest: Manifest,
    pub digest: Digest,
    pub objects: Vec<Value>,
}

/// Verifies the files of a bundle; returns the report and, when it is clean, the contents.
pub(crate) fn verify_raw(
    raw: &RawBundle,
    path: String,
    expected: Option<Digest>,
) -> (VerifyReport, Option<Verified>) {
    verify_raw_selected(raw, path, expected, &|_| true)
}

/// Like [`verify_raw`], but objects for which `decode` is false are only checked against their
/// digest and get `null` as their value. Only for callers that never look at those values.
pub(crate) fn verify_raw_selected(
    raw: &RawBundle,
    path: String,
    expected: Option<Digest>,
    decode: &(dyn Fn(&ObjectEntry) -> bool + Sync),
) -> (VerifyReport, Option<Verified>) {
    let mut report = VerifyReport {
        path,
        digest: None,
        objects: 0,
        problems: Vec::new(),
    };
    for (file, reason) in &raw.rejected {
        report.problems.push(Problem::Rejected {
            file: file.clone(),
            reason: reason.clone(),
        });
    }
    let Some(manifest_bytes) = raw.files.get(layout::MANIFEST) else {
        report.problems.push(Problem::ManifestMissing);
        return (report, None);
    };
    let digest = Digest::of(manifest_bytes);
    report.digest = Some(digest);
    if let Some(expected) = expected
        && expected != digest
    {
        report.problems.push(Problem::DigestMismatch {
            expected,
            actual: digest,
        });
    }
    let manifest: Manifest = match serde_json::from_slice(manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            report.problems.push(Problem::ManifestInvalid {
                message: e.to_string(),
                line: e.line(),
                column: e.column(),
            });
            return (report, None);
        }
    };
    if manifest.format != FORMAT {
        report.problems.push(Problem::UnsupportedFormat {
            format: manifest.format.clone(),
        });
        return (report, None);
    }
    match canonical::manifest_bytes(&manifest) {
        Ok(bytes) if &bytes == manifest_bytes => {}
        _ => report.problems.push(Problem::ManifestNotCanonical),
    }
    check_consistency(&manifest, &mut report.problems);

    let mut listed = BTreeSet::new();
    let mut work: Vec<(&ObjectEntry, Option<&Vec<u8>>)> = Vec::new();
    for entry in manifest.components.iter().flat_map(|c| &c.objects) {
        report.objects += 1;
        if !listed.insert(entry.file.as_str()) {
            report.problems.push(Problem::Inconsistent {
                message: format!("file `{}` is listed more than once", entry.file),
            });
            continue;
        }
        work.push((entry, raw.files.get(&entry.file)));
    }
    let mut objects = Vec::with_capacity(work.len());
    for outcome in par::map(&work, |(entry, bytes)| {
        check_object(entry, *bytes, decode(entry))
    }) {
        match outcome {
            Ok(value) => objects.push(value),
            Err(problems) => report.problems.extend(problems),
        }
    }
    for file in raw.files.keys() {
        if file != layout::MANIFEST && !listed.contains(file.as_str()) {
            report.problems.push(Problem::Extra { file: file.clone() });
        }
    }
    if report.is_ok() {
        let verified = Verified {
            manifest,
            digest,
            objects,
        };
        (report, Some(verified))
    } else {
        (report, None)
    }
}

/// Decodes an object file and tells whether it is in canonical form. The fast reader handles
/// canonical files; anything else goes through the full decoder for a value or an error message.
fn decode_object(bytes: &[u8]) -> Result<(Value, bool), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    if let Some(value) = kiln_yaml::parse_emitted(text)
        && canonical::object_bytes(&value) == bytes
    {
        return Ok((value, true));
    }
    let value = kiln_yaml::from_str(text).map_err(|e| match (e.line, e.column) {
        (Some(l), Some(c)) => format!("{l}:{c}: {}", e.message),
        _ => e.message,
    })?;
    let canonical = canonical::object_bytes(&value) == bytes;
    Ok((value, canonical))
}

/// Checks one listed object file: present, digest, decodable, canonical, identity.
fn check_object(
    entry: &ObjectEntry,
    bytes: Option<&Vec<u8>>,
    decode: bool,
) -> Result<Value, Vec<Problem>> {
    let file = || entry.file.clone();
    let Some(bytes) = bytes else {
        return Err(vec![Problem::Missing { file: file() }]);
    };
    let actual = Digest::of(bytes);
    if actual != entry.digest {
        return Err(vec![Problem::Tampered {
            file: file(),
            expected: entry.digest,
            actual,
        }]);
    }
    if !decode {
        return Ok(Value::Null);
    }
    let (value, canonical) = decode_object(bytes).map_err(|message| {
        vec![Problem::Unparseable {
            file: file(),
            message,
        }]
    })?;
    let mut problems = Vec::new();
    if !canonical {
        problems.push(Problem::NotCanonical { file: file() });
    }
    match ObjectId::of(&value) {
        Ok(id) if id == entry.id => {}
        Ok(id) => problems.push(Problem::IdMismatch {
            file: file(),
            expected: entry.id.to_string(),
            actual: id.to_string(),
        }),
        Err(reason) => problems.push(Problem::IdMismatch {
            file: file(),
            expected: entry.id.to_string(),
            actual: format!("an object that {reason}"),
        }),
    }
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(problems)
    }
}

fn check_consistency(manifest: &Manifest, problems: &mut Vec<Problem>) {
    let mut wave_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, wave) in manifest.waves.iter().enumerate() {
        for name in wave {
            if wave_of.insert(name, i).is_some() {
                problems.push(Problem::Inconsistent {
                    message: format!("component `{name}` is in more than one wave"),
                });
            }
        }
    }
    let names: BTreeSet<&str> = manifest
        .components
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    for c in &manifest.components {
        if wave_of.get(c.name.as_str()) != Some(&c.wave) {
            problems.push(Problem::Inconsistent {
                message: format!(
                    "component `{}` is not in wave {} of `waves`",
                    c.name, c.wave
                ),
            });
        }
        for dep in &c.depends_on {
            let earlier = wave_of.get(dep.as_str()).is_some_and(|&w| w < c.wave);
            if !names.contains(dep.as_str()) || !earlier {
                problems.push(Problem::Inconsistent {
                    message: format!(
                        "component `{}` depends on `{dep}`, which is not a component of an earlier wave",
                        c.name
                    ),
                });
            }
        }
    }
    for name in wave_of.keys() {
        if !names.contains(name) {
            problems.push(Problem::Inconsistent {
                message: format!("wave lists unknown component `{name}`"),
            });
        }
    }
}
