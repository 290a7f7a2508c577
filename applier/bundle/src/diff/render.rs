//! Rendering a [`BundleDiff`] as text for terminals, Markdown for pull-request comments, and JSON
//! for machines. All three are deterministic functions of the diff.

use super::{BundleDiff, ComponentDiff, FieldChange, FieldOp, ObjectDiff, Status};
use crate::model::Tenancy;
use serde_json::Value;
use std::fmt::Write as _;

/// The default size budget of [`BundleDiff::to_markdown`], below GitHub's comment limit.
pub const MARKDOWN_LIMIT: usize = 60_000;

impl BundleDiff {
    /// Plain text: a header, a summary line, then one block per differing object.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "diff {} ({}) -> {} ({})",
            self.from.path,
            self.from.digest.short(12),
            self.to.path,
            self.to.digest.short(12)
        );
        let _ = writeln!(out, "{}", self.summary_line());
        for c in &self.components {
            let _ = writeln!(out, "{}", component_line(c));
        }
        if self.lock_changed {
            let _ = writeln!(out, "lock data changed");
        }
        for o in &self.objects {
            out.push('\n');
            let _ = writeln!(out, "{}", object_line(o));
            for f in &o.fields {
                for line in field_lines(f) {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
        out
    }

    fn summary_line(&self) -> String {
        let s = &self.summary;
        format!(
            "{} added, {} removed, {} changed, {} moved, {} unchanged",
            s.added, s.removed, s.changed, s.moved, s.unchanged
        )
    }

    /// Markdown for a pull-request comment: a title, a summary table, a table of differing
    /// objects, and a collapsible `diff` block of field changes per changed object; at most
    /// [`MARKDOWN_LIMIT`] bytes (GitHub refuses comments over 65,536 characters).
    pub fn to_markdown(&self) -> String {
        self.to_markdown_limited(MARKDOWN_LIMIT)
    }

    /// [`BundleDiff::to_markdown`] within about `limit` bytes: object rows stop at two thirds of
    /// it and detail blocks at the limit, each with a note saying how many were left out.
    pub fn to_markdown_limited(&self, limit: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "### kiln diff: `{}` / `{}`\n",
            md_code(&self.to.project),
            md_code(&self.to.target)
        );
        let _ = writeln!(
            out,
            "`{}` → `{}`\n",
            self.from.digest.short(12),
            self.to.digest.short(12)
        );
        if self.is_empty() {
            let _ = writeln!(out, "No changes to objects or components.");
            if self.lock_changed {
                let _ = writeln!(out, "\nThe lock data changed.");
            }
            return out;
        }
        let s = &self.summary;
        out.push_str("| Added | Removed | Changed | Moved | Unchanged |\n");
        out.push_str("|---:|---:|---:|---:|---:|\n");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |\n",
            s.added, s.removed, s.changed, s.moved, s.unchanged
        );
        if !self.components.is_empty() {
            out.push_str("**Components**\n\n");
            for c in &self.components {
                let _ = writeln!(out, "- {}", md_escape(&component_line(c)));
            }
            out.push('\n');
        }
        if self.lock_changed {
            out.push_str("The lock data changed.\n\n");
        }
        if !self.objects.is_empty() {
            out.push_str("| | Kind | Namespace | Name | Component | Fields |\n");
            out.push_str("|---|---|---|---|---|---:|\n");
            for (shown, o) in self.objects.iter().enumerate() {
                if out.len() > limit / 3 * 2 {
                    let _ = writeln!(
                        out,
                        "| | … {} more objects not shown | | | | |",
                        self.objects.len() - shown
                    );
                    break;
                }
                let kind = if o.key.group.is_empty() {
                    o.key.kind.clone()
                } else {
                    format!("{}.{}", o.key.kind, o.key.group)
                };
                let component = match &o.moved_from {
                    Some(from) => format!("`{}` → `{}`", md_code(from), md_code(&o.component)),
                    None => format!("`{}`", md_code(&o.component)),
                };
                let fields = if o.fields.is_empty() {
                    String::new()
                } else {
                    o.fields.len().to_string()
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | `{}` | {component} | {fields} |",
                    status_word(o.status),
                    md_escape(&kind),
                    o.key
                        .namespace
                        .as_deref()
                        .map(md_escape)
                        .unwrap_or_default(),
                    md_code(&o.key.name),
                );
            }
            out.push('\n');
        }
        let detailed: Vec<&ObjectDiff> = self
            .objects
            .iter()
            .filter(|o| !o.fields.is_empty())
            .collect();
        for (shown, o) in detailed.iter().enumerate() {
            let body: Vec<String> = o.fields.iter().flat_map(diff_block_lines).collect();
            let fence = fence_for(&body);
            let size: usize = body.iter().map(|l| l.len() + 1).sum::<usize>() + 200;
            if out.len() + size > limit {
                let _ = writeln!(
                    out,
                    "_Field changes of {} more objects not shown; run `kiln diff` for the full output._",
                    detailed.len() - shown
                );
                break;
            }
            let _ = writeln!(
                out,
                "<details>\n<summary><code>{}</code> ({} field{})</summary>\n",
                html_escape(&o.key.display_name()),
                o.fields.len(),
                if o.fields.len() == 1 { "" } else { "s" }
            );
            let _ = writeln!(out, "{fence}diff");
            for line in body {
                let _ = writeln!(out, "{line}");
            }
            let _ = writeln!(out, "{fence}\n</details>\n");
        }
        out
    }

    /// Pretty JSON of the whole diff.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Added => "added",
        Status::Removed => "removed",
        Status::Changed => "changed",
        Status::Moved => "moved",
    }
}

fn object_line(o: &ObjectDiff) -> String {
    let sign = match o.status {
        Status::Added => '+',
        Status::Removed => '-',
        Status::Changed => '~',
        Status::Moved => '>',
    };
    let place = match &o.moved_from {
        Some(from) => format!("component {from} -> {}", o.component),
        None => format!("component {}", o.component),
    };
    format!(
        "{sign} {} ({place}, {})",
        o.key.display_name(),
        status_word(o.status)
    )
}

fn component_line(c: &ComponentDiff) -> String {
    match c.status {
        Status::Added => {
            let tenancy = c
                .to_tenancy
                .as_ref()
                .map(|t| {
                    format!(
                        "; service account {}; namespaces {}",
                        service_account(t),
                        namespaces(t)
                    )
                })
                .unwrap_or_default();
            format!(
                "component {} added (wave {}{tenancy})",
                c.name,
                c.to_wave.unwrap_or_default()
            )
        }
        Status::Removed => format!("component {} removed", c.name),
        _ => {
            let mut parts = Vec::new();
            if c.from_wave != c.to_wave {
                parts.push(format!(
                    "wave {} -> {}",
                    c.from_wave.unwrap_or_default(),
                    c.to_wave.unwrap_or_default()
                ));
            }
            if c.from_depends_on != c.to_depends_on {
                let list = |d: &Option<Vec<String>>| {
                    format!("[{}]", d.as_deref().unwrap_or_default().join(", "))
                };
                parts.push(format!(
                    "depends-on {} -> {}",
                    list(&c.from_depends_on),
                    list(&c.to_depends_on)
                ));
            }
            let unrestricted = Tenancy::default();
            let from = c.from_tenancy.as_ref().unwrap_or(&unrestricted);
            let to = c.to_tenancy.as_ref().unwrap_or(&unrestricted);
            {
                if from.service_account != to.service_account {
                    parts.push(format!(
                        "service account {} -> {}",
                        service_account(from),
                        service_account(to)
                    ));
                }
                if from.namespaces != to.namespaces {
                    parts.push(format!(
                        "namespaces {} -> {}",
                        namespaces(from),
                        namespaces(to)
                    ));
                }
            }
            format!("component {} changed: {}", c.name, parts.join("; "))
        }
    }
}

/// The identity the applier acts as for a component: its service account, or the applier's own.
fn service_account(t: &Tenancy) -> String {
    t.service_account
        .clone()
        .unwrap_or_else(|| "(none: the applier's own identity)".into())
}

/// The namespaces a component may write to: a list, or anywhere.
fn namespaces(t: &Tenancy) -> String {
    match &t.namespaces {
        Some(list) => format!("[{}]", list.join(", ")),
        None => "(unrestricted)".into(),
    }
}

/// A value on one line: plain strings bare, other scalars as JSON, collections as compact JSON.
fn inline(v: &Value) -> String {
    match v {
        Value::String(s) if kiln_yaml::emit::plain_is_safe(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn is_multiline(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::String(s)) if s.contains('\n'))
}

/// Text lines for one field change: `path: a -> b`, `+ path: v`, `- path: v`, or a line diff
/// for multi-line strings.
/// The lines `kiln diff` prints for one field change (without indentation): `+ path: value`,
/// `- path: value`, `~ path: old -> new`, or a line diff for multi-line strings. The applier's
/// dry-run and drift reports use it so every field change in kiln reads the same.
pub fn field_lines(f: &FieldChange) -> Vec<String> {
    match f.op {
        FieldOp::Added => vec![format!("+ {}: {}", f.path, opt(&f.to))],
        FieldOp::Removed => vec![format!("- {}: {}", f.path, opt(&f.from))],
        FieldOp::Reordered => vec![format!(
            "~ {}: order {} -> {}",
            f.path,
            opt(&f.from),
            opt(&f.to)
        )],
        FieldOp::Changed if is_multiline(f.from.as_ref()) || is_multiline(f.to.as_ref()) => {
            let mut lines = vec![format!("~ {}:", f.path)];
            lines.extend(
                text_diff(str_of(&f.from), str_of(&f.to))
                    .into_iter()
                    .map(|l| format!("    {l}")),
            );
            lines
        }
        FieldOp::Changed => vec![format!("~ {}: {} -> {}", f.path, opt(&f.from), opt(&f.to))],
    }
}

/// Lines for a Markdown `diff` block: removals `-`, additions `+`, context ` `.
fn diff_block_lines(f: &FieldChange) -> Vec<String> {
    match f.op {
        FieldOp::Added => vec![format!("+ {}: {}", f.path, opt(&f.to))],
        FieldOp::Removed => vec![format!("- {}: {}", f.path, opt(&f.from))],
        FieldOp::Reordered => vec![
            format!("- {}: order {}", f.path, opt(&f.from)),
            format!("+ {}: order {}", f.path, opt(&f.to)),
        ],
        FieldOp::Changed if is_multiline(f.from.as_ref()) || is_multiline(f.to.as_ref()) => {
            let mut lines = vec![format!("  {}:", f.path)];
            lines.extend(text_diff(str_of(&f.from), str_of(&f.to)));
            lines
        }
        FieldOp::Changed => vec![
            format!("- {}: {}", f.path, opt(&f.from)),
            format!("+ {}: {}", f.path, opt(&f.to)),
        ],
    }
}

fn opt(v: &Option<Value>) -> String {
    v.as_ref().map(inline).unwrap_or_default()
}

fn str_of(v: &Option<Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(other) => inline(other),
        None => String::new(),
    }
}

/// A line diff of two texts by longest common subsequence of lines (`-`, `+`, or two spaces for
/// common lines), with at most three lines of context around changes.
fn text_diff(a: String, b: String) -> Vec<String> {
    let a: Vec<&str> = a.split_terminator('\n').collect();
    let b: Vec<&str> = b.split_terminator('\n').collect();
    let (n, m) = (a.len(), b.len());
    if n.saturating_mul(m) > 4_000_000 {
        let mut out: Vec<String> = a.iter().map(|l| format!("-   {l}")).collect();
        out.extend(b.iter().map(|l| format!("+   {l}")));
        return out;
    }
    let mut table = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[at(i, j)] = if a[i] == b[j] {
                table[at(i + 1, j + 1)] + 1
            } else {
                table[at(i + 1, j)].max(table[at(i, j + 1)])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j == m || (i < n && table[at(i + 1, j)] >= table[at(i, j + 1)]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    const CONTEXT: usize = 3;
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    if changed.is_empty() {
        return vec!["    (only line breaks at the end differ)".to_string()];
    }
    let keep = |k: usize| {
        changed
            .iter()
            .any(|&c| k + CONTEXT >= c && k <= c + CONTEXT)
    };
    let mut out = Vec::new();
    let mut skipped = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if keep(k) {
            if skipped {
                out.push("  ...".to_string());
                skipped = false;
            }
            out.push(format!("{op}   {line}").trim_end().to_string());
        } else {
            skipped = true;
        }
    }
    if skipped {
        out.push("  ...".to_string());
    }
    out
}

/// A code fence longer than any run of backticks in the lines.
fn fence_for(lines: &[String]) -> String {
    let longest = lines
        .iter()
        .map(|l| l.split(|c| c != '`').map(str::len).max().unwrap_or(0))
        .max()
        .unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Text for inside a Markdown code span: backticks cannot be escaped there, so they are replaced.
fn md_code(s: &str) -> String {
    s.replace('`', "'").replace('|', "\\|").replace('\n', " ")
}

fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#'
        ) {
            out.push('\\');
        }
        if c == '\n' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outgrow_backticks_in_content() {
        assert_eq!(fence_for(&["plain".into()]), "```");
        assert_eq!(fence_for(&["a ```` b".into()]), "`````");
    }

    #[test]
    fn markdown_text_is_escaped() {
        assert_eq!(md_escape("a|b_c*<x>"), "a\\|b\\_c\\*\\<x\\>");
        assert_eq!(md_code("a`b|c"), "a'b\\|c");
    }

    #[test]
    fn text_diff_keeps_context_around_changes() {
        let a: String = (1..=20).map(|i| format!("line{i}\n")).collect();
        let b = a.replace("line10\n", "line10 changed\n");
        let lines = text_diff(a, b);
        assert_eq!(lines.first().map(String::as_str), Some("  ..."));
        assert!(lines.contains(&"-   line10".to_string()));
        assert!(lines.contains(&"+   line10 changed".to_string()));
        assert_eq!(lines.len(), 1 + 3 + 2 + 3 + 1);
        assert_eq!(
            text_diff("a\n".into(), "a".into()),
            ["    (only line breaks at the end differ)"]
        );
    }
}
