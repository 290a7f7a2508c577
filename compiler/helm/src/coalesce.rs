//! Helm's value coalescing (`pkg/chart/common/util/coalesce.go`): user values over chart defaults,
//! subchart scoping, `global` propagation and the null-deletion rules (`key: null` in user values
//! removes a default; when merging for `import-values`, nulls are kept).

use serde_json::{Map, Value};

use crate::chart::Chart;

type Table = Map<String, Value>;

/// `CoalesceValues(chart, vals)`: user values win, `null` deletes.
pub fn coalesce_values(chart: &Chart, vals: &Table) -> Table {
    let mut dest = vals.clone();
    coalesce(chart, &mut dest, false);
    dest
}

/// `MergeValues(chart, vals)`: like coalescing but `null`s are kept.
pub fn merge_values(chart: &Chart, vals: &Table) -> Table {
    let mut dest = vals.clone();
    coalesce(chart, &mut dest, true);
    dest
}

fn coalesce(chart: &Chart, dest: &mut Table, merge: bool) {
    coalesce_chart_values(chart, dest, merge);
    coalesce_deps(chart, dest, merge);
}

fn coalesce_deps(chart: &Chart, dest: &mut Table, merge: bool) {
    for sub in &chart.dependencies {
        let name = sub.name().to_string();
        match dest.get(&name) {
            None => {
                dest.insert(name.clone(), Value::Object(Map::new()));
            }
            Some(Value::Object(_)) => {}
            // Helm reports a type mismatch here; a non-table value for a subchart is left as is.
            Some(_) => continue,
        }
        let globals = dest.get("global").cloned();
        let Some(Value::Object(sub_dest)) = dest.get_mut(&name) else {
            continue;
        };
        coalesce_globals(sub_dest, globals.as_ref());
        coalesce(sub, sub_dest, merge);
    }
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

fn coalesce_chart_values(chart: &Chart, v: &mut Table, merge: bool) {
    for (key, val) in chart.values.iter() {
        match v.get_mut(key) {
            Some(Value::Null) if !merge => {
                v.remove(key);
            }
            Some(Value::Object(dest)) => {
                if let Value::Object(src) = val {
                    let merge = merge || chart.dependencies.iter().any(|d| d.name() == key);
                    coalesce_tables(dest, src.clone(), merge);
                }
            }
            Some(_) => {}
            None => {
                v.insert(key.clone(), val.clone());
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

    #[test]
    fn later_files_win() {
        let out = merge_maps(
            &obj(json!({"a": {"b": 1, "c": 2}})),
            &obj(json!({"a": {"b": 3}, "d": 4})),
        );
        assert_eq!(Value::Object(out), json!({"a": {"b": 3, "c": 2}, "d": 4}));
    }
}
