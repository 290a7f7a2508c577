//! The fast path held to the general one: hand-written cases per keyword and draft, and property
//! tests over generated schemas, instances and schema texts.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::fast_check;

/// The general path's verdict: `None` when it rejects the schema.
fn general(schema: &[u8], values: &Value) -> Option<bool> {
    let schema: Value = serde_json::from_slice(schema).ok()?;
    let validator = jsonschema::validator_for(&schema).ok()?;
    Some(validator.is_valid(values))
}

/// Asserts the fast path agrees with the general one whenever it answers.
fn agree(schema: &[u8], values: &Value) -> Option<bool> {
    let fast = fast_check(schema, values);
    let slow = general(schema, values);
    if fast.is_some() {
        assert_eq!(
            fast,
            slow,
            "schema {} values {values}",
            String::from_utf8_lossy(schema)
        );
    }
    fast
}

/// Both verdicts for `schema` in draft 7 and 2020-12; the fast path must answer `expect`.
fn case(schema: Value, values: Value, expect: Option<bool>) {
    for draft in [
        "http://json-schema.org/draft-07/schema#",
        "https://json-schema.org/draft/2020-12/schema",
    ] {
        let mut s = schema.clone();
        if let Value::Object(m) = &mut s {
            m.insert("$schema".into(), draft.into());
        }
        let text = serde_json::to_vec(&s).unwrap();
        assert_eq!(agree(&text, &values), expect, "{s} {values}");
    }
}

fn pass(schema: Value, values: Value) {
    case(schema, values, Some(true));
}

fn fail(schema: Value, values: Value) {
    case(schema, values, Some(false));
}

#[test]
fn types() {
    pass(json!({"type": "integer"}), json!(3));
    pass(json!({"type": "integer"}), json!(3.0));
    fail(json!({"type": "integer"}), json!(3.5));
    pass(json!({"type": ["string", "null"]}), json!(null));
    fail(json!({"type": ["string", "null"]}), json!(1));
    pass(json!({"type": "object"}), json!({}));
    fail(json!({"type": "array"}), json!({}));
    pass(json!({"type": "number"}), json!(-1));
    fail(json!({"type": "boolean"}), json!("true"));
}

#[test]
fn enums_and_consts() {
    pass(json!({"enum": [1, "a", null]}), json!(1.0));
    fail(json!({"enum": [1, "a", null]}), json!("b"));
    pass(json!({"enum": [{"a": [1]}]}), json!({"a": [1.0]}));
    pass(json!({"const": {"x": 1, "y": 2}}), json!({"y": 2, "x": 1}));
    fail(json!({"const": [1, 2]}), json!([2, 1]));
    fail(json!({"const": false}), json!(0));
}

#[test]
fn numbers() {
    pass(json!({"minimum": 2, "maximum": 2}), json!(2.0));
    fail(json!({"minimum": 2}), json!(1.5));
    fail(json!({"maximum": 1.5}), json!(2));
    fail(json!({"exclusiveMinimum": 2}), json!(2));
    pass(json!({"exclusiveMaximum": 2}), json!(1.999));
    pass(json!({"multipleOf": 3}), json!(9.0));
    fail(json!({"multipleOf": 3}), json!(10));
    pass(json!({"minimum": 5}), json!("not a number"));
    // Float divisors are left to the general path.
    case(json!({"multipleOf": 0.5}), json!(1.5), None);
}

#[test]
fn strings() {
    pass(json!({"minLength": 2, "maxLength": 2}), json!("äö"));
    fail(json!({"maxLength": 1}), json!("ab"));
    fail(json!({"minLength": 1}), json!(""));
    pass(
        json!({"pattern": "^sha256:[a-f0-9]{4}$"}),
        json!("sha256:00af"),
    );
    fail(
        json!({"pattern": "^sha256:[a-f0-9]{4}$"}),
        json!("sha256:00ag"),
    );
    pass(json!({"pattern": "b"}), json!("abc"));
    // ECMA 262: `\d` is ASCII only.
    fail(json!({"pattern": "^\\d$"}), json!("٣"));
    pass(json!({"pattern": "^\\w+$"}), json!("a_1"));
}

#[test]
fn arrays() {
    pass(json!({"items": {"type": "string"}}), json!(["a", "b"]));
    fail(json!({"items": {"type": "string"}}), json!(["a", 1]));
    pass(json!({"minItems": 1, "maxItems": 2}), json!([1]));
    fail(json!({"maxItems": 1}), json!([1, 2]));
    fail(json!({"uniqueItems": true}), json!([1, 1.0]));
    pass(json!({"uniqueItems": true}), json!([1, "1"]));
    pass(json!({"uniqueItems": false}), json!([1, 1]));
    pass(json!({"contains": {"const": 2}}), json!([1, 2]));
    fail(json!({"contains": {"const": 2}}), json!([]));
}

#[test]
fn draft_specific_arrays() {
    let d7 = "http://json-schema.org/draft-07/schema#";
    let d2020 = "https://json-schema.org/draft/2020-12/schema";
    let tuple = json!({"$schema": d7, "items": [{"type": "string"}], "additionalItems": false});
    let text = serde_json::to_vec(&tuple).unwrap();
    assert_eq!(agree(&text, &json!(["a"])), Some(true));
    assert_eq!(agree(&text, &json!(["a", "b"])), Some(false));
    let prefix = json!({"$schema": d2020, "prefixItems": [{"type": "string"}], "items": false});
    let text = serde_json::to_vec(&prefix).unwrap();
    assert_eq!(agree(&text, &json!(["a"])), Some(true));
    assert_eq!(agree(&text, &json!([1])), Some(false));
    assert_eq!(agree(&text, &json!(["a", "b"])), Some(false));
    // Array-form `items` is not a 2020-12 schema.
    let bad = json!({"$schema": d2020, "items": [{"type": "string"}]});
    assert_eq!(agree(&serde_json::to_vec(&bad).unwrap(), &json!([])), None);
}

#[test]
fn objects() {
    let schema = json!({
        "properties": {"a": {"type": "integer"}},
        "patternProperties": {"^x-": {"type": "string"}},
        "additionalProperties": false,
        "required": ["a"]
    });
    pass(schema.clone(), json!({"a": 1, "x-y": "z"}));
    fail(schema.clone(), json!({"a": 1, "b": 2}));
    fail(schema.clone(), json!({"a": 1, "x-y": 2}));
    fail(schema, json!({"x-y": "z"}));
    pass(
        json!({"minProperties": 1, "maxProperties": 1}),
        json!({"a": 1}),
    );
    fail(json!({"maxProperties": 0}), json!({"a": 1}));
    pass(json!({"propertyNames": {"maxLength": 2}}), json!({"ab": 1}));
    fail(
        json!({"propertyNames": {"maxLength": 2}}),
        json!({"abc": 1}),
    );
    pass(
        json!({"additionalProperties": {"type": "string"}}),
        json!({"a": "b"}),
    );
}

#[test]
fn applicators() {
    pass(
        json!({"allOf": [{"type": "integer"}, {"minimum": 1}]}),
        json!(1),
    );
    fail(
        json!({"allOf": [{"type": "integer"}, {"minimum": 1}]}),
        json!(0),
    );
    pass(
        json!({"anyOf": [{"type": "string"}, {"minimum": 1}]}),
        json!("x"),
    );
    fail(
        json!({"anyOf": [{"type": "string"}, {"minimum": 1}]}),
        json!(0),
    );
    pass(
        json!({"oneOf": [{"type": "integer"}, {"minimum": 1}]}),
        json!(0),
    );
    fail(
        json!({"oneOf": [{"type": "integer"}, {"minimum": 1}]}),
        json!(2),
    );
    fail(json!({"not": {"type": "null"}}), json!(null));
    let cond = json!({"if": {"properties": {"a": {"const": 1}}}, "then": {"required": ["b"]}, "else": {"required": ["c"]}});
    pass(cond.clone(), json!({"a": 1, "b": 0}));
    fail(cond.clone(), json!({"a": 1, "c": 0}));
    pass(cond.clone(), json!({"a": 2, "c": 0}));
    fail(cond, json!({"a": 2, "b": 0}));
    pass(json!({"then": false}), json!(1));
    fail(json!(false), json!(1));
}

#[test]
fn dependencies_by_draft() {
    let d7 = json!({"$schema": "http://json-schema.org/draft-07/schema#",
        "dependencies": {"a": ["b"], "c": {"required": ["d"]}}});
    let text = serde_json::to_vec(&d7).unwrap();
    assert_eq!(agree(&text, &json!({"a": 1, "b": 1})), Some(true));
    assert_eq!(agree(&text, &json!({"a": 1})), Some(false));
    assert_eq!(agree(&text, &json!({"c": 1})), Some(false));
    let d2020 = json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
        "dependentRequired": {"a": ["b"]}, "dependentSchemas": {"c": {"required": ["d"]}}});
    let text = serde_json::to_vec(&d2020).unwrap();
    assert_eq!(
        agree(&text, &json!({"a": 1, "b": 1, "c": 1, "d": 1})),
        Some(true)
    );
    assert_eq!(agree(&text, &json!({"a": 1})), Some(false));
    assert_eq!(agree(&text, &json!({"c": 1})), Some(false));
}

#[test]
fn references() {
    // Before 2019-09 `$ref` hides its siblings; after, both apply.
    let schema = |draft: &str| {
        json!({"$schema": draft, "definitions": {"s": {"type": "string"}},
               "properties": {"a": {"$ref": "#/definitions/s", "maxLength": 1}}})
    };
    let d7 = serde_json::to_vec(&schema("http://json-schema.org/draft-07/schema#")).unwrap();
    let d2020 =
        serde_json::to_vec(&schema("https://json-schema.org/draft/2020-12/schema")).unwrap();
    assert_eq!(agree(&d7, &json!({"a": "xy"})), Some(true));
    assert_eq!(agree(&d2020, &json!({"a": "xy"})), Some(false));
    assert_eq!(agree(&d2020, &json!({"a": 1})), Some(false));
    let recursive = json!({"$defs": {"node": {"type": "object",
        "properties": {"next": {"$ref": "#/$defs/node"}}, "additionalProperties": false}},
        "$ref": "#/$defs/node"});
    let text = serde_json::to_vec(&recursive).unwrap();
    assert_eq!(agree(&text, &json!({"next": {"next": {}}})), Some(true));
    assert_eq!(agree(&text, &json!({"next": {"x": 1}})), Some(false));
    // Unresolvable and remote references go to the general path.
    for r in [
        "#/$defs/missing",
        "other.json",
        "#/$defs/node/properties/next",
    ] {
        let text = serde_json::to_vec(&json!({"$defs": {"node": {}}, "$ref": r})).unwrap();
        let _ = agree(&text, &json!({}));
    }
    // Targets inside unknown keywords are schemas too.
    let inside = json!({"$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": {"config": {"duration": {"type": "string", "pattern": "^[0-9]+s$"}}},
        "properties": {"wait": {"$ref": "#/definitions/config/duration"}}});
    let text = serde_json::to_vec(&inside).unwrap();
    assert_eq!(agree(&text, &json!({"wait": "5s"})), Some(true));
    assert_eq!(agree(&text, &json!({"wait": "5m"})), Some(false));
    let text = serde_json::to_vec(&json!({"$ref": "#/$defs/missing"})).unwrap();
    assert_eq!(agree(&text, &json!({})), None);
}

#[test]
fn unsupported_goes_to_the_general_path() {
    // Draft 7 asserts formats.
    let d7 = json!({"$schema": "http://json-schema.org/draft-07/schema#", "format": "ipv4"});
    assert_eq!(agree(&serde_json::to_vec(&d7).unwrap(), &json!("x")), None);
    case(json!({"unevaluatedProperties": false}), json!({}), None);
    case(json!({"minLength": -1}), json!(""), None);
    case(json!({"type": "strin"}), json!(""), None);
    case(json!({"pattern": "("}), json!(""), None);
    // Parses, but the build rejects the class name; never reached by the values.
    case(
        json!({"properties": {"a": {"pattern": "^\\p{;L}$"}}}),
        json!({}),
        None,
    );
    case(
        json!({"properties": {"a": {"pattern": "^\\p{Lu}$"}}}),
        json!({"a": "A"}),
        Some(true),
    );
    case(json!({"required": ["a", "a"]}), json!({}), None);
    case(json!({"allOf": []}), json!({}), None);
    let old = json!({"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"});
    assert_eq!(agree(&serde_json::to_vec(&old).unwrap(), &json!(1)), None);
    // Nested `$schema`, duplicate keys and invalid JSON.
    let nested =
        br##"{"properties": {"a": {"$schema": "http://json-schema.org/draft-07/schema#"}}}"##;
    assert_eq!(agree(nested, &json!({})), None);
    assert_eq!(
        agree(br##"{"type": "string", "type": "integer"}"##, &json!(1)),
        None
    );
    assert_eq!(agree(br##"{"type": "string""##, &json!(1)), None);
    assert_eq!(agree(br##"{"description": "\x"}"##, &json!(1)), None);
}

#[test]
fn annotations_and_unknown_keywords_are_ignored() {
    let text = br##"{"$schema": "http://json-schema.org/schema#", "title": "t",
        "description": "d \" \u00e9 \ud83d\ude00", "default": {"a": [1, 2.5e3, null, true]},
        "examples": [1], "form": true, "x-ui": {"$ref": "#/nowhere"},
        "properties": {"a": {"type": "string", "description": "x"}}}"##;
    assert_eq!(agree(text, &json!({"a": "b"})), Some(true));
    assert_eq!(agree(text, &json!({"a": 1})), Some(false));
    // The 2020-12 meta-schema only annotates formats.
    let text =
        br##"{"$schema": "https://json-schema.org/draft/2020-12/schema", "format": "ipv4"}"##;
    assert_eq!(agree(text, &json!("x")), Some(true));
}

fn instance() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..4).prop_map(|n| json!(n)),
        prop::sample::select(vec![0.5, 1.0, 2.0, -1.5, 3.0]).prop_map(|f| json!(f)),
        prop::sample::select(vec!["", "a", "ab", "b1", "x-y", "é", "abc", "1"])
            .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (prop::sample::select(vec!["a", "b", "c", "x-y", "d"]), inner),
                0..4
            )
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.into(), v)).collect())),
        ]
    })
}

fn small() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => (0i64..4).prop_map(|n| json!(n)),
        1 => Just(json!(1.5)),
        1 => Just(json!(-1)),
        1 => Just(json!("a")),
    ]
}

/// Schemas the general path rejects or the fast path leaves to it, drawn rarely.
fn odd_schema() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"type": "bogus"})),
        Just(json!({"type": []})),
        Just(json!({"pattern": "("})),
        Just(json!({"allOf": []})),
        Just(json!({"$ref": "#/nope"})),
        Just(json!({"$ref": "#/x-bad"})),
        Just(json!({"$ref": "#/$defs"})),
        Just(json!({"format": "email"})),
        Just(json!({"required": ["a", "a"]})),
        Just(json!({"multipleOf": 0})),
        Just(json!({"minLength": 1.0})),
        Just(json!({"x-thing": {"type": 3}})),
        Just(json!({"unevaluatedProperties": false})),
        Just(json!({"contentMediaType": "application/json"})),
    ]
}

fn leaf_schema() -> impl Strategy<Value = Value> {
    let types = || {
        prop::sample::select(vec![
            "null", "boolean", "integer", "number", "string", "array", "object",
        ])
    };
    prop_oneof![
        2 => Just(json!(true)),
        1 => Just(json!(false)),
        2 => Just(json!({})),
        4 => types().prop_map(|t| json!({"type": t})),
        2 => prop::collection::hash_set(types(), 1..3)
            .prop_map(|t| json!({"type": t.into_iter().collect::<Vec<_>>()})),
        2 => prop::collection::vec(instance(), 1..3).prop_map(|e| json!({"enum": e})),
        1 => instance().prop_map(|c| json!({"const": c})),
        3 => (
            prop::sample::select(vec![
                "minimum",
                "maximum",
                "exclusiveMinimum",
                "exclusiveMaximum",
                "multipleOf"
            ]),
            small()
        )
            .prop_map(|(k, v)| json!({k: v})),
        3 => (
            prop::sample::select(vec![
                "minLength",
                "maxLength",
                "minItems",
                "maxItems",
                "minProperties",
                "maxProperties"
            ]),
            0u64..4
        )
            .prop_map(|(k, v)| json!({k: v})),
        2 => prop::sample::select(vec!["^a", "b$", "^[a-c]+$", "\\d", "^\\w+$", "^.$", "a|b", "é"])
            .prop_map(|p| json!({"pattern": p})),
        1 => any::<bool>().prop_map(|u| json!({"uniqueItems": u})),
        2 => prop::collection::hash_set(prop::sample::select(vec!["a", "b", "c"]), 0..3)
            .prop_map(|r| json!({"required": r.into_iter().collect::<Vec<_>>()})),
        2 => prop::sample::select(vec![
            "#",
            "#/$defs/x",
            "#/definitions/y",
            "#/x-ok",
            "#/x-ok/properties/a",
        ])
        .prop_map(|r| json!({"$ref": r})),
        1 => Just(json!({"title": "t", "description": "d", "default": [1], "x-thing": {"type": 3}})),
        1 => odd_schema(),
    ]
}

fn schema() -> impl Strategy<Value = Value> {
    leaf_schema().prop_recursive(3, 16, 3, |inner| {
        let names = || prop::sample::select(vec!["a", "b", "c", "x-y"]);
        prop_oneof![
            16 => prop::collection::vec((names(), inner.clone()), 0..3).prop_map(|kv| {
                json!({"properties": kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<serde_json::Map<_, _>>()})
            }),
            4 => (prop::sample::select(vec!["^x", "b", "^\\p{L}$"]), inner.clone())
                .prop_map(|(p, s)| json!({"patternProperties": {p: s}})),
            8 => (inner.clone(), prop::option::of(names()), prop::option::of(inner.clone())).prop_map(
                |(a, p, ps)| {
                    let mut m = json!({"additionalProperties": a});
                    if let (Some(p), Some(ps)) = (p, ps) {
                        m["properties"] = json!({p: ps});
                    }
                    m
                }
            ),
            8 => inner.clone().prop_map(|s| json!({"items": s})),
            4 => (prop::collection::vec(inner.clone(), 1..3), inner.clone())
                .prop_map(|(p, a)| json!({"items": p, "additionalItems": a})),
            4 => (prop::collection::vec(inner.clone(), 1..3), inner.clone())
                .prop_map(|(p, a)| json!({"prefixItems": p, "items": a})),
            4 => inner.clone().prop_map(|s| json!({"contains": s})),
            4 => inner.clone().prop_map(|s| json!({"propertyNames": s})),
            4 => inner.clone().prop_map(|s| json!({"not": s})),
            8 => (
                prop::sample::select(vec!["allOf", "anyOf", "oneOf"]),
                prop::collection::vec(inner.clone(), 1..3)
            )
                .prop_map(|(k, s)| json!({k: s})),
            4 => (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(i, t, e)| json!({"if": i, "then": t, "else": e})),
            1 => (names(), inner.clone()).prop_map(|(n, s)| json!({"dependencies": {n: s}})),
            1 => names().prop_map(|n| json!({"dependencies": {n: ["a"]}})),
            1 => names().prop_map(|n| json!({"dependentRequired": {n: ["b"]}})),
            1 => (names(), inner.clone()).prop_map(|(n, s)| json!({"dependentSchemas": {n: s}})),
            8 => (inner.clone(), inner.clone()).prop_map(|(a, b)| {
                let mut m = a.as_object().cloned().unwrap_or_default();
                if let Value::Object(b) = b {
                    m.extend(b);
                }
                Value::Object(m)
            }),
        ]
    })
}

fn document() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            None,
            Some("http://json-schema.org/draft-07/schema#"),
            Some("http://json-schema.org/draft-07/schema#"),
            Some("https://json-schema.org/draft/2020-12/schema"),
            Some("http://json-schema.org/schema#"),
            Some("http://json-schema.org/draft-04/schema#"),
        ]),
        schema(),
        schema(),
        schema(),
    )
        .prop_map(|(draft, root, x, y)| {
            let mut m = match root {
                Value::Object(m) => m,
                other => return other,
            };
            if let Some(d) = draft {
                m.insert("$schema".into(), d.into());
            }
            m.insert("$defs".into(), json!({"x": x}));
            m.insert("definitions".into(), json!({"y": y}));
            m.insert(
                "x-ok".into(),
                json!({"type": "string", "minLength": 1, "properties": {"a": {"minimum": 1}}}),
            );
            m.insert("x-bad".into(), json!({"type": 3}));
            Value::Object(m)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn fast_agrees_with_general(doc in document(), values in instance()) {
        let text = serde_json::to_vec(&doc).unwrap();
        agree(&text, &values);
        let pretty = serde_json::to_vec_pretty(&doc).unwrap();
        agree(&pretty, &values);
    }

    #[test]
    fn damaged_text_is_never_valid(doc in document(), cut in 0usize..400, byte in any::<u8>()) {
        let mut text = serde_json::to_vec(&doc).unwrap();
        let at = cut % (text.len() + 1);
        if byte % 2 == 0 {
            text.truncate(at);
        } else {
            text.insert(at, byte);
        }
        agree(&text, &json!({}));
    }
}

/// The generated cases must exercise the fast path's answers, not only its fallback.
#[test]
fn generated_cases_are_mostly_answered() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let (mut valid, mut invalid, mut unknown) = (0, 0, 0);
    for _ in 0..2000 {
        let doc = document().new_tree(&mut runner).unwrap().current();
        let values = instance().new_tree(&mut runner).unwrap().current();
        match agree(&serde_json::to_vec(&doc).unwrap(), &values) {
            Some(true) => valid += 1,
            Some(false) => invalid += 1,
            None => unknown += 1,
        }
    }
    eprintln!("valid {valid} invalid {invalid} unknown {unknown}");
    assert!(
        valid > 500 && invalid > 150,
        "valid {valid} invalid {invalid} unknown {unknown}"
    );
}
