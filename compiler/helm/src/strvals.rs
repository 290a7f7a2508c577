//! `--set` parsing with Helm's `strvals` syntax: `a.b=c`, `a[0]=x`, `a={x,y}`, several pairs joined by
//! `,`, `\` escapes, and typed values (`true`/`false`, `null`, base-10 integers become int64, anything
//! else a string).

use serde_json::{Map, Value};

const MAX_INDEX: usize = 65536;
const MAX_NESTED_NAME_LEVEL: usize = 30;

/// Why a `--set` expression was rejected (Helm's message).
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError(pub String);

enum Stop {
    Eof,
    Err(String),
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    _src: &'a str,
}

/// Parses `s` into `data`, like `strvals.ParseInto`.
pub fn parse_into(s: &str, data: &mut Map<String, Value>) -> Result<(), ParseError> {
    let mut p = Parser {
        chars: s.chars().collect(),
        pos: 0,
        _src: s,
    };
    loop {
        match p.key(data, 0) {
            Ok(()) => continue,
            Err(Stop::Eof) => return Ok(()),
            Err(Stop::Err(e)) => return Err(ParseError(e)),
        }
    }
}

fn typed_val(v: &str) -> Value {
    if v.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if v.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if v.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if v == "0" {
        return Value::from(0i64);
    }
    if !v.is_empty() && !v.starts_with('0') {
        let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
        if !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && let Ok(i) = v.parse::<i64>()
        {
            return Value::from(i);
        }
    }
    Value::String(v.to_string())
}

/// Helm's `set`: an empty key is silently skipped.
fn set(data: &mut Map<String, Value>, key: String, value: Value) {
    if !key.is_empty() {
        data.insert(key, value);
    }
}

/// The Go type of a value already in the map (files give float64 numbers, `--set` int64), as a
/// failed type assertion names it.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "nil",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Helm recovers the panic of a failed type assertion on an existing value into this error.
fn not_a(existing: &Value, want: &str) -> Stop {
    Stop::Err(format!(
        "unable to parse key: interface conversion: interface {{}} is {}, not {want}",
        go_type(existing)
    ))
}

fn set_index(list: &mut Vec<Value>, i: usize, v: Value) -> Result<(), Stop> {
    if i > MAX_INDEX {
        return Err(Stop::Err(format!(
            "index of {i} is greater than maximum supported index of {MAX_INDEX}"
        )));
    }
    while list.len() <= i {
        list.push(Value::Null);
    }
    list[i] = v;
    Ok(())
}

impl Parser<'_> {
    fn read(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    /// Reads until one of `stop` (consumed), handling `\` escapes. `None` as last means end of input.
    fn runes_until(&mut self, stop: &[char]) -> (String, Option<char>) {
        let mut v = String::new();
        loop {
            match self.read() {
                None => return (v, None),
                Some(c) if stop.contains(&c) => return (v, Some(c)),
                Some('\\') => match self.read() {
                    None => return (v, None),
                    Some(n) => v.push(n),
                },
                Some(c) => v.push(c),
            }
        }
    }

    fn key(&mut self, data: &mut Map<String, Value>, level: usize) -> Result<(), Stop> {
        let (k, last) = self.runes_until(&['=', '[', ',', '.']);
        match last {
            None => {
                if k.is_empty() {
                    Err(Stop::Eof)
                } else {
                    Err(Stop::Err(format!("key {k:?} has no value")))
                }
            }
            Some('[') => {
                let i = self.key_index()?;
                let mut list = match data.get(&k) {
                    Some(Value::Array(a)) => a.clone(),
                    Some(other) => return Err(not_a(other, "[]interface {}")),
                    None => Vec::new(),
                };
                let r = self.list_item(&mut list, i, level);
                set(data, k, Value::Array(list));
                r
            }
            Some('=') => match self.val_list() {
                Ok(vl) => {
                    set(data, k, Value::Array(vl));
                    Ok(())
                }
                Err(ListErr::Eof) => {
                    set(data, k, Value::String(String::new()));
                    Err(Stop::Eof)
                }
                Err(ListErr::NotList) => {
                    let (rs, _) = self.val();
                    set(data, k, typed_val(&rs));
                    Ok(())
                }
                Err(ListErr::Err(e)) => Err(Stop::Err(e)),
            },
            Some(',') => {
                set(data, k.clone(), Value::String(String::new()));
                Err(Stop::Err(format!(
                    "key {k:?} has no value (cannot end with ,)"
                )))
            }
            Some(_) => {
                let level = level + 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return Err(Stop::Err(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                    )));
                }
                let mut inner = match data.get(&k) {
                    Some(Value::Object(m)) => m.clone(),
                    Some(other) => return Err(not_a(other, "map[string]interface {}")),
                    None => Map::new(),
                };
                let e = self.key(&mut inner, level);
                if e.is_ok() && inner.is_empty() {
                    return Err(Stop::Err(format!("key map {k:?} has no value")));
                }
                if !inner.is_empty() {
                    set(data, k, Value::Object(inner));
                }
                e
            }
        }
    }

    fn key_index(&mut self) -> Result<usize, Stop> {
        let (v, last) = self.runes_until(&[']']);
        if last.is_none() {
            // Helm wraps io.EOF here, and its parse loop takes any EOF as a clean end of input.
            return Err(Stop::Eof);
        }
        let i: i64 = v.parse().map_err(|_| {
            Stop::Err(format!(
                "error parsing index: strconv.Atoi: parsing {v:?}: invalid syntax"
            ))
        })?;
        if i < 0 {
            return Err(Stop::Err(format!("negative {i} index not allowed")));
        }
        Ok(i as usize)
    }

    fn list_item(&mut self, list: &mut Vec<Value>, i: usize, level: usize) -> Result<(), Stop> {
        let (k, last) = self.runes_until(&['[', '.', '=']);
        if !k.is_empty() {
            return Err(Stop::Err(format!(
                "unexpected data at end of array index: {k:?}"
            )));
        }
        match last {
            None => Err(Stop::Eof),
            Some('=') => match self.val_list() {
                Ok(vl) => set_index(list, i, Value::Array(vl)),
                Err(ListErr::Eof) => set_index(list, i, Value::String(String::new())),
                Err(ListErr::NotList) => {
                    let (rs, _) = self.val();
                    set_index(list, i, typed_val(&rs))
                }
                Err(ListErr::Err(e)) => Err(Stop::Err(e)),
            },
            Some('[') => {
                let next = self.key_index()?;
                let mut inner = match list.get(i) {
                    Some(Value::Array(a)) => a.clone(),
                    _ => Vec::new(),
                };
                self.list_item(&mut inner, next, level)?;
                set_index(list, i, Value::Array(inner))
            }
            Some(_) => {
                let mut inner = match list.get(i) {
                    Some(Value::Object(m)) => m.clone(),
                    _ => Map::new(),
                };
                self.key(&mut inner, level)?;
                set_index(list, i, Value::Object(inner))
            }
        }
    }

    /// The value up to the next `,` (consumed); the flag tells whether input ended (the next
    /// key read reports the end, as in Helm).
    fn val(&mut self) -> (String, bool) {
        let (v, last) = self.runes_until(&[',']);
        (v, last.is_none())
    }

    fn val_list(&mut self) -> Result<Vec<Value>, ListErr> {
        match self.chars.get(self.pos) {
            None => return Err(ListErr::Eof),
            Some('{') => self.pos += 1,
            Some(_) => return Err(ListErr::NotList),
        }
        let mut list = Vec::new();
        loop {
            let (rs, last) = self.runes_until(&[',', '}']);
            match last {
                None => return Err(ListErr::Err("list must terminate with '}'".into())),
                Some('}') => {
                    if self.chars.get(self.pos) == Some(&',') {
                        self.pos += 1;
                    }
                    list.push(typed_val(&rs));
                    return Ok(list);
                }
                Some(_) => list.push(typed_val(&rs)),
            }
        }
    }
}

enum ListErr {
    Eof,
    NotList,
    Err(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(s: &str) -> Result<Value, ParseError> {
        let mut m = Map::new();
        parse_into(s, &mut m)?;
        Ok(Value::Object(m))
    }

    #[test]
    fn nested_keys_and_types() {
        assert_eq!(
            parse("a.b=c,d=1,e=true,f=null,g=0123,h=-5").unwrap(),
            json!({"a": {"b": "c"}, "d": 1, "e": true, "f": null, "g": "0123", "h": -5})
        );
    }

    #[test]
    fn lists_and_indexes() {
        assert_eq!(parse("a={x,2,true}").unwrap(), json!({"a": ["x", 2, true]}));
        assert_eq!(parse("a[1]=x").unwrap(), json!({"a": [null, "x"]}));
        assert_eq!(
            parse("a[0].b=1,a[0].c=2").unwrap(),
            json!({"a": [{"b": 1, "c": 2}]})
        );
        assert_eq!(parse("a[0][1]=z").unwrap(), json!({"a": [[null, "z"]]}));
    }

    #[test]
    fn escapes_and_empty_values() {
        assert_eq!(parse(r"a\.b=c\,d").unwrap(), json!({"a.b": "c,d"}));
        assert_eq!(parse("a=").unwrap(), json!({"a": ""}));
    }

    #[test]
    fn errors_read_like_helm() {
        assert_eq!(parse("a").unwrap_err().0, "key \"a\" has no value");
        assert_eq!(
            parse("a,b=1").unwrap_err().0,
            "key \"a\" has no value (cannot end with ,)"
        );
        assert_eq!(
            parse("a={x,y").unwrap_err().0,
            "list must terminate with '}'"
        );
    }
}
