//! List-element operations with kyaml's exact matching rules: finding the element whose merge
//! keys have given values, and replacing, appending or deleting elements by key.
//!
//! kustomize's merge order and its handling of duplicates and of elements missing a merge key
//! all follow from these rules, so they are reproduced as they are, quirks included.

use serde_json::{Map, Value};

use crate::error::SmpError;

/// Shape of a node, named as in error messages.
pub(crate) fn shape(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "MappingNode",
        Value::Array(_) => "SequenceNode",
        _ => "ScalarNode",
    }
}

/// The text of a scalar as YAML would hold it; maps, lists and null have none.
pub(crate) fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null | Value::Object(_) | Value::Array(_) => String::new(),
    }
}

/// Whether a node's text equals `expected`, without building the text.
pub(crate) fn text_eq(value: &Value, expected: &str) -> bool {
    match value {
        Value::String(s) => s == expected,
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let mut buffer = itoa_buffer();
                write_i64(&mut buffer, i) == expected
            } else {
                n.to_string() == expected
            }
        }
        Value::Bool(b) => (if *b { "true" } else { "false" }) == expected,
        Value::Null | Value::Object(_) | Value::Array(_) => expected.is_empty(),
    }
}

fn itoa_buffer() -> [u8; 20] {
    [0; 20]
}

fn write_i64(buffer: &mut [u8; 20], value: i64) -> &str {
    let mut n = value.unsigned_abs();
    let mut at = buffer.len();
    loop {
        at -= 1;
        buffer[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if value < 0 {
        at -= 1;
        buffer[at] = b'-';
    }
    std::str::from_utf8(&buffer[at..]).expect("ASCII digits")
}

/// A map field, found by a scan for the small maps list items are.
pub(crate) fn get_field<'m>(map: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    if map.len() <= 8 {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// A scalar written from its text, typed as a YAML reader would type a plain scalar.
pub(crate) fn scalar_from_text(text: &str) -> Value {
    if let Ok(n) = text.parse::<i64>() {
        return Value::from(n);
    }
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::String(text.to_string()),
    }
}

pub(crate) fn is_null(value: Option<&Value>) -> bool {
    matches!(value, None | Some(Value::Null))
}

pub(crate) fn is_empty_map(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Object(map)) => map.is_empty(),
        _ => false,
    }
}

/// Whether a map field holds something: absent, null, `{}`, `[]` all count as empty.
fn field_is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Object(map)) => map.is_empty(),
        Some(Value::Array(list)) => list.is_empty(),
        _ => false,
    }
}

/// Values of the merge keys for every element of a list; an absent or empty key is `""`.
pub(crate) fn element_values_list(list: &[Value], keys: &[String]) -> Vec<Vec<String>> {
    list.iter()
        .map(|element| {
            keys.iter()
                .map(|key| {
                    let field = element.as_object().and_then(|map| get_field(map, key));
                    if field_is_empty(field) {
                        String::new()
                    } else {
                        field.map(text).unwrap_or_default()
                    }
                })
                .collect()
        })
        .collect()
}

/// Finds a field of a map element, optionally requiring its text to equal `value`
/// (an empty `value` only requires the field to exist). `name == ""` compares a scalar element.
fn field_matches(element: &Value, name: &str, value: &str, path: &str) -> Result<bool, SmpError> {
    if element.is_null() {
        return Ok(false);
    }
    if name.is_empty() {
        if element.is_object() || element.is_array() {
            return Err(SmpError::KindMismatch {
                path: path.to_string(),
                expected: "ScalarNode",
                found: shape(element),
            });
        }
        return Ok(text_eq(element, value));
    }
    let Value::Object(map) = element else {
        return Err(SmpError::KindMismatch {
            path: path.to_string(),
            expected: "MappingNode",
            found: shape(element),
        });
    };
    Ok(match get_field(map, name) {
        None => false,
        Some(field) => value.is_empty() || text_eq(field, value),
    })
}

/// Index of the first element whose keys hold exactly these values (kyaml's `ElementList`).
pub(crate) fn element_list(list: &[Value], keys: &[String], values: &[String]) -> Option<usize> {
    let first_value = values.first().map(String::as_str).unwrap_or("");
    if keys.first().is_none_or(|key| key.is_empty()) {
        return list
            .iter()
            .position(|element| text_eq(element, first_value));
    }
    if keys.len() != values.len() {
        return None;
    }
    list.iter().position(|element| {
        let Value::Object(map) = element else {
            return false;
        };
        keys.iter().zip(values).all(|(key, value)| {
            get_field(map, key).is_some_and(|field| !field.is_null() && text_eq(field, value))
        })
    })
}

/// Sets, appends or (with `element == None`) deletes the elements matching `keys`/`values`,
/// dropping null and empty-map elements on the way (kyaml's `ElementSetter`).
pub(crate) fn element_setter(
    list: &mut Vec<Value>,
    element: Option<Value>,
    keys: &[String],
    values: &[String],
    path: &str,
) -> Result<(), SmpError> {
    let default_keys = [String::new()];
    let keys = if keys.is_empty() {
        &default_keys[..]
    } else {
        keys
    };
    let mapping_setter = !keys[0].is_empty() && values.first().is_some_and(|v| !v.is_empty());
    let mut kept = Vec::with_capacity(list.len() + 1);
    let mut matches: Vec<usize> = Vec::new();
    for current in list.drain(..) {
        if is_empty_map(Some(&current)) {
            continue;
        }
        if !current.is_object() && mapping_setter {
            kept.push(current);
            continue;
        }
        let mut found_value = false;
        let mut found = true;
        for (j, key) in keys.iter().enumerate() {
            if let Some(value) = values.get(j) {
                found_value = field_matches(&current, key, value, path)?;
            }
            if !found_value {
                found = false;
                break;
            }
        }
        if !found {
            if !values.is_empty() {
                kept.push(current);
            }
            continue;
        }
        if element.is_some() {
            matches.push(kept.len());
            kept.push(Value::Null);
        }
    }
    *list = kept;
    let Some(element) = element else {
        return Ok(());
    };
    match matches.split_last() {
        None if element.is_null() => {}
        None => list.push(element),
        Some((last, rest)) => {
            for index in rest {
                list[*index] = element.clone();
            }
            list[*last] = element;
        }
    }
    Ok(())
}

/// Sets each element of `src` into `dst` by its keys: matching elements are replaced in
/// place, others appended (kyaml's `appendListNode`).
pub(crate) fn append_list_node(
    dst: &mut Vec<Value>,
    src: Vec<Value>,
    keys: &[String],
    path: &str,
) -> Result<(), SmpError> {
    for element in src {
        if keys.first().is_none_or(|key| key.is_empty()) {
            let value = text(&element);
            element_setter(dst, Some(element), &[String::new()], &[value], path)?;
            continue;
        }
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            match &element {
                Value::Null => dst.push(Value::Null),
                Value::Object(map) => match get_field(map, key) {
                    Some(field) => values.push(text(field)),
                    None => dst.push(element.clone()),
                },
                other => {
                    return Err(SmpError::KindMismatch {
                        path: path.to_string(),
                        expected: "MappingNode",
                        found: shape(other),
                    });
                }
            }
        }
        if keys.len() > 1 {
            element_setter(dst, None, keys, &values, path)?;
        }
        element_setter(dst, Some(element), keys, &values, path)?;
    }
    Ok(())
}

/// Merges key tuples that differ only where one side is empty, e.g. a port with and without
/// an explicit protocol (kyaml's `mergeValues`).
pub(crate) fn merge_values(values_list: &mut [Vec<String>]) {
    for i in 0..values_list.len() {
        let first = values_list[i].clone();
        for j in 0..values_list.len() {
            if let Some(merged) = match_values(&first, &values_list[j]) {
                values_list[i] = merged.clone();
                values_list[j] = merged;
            }
        }
    }
}

fn match_values(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let mut common = false;
    let mut merged = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common = true;
            merged.push(x.clone());
        } else if !x.is_empty() && !y.is_empty() {
            return None;
        } else if !x.is_empty() {
            merged.push(x.clone());
        } else {
            merged.push(y.clone());
        }
    }
    common.then_some(merged)
}

/// Positions of the merge keys that some entry of `values_list` sets.
pub(crate) fn set_keys(values_list: &[Vec<String>], keys: &[String]) -> Vec<bool> {
    let mut set = vec![false; keys.len()];
    for entry in values_list {
        for (i, value) in entry.iter().enumerate() {
            if !value.is_empty() && i < set.len() {
                set[i] = true;
            }
        }
    }
    set
}

/// Restricts the merge keys to those some element sets, given by [`set_keys`]
/// (kyaml's `validateKeys`); when none is set, all keys stay.
pub(crate) fn restrict_keys(
    set: &[bool],
    values: &[String],
    keys: &[String],
) -> (Vec<String>, Vec<String>) {
    if !set.iter().any(|s| *s) {
        return (keys.to_vec(), values.to_vec());
    }
    let valid_keys = keys
        .iter()
        .zip(set)
        .filter(|(_, set)| **set)
        .map(|(key, _)| key.clone())
        .collect();
    let valid_values = values
        .iter()
        .enumerate()
        .filter(|(i, value)| !value.is_empty() || set.get(*i).copied().unwrap_or(false))
        .map(|(_, value)| value.clone())
        .collect();
    (valid_keys, valid_values)
}

/// [`restrict_keys`] with the keys set in `values_list`.
pub(crate) fn validate_keys(
    values_list: &[Vec<String>],
    values: &[String],
    keys: &[String],
) -> (Vec<String>, Vec<String>) {
    restrict_keys(&set_keys(values_list, keys), values, keys)
}

/// Sets a key field on a merged element when the element lacks it.
pub(crate) fn ensure_key(element: &mut Map<String, Value>, key: &str, value: &str) {
    if !element.contains_key(key) && !value.is_empty() {
        element.insert(key.to_string(), scalar_from_text(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn setter_replaces_in_place_and_appends_new() {
        let mut list = vec![json!({"name": "a", "v": 1}), json!({"name": "b"})];
        element_setter(
            &mut list,
            Some(json!({"name": "a", "v": 2})),
            &strings(&["name"]),
            &strings(&["a"]),
            "",
        )
        .unwrap();
        element_setter(
            &mut list,
            Some(json!({"name": "c"})),
            &strings(&["name"]),
            &strings(&["c"]),
            "",
        )
        .unwrap();
        assert_eq!(
            list,
            vec![
                json!({"name": "a", "v": 2}),
                json!({"name": "b"}),
                json!({"name": "c"})
            ]
        );
    }

    #[test]
    fn setter_deletes_and_drops_empty_elements() {
        let mut list = vec![
            json!({"name": "a"}),
            json!({}),
            Value::Null,
            json!({"name": "b"}),
        ];
        element_setter(&mut list, None, &strings(&["name"]), &strings(&["a"]), "").unwrap();
        assert_eq!(list, vec![json!({"name": "b"})]);
    }

    #[test]
    fn ports_without_protocol_match_ports_with_one() {
        let mut values = vec![
            strings(&["80", ""]),
            strings(&["80", "TCP"]),
            strings(&["53", "UDP"]),
        ];
        merge_values(&mut values);
        assert_eq!(values[0], strings(&["80", "TCP"]));
        assert_eq!(values[2], strings(&["53", "UDP"]));
    }

    #[test]
    fn keys_nobody_sets_are_dropped() {
        let list = vec![strings(&["80", ""])];
        let (keys, values) =
            validate_keys(&list, &list[0], &strings(&["containerPort", "protocol"]));
        assert_eq!(keys, strings(&["containerPort"]));
        assert_eq!(values, strings(&["80"]));
    }
}
