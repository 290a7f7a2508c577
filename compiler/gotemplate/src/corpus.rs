//! The chart templates the tests read from a corpus of real charts: every file under a
//! `templates` directory below `$KILN_PARSE_CHARTS` (default: the conformance corpus), in path
//! order. Empty when the corpus is absent; tests that use it say so and skip.

use std::path::PathBuf;

pub(crate) fn template_files() -> Vec<PathBuf> {
    let root = std::env::var("KILN_PARSE_CHARTS")
        .unwrap_or_else(|_| "/work/shared/conformance/helm/cases".into());
    let mut stack = vec![(PathBuf::from(root), false)];
    let mut files = Vec::new();
    while let Some((dir, in_templates)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push((path, in_templates || e.file_name() == "templates"));
            } else if in_templates {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
