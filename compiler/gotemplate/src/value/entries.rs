//! The entries of a Go map as templates see them: kept in a vector sorted by key, because Go
//! iterates (`range`, printing, `toYaml`, `keys`) in sorted key order while templates mostly
//! look keys up. A lookup in a small map is a scan that rejects keys by length before comparing
//! bytes; a bigger map is binary-searched until it has been looked up a few times, and then gets
//! a hash index (a chart's values are looked up thousands of times). All of these beat a
//! `BTreeMap` walk several times over, and the entries sit in one allocation.

use std::fmt;
use std::hash::BuildHasher;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use super::Value;

/// Maps up to this size are scanned rather than searched.
const SCAN_MAX: usize = 12;
/// Lookups a bigger map answers by binary search before it gets a hash index.
const SEARCHES_BEFORE_INDEX: u32 = 8;

/// Key/value pairs sorted by key, each key once.
#[derive(Default)]
pub struct Entries {
    items: Vec<(String, Value)>,
    /// Open-addressed positions into `items` (`u32::MAX`: empty), built on demand; a change to
    /// the keys drops it.
    index: OnceLock<Box<[u32]>>,
    /// Lookups so far without an index (racy counting is fine: it only decides when to build).
    searches: AtomicU32,
}

/// Whether two keys of the same length are equal: keys are short, and comparing them in a few
/// word loads beats a call to `memcmp`.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    debug_assert_eq!(n, b.len());
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or([0; 8]));
    let half = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().unwrap_or([0; 4]));
    match n {
        // Two loads that overlap in the middle cover the whole key.
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => a == b,
    }
}

fn hash(key: &str) -> u64 {
    foldhash::fast::FixedState::with_seed(0x6b69_6c6e).hash_one(key)
}

impl Entries {
    pub fn new() -> Self {
        Self::default()
    }

    fn from_sorted(items: Vec<(String, Value)>) -> Self {
        Entries {
            items,
            ..Self::default()
        }
    }

    /// Where `key` is, without the place it would go.
    fn find(&self, key: &str) -> Option<usize> {
        let kb = key.as_bytes();
        if self.items.len() <= SCAN_MAX {
            // Equal lengths are rare among a map's keys: test that before any byte.
            return self
                .items
                .iter()
                .position(|(k, _)| k.len() == kb.len() && same_bytes(k.as_bytes(), kb));
        }
        let index = match self.index.get() {
            Some(index) => index,
            None => {
                let n = self.searches.load(Ordering::Relaxed);
                if n < SEARCHES_BEFORE_INDEX {
                    self.searches.store(n + 1, Ordering::Relaxed);
                    return self.search(key).ok();
                }
                self.index.get_or_init(|| self.build_index())
            }
        };
        let mask = index.len() - 1;
        let mut slot = hash(key) as usize & mask;
        loop {
            let i = index[slot];
            if i == u32::MAX {
                return None;
            }
            let k = &self.items[i as usize].0;
            if k.len() == kb.len() && same_bytes(k.as_bytes(), kb) {
                return Some(i as usize);
            }
            slot = (slot + 1) & mask;
        }
    }

    fn build_index(&self) -> Box<[u32]> {
        let size = (self.items.len() * 2).next_power_of_two();
        let mask = size - 1;
        let mut index = vec![u32::MAX; size].into_boxed_slice();
        for (i, (k, _)) in self.items.iter().enumerate() {
            let mut slot = hash(k) as usize & mask;
            while index[slot] != u32::MAX {
                slot = (slot + 1) & mask;
            }
            index[slot] = u32::try_from(i).unwrap_or(u32::MAX);
        }
        index
    }

    fn search(&self, key: &str) -> Result<usize, usize> {
        self.items.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// Where `key` is (`Ok`) or would go (`Err`).
    fn position(&self, key: &str) -> Result<usize, usize> {
        if self.items.len() <= SCAN_MAX {
            return match self.find(key) {
                Some(i) => Ok(i),
                None => Err(self.items.partition_point(|(k, _)| k.as_str() < key)),
            };
        }
        self.search(key)
    }

    /// The keys change: an index would point at the wrong places.
    fn keys_changed(&mut self) {
        if self.index.get().is_some() {
            self.index = OnceLock::new();
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.find(key).map(|i| &self.items[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.find(key).map(|i| &mut self.items[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_some()
    }

    /// Sets `key`, returning the value it replaced.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        if let Some(i) = self.find(&key) {
            return Some(std::mem::replace(&mut self.items[i].1, value));
        }
        let i = self.position(&key).unwrap_or_else(|i| i);
        self.keys_changed();
        self.items.insert(i, (key, value));
        None
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.find(key)?;
        self.keys_changed();
        Some(self.items.remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&String, &Value)> + ExactSizeIterator {
        self.items.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.items.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.items.iter().map(|(_, v)| v)
    }
}

impl FromIterator<(String, Value)> for Entries {
    /// Like collecting into a `BTreeMap`: sorted, and the last of equal keys wins.
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        let mut items: Vec<(String, Value)> = iter.into_iter().collect();
        if items.windows(2).all(|w| w[0].0 < w[1].0) {
            return Entries::from_sorted(items);
        }
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(String, Value)> = Vec::with_capacity(items.len());
        for (k, v) in items {
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => out.push((k, v)),
            }
        }
        Entries::from_sorted(out)
    }
}

impl Clone for Entries {
    fn clone(&self) -> Self {
        Entries::from_sorted(self.items.clone())
    }
}

impl PartialEq for Entries {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl From<std::collections::BTreeMap<String, Value>> for Entries {
    fn from(m: std::collections::BTreeMap<String, Value>) -> Self {
        Entries::from_sorted(m.into_iter().collect())
    }
}

impl IntoIterator for Entries {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl fmt::Debug for Entries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(String, i64),
        Remove(String),
    }

    fn key() -> impl Strategy<Value = String> {
        // Few distinct keys, of equal and different lengths, so that operations collide.
        prop_oneof![
            "[a-c]{0,3}",
            "[a-z]{1,12}",
            Just("é".to_string()),
            Just("a\u{0}".to_string())
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (key(), any::<i64>()).prop_map(|(k, v)| Op::Insert(k, v)),
            key().prop_map(Op::Remove),
        ]
    }

    proptest! {
        #[test]
        fn same_bytes_is_equality(
            a in proptest::collection::vec(0u8..3, 0..24),
            flip in proptest::option::of(any::<proptest::sample::Index>()),
        ) {
            let mut b = a.clone();
            if let Some(i) = flip.filter(|_| !b.is_empty()) {
                b[i.index(a.len())] ^= 1;
            }
            prop_assert_eq!(same_bytes(&a, &b), a == b);
        }

        /// Scanned and binary-searched maps behave exactly like a `BTreeMap`.
        #[test]
        fn behaves_like_a_btreemap(
            init in proptest::collection::vec((key(), any::<i64>()), 0..40),
            ops in proptest::collection::vec(op(), 0..80),
            probes in proptest::collection::vec(key(), 0..20),
        ) {
            let mut model: BTreeMap<String, Value> =
                init.iter().map(|(k, v)| (k.clone(), Value::Int(*v))).collect();
            let mut e: Entries = init.into_iter().map(|(k, v)| (k, Value::Int(v))).collect();
            // Enough lookups for a big map to build its index before it changes.
            for _ in 0..=SEARCHES_BEFORE_INDEX {
                for k in probes.iter().chain(model.keys()) {
                    prop_assert_eq!(e.get(k), model.get(k));
                }
            }
            for op in ops {
                match op {
                    Op::Insert(k, v) => prop_assert_eq!(
                        e.insert(k.clone(), Value::Int(v)),
                        model.insert(k, Value::Int(v))
                    ),
                    Op::Remove(k) => prop_assert_eq!(e.remove(&k), model.remove(&k)),
                }
                prop_assert_eq!(e.len(), model.len());
            }
            for _ in 0..=SEARCHES_BEFORE_INDEX {
                for k in probes.iter().chain(model.keys()) {
                    prop_assert_eq!(e.get(k), model.get(k));
                    prop_assert_eq!(e.contains_key(k), model.contains_key(k));
                }
            }
            let got: Vec<_> = e.iter().collect();
            let want: Vec<_> = model.iter().collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(Entries::from(model), e);
        }
    }
}
