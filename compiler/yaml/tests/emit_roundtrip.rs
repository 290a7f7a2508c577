//! Property: every JSON value written by the emitter decodes back to itself with the Go-semantics
//! decoder, in both canonical and ordered modes, and canonical output ignores key order.

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// Strings a YAML writer gets wrong: YAML 1.1 booleans, octal/hex/sexagesimal numbers, floats,
/// nulls, indicators, comments, block scalar edge cases, unicode line breaks.
fn tricky_string() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "yes",
        "no",
        "Yes",
        "NO",
        "on",
        "Off",
        "y",
        "n",
        "true",
        "False",
        "null",
        "Null",
        "~",
        "",
        "0777",
        "0o17",
        "0x1F",
        "0b101",
        "1e3",
        "1E-3",
        "1_000",
        "12:30:45",
        "-1",
        "+1",
        ".5",
        "1.",
        ".inf",
        "-.Inf",
        ".NaN",
        "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        " lead",
        "trail ",
        "a: b",
        "a:b",
        "a #b",
        "a#b",
        "#c",
        "key:",
        "- x",
        "-",
        "--",
        "---",
        "...",
        "? x",
        "?x",
        ":x",
        "*a",
        "&a",
        "!a",
        "!!str",
        "%a",
        "@a",
        "`a",
        "|",
        ">",
        "|-",
        "'q'",
        "\"q\"",
        "[a]",
        "{a}",
        "a, b",
        "<<",
        "=",
        "é",
        "日本語",
        "a\u{85}b",
        "a\u{2028}b",
        "\u{FEFF}x",
        "tab\there",
        "\t",
        "\n",
        "\n\n",
        "a\n",
        "a\n\n",
        "a\nb",
        " a\nb",
        "a\n b\n",
        "a\n  \nb",
        "a\n\tb",
        "\ta\nb",
        "a\r\nb",
        "\u{0}",
        "\u{7f}",
        "\u{1b}[0m",
        "a\\b",
        "\\",
        "# not a comment\nline",
        "x\n---\ny",
        "x\n...\ny",
        "😀",
        "\u{10FFFF}",
    ])
    .prop_map(str::to_string);
    prop_oneof![
        3 => fixed,
        3 => "[ -~]{0,12}",
        2 => "(\\PC|[\\n\\t ]){0,16}",
        1 => prop::collection::vec(prop::sample::select(vec!["a", " ", "\n", ":", "#", "-", "0", "\t", "'", "\""]), 0..10)
            .prop_map(|parts| parts.concat()),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
        prop::sample::select(vec![
            0.0,
            -0.0,
            1.0,
            0.1,
            1e21,
            1e-7,
            123456789.0,
            5e-324,
            f64::MAX
        ])
        .prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        tricky_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((tricky_string(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// serde_json compares `-0.0 == 0.0`, and integers that decode as floats compare unequal, which is
/// exactly the strictness wanted here.
fn assert_round_trip(value: &Value, text: &str) -> Result<(), TestCaseError> {
    let back =
        kiln_yaml::from_str(text).map_err(|e| TestCaseError::fail(format!("{e} in\n{text}")))?;
    prop_assert_eq!(&back, value, "text was:\n{}", text);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn canonical_round_trips(value in json_value()) {
        let text = kiln_yaml::to_canonical_string(&value);
        prop_assert!(text.ends_with('\n'));
        prop_assert!(!text.contains('\r'));
        assert_round_trip(&value, &text)?;
        prop_assert_eq!(kiln_yaml::parse_emitted(&text), Some(value.clone()), "fast reader on:\n{}", text);
    }

    #[test]
    fn ordered_round_trips_and_keeps_order(value in json_value()) {
        let text = kiln_yaml::to_string(&value);
        assert_round_trip(&value, &text)?;
        let unsorted = kiln_yaml::to_string_with(&value, kiln_yaml::EmitOptions { go_style: false, ..kiln_yaml::EmitOptions::ORDERED });
        prop_assert_eq!(kiln_yaml::parse_emitted(&unsorted), Some(value.clone()), "fast reader on:\n{}", unsorted);
    }

    #[test]
    fn strings_round_trip_as_values_and_keys(s in tricky_string()) {
        let value = serde_json::json!({ s.clone(): s.clone(), "list": [s.clone()], "nested": {"k": s} });
        assert_round_trip(&value, &kiln_yaml::to_canonical_string(&value))?;
    }

    #[test]
    fn canonical_ignores_key_order(entries in prop::collection::vec((tricky_string(), json_value()), 0..8)) {
        let forward: Map<String, Value> = entries.iter().cloned().collect();
        let backward: Map<String, Value> = entries.iter().rev().cloned().collect();
        // Duplicate keys keep different values in the two maps; compare only when they agree.
        prop_assume!(forward.iter().all(|(k, v)| backward.get(k) == Some(v)));
        prop_assert_eq!(
            kiln_yaml::to_canonical_string(&Value::Object(forward)),
            kiln_yaml::to_canonical_string(&Value::Object(backward))
        );
    }
}
