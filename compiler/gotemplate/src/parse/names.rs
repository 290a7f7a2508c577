//! Sharing of the names and constants parse trees hold, across every file parsed into one
//! template set: each distinct field or variable name and chain, string literal and number text is
//! allocated (and a string unquoted, a function looked up) once, however often the chart repeats
//! it. Charts repeat the same few names and `include "x.fullname"` strings hundreds of times, in
//! every file, so this saves most of the parser's small allocations and lookups.
//!
//! A set keeps them in a [`super::ParsePool`], which lends them to one parse at a time. The hash is foldhash's fast, fixed-seed one (the keys
//! are template text, and a collision only costs time).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use foldhash::fast::FixedState;

use crate::ast::{Func, Idents};
use crate::builtins::Builtin;
use crate::func::FuncMap;
use crate::gofmt;
use crate::strconv;

/// Entries a new table makes room for: a small chart's worth, so that tables rarely grow.
const INITIAL_CAPACITY: usize = 256;

pub(crate) struct Names {
    names: HashSet<Arc<str>, FixedState>,
    /// Function name -> the function it calls (valid for the function map of one set).
    idents: HashMap<Arc<str>, Arc<Func>, FixedState>,
    /// Quoted text -> value.
    strings: HashMap<Arc<str>, Arc<str>, FixedState>,
    chains: HashMap<Box<str>, Idents, FixedState>,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            names: HashSet::with_capacity_and_hasher(INITIAL_CAPACITY, FixedState::default()),
            idents: HashMap::with_capacity_and_hasher(INITIAL_CAPACITY / 4, FixedState::default()),
            strings: HashMap::with_capacity_and_hasher(INITIAL_CAPACITY, FixedState::default()),
            chains: HashMap::with_capacity_and_hasher(INITIAL_CAPACITY, FixedState::default()),
        }
    }
}

impl Names {
    /// The shared allocation of a name (or number text).
    pub(crate) fn name(&mut self, name: &str) -> Arc<str> {
        if let Some(n) = self.names.get(name) {
            return n.clone();
        }
        let n: Arc<str> = name.into();
        self.names.insert(n.clone());
        n
    }

    /// The names of a field chain (`.a.b`, from its text) or variable chain (`$x.a`).
    pub(crate) fn chain(&mut self, text: &str, variable: bool) -> Idents {
        if let Some(idents) = self.chains.get(text) {
            return idents.clone();
        }
        let names = if variable { text } else { &text[1..] };
        let idents: Idents = names.split('.').map(|n| self.name(n)).collect();
        self.chains.insert(text.into(), idents.clone());
        idents
    }

    /// A function name and the function it calls: a registered one, else a builtin.
    pub(crate) fn function(
        &mut self,
        funcs: &FuncMap,
        name: &str,
    ) -> Result<(Arc<str>, Arc<Func>), String> {
        if let Some((n, f)) = self.idents.get_key_value(name) {
            return Ok((n.clone(), f.clone()));
        }
        let func = match funcs.get(name) {
            Some(f) => Func::User(f.clone()),
            None => match Builtin::from_name(name) {
                Some(b) => Func::Builtin(b),
                None => return Err(format!("function {} not defined", gofmt::quote(name))),
            },
        };
        let func = Arc::new(func);
        let n = self.name(name);
        self.idents.insert(n.clone(), func.clone());
        Ok((n, func))
    }

    /// A string literal's quoted text and its value.
    pub(crate) fn string(&mut self, quoted: &str) -> Result<(Arc<str>, Arc<str>), String> {
        if let Some((q, v)) = self.strings.get_key_value(quoted) {
            return Ok((q.clone(), v.clone()));
        }
        let value: Arc<str> = strconv::unquote(quoted).map_err(|e| e.to_string())?.into();
        let q: Arc<str> = quoted.into();
        self.strings.insert(q.clone(), value.clone());
        Ok((q, value))
    }
}
