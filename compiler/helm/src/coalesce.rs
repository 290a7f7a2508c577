//! Helm's value coalescing (`pkg/chart/common/util/coalesce.go`): user values over chart defaults,
//! subchart scoping, `global` propagation and the null-deletion rules (`key: null` in user values
//! removes a default; when merging for `import-values`, nulls are kept).

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::chart::Chart;

type Table = Map<String, Value>;

/// `CoalesceValues(chart, vals)` (user values win, `null` deletes) restricted to the top-level keys `wanted` accepts (and `global`): what
/// `condition` and `tags` lookups read, without copying every default of the chart. Each
/// top-level key of the result depends on that key of the inputs and on `global` alone, so the
/// keys kept are exactly those of the full result.
pub fn coalesce_values_of(chart: &Chart, vals: &Table, wanted: &dyn Fn(&str) -> bool) -> Table {
    let wanted = |key: &str| key == "global" || wanted(key);
    let mut dest: Table = vals
        .iter()
        .filter(|(k, _)| wanted(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    coalesce_chart_values(chart, &mut dest, false, &wanted);
    coalesce_deps(chart, &mut dest, false, &wanted);
    dest
}

/// `CoalesceValues(chart, vals)` for a chart that is done with its defaults: they are moved into the
/// result (no copy, unless another chart shares them) and `chart` and its subcharts are left
/// with empty values.
pub fn coalesce_values_taking(chart: &mut Chart, vals: Table) -> Table {
    let mut dest = vals;
    coalesce_taking(chart, &mut dest, false, true);
    dest
}

/// `MergeValues(chart, {})` (coalescing that keeps `null`s) for a chart whose own defaults are replaced by the result: they are
/// moved into it (the subcharts' defaults are copied, as they are still needed).
pub fn merge_defaults_taking(chart: &mut Chart) -> Table {
    let mut dest = Table::new();
    coalesce_taking(chart, &mut dest, true, false);
    dest
}

fn coalesce(chart: &Chart, dest: &mut Table, merge: bool) {
    coalesce_chart_values(chart, dest, merge, &|_| true);
    coalesce_deps(chart, dest, merge, &|_| true);
}

fn coalesce_taking(chart: &mut Chart, dest: &mut Table, merge: bool, subcharts_too: bool) {
    let values = std::sync::Arc::try_unwrap(std::mem::take(&mut chart.values))
        .unwrap_or_else(|shared| (*shared).clone());
    let owned = values
        .into_iter()
        .map(|(k, v)| (Cow::Owned(k), Cow::Owned(v)));
    coalesce_defaults(chart, owned, dest, merge);
    if !subcharts_too {
        return coalesce_deps(chart, dest, merge, &|_| true);
    }
    for sub in &mut chart.dependencies {
        if let Some(sub_dest) = subchart_dest(dest, sub.name()) {
            coalesce_taking(sub, sub_dest, merge, true);
        }
    }
}

fn coalesce_deps(chart: &Chart, dest: &mut Table, merge: bool, wanted: &dyn Fn(&str) -> bool) {
    for sub in chart.dependencies.iter().filter(|sub| wanted(sub.name())) {
        if let Some(sub_dest) = subchart_dest(dest, sub.name()) {
            coalesce(sub, sub_dest, merge);
        }
    }
}

/// The table of subchart `name` in `dest` (made if missing) with the parent's globals in it, or
/// `None` when `dest` holds something else there.
fn subchart_dest<'d>(dest: &'d mut Table, name: &str) -> Option<&'d mut Table> {
    match dest.get(name) {
        None => {
            dest.insert(name.to_string(), Value::Object(Map::new()));
        }
        Some(Value::Object(_)) => {}
        // Helm reports a type mismatch here; a non-table value for a subchart is left as is.
        Some(_) => return None,
    }
    let globals = dest.get("global").cloned();
    let Some(Value::Object(sub_dest)) = dest.get_mut(name) else {
        return None;
    };
    coalesce_globals(sub_dest, globals.as_ref());
    Some(sub_dest)
}

/// Copies the parent's `global` table into the subchart's values (parent globals win).
fn coalesce_globals(dest: &mut Table, src_global: Option<&Value>) {
    let mut dg = match dest.get("global") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return,
    };
    let sg = match src_global {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return,
    };
    for (key, val) in sg {
        match &val {
            Value::Object(vm) => {
                let mut vv = vm.clone();
                match dg.get(&key) {
                    None => {
                        dg.insert(key, Value::Object(vv));
                    }
                    Some(Value::Object(destv)) => {
                        coalesce_tables(&mut vv, destv.clone(), true);
                        dg.insert(key, Value::Object(vv));
                    }
                    Some(_) => {}
                }
            }
            _ => {
                if matches!(dg.get(&key), Some(Value::Object(_))) {
                    continue;
                }
                dg.insert(key, val);
            }
        }
    }
    dest.insert("global".into(), Value::Object(dg));
}

fn coalesce_chart_values(chart: &Chart, v: &mut Table, merge: bool, wanted: &dyn Fn(&str) -> bool) {
    let borrowed = chart
        .values
        .iter()
        .filter(|(k, _)| wanted(k))
        .map(|(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v)));
    coalesce_defaults(chart, borrowed, v, merge);
}

/// Coalesces `chart`'s defaults (borrowed or owned) into `v`.
fn coalesce_defaults<'a>(
    chart: &Chart,
    defaults: impl Iterator<Item = (Cow<'a, String>, Cow<'a, Value>)>,
    v: &mut Table,
    merge: bool,
) {
    for (key, val) in defaults {
        match v.get_mut(key.as_str()) {
            Some(Value::Null) if !merge => {
                v.remove(key.as_str());
            }
            Some(Value::Object(dest)) => {
                if val.is_object()
                    && let Value::Object(src) = val.into_owned()
                {
                    let merge = merge || chart.dependencies.iter().any(|d| d.name() == *key);
                    coalesce_tables(dest, src, merge);
                }
            }
            Some(_) => {}
            None => {
                v.insert(key.into_owned(), val.into_owned());
            }
        }
    }
}

/// `coalesceTablesFullKey`: `dst` is authoritative, `src` fills the gaps; a `null` in `dst`
/// deletes the key unless merging.
pub fn coalesce_tables(dst: &mut Table, mut src: Table, merge: bool) {
    for (key, val) in dst.iter() {
        if val.is_null() {
            src.insert(key.clone(), Value::Null);
        }
    }
    for (key, val) in src {
        match dst.get_mut(&key) {
            Some(Value::Null) if !merge => {
                dst.remove(&key);
            }
            None => {
                dst.insert(key, val);
            }
            Some(dv) => {
                if let Value::Object(sv) = val
                    && let Value::Object(dm) = dv
                {
                    coalesce_tables(dm, sv, merge);
                }
            }
        }
    }
}

/// `CoalesceTables(dst, src)` returning the result.
pub fn coalesce_tables_owned(mut dst: Table, src: Table, merge: bool) -> Table {
    coalesce_tables(&mut dst, src, merge);
    dst
}

/// Helm CLI's `mergeMaps` for `-f` files: later files win, tables merge recursively.
pub fn merge_maps(a: &Table, b: &Table) -> Table {
    let mut out = a.clone();
    for (k, v) in b {
        if let Value::Object(vm) = v
            && let Some(Value::Object(bv)) = out.get(k)
        {
            let merged = merge_maps(bv, vm);
            out.insert(k.clone(), Value::Object(merged));
            continue;
        }
        out.insert(k.clone(), v.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `CoalesceValues(chart, vals)` copying the defaults: what the other forms must agree with.
    fn coalesce_values(chart: &Chart, vals: &Table) -> Table {
        let mut dest = vals.clone();
        coalesce(chart, &mut dest, false);
        dest
    }

    /// `MergeValues(chart, vals)` copying the defaults.
    fn merge_values(chart: &Chart, vals: &Table) -> Table {
        let mut dest = vals.clone();
        coalesce(chart, &mut dest, true);
        dest
    }
    use serde_json::json;

    fn chart(values: Value, deps: Vec<Chart>, name: &str) -> Chart {
        let mut c = Chart::default();
        c.metadata.name = name.into();
        c.values = values.as_object().cloned().unwrap().into();
        c.dependencies = deps;
        c
    }

    fn obj(v: Value) -> Table {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn user_values_win_and_null_deletes() {
        let c = chart(
            json!({"a": 1, "b": {"c": 2, "d": 3}, "e": 4}),
            vec![],
            "top",
        );
        let out = coalesce_values(&c, &obj(json!({"a": 9, "b": {"c": null}, "e": null})));
        assert_eq!(Value::Object(out), json!({"a": 9, "b": {"d": 3}}));
    }

    #[test]
    fn merge_keeps_nulls() {
        let c = chart(json!({"b": {"c": 2}}), vec![], "top");
        let out = merge_values(&c, &obj(json!({"b": {"c": null}})));
        assert_eq!(Value::Object(out), json!({"b": {"c": null}}));
    }

    #[test]
    fn globals_flow_down_and_subchart_defaults_fill_in() {
        let sub = chart(
            json!({"x": 1, "global": {"g": "sub", "h": "sub"}}),
            vec![],
            "sub",
        );
        let c = chart(
            json!({"global": {"g": "top"}, "sub": {"y": 2}}),
            vec![sub],
            "top",
        );
        let out = coalesce_values(&c, &Map::new());
        assert_eq!(
            Value::Object(out),
            json!({"global": {"g": "top"}, "sub": {"y": 2, "global": {"g": "top", "h": "sub"}, "x": 1}})
        );
    }

    /// Small value trees over few keys, so that user values, defaults and globals collide.
    fn tree() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0i64..3).prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            proptest::collection::btree_map(
                prop_oneof![
                    Just("a"),
                    Just("b"),
                    Just("global"),
                    Just("sub"),
                    Just("tags")
                ],
                inner,
                0..4,
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
        })
    }

    fn table_of(v: Value) -> Table {
        match v {
            Value::Object(m) => m,
            other => Map::from_iter([("a".to_string(), other)]),
        }
    }

    proptest::proptest! {
        /// The restricted coalescing keeps the wanted keys exactly as the full one has them.
        #[test]
        fn restricted_coalescing_agrees_with_the_full_one(
            top in tree(),
            sub_values in tree(),
            inner_values in tree(),
            user in tree(),
            wanted in proptest::collection::btree_set(
                proptest::prop_oneof![
                    proptest::strategy::Just("a"),
                    proptest::strategy::Just("b"),
                    proptest::strategy::Just("sub"),
                    proptest::strategy::Just("tags"),
                ],
                0..4,
            ),
        ) {
            let inner = chart(Value::Object(table_of(inner_values)), vec![], "a");
            let sub = chart(Value::Object(table_of(sub_values)), vec![inner], "sub");
            let c = chart(Value::Object(table_of(top)), vec![sub], "top");
            let user = table_of(user);
            let full = coalesce_values(&c, &user);
            let restricted = coalesce_values_of(&c, &user, &|k| wanted.contains(k));
            let kept = |k: &str| k == "global" || wanted.contains(k);
            let expected: Table =
                full.into_iter().filter(|(k, _)| kept(k)).collect();
            let mut got: Vec<_> = restricted.into_iter().collect();
            let mut expected: Vec<_> = expected.into_iter().collect();
            got.sort_by(|x, y| x.0.cmp(&y.0));
            expected.sort_by(|x, y| x.0.cmp(&y.0));
            proptest::prop_assert_eq!(got, expected);
        }

        /// Coalescing that takes the defaults gives what copying them gives, whether the chart
        /// shares its values or not, and merging leaves the subcharts' defaults in place.
        #[test]
        fn taking_the_defaults_agrees_with_copying_them(
            top in tree(),
            sub_values in tree(),
            inner_values in tree(),
            user in tree(),
        ) {
            let build = || {
                let inner = chart(Value::Object(table_of(inner_values.clone())), vec![], "a");
                let sub = chart(Value::Object(table_of(sub_values.clone())), vec![inner], "sub");
                chart(Value::Object(table_of(top.clone())), vec![sub], "top")
            };
            let user = table_of(user);
            let c = build();
            let expected = coalesce_values(&c, &user);
            let mut shared = c.clone();
            proptest::prop_assert_eq!(&coalesce_values_taking(&mut shared, user.clone()), &expected);
            let mut owned = build();
            proptest::prop_assert_eq!(&coalesce_values_taking(&mut owned, user), &expected);

            let expected = merge_values(&c, &Map::new());
            let mut owned = build();
            let sub_defaults = owned.dependencies[0].values.clone();
            proptest::prop_assert_eq!(&merge_defaults_taking(&mut owned), &expected);
            proptest::prop_assert_eq!(&owned.dependencies[0].values, &sub_defaults);
        }
    }

    #[test]
    fn later_files_win() {
        let out = merge_maps(
            &obj(json!({"a": {"b": 1, "c": 2}})),
            &obj(json!({"a": {"b": 3}, "d": 4})),
        );
        assert_eq!(Value::Object(out), json!({"a": {"b": 3, "c": 2}, "d": 4}));
    }
}
