//! Per-file sharing of the names and constants a parse tree holds: each distinct field or variable
//! name and chain, string literal and number text of a file is allocated (and a string unquoted, a function
//! looked up) once, however often the file repeats it. Charts repeat the same few names and
//! `include "x.fullname"` strings hundreds of times, so this saves most of the parser's small
//! allocations. Keys borrow the file's text; the hash is foldhash's fast, fixed-seed one (the keys
//! are template text, and a collision only costs time).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use foldhash::fast::FixedState;

use crate::ast::{Func, Idents};
use crate::builtins::Builtin;
use crate::func::FuncMap;
use crate::gofmt;
use crate::strconv;

pub(crate) struct Names<'a> {
    funcs: &'a FuncMap,
    names: HashMap<&'a str, Arc<str>, FixedState>,
    idents: HashMap<&'a str, (Arc<str>, Func), FixedState>,
    strings: HashMap<&'a str, (Arc<str>, Arc<str>), FixedState>,
    chains: HashMap<&'a str, Idents, FixedState>,
}

impl<'a> Names<'a> {
    pub(crate) fn new(funcs: &'a FuncMap) -> Self {
        Names {
            funcs,
            names: HashMap::default(),
            idents: HashMap::default(),
            strings: HashMap::default(),
            chains: HashMap::default(),
        }
    }

    /// The shared allocation of a name (or number text).
    pub(crate) fn name(&mut self, name: &'a str) -> Arc<str> {
        self.names
            .entry(name)
            .or_insert_with(|| name.into())
            .clone()
    }

    /// The names of a field chain (`.a.b`, from its text) or variable chain (`$x.a`).
    pub(crate) fn chain(&mut self, text: &'a str, variable: bool) -> Idents {
        if let Some(idents) = self.chains.get(text) {
            return idents.clone();
        }
        let names = if variable { text } else { &text[1..] };
        let idents: Idents = names.split('.').map(|n| self.name(n)).collect();
        self.chains.insert(text, idents.clone());
        idents
    }

    /// A function name and the function it calls: a registered one, else a builtin.
    pub(crate) fn function(&mut self, name: &'a str) -> Result<(Arc<str>, Func), String> {
        let entry = match self.idents.entry(name) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let func = match self.funcs.get(name) {
                    Some(f) => Func::User(f.clone()),
                    None => match Builtin::from_name(name) {
                        Some(b) => Func::Builtin(b),
                        None => {
                            return Err(format!("function {} not defined", gofmt::quote(name)));
                        }
                    },
                };
                e.insert((name.into(), func))
            }
        };
        Ok((entry.0.clone(), entry.1.clone()))
    }

    /// A string literal's quoted text and its value.
    pub(crate) fn string(&mut self, quoted: &'a str) -> Result<(Arc<str>, Arc<str>), String> {
        let entry = match self.strings.entry(quoted) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let value = strconv::unquote(quoted).map_err(|e| e.to_string())?;
                e.insert((quoted.into(), value.into()))
            }
        };
        Ok((entry.0.clone(), entry.1.clone()))
    }
}
