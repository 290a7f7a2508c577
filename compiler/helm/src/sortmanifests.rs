//! What Helm does with rendered files before printing them (`releaseutil.SortManifests`): split each
//! file into documents, drop empty ones, parse each document's head (an error names the template),
//! separate hooks (by the `helm.sh/hook` annotation; unknown hook types are dropped), and order
//! manifests by kind (Helm's install order) keeping file order within a kind.
//!
//! Documents are checked and their heads read on all cores; only the head is built, since the
//! printed text is the rendered text (callers wanting objects decode the kept documents).

use crate::error::HelmError;
use crate::yamlvalues::{self, Head};

/// One rendered document.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Template path, e.g. `chart/templates/deployment.yaml`.
    pub path: String,
    /// The document text (trimmed), as printed after `# Source:`.
    pub content: String,
    /// False for a document that decodes to null (only comments).
    pub present: bool,
    pub kind: String,
    /// 1-based line of the document within the rendered file.
    pub line: usize,
}

/// Helm's install order of kinds; unknown kinds go last, sorted by name.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// Splits a rendered file like Helm's `SplitManifests` (regexp `(?:^|\s*\n)---\s*`), returning each
/// non-empty document, trimmed, with its 1-based line in the file.
pub fn split_manifests(text: &str) -> Vec<(String, usize)> {
    document_ranges(text)
        .into_iter()
        .map(|(a, b, line)| (text[a..b].to_string(), line))
        .collect()
}

/// [`split_manifests`] as byte ranges of `text` (each document trimmed) and lines.
fn document_ranges(text: &str) -> Vec<(usize, usize, usize)> {
    let lead = text.len() - text.trim_start().len();
    let trimmed = text.trim();
    let mut out = Vec::new();
    let mut line = 1 + text[..lead].matches('\n').count();
    let mut counted = 0;
    for (a, b) in separator_pieces(trimmed) {
        let seg = &trimmed[a..b];
        if seg.is_empty() {
            continue;
        }
        let start = a + (seg.len() - seg.trim_start().len());
        line += memchr::memchr_iter(b'\n', &trimmed.as_bytes()[counted..start]).count();
        counted = start;
        let doc = seg.trim();
        let from = lead + start;
        out.push((from, from + doc.len(), line));
    }
    out
}

/// The documents of a rendered file with their lines; a file that is one document (most are)
/// becomes it without a copy.
fn into_documents(mut text: String) -> Vec<(String, usize)> {
    let ranges = document_ranges(&text);
    if let [(a, b, line)] = ranges[..] {
        text.truncate(b);
        text.drain(..a);
        return vec![(text, line)];
    }
    ranges
        .into_iter()
        .map(|(a, b, line)| (text[a..b].to_string(), line))
        .collect()
}

/// Go's `\s` (RE2: ASCII space, tab, newline, form feed, carriage return).
fn is_go_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0c)
}

/// The byte ranges between matches of `(?:^|\s*\n)---\s*`, as Go's `Regexp.Split(s, -1)` yields
/// them: matches are leftmost and do not overlap, `\s*` is greedy, `^` is the start of the text.
fn separator_pieces(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let mut last = 0;
    let mut from = 0;
    if text.starts_with("---") {
        let mut end = 3;
        while end < bytes.len() && is_go_space(bytes[end]) {
            end += 1;
        }
        pieces.push((0, 0));
        last = end;
        from = end;
    }
    let separator = memchr::memmem::Finder::new(b"\n---");
    while let Some(off) = separator.find(&bytes[from..]) {
        let nl = from + off;
        let mut start = nl;
        while start > last && is_go_space(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = nl + 4;
        while end < bytes.len() && is_go_space(bytes[end]) {
            end += 1;
        }
        pieces.push((last, start));
        last = end;
        from = end;
    }
    pieces.push((last, bytes.len()));
    pieces
}

/// Sorted manifests and hooks of a render.
#[derive(Debug, Default)]
pub struct Sorted {
    pub manifests: Vec<Manifest>,
    pub hooks: Vec<Manifest>,
}

fn kind_rank(kind: &str) -> Option<usize> {
    INSTALL_ORDER.iter().position(|k| *k == kind)
}

fn sort_by_kind(v: &mut [Manifest]) {
    v.sort_by(|a, b| match (kind_rank(&a.kind), kind_rank(&b.kind)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.kind.cmp(&b.kind),
    });
}

/// Sorts rendered files (path, text), already in path order.
pub fn sort_manifests(files: Vec<(String, String)>) -> Result<Sorted, HelmError> {
    let mut paths = Vec::new();
    let mut docs: Vec<(usize, String, usize)> = Vec::new();
    for (path, text) in files {
        let base = path.rsplit('/').next().unwrap_or(&path);
        if base.starts_with('_') || text.trim().is_empty() {
            continue;
        }
        for (doc, line) in into_documents(text) {
            docs.push((paths.len(), doc, line));
        }
        paths.push(path);
    }
    let size: usize = docs.iter().map(|(_, doc, _)| doc.len()).sum();
    let heads = crate::parallel::map_when(
        size >= crate::parallel::WORTH_A_THREAD,
        &docs,
        |(_, doc, _)| yamlvalues::decode_head(doc),
    );
    let mut sorted = Sorted::default();
    for ((file, doc, line), head) in docs.into_iter().zip(heads) {
        let path = paths[file].as_str();
        let head: Head = match head {
            Ok(h) => h,
            Err(e) => {
                let msg = format!(
                    "YAML parse error on {path}: error converting YAML to JSON: yaml: {}",
                    e.message
                );
                let mut err = HelmError::msg(msg);
                if let Some(l) = e.line {
                    err = err.at(path, &doc, l, e.column.unwrap_or(1), "invalid YAML here");
                    err.line = Some(l + line - 1);
                }
                return Err(err.with_help("the template produced text that is not valid YAML"));
            }
        };
        let m = Manifest {
            path: path.to_string(),
            content: doc,
            present: head.present,
            kind: head.kind,
            line,
        };
        match head.hook {
            None => sorted.manifests.push(m),
            Some(h) => {
                let known = h
                    .split(',')
                    .all(|t| HOOK_EVENTS.contains(&t.trim().to_lowercase().as_str()));
                if known {
                    sorted.hooks.push(m);
                } else {
                    eprintln!("info: skipping unknown hook: {h:?}");
                }
            }
        }
    }
    sort_by_kind(&mut sorted.manifests);
    sort_by_kind(&mut sorted.hooks);
    Ok(sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_separators_and_drops_empty_documents() {
        let docs = split_manifests("\n---\na: 1\n---\nb: 2\n---\n");
        let texts: Vec<&str> = docs.iter().map(|(d, _)| d.as_str()).collect();
        assert_eq!(texts, vec!["a: 1", "b: 2"]);
        assert_eq!(docs[0].1, 3);
        // Like Go's regexp split, a separator's trailing whitespace swallows the next newline,
        // so a directly following `---` stays in the document (and YAML reads it as a marker).
        let docs = split_manifests("a: 1\n---  \n---\nb: 2");
        assert_eq!(docs[1].0, "---\nb: 2");
    }

    proptest::proptest! {
        #[test]
        fn a_file_becomes_the_documents_split_manifests_finds(
            parts in proptest::collection::vec(
                proptest::sample::select(vec!["---", "--- ", "\n", " ", "\t", "a: 1", "b", "#c", "\r\n"]),
                0..12,
            )
        ) {
            let text: String = parts.concat();
            proptest::prop_assert_eq!(into_documents(text.clone()), split_manifests(&text));
        }
    }

    #[test]
    fn orders_by_kind_then_file_order_and_separates_hooks() {
        let files = vec![
            ("c/templates/a.yaml".to_string(), "kind: Deployment\nmetadata: {name: d}\n---\nkind: Service\nmetadata: {name: s}".to_string()),
            ("c/templates/b.yaml".to_string(), "kind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\n---\nkind: Pod\nmetadata:\n  name: u\n  annotations:\n    helm.sh/hook: nonsense\n".to_string()),
            ("c/templates/c.yaml".to_string(), "kind: Foo\n---\nkind: ConfigMap".to_string()),
        ];
        let s = sort_manifests(files).unwrap();
        let kinds: Vec<&str> = s.manifests.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(kinds, vec!["ConfigMap", "Service", "Deployment", "Foo"]);
        assert_eq!(s.hooks.len(), 1);
    }

    #[test]
    fn invalid_yaml_names_the_template() {
        let files = vec![(
            "c/templates/a.yaml".to_string(),
            "a: b\n c: d\n".to_string(),
        )];
        let e = sort_manifests(files).unwrap_err();
        assert!(
            e.message()
                .starts_with("YAML parse error on c/templates/a.yaml"),
            "{}",
            e.message()
        );
    }
}
