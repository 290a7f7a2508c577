//! Go's dynamic values as templates see them (`interface{}` holding nil, bool, int, float64, string,
//! `[]byte`, `[]interface{}`, `map[string]interface{}` or an opaque Go object).
//!
//! Values are cheap to clone: strings, lists and maps sit behind `Arc`. Maps have reference
//! semantics like Go maps: Sprig's `set`/`unset` mutate a map in place and every holder sees the
//! change, which charts rely on (`$_ := set .Values "x" 1`).

mod entries;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::func::FuncError;

pub use entries::Entries;

/// A Go value held in an `interface{}`.
#[derive(Clone, Default)]
pub enum Value {
    /// Go's untyped `nil` (also stands for a missing value once a pipeline finishes).
    #[default]
    Nil,
    Bool(bool),
    /// Any signed Go integer (`int`, `int64`, ...); reported as `int` in type names.
    Int(i64),
    Float(f64),
    String(Arc<str>),
    /// `[]byte`.
    Bytes(Arc<[u8]>),
    /// `[]interface{}` (immutable: Go's `append` in Sprig builds a new slice).
    List(Arc<Vec<Value>>),
    /// `map[string]interface{}`, shared and mutable like a Go map.
    Map(Map),
    /// An opaque Go object (a struct or named type with fields and methods).
    Object(Arc<dyn Object>),
}

/// A Go `map[string]interface{}`: shared, mutable, iterated in sorted key order.
#[derive(Clone, Default)]
pub struct Map(Arc<MapCell>);

struct MapCell {
    entries: RwLock<Entries>,
    /// Set by [`Map::mark_shared`]: [`refusing_shared_writes`] stops writes to this map.
    shared: AtomicBool,
    /// The [`WriteCheck::start`] count when the map was made: a write to a map made before the
    /// latest check started counts as a write for [`WriteCheck`].
    born: u64,
}

impl Default for MapCell {
    fn default() -> Self {
        MapCell {
            entries: RwLock::default(),
            shared: AtomicBool::new(false),
            born: CHECKS.load(Ordering::Relaxed),
        }
    }
}

/// [`WriteCheck`]s started so far.
static CHECKS: AtomicU64 = AtomicU64::new(0);
/// Writes to maps older than the latest [`WriteCheck`].
static OLD_WRITES: AtomicU64 = AtomicU64::new(0);

/// Tells whether any map that existed when the check started has been written since: then what
/// a template read from its data may read differently now. Maps made after the start are not
/// watched (nothing read before could reach them without a write to an older map), so building
/// fresh maps with `dict` or `set` on them costs nothing. Writes on other threads count too,
/// which only makes the check more cautious.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct WriteCheck(u64);

impl WriteCheck {
    /// Starts watching every map that exists now.
    pub fn start() -> Self {
        CHECKS.fetch_add(1, Ordering::Relaxed);
        WriteCheck(OLD_WRITES.load(Ordering::Relaxed))
    }

    /// Whether no watched map has been written since [`WriteCheck::start`].
    pub fn unchanged(self) -> bool {
        OLD_WRITES.load(Ordering::Relaxed) == self.0
    }
}

thread_local! {
    static REFUSE_SHARED_WRITES: Cell<bool> = const { Cell::new(false) };
}

/// [`Map::mark_shared`] for `maps`, going through maps already marked too: writes may have put
/// unmarked maps inside them since.
pub fn mark_all_shared<'a>(maps: impl IntoIterator<Item = &'a Map>) {
    fn visit(m: &Map, seen: &mut std::collections::HashSet<usize>) {
        if !seen.insert(Arc::as_ptr(&m.0) as usize) {
            return;
        }
        m.0.shared.store(true, Ordering::Relaxed);
        for v in m.read().values() {
            visit_value(v, seen);
        }
    }
    fn visit_value(v: &Value, seen: &mut std::collections::HashSet<usize>) {
        match v {
            Value::Map(m) => visit(m, seen),
            Value::List(l) => l.iter().for_each(|v| visit_value(v, seen)),
            _ => {}
        }
    }
    let mut seen = std::collections::HashSet::new();
    maps.into_iter().for_each(|m| visit(m, &mut seen));
}

/// The unwinding payload that stops a template at its first write to shared data.
struct SharedWriteStop;

/// A template tried to change data it shares with the templates running beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedWrite;

/// Runs `f` (a template execution) so that its first write to a map marked with
/// [`Map::mark_shared`] stops it before anything changes; `Err(SharedWrite)` then.
///
/// Templates run concurrently only while none of them changes the data they share: Helm runs
/// them one after another, so such a change is seen by the templates that follow. A caller
/// running templates in parallel keeps the results of those before the first one stopped (they
/// saw the data as it was), runs that one alone with writes allowed, and goes on from there.
/// Writing a value a map already holds changes nothing and is allowed.
pub fn refusing_shared_writes<R>(f: impl FnOnce() -> R) -> Result<R, SharedWrite> {
    let before = REFUSE_SHARED_WRITES.with(|c| c.replace(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    REFUSE_SHARED_WRITES.with(|c| c.set(before));
    match r {
        Ok(v) => Ok(v),
        Err(payload) if payload.is::<SharedWriteStop>() => Err(SharedWrite),
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

impl Map {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the entries (sorted by key).
    pub fn read(&self) -> RwLockReadGuard<'_, Entries> {
        self.0.entries.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Mutates the entries in place; every clone of this map sees the change.
    pub fn write(&self) -> RwLockWriteGuard<'_, Entries> {
        if self.0.shared.load(Ordering::Relaxed) && REFUSE_SHARED_WRITES.with(Cell::get) {
            // Not a panic: the hook stays silent and `refusing_shared_writes` catches it.
            std::panic::resume_unwind(Box::new(SharedWriteStop));
        }
        if self.0.born < CHECKS.load(Ordering::Relaxed) {
            OLD_WRITES.fetch_add(1, Ordering::Relaxed);
        }
        self.0.entries.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks this map and every map reachable from it (through maps and lists) as shared, so
    /// that [`refusing_shared_writes`] stops a write to them. Maps already marked are passed
    /// over with what they hold, which may have changed since: see [`mark_all_shared`].
    pub fn mark_shared(&self) {
        if self.0.shared.swap(true, Ordering::Relaxed) {
            return;
        }
        for v in self.read().values() {
            v.mark_shared();
        }
    }

    pub fn get(&self, key: &str) -> Option<Value> {
        self.read().get(key).cloned()
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.read().contains_key(key)
    }

    pub fn insert(&self, key: impl Into<String>, value: Value) -> Option<Value> {
        let key = key.into();
        if self.0.shared.load(Ordering::Relaxed)
            && let Some(old) = self.read().get(&key).filter(|old| old.is_same(&value))
        {
            return Some(old.clone());
        }
        self.write().insert(key, value)
    }

    pub fn remove(&self, key: &str) -> Option<Value> {
        self.write().remove(key)
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Sorted keys.
    pub fn keys(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    /// A snapshot of the entries in sorted key order.
    pub fn entries(&self) -> Vec<(String, Value)> {
        self.read()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// A new map with the same entries (shallow: nested maps stay shared).
    pub fn shallow_copy(&self) -> Map {
        Map::from_entries(self.read().clone())
    }

    /// Whether both handles point at the same Go map.
    pub fn ptr_eq(&self, other: &Map) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Map {
    fn from_entries(entries: Entries) -> Self {
        Map(Arc::new(MapCell {
            entries: RwLock::new(entries),
            ..MapCell::default()
        }))
    }
}

impl From<BTreeMap<String, Value>> for Map {
    fn from(m: BTreeMap<String, Value>) -> Self {
        Map::from_entries(Entries::from(m))
    }
}

impl FromIterator<(String, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        Map::from_entries(iter.into_iter().collect())
    }
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.read().iter()).finish()
    }
}

/// A Go object that is not one of the basic kinds: a struct (`.Chart`, `.Capabilities`), a named
/// slice or map type with methods (`.Capabilities.APIVersions`, `.Files`), a `time.Time`, ...
///
/// Field access `.Name` first tries [`Object::call_method`] (Go looks up methods first), then
/// [`Object::field`].
pub trait Object: Send + Sync + fmt::Debug {
    /// Go type name used in messages, e.g. `*chart.Metadata` or `chartutil.VersionSet`.
    fn type_name(&self) -> &str;

    /// An exported field (or key) `name`; `None` when the object has none.
    fn field(&self, name: &str) -> Option<Value> {
        let _ = name;
        None
    }

    /// Calls method `name` with `args`; `None` when the object has no such method.
    /// The object checks arity itself (Go's message: `wrong number of args for NAME: want N got M`).
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        let _ = (name, args);
        None
    }

    /// The object's basic value when it is a named slice/map/string type (`VersionSet` is a
    /// `[]string`, `Files` a map): `range`, `len`, `index` and comparisons use it.
    fn underlying(&self) -> Option<Value> {
        None
    }

    /// Text printed by `{{ . }}`, `print` and `%v` (Go's `String()` method or struct formatting).
    fn format(&self) -> String {
        match self.underlying() {
            Some(v) => v.to_string(),
            None => format!("{{{}}}", self.type_name()),
        }
    }

    /// Go truthiness; structs and non-nil pointers are true.
    fn is_true(&self) -> bool {
        match self.underlying() {
            Some(v) => v.is_true(),
            None => true,
        }
    }

    /// Calls the object as a function value (the `call` builtin); `None` if it is not a function.
    fn call(&self, args: &[Value]) -> Option<Result<Value, FuncError>> {
        let _ = args;
        None
    }

    /// JSON form (what `encoding/json` would produce), for `toJson`/`toYaml`.
    fn to_json(&self) -> Option<serde_json::Value> {
        self.underlying().map(|v| v.to_json())
    }
}

/// How JSON numbers become Go numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonNumbers {
    /// Integers become `int`, others `float64` (like Helm's `--set` parsing).
    Preserve,
    /// Every number becomes `float64`, as `encoding/json` decodes into `interface{}` (Helm values files).
    Float64,
}

impl Value {
    pub fn string(s: impl Into<Arc<str>>) -> Value {
        Value::String(s.into())
    }

    pub fn list(items: impl Into<Vec<Value>>) -> Value {
        Value::List(Arc::new(items.into()))
    }

    pub fn map(m: Map) -> Value {
        Value::Map(m)
    }

    pub fn object(o: impl Object + 'static) -> Value {
        Value::Object(Arc::new(o))
    }

    /// [`Map::mark_shared`] for the maps this value holds.
    pub fn mark_shared(&self) {
        match self {
            Value::Map(m) => m.mark_shared(),
            Value::List(l) => l.iter().for_each(Value::mark_shared),
            _ => {}
        }
    }

    /// Whether storing `other` where `self` is changes nothing a template can observe: equal
    /// scalars, the same map or object, lists of such values.
    pub fn is_same(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Map(a), Value::Map(b)) => a.ptr_eq(b),
            (Value::Object(a), Value::Object(b)) => Arc::ptr_eq(a, b),
            (Value::List(a), Value::List(b)) => {
                Arc::ptr_eq(a, b)
                    || (a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.is_same(y)))
            }
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (a, b) => a == b,
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&Arc<Vec<Value>>> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Go truthiness (`if`, `with`, `and`, `or`, `not`): the zero value of its type is false;
    /// nil is false; empty strings, slices and maps are false; structs are true.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Object(o) => o.is_true(),
        }
    }

    /// Go type name, as `%T` and error messages print it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::Bytes(_) => "[]uint8".into(),
            Value::List(_) => "[]interface {}".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Object(o) => o.type_name().to_string(),
        }
    }

    /// Go `reflect.Kind` name (Sprig's `kindOf`): `int`, `float64`, `slice`, `map`, `ptr`, ...
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::Bytes(_) | Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(o) => match o.underlying() {
                Some(v) => v.kind_name(),
                None => "struct",
            },
        }
    }

    /// Length as Go's `len` sees it (strings count bytes); `None` for kinds without a length.
    pub fn len(&self) -> Option<usize> {
        match self {
            Value::String(s) => Some(s.len()),
            Value::Bytes(b) => Some(b.len()),
            Value::List(l) => Some(l.len()),
            Value::Map(m) => Some(m.len()),
            Value::Object(o) => o.underlying().and_then(|v| v.len()),
            _ => None,
        }
    }

    /// Whether [`Value::len`] is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// Converts JSON into Go values; objects become maps.
    pub fn from_json_with(v: &serde_json::Value, numbers: JsonNumbers) -> Value {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match (numbers, n.as_i64()) {
                (JsonNumbers::Preserve, Some(i)) => Value::Int(i),
                _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::string(s.as_str()),
            serde_json::Value::Array(a) => Value::list(
                a.iter()
                    .map(|x| Value::from_json_with(x, numbers))
                    .collect::<Vec<_>>(),
            ),
            serde_json::Value::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, x)| (k.clone(), Value::from_json_with(x, numbers)))
                    .collect(),
            ),
        }
    }

    /// JSON form, as `encoding/json` marshals it (maps with sorted keys, `[]byte` as base64 is
    /// left to callers: bytes become a list of numbers here).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Nil => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::String(s) => J::String(s.to_string()),
            Value::Bytes(b) => J::Array(b.iter().map(|x| J::from(*x)).collect()),
            Value::List(l) => J::Array(l.iter().map(Value::to_json).collect()),
            Value::Map(m) => J::Object(
                m.read()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Value::Object(o) => o.to_json().unwrap_or(J::Null),
        }
    }

    /// A copy sharing nothing mutable with `self` (maps are copied recursively).
    pub fn deep_copy(&self) -> Value {
        match self {
            Value::List(l) => Value::list(l.iter().map(Value::deep_copy).collect::<Vec<_>>()),
            Value::Map(m) => Value::Map(
                m.read()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.deep_copy()))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

impl From<&serde_json::Value> for Value {
    /// Integers stay integers; see [`Value::from_json_with`] for Helm's float64 numbers.
    fn from(v: &serde_json::Value) -> Self {
        Value::from_json_with(v, JsonNumbers::Preserve)
    }
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        Value::from(&v)
    }
}

impl From<&Value> for serde_json::Value {
    fn from(v: &Value) -> Self {
        v.to_json()
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<usize> for Value {
    fn from(i: usize) -> Self {
        Value::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s.into())
    }
}

impl From<Arc<str>> for Value {
    fn from(s: Arc<str>) -> Self {
        Value::String(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Self {
        Value::list(l)
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::Bytes(b.into())
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Map(m)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Bool(b) => write!(f, "{b:?}"),
            Value::Int(i) => write!(f, "{i:?}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "bytes{b:?}"),
            Value::List(l) => f.debug_list().entries(l.iter()).finish(),
            Value::Map(m) => m.fmt(f),
            Value::Object(o) => o.fmt(f),
        }
    }
}

/// Go's `%v` formatting (`fmt.Sprint` of one value).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::gofmt::sprint_value(self))
    }
}

/// Deep equality (maps by content); not Go's `eq`, which is [`crate::builtins`]'s business.
impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a.ptr_eq(b) || *a.read() == *b.read(),
            (Value::Object(a), Value::Object(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_writes_change_nothing_and_same_values_are_no_writes() {
        let m = Map::new();
        m.insert("a", Value::from("x"));
        m.insert("n", Value::Map(Map::new()));
        m.mark_shared();
        assert_eq!(
            refusing_shared_writes(|| m.insert("a", Value::from("y"))),
            Err(SharedWrite)
        );
        assert_eq!(m.get("a"), Some(Value::from("x")));
        assert!(refusing_shared_writes(|| m.insert("a", Value::from("x"))).is_ok());
        assert_eq!(
            refusing_shared_writes(|| m.insert("b", Value::Nil)),
            Err(SharedWrite),
            "a new key is a change, even to nil"
        );
        assert_eq!(
            refusing_shared_writes(|| m.insert("a", Value::Int(1))).map(|_| ()),
            Err(SharedWrite)
        );
        let nested = m.get("n").unwrap();
        assert_eq!(
            refusing_shared_writes(|| nested.as_map().unwrap().remove("k")),
            Err(SharedWrite),
            "maps inside a shared map are shared"
        );
        // Outside a refusing run writes go through; a map put in since needs the full marking.
        let fresh = Map::new();
        m.insert("f", Value::Map(fresh.clone()));
        m.mark_shared();
        assert!(refusing_shared_writes(|| fresh.insert("k", Value::Int(1))).is_ok());
        mark_all_shared([&m]);
        assert_eq!(
            refusing_shared_writes(|| fresh.insert("k", Value::Int(2))),
            Err(SharedWrite)
        );
        assert_eq!(fresh.get("k"), Some(Value::Int(1)));
    }

    #[test]
    fn other_panics_pass_through_a_refusing_run() {
        let r = std::panic::catch_unwind(|| refusing_shared_writes(|| panic!("boom")));
        assert!(r.is_err());
    }
}
