//! Sharing of the names and constants parse trees hold, across every file parsed into one
//! template set: each distinct field or variable name and chain, string literal and number text is
//! allocated (and a string unquoted, a function looked up) once, however often the chart repeats
//! it. Charts repeat the same few names and `include "x.fullname"` strings hundreds of times, in
//! every file, so this saves most of the parser's small allocations and lookups.
//!
//! A set keeps them in a [`super::ParsePool`], which lends them to one parse at a time. The hash is foldhash's fast, fixed-seed one (the keys
//! are template text, and a collision only costs time).

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use foldhash::fast::FixedState;
use smallvec::SmallVec;

use crate::ast::{Func, Idents, StringLiteral};
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
    /// String literals, looked up by their quoted text.
    strings: HashSet<ByQuoted, FixedState>,
    chains: HashMap<Box<str>, Idents, FixedState>,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            names: HashSet::with_capacity_and_hasher(INITIAL_CAPACITY, FixedState::default()),
            idents: HashMap::with_capacity_and_hasher(INITIAL_CAPACITY / 4, FixedState::default()),
            strings: HashSet::with_capacity_and_hasher(INITIAL_CAPACITY, FixedState::default()),
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
        let mut parts: SmallVec<[Arc<str>; 8]> = SmallVec::new();
        let mut rest = names;
        while let Some(dot) = memchr::memchr(b'.', rest.as_bytes()) {
            parts.push(self.name(&rest[..dot]));
            rest = &rest[dot + 1..];
        }
        parts.push(self.name(rest));
        let idents: Idents = Arc::from(&parts[..]);
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

    /// A string literal, from its quoted text.
    pub(crate) fn string(&mut self, quoted: &str) -> Result<Arc<StringLiteral>, String> {
        if let Some(literal) = self.strings.get(quoted) {
            return Ok(literal.0.clone());
        }
        let value: Arc<str> = match plain_value(quoted) {
            Some(value) => value.into(),
            None => strconv::unquote(quoted).map_err(|e| e.to_string())?.into(),
        };
        let literal = Arc::new(StringLiteral {
            quoted: quoted.into(),
            value,
        });
        self.strings.insert(ByQuoted(literal.clone()));
        Ok(literal)
    }
}

/// The value of a string token that needs no unquoting: a quoted string without escapes or a raw
/// string without carriage returns (the lexer guarantees the rest of what unquoting checks).
fn plain_value(quoted: &str) -> Option<&str> {
    let inner = quoted.get(1..quoted.len().checked_sub(1)?)?;
    let special = match quoted.as_bytes()[0] {
        b'"' => b'\\',
        b'`' => b'\r',
        _ => return None,
    };
    memchr::memchr(special, inner.as_bytes())
        .is_none()
        .then_some(inner)
}

/// A string literal as a set member: found by its quoted text.
struct ByQuoted(Arc<StringLiteral>);

impl Borrow<str> for ByQuoted {
    fn borrow(&self) -> &str {
        &self.0.quoted
    }
}

impl Hash for ByQuoted {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.quoted.hash(state);
    }
}

impl PartialEq for ByQuoted {
    fn eq(&self, other: &Self) -> bool {
        self.0.quoted == other.0.quoted
    }
}

impl Eq for ByQuoted {}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::plain_value;
    use crate::strconv;

    proptest! {
        /// A string token's value taken as it stands is the value unquoting gives.
        #[test]
        fn plain_values_are_unquoted_values(
            pieces in proptest::collection::vec(
                proptest::sample::select(&["a", " ", "\\", "\\n", "\r", "\n", "é", "'", "\"", "`", "\t"][..]),
                0..8,
            ),
            quote in proptest::sample::select(&["\"", "`", "'"][..]),
        ) {
            let inner = pieces.concat();
            // What the lexer takes as one string token.
            let escaped = inner.replace("\\\\", "").replace("\\\"", "");
            prop_assume!(match quote {
                "`" => !inner.contains('`'),
                _ => !escaped.contains(quote) && !inner.contains('\n') && !inner.ends_with('\\'),
            });
            let quoted = format!("{quote}{inner}{quote}");
            if let Some(value) = plain_value(&quoted) {
                let unquoted = strconv::unquote(&quoted).ok();
                prop_assert_eq!(unquoted.as_deref(), Some(value));
            }
        }
    }
}
