//! A set of associated templates (Go's `*template.Template` with its common namespace): parse
//! files into it, then execute any named template with data.

use foldhash::HashMap;
use std::any::Any;
use std::sync::Arc;

use crate::ast::Tree;
use crate::error::Error;
use crate::exec;
use crate::func::FuncMap;
use crate::parse::{self, ParsePool};
use crate::textcache::TextCache;
use crate::value::Value;

/// What a missing map key evaluates to (Go's `missingkey=` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// `missingkey=default` / `invalid`: an invalid value, printed as `<no value>`.
    #[default]
    Default,
    /// `missingkey=zero`: the map's zero element; for `map[string]interface{}` a nil interface,
    /// which also prints `<no value>` and makes a further `.field` fail with
    /// `nil pointer evaluating interface {}.field` (Helm's non-strict mode).
    Zero,
    /// `missingkey=error`: execution stops with `map has no entry for key "x"` (Helm's strict mode).
    Error,
}

/// A set of named templates sharing functions and options.
///
/// Output note for Helm: Go prints a missing value as `<no value>`; Helm replaces that text by
/// the empty string in rendered files and in `tpl` results. This engine prints Go's text; the
/// replacement is the caller's job.
#[derive(Clone)]
pub struct Templates {
    pub(crate) name: String,
    pub(crate) funcs: Arc<FuncMap>,
    pub(crate) trees: HashMap<String, Arc<Tree>>,
    pub(crate) sources: HashMap<String, Arc<str>>,
    pub(crate) missing_key: MissingKey,
    pub(crate) delims: (String, String),
    /// Texts already parsed by `execute_text`.
    pub(crate) texts: TextCache,
    /// Names, constants and buffers shared by the files parsed into this set (and its copies,
    /// which have the same functions).
    reused: Arc<ParsePool>,
}

impl Default for Templates {
    fn default() -> Self {
        Templates::new(FuncMap::new())
    }
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.trees.keys().collect();
        names.sort();
        f.debug_struct("Templates")
            .field("templates", &names)
            .field("missing_key", &self.missing_key)
            .finish_non_exhaustive()
    }
}

impl Templates {
    /// An empty set using `funcs` besides the builtins.
    pub fn new(funcs: FuncMap) -> Self {
        Templates::with_shared_funcs(Arc::new(funcs))
    }

    /// An empty set using a function map shared with other sets (build it once, render many).
    pub fn with_shared_funcs(funcs: Arc<FuncMap>) -> Self {
        Templates {
            name: String::new(),
            funcs,
            trees: HashMap::default(),
            sources: HashMap::default(),
            missing_key: MissingKey::Default,
            delims: ("{{".into(), "}}".into()),
            texts: TextCache::default(),
            reused: Arc::default(),
        }
    }

    /// Names the set (Go's `template.New(name)`; Helm uses `gotpl`), as printed in
    /// `no template "x" associated with template "NAME"`.
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = name.into();
    }

    /// The set's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The functions templates of this set can call (besides builtins).
    pub fn funcs(&self) -> &FuncMap {
        &self.funcs
    }

    pub fn set_missing_key(&mut self, mode: MissingKey) {
        self.missing_key = mode;
    }

    pub fn missing_key(&self) -> MissingKey {
        self.missing_key
    }

    /// Go's `Option("missingkey=...")`.
    pub fn option(&mut self, opt: &str) -> Result<(), Error> {
        let mode = match opt.split_once('=') {
            Some(("missingkey", "invalid" | "default")) => MissingKey::Default,
            Some(("missingkey", "zero")) => MissingKey::Zero,
            Some(("missingkey", "error")) => MissingKey::Error,
            _ => return Err(Error::BadOption(opt.to_string())),
        };
        self.missing_key = mode;
        Ok(())
    }

    /// Action delimiters for texts parsed from now on (Go's `Delims`); empty means the default.
    pub fn set_delims(&mut self, left: &str, right: &str) {
        let l = if left.is_empty() { "{{" } else { left };
        let r = if right.is_empty() { "}}" } else { right };
        self.delims = (l.to_string(), r.to_string());
        self.texts.clear();
    }

    /// Parses `text` as the template `name` (Go's `t.New(name).Parse(text)`): its body becomes
    /// template `name` and each `{{define}}` adds or replaces a template of the set. A body that
    /// is only whitespace and definitions does not replace an existing template of the same name.
    /// On error the set is unchanged.
    pub fn parse(&mut self, name: &str, text: &str) -> Result<(), Error> {
        let parsed = self.parse_detached(name, text)?;
        self.add_parsed(parsed);
        Ok(())
    }

    /// The first half of [`Templates::parse`]: parses `text` with this set's delimiters and
    /// functions without adding it, so that many files can be parsed at once (on several threads)
    /// and then added with [`Templates::add_parsed`] in the order that decides which `define` wins.
    pub fn parse_detached(&self, name: &str, text: impl Into<Arc<str>>) -> Result<Parsed, Error> {
        let source: Arc<str> = text.into();
        let trees = self.reused.with(|reused| {
            parse::parse_sharing(name, &source, &self.delims, &self.funcs, reused)
        })?;
        Ok(Parsed {
            name: name.to_string(),
            source,
            trees,
        })
    }

    /// Adds a file parsed by [`Templates::parse_detached`], exactly as [`Templates::parse`] would.
    pub fn add_parsed(&mut self, parsed: Parsed) {
        for tree in parsed.trees {
            if tree.is_empty_tree() && self.trees.contains_key(&tree.name) {
                continue;
            }
            self.trees.insert(tree.name.clone(), Arc::new(tree));
        }
        self.sources.insert(parsed.name, parsed.source);
    }

    /// Whether a template of that name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// Names of all templates, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.trees.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// The text a file was parsed from (by its parse name), for diagnostics.
    pub fn source(&self, parse_name: &str) -> Option<&str> {
        self.sources.get(parse_name).map(|s| &**s)
    }

    /// Executes template `name` with `data` as dot and `$`.
    pub fn execute(&self, name: &str, data: &Value) -> Result<String, Error> {
        exec::execute(self, name, data.clone(), None)
    }

    /// Like [`Templates::execute`], giving functions access to `state` through
    /// [`crate::CallContext::state`].
    pub fn execute_with_state(
        &self,
        name: &str,
        data: &Value,
        state: &mut (dyn Any + Send),
    ) -> Result<String, Error> {
        exec::execute(self, name, data.clone(), Some(state))
    }
}

/// A parsed file not yet added to a set (see [`Templates::parse_detached`]).
pub struct Parsed {
    name: String,
    source: Arc<str>,
    trees: Vec<Tree>,
}
