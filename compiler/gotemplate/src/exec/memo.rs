//! Reuse of `include` results within one execution. Charts call the same helpers over and over
//! with the same data (`include "chart.fullname" .` a dozen times per manifest), and rendering
//! them is most of what executing a chart costs. A helper's text depends only on the template,
//! its data, the maps reachable from that data and the functions it calls, so a result is served
//! again for the same template and the same data while no map that existed when it was rendered
//! has been written since ([`WriteCheck`]), and when no stateful function (a random generator)
//! ran in it. Failed renders are not kept: errors are reported where they happen.

use std::sync::Arc;

use crate::ast::Tree;
use crate::value::{Value, WriteCheck};

/// Results kept at most; older ones go first.
const MAX_ENTRIES: usize = 64;

/// Small maps are compared by content: helpers are often passed a fresh
/// `dict "context" $ "name" "x"`, equal each time.
const COMPARED_MAP_MAX: usize = 8;

/// Whether a template reads the same from `a` and `b`: the same values, maps or objects, or small
/// maps holding such values under the same keys. (A map's identity only matters to writes, and a
/// render that writes to a map it was given is not kept.)
fn same_data(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Map(x), Value::Map(y)) if !x.ptr_eq(y) => {
            let (x, y) = (x.read(), y.read());
            x.len() == y.len()
                && x.len() <= COMPARED_MAP_MAX
                && x.iter()
                    .zip(y.iter())
                    .all(|((kx, vx), (ky, vy))| kx == ky && vx.is_same(vy))
        }
        _ => a.is_same(b),
    }
}

/// Texts of finished includes.
#[derive(Default)]
pub(super) struct IncludeMemo {
    entries: Vec<Entry>,
}

struct Entry {
    tree: *const Tree,
    data: Value,
    check: WriteCheck,
    text: Arc<str>,
}

impl IncludeMemo {
    /// The text `tree` rendered with `data` before, if it would render the same now.
    pub(super) fn get(&self, tree: &Arc<Tree>, data: &Value) -> Option<Arc<str>> {
        let tree = Arc::as_ptr(tree);
        self.entries
            .iter()
            .rev()
            .find(|e| e.tree == tree && same_data(&e.data, data) && e.check.unchanged())
            .map(|e| e.text.clone())
    }

    /// Keeps `text`, what `tree` rendered with `data` without writing to maps older than
    /// `check` and without stateful calls.
    pub(super) fn put(&mut self, tree: &Arc<Tree>, data: Value, check: WriteCheck, text: Arc<str>) {
        self.entries.retain(|e| e.check.unchanged());
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.remove(0);
        }
        self.entries.push(Entry {
            tree: Arc::as_ptr(tree),
            data,
            check,
            text,
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use crate::{ArgType, FuncMap, Map, Signature, Templates, Value};

    static COUNTER: AtomicI64 = AtomicI64::new(0);

    fn templates(text: &str) -> Templates {
        let mut f = FuncMap::new();
        f.insert(
            "include",
            Signature::fixed(&[ArgType::String, ArgType::Any]),
            |ctx, a| {
                Ok(Value::from(ctx.include(
                    a[0].as_str().unwrap_or_default(),
                    a[1].clone(),
                )?))
            },
        );
        f.insert(
            "tpl",
            Signature::fixed(&[ArgType::String, ArgType::Any]),
            |ctx, a| {
                let text = a[0].as_str().unwrap_or_default().to_string();
                Ok(Value::from(ctx.execute_text("t", &text, a[1].clone())?))
            },
        );
        f.insert(
            "set",
            Signature::fixed(&[ArgType::Map, ArgType::String, ArgType::Any]),
            |_, a| {
                if let Value::Map(m) = &a[0] {
                    m.insert(a[1].as_str().unwrap_or_default(), a[2].clone());
                }
                Ok(a[0].clone())
            },
        );
        f.insert("dict", Signature::variadic(&[], ArgType::Any), |_, a| {
            let m = Map::new();
            for pair in a.chunks(2) {
                m.insert(pair[0].as_str().unwrap_or_default(), pair[1].clone());
            }
            Ok(Value::Map(m))
        });
        // Counts calls: a stand-in for the state a random generator keeps.
        let mut stateful = FuncMap::new();
        stateful.insert("next", Signature::fixed(&[]), |_, _| {
            Ok(Value::Int(COUNTER.fetch_add(1, Ordering::Relaxed)))
        });
        stateful.mark_stateful();
        f.extend(stateful);
        let mut t = Templates::new(f);
        t.parse("main", text).unwrap();
        t
    }

    fn run(text: &str, data: &Value) -> String {
        templates(text).execute("main", data).unwrap()
    }

    fn data() -> Value {
        let m = Map::new();
        m.insert("a", Value::Int(1));
        m.insert("inner", Value::Map(Map::new()));
        Value::Map(m)
    }

    #[test]
    fn writes_to_the_data_are_seen_by_later_includes() {
        let defs = r#"{{define "x"}}{{.a}}{{.inner.b}}{{end}}"#;
        assert_eq!(
            run(
                &format!(
                    r#"{defs}{{{{include "x" .}}}}{{{{$_ := set . "a" 2}}}}{{{{include "x" .}}}}"#
                ),
                &data()
            ),
            "1<no value>2<no value>"
        );
        assert_eq!(
            run(
                &format!(
                    r#"{defs}{{{{include "x" .}}}}{{{{$_ := set .inner "b" 3}}}}{{{{include "x" .}}}}"#
                ),
                &data()
            ),
            "1<no value>13"
        );
    }

    #[test]
    fn includes_that_write_are_rendered_each_time() {
        let t =
            r#"{{define "x"}}{{.a}}{{$_ := set . "a" 5}}{{end}}{{include "x" .}}{{include "x" .}}"#;
        assert_eq!(run(t, &data()), "15");
    }

    #[test]
    fn fresh_maps_do_not_stop_reuse_and_are_not_shared_between_renders() {
        // The helper builds and fills a map of its own: the second include must build its own
        // again (it prints what it put in, not what the first one did).
        let t = r#"{{define "x"}}{{$d := dict}}{{$_ := set $d "k" .a}}{{$d.k}}{{end}}{{include "x" .}}{{$_ := set . "a" 7}}{{include "x" .}}{{include "x" .}}"#;
        assert_eq!(run(t, &data()), "177");
    }

    #[test]
    fn equal_small_maps_are_the_same_data() {
        let t = r#"{{define "x"}}{{.c.a}}{{.n}}{{end}}{{include "x" (dict "c" . "n" 1)}}{{include "x" (dict "c" . "n" 2)}}{{include "x" (dict "c" . "n" 1)}}{{$_ := set . "a" 3}}{{include "x" (dict "c" . "n" 1)}}"#;
        assert_eq!(run(t, &data()), "11121131");
    }

    #[test]
    fn stateful_functions_run_on_every_include() {
        let t = r#"{{define "x"}}{{next}}{{end}}{{$a := include "x" .}}{{$b := include "x" .}}{{eq $a $b}}"#;
        assert_eq!(run(t, &data()), "false");
        let t = r#"{{define "y"}}{{include "x" .}}{{end}}{{define "x"}}{{next}}{{end}}{{$a := include "y" .}}{{$b := include "y" .}}{{eq $a $b}}"#;
        assert_eq!(run(t, &data()), "false", "nor on includes around them");
    }

    #[test]
    fn other_data_and_templates_defined_by_tpl_are_not_confused() {
        let t = r#"{{define "x"}}<{{.}}>{{end}}{{include "x" 1}}{{include "x" "1"}}{{include "x" 1}}{{tpl "{{define \"x\"}}[{{.}}]{{end}}{{include \"x\" 1}}" 0}}{{include "x" 1}}"#;
        assert_eq!(run(t, &data()), "<1><1><1>[1]<1>");
    }
}
