//! Parsed trees of the texts run through [`crate::CallContext::execute_text`] (Helm's `tpl`),
//! kept by name and text: charts pass the same few values through `tpl` in every template
//! (Bitnami's `common.tplvalues.render` does it for nearly every field), and parsing such a text
//! costs more than running it. Shared by the threads executing one template set.

use std::sync::{Arc, Mutex};

use foldhash::HashMap;

use crate::ast::Tree;

/// Texts kept before the cache starts over (a bound on memory for charts generating texts).
const MAX_TEXTS: usize = 4096;

/// The trees one text parses into, in the order the parser returned them.
pub(crate) type ParsedText = Arc<[Arc<Tree>]>;

#[derive(Default)]
pub(crate) struct TextCache {
    /// Template name, then text.
    entries: Mutex<HashMap<String, HashMap<Arc<str>, ParsedText>>>,
}

impl TextCache {
    pub(crate) fn get(&self, name: &str, text: &str) -> Option<ParsedText> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(name)?.get(text).cloned()
    }

    pub(crate) fn insert(&self, name: &str, text: Arc<str>, trees: ParsedText) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.values().map(HashMap::len).sum::<usize>() >= MAX_TEXTS {
            entries.clear();
        }
        match entries.get_mut(name) {
            Some(texts) => {
                texts.insert(text, trees);
            }
            None => {
                let mut texts = HashMap::default();
                texts.insert(text, trees);
                entries.insert(name.to_string(), texts);
            }
        }
    }

    /// Forgets every text (their trees depend on the delimiters).
    pub(crate) fn clear(&mut self) {
        self.entries
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// A copy of a template set starts with an empty cache: it may get other delimiters.
impl Clone for TextCache {
    fn clone(&self) -> Self {
        TextCache::default()
    }
}
