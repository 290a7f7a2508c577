//! The fast validator: walks a [`Checked`] schema and the values together and answers valid or
//! not, with no compile step. It answers exactly what jsonschema would, or `None` where it does
//! not implement a case (a float `multipleOf`, a regex engine error, runaway references), so the
//! caller takes the general path.

use std::cmp::Ordering;

use num_cmp::NumCmp;
use serde_json::{Map, Number, Value};

use super::json::{Node, Num};
use super::meta::{Checked, Draft, resolve};

/// How deep schemas may nest (references included) before the general path takes over.
const MAX_DEPTH: usize = 256;

/// Whether `values` satisfies the checked schema; `None` when the fast path cannot tell.
pub fn is_valid(schema: &Checked<'_>, values: &Value) -> Option<bool> {
    Eval { schema, depth: 0 }.valid(schema.root, values)
}

struct Eval<'c, 's> {
    schema: &'c Checked<'s>,
    depth: usize,
}

/// A serde_json number in the general path's terms.
fn num(n: &Number) -> Option<Num> {
    if let Some(u) = n.as_u64() {
        Some(Num::U(u))
    } else if let Some(i) = n.as_i64() {
        Some(Num::I(i))
    } else {
        n.as_f64().map(Num::F)
    }
}

/// Exact comparison across integer and float representations.
fn compare(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::U(a), Num::U(b)) => a.num_cmp(b),
        (Num::U(a), Num::I(b)) => a.num_cmp(b),
        (Num::U(a), Num::F(b)) => a.num_cmp(b),
        (Num::I(a), Num::U(b)) => a.num_cmp(b),
        (Num::I(a), Num::I(b)) => a.num_cmp(b),
        (Num::I(a), Num::F(b)) => a.num_cmp(b),
        (Num::F(a), Num::U(b)) => a.num_cmp(b),
        (Num::F(a), Num::I(b)) => a.num_cmp(b),
        (Num::F(a), Num::F(b)) => a.num_cmp(b),
    }
}

fn is_integer(n: &Number) -> bool {
    n.is_u64() || n.is_i64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
}

fn has_type(t: &str, v: &Value) -> bool {
    match (t, v) {
        ("null", Value::Null)
        | ("boolean", Value::Bool(_))
        | ("number", Value::Number(_))
        | ("string", Value::String(_))
        | ("array", Value::Array(_))
        | ("object", Value::Object(_)) => true,
        ("integer", Value::Number(n)) => is_integer(n),
        _ => false,
    }
}

/// JSON equality as jsonschema defines it (numbers by value, objects regardless of order).
fn equal(s: &Node<'_>, v: &Value) -> Option<bool> {
    Some(match (s, v) {
        (Node::Null, Value::Null) => true,
        (Node::Bool(a), Value::Bool(b)) => a == b,
        (Node::Str(a), Value::String(b)) => a == b,
        (Node::Num(a), Value::Number(b)) => compare(*a, num(b)?) == Some(Ordering::Equal),
        (Node::Arr(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Some(false);
            }
            for (x, y) in a.iter().zip(b) {
                if !equal(x, y)? {
                    return Some(false);
                }
            }
            true
        }
        (Node::Obj(a), Value::Object(b)) => {
            if a.len() != b.len() {
                return Some(false);
            }
            for (k, x) in a {
                match b.get(k.as_ref()) {
                    Some(y) if equal(x, y)? => {}
                    _ => return Some(false),
                }
            }
            true
        }
        (Node::Skipped(_), _) => return None,
        _ => false,
    })
}

/// Equality between two instance values, as [`equal`].
fn same(a: &Value, b: &Value) -> Option<bool> {
    Some(match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare(num(x)?, num(y)?) == Some(Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            for (p, q) in x.iter().zip(y) {
                if !same(p, q)? {
                    return Some(false);
                }
            }
            true
        }
        (Value::Object(x), Value::Object(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            for (k, p) in x {
                match y.get(k) {
                    Some(q) if same(p, q)? => {}
                    _ => return Some(false),
                }
            }
            true
        }
        _ => a == b,
    })
}

fn members<'n, 's>(node: &'n Node<'s>) -> &'n [(std::borrow::Cow<'s, str>, Node<'s>)] {
    match node {
        Node::Obj(m) => m,
        _ => &[],
    }
}

fn strings<'n>(node: &'n Node<'_>) -> impl Iterator<Item = &'n str> {
    let items: &[Node<'_>] = match node {
        Node::Arr(items) => items,
        _ => &[],
    };
    items.iter().filter_map(|i| match i {
        Node::Str(s) => Some(s.as_ref()),
        _ => None,
    })
}

fn count(node: &Node<'_>) -> Option<u64> {
    match node {
        Node::Num(Num::U(n)) => Some(*n),
        _ => None,
    }
}

impl<'s> Eval<'_, 's> {
    fn valid(&mut self, s: &'s Node<'s>, v: &Value) -> Option<bool> {
        let m = match s {
            Node::Bool(b) => return Some(*b),
            Node::Obj(m) => m,
            _ => return None,
        };
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let d7 = self.schema.draft == Draft::Draft7;
        let result = match s.get("$ref") {
            // Before 2019-09, `$ref` replaces its siblings.
            Some(Node::Str(r)) if d7 => self.reference(r, v),
            _ => self.keywords(s, m, v),
        };
        self.depth -= 1;
        result
    }

    fn reference(&mut self, r: &str, v: &Value) -> Option<bool> {
        let target = resolve(self.schema.root, r)?;
        self.valid(target, v)
    }

    fn keywords(
        &mut self,
        s: &'s Node<'s>,
        m: &'s [(std::borrow::Cow<'s, str>, Node<'s>)],
        v: &Value,
    ) -> Option<bool> {
        for (key, kw) in m {
            let ok = match key.as_ref() {
                "$ref" => match kw {
                    Node::Str(r) => self.reference(r, v)?,
                    _ => return None,
                },
                "type" => match kw {
                    Node::Str(t) => has_type(t, v),
                    Node::Arr(_) => strings(kw).any(|t| has_type(t, v)),
                    _ => return None,
                },
                "enum" => {
                    let Node::Arr(options) = kw else { return None };
                    let mut found = false;
                    for o in options {
                        if equal(o, v)? {
                            found = true;
                            break;
                        }
                    }
                    found
                }
                "const" => equal(kw, v)?,
                "multipleOf" => match v {
                    Value::Number(n) => multiple_of(n, kw)?,
                    _ => true,
                },
                "maximum" | "minimum" | "exclusiveMaximum" | "exclusiveMinimum" => {
                    let Node::Num(limit) = kw else { return None };
                    match v {
                        Value::Number(n) => {
                            let ord = compare(num(n)?, *limit)?;
                            match key.as_ref() {
                                "maximum" => ord != Ordering::Greater,
                                "minimum" => ord != Ordering::Less,
                                "exclusiveMaximum" => ord == Ordering::Less,
                                _ => ord == Ordering::Greater,
                            }
                        }
                        _ => true,
                    }
                }
                "maxLength" | "minLength" => match v {
                    Value::String(text) => {
                        let len = text.chars().count() as u64;
                        let limit = count(kw)?;
                        if key == "maxLength" {
                            len <= limit
                        } else {
                            len >= limit
                        }
                    }
                    _ => true,
                },
                "pattern" => match (v, kw) {
                    (Value::String(text), Node::Str(p)) => self.matches(p, text)?,
                    (_, Node::Str(_)) => true,
                    _ => return None,
                },
                "items" | "prefixItems" | "additionalItems" | "contains" | "maxItems"
                | "minItems" | "uniqueItems" => match v {
                    Value::Array(items) => self.array(s, key, kw, items)?,
                    _ => true,
                },
                "maxProperties"
                | "minProperties"
                | "required"
                | "properties"
                | "patternProperties"
                | "additionalProperties"
                | "dependencies"
                | "dependentRequired"
                | "dependentSchemas"
                | "propertyNames" => match v {
                    Value::Object(map) => self.object(s, key, kw, map, v)?,
                    _ => true,
                },
                "if" => {
                    let branch = if self.valid(kw, v)? { "then" } else { "else" };
                    match s.get(branch) {
                        Some(b) => self.valid(b, v)?,
                        None => true,
                    }
                }
                "allOf" => {
                    let Node::Arr(subs) = kw else { return None };
                    let mut all = true;
                    for sub in subs {
                        if !self.valid(sub, v)? {
                            all = false;
                            break;
                        }
                    }
                    all
                }
                "anyOf" => {
                    let Node::Arr(subs) = kw else { return None };
                    let mut any = false;
                    for sub in subs {
                        if self.valid(sub, v)? {
                            any = true;
                            break;
                        }
                    }
                    any
                }
                "oneOf" => {
                    let Node::Arr(subs) = kw else { return None };
                    let mut n = 0;
                    for sub in subs {
                        if self.valid(sub, v)? {
                            n += 1;
                        }
                    }
                    n == 1
                }
                "not" => !self.valid(kw, v)?,
                _ => true,
            };
            if !ok {
                return Some(false);
            }
        }
        Some(true)
    }

    fn matches(&self, pattern: &str, text: &str) -> Option<bool> {
        self.schema.patterns.get(pattern)?.is_match(text)
    }

    fn array(
        &mut self,
        s: &'s Node<'s>,
        key: &str,
        kw: &'s Node<'s>,
        items: &[Value],
    ) -> Option<bool> {
        let d7 = self.schema.draft == Draft::Draft7;
        Some(match key {
            "items" => match kw {
                Node::Arr(schemas) if d7 => {
                    for (sub, item) in schemas.iter().zip(items) {
                        if !self.valid(sub, item)? {
                            return Some(false);
                        }
                    }
                    true
                }
                _ => {
                    let skip = match s.get("prefixItems") {
                        Some(Node::Arr(prefix)) if !d7 => prefix.len(),
                        _ => 0,
                    };
                    self.all(kw, items.iter().skip(skip))?
                }
            },
            "prefixItems" => {
                let Node::Arr(schemas) = kw else { return None };
                for (sub, item) in schemas.iter().zip(items) {
                    if !self.valid(sub, item)? {
                        return Some(false);
                    }
                }
                true
            }
            "additionalItems" => match s.get("items") {
                Some(Node::Arr(schemas)) => self.all(kw, items.iter().skip(schemas.len()))?,
                _ => true,
            },
            "contains" => {
                let mut any = false;
                for item in items {
                    if self.valid(kw, item)? {
                        any = true;
                        break;
                    }
                }
                any
            }
            "maxItems" => items.len() as u64 <= count(kw)?,
            "minItems" => items.len() as u64 >= count(kw)?,
            "uniqueItems" => {
                if !matches!(kw, Node::Bool(true)) {
                    return Some(true);
                }
                for (i, a) in items.iter().enumerate() {
                    for b in &items[..i] {
                        if same(a, b)? {
                            return Some(false);
                        }
                    }
                }
                true
            }
            _ => true,
        })
    }

    fn all<'v>(
        &mut self,
        sub: &'s Node<'s>,
        items: impl Iterator<Item = &'v Value>,
    ) -> Option<bool> {
        for item in items {
            if !self.valid(sub, item)? {
                return Some(false);
            }
        }
        Some(true)
    }

    fn object(
        &mut self,
        s: &'s Node<'s>,
        key: &str,
        kw: &'s Node<'s>,
        map: &Map<String, Value>,
        whole: &Value,
    ) -> Option<bool> {
        Some(match key {
            "maxProperties" => map.len() as u64 <= count(kw)?,
            "minProperties" => map.len() as u64 >= count(kw)?,
            "required" => strings(kw).all(|name| map.contains_key(name)),
            "properties" => {
                for (name, sub) in members(kw) {
                    if let Some(v) = map.get(name.as_ref())
                        && !self.valid(sub, v)?
                    {
                        return Some(false);
                    }
                }
                true
            }
            "patternProperties" => {
                for (p, sub) in members(kw) {
                    for (name, v) in map {
                        if self.matches(p, name)? && !self.valid(sub, v)? {
                            return Some(false);
                        }
                    }
                }
                true
            }
            "additionalProperties" => {
                let properties = s.get("properties").map(members).unwrap_or_default();
                let patterns = s.get("patternProperties").map(members).unwrap_or_default();
                'names: for (name, v) in map {
                    if properties.iter().any(|(p, _)| p == name) {
                        continue;
                    }
                    for (p, _) in patterns {
                        if self.matches(p, name)? {
                            continue 'names;
                        }
                    }
                    if !self.valid(kw, v)? {
                        return Some(false);
                    }
                }
                true
            }
            "dependencies" | "dependentRequired" | "dependentSchemas" => {
                for (name, dep) in members(kw) {
                    if !map.contains_key(name.as_ref()) {
                        continue;
                    }
                    let ok = match dep {
                        Node::Arr(_) => strings(dep).all(|n| map.contains_key(n)),
                        _ => self.valid(dep, whole)?,
                    };
                    if !ok {
                        return Some(false);
                    }
                }
                true
            }
            "propertyNames" => {
                for name in map.keys() {
                    if !self.valid(kw, &Value::String(name.clone()))? {
                        return Some(false);
                    }
                }
                true
            }
            _ => true,
        })
    }
}

/// `multipleOf` for integers; floats are left to the general path.
fn multiple_of(n: &Number, kw: &Node<'_>) -> Option<bool> {
    let m = match kw {
        Node::Num(Num::U(m)) if *m > 0 => i128::from(*m),
        _ => return None,
    };
    let v = match num(n)? {
        Num::U(u) => i128::from(u),
        Num::I(i) => i128::from(i),
        Num::F(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => f as i128,
        Num::F(_) => return None,
    };
    Some(v % m == 0)
}
