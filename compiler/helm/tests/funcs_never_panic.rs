//! Property test: templates calling Helm's and Sprig's functions with arbitrary arguments (wrong
//! types, negative and out-of-range numbers, nil, odd strings, nested calls) fail with errors but
//! never panic the renderer.
//!
//! Functions whose cost is in their nature (RSA key generation, scrypt, bcrypt) are left out so the
//! test stays fast; they take fixed-type arguments checked before they run.

use kiln_helm::{Chart, RenderOptions};
use proptest::prelude::*;

const FUNCS: &[&str] = &[
    "abbrev",
    "abbrevboth",
    "add",
    "add1",
    "add1f",
    "addf",
    "adler32sum",
    "ago",
    "all",
    "any",
    "append",
    "atoi",
    "b32dec",
    "b32enc",
    "b64dec",
    "b64enc",
    "base",
    "biggest",
    "buildCustomCert",
    "camelcase",
    "cat",
    "ceil",
    "chunk",
    "clean",
    "coalesce",
    "compact",
    "concat",
    "contains",
    "date",
    "dateInZone",
    "dateModify",
    "decryptAES",
    "deepCopy",
    "deepEqual",
    "default",
    "dict",
    "dig",
    "dir",
    "div",
    "divf",
    "duration",
    "durationRound",
    "empty",
    "encryptAES",
    "ext",
    "first",
    "float64",
    "floor",
    "fromJson",
    "fromJsonArray",
    "fromToml",
    "fromYaml",
    "fromYamlArray",
    "get",
    "getHostByName",
    "has",
    "hasKey",
    "hasPrefix",
    "hasSuffix",
    "hello",
    "htmlDate",
    "htmlDateInZone",
    "indent",
    "initial",
    "initials",
    "int",
    "int64",
    "isAbs",
    "join",
    "kebabcase",
    "keys",
    "kindIs",
    "kindOf",
    "last",
    "list",
    "lookup",
    "lower",
    "max",
    "maxf",
    "merge",
    "mergeOverwrite",
    "min",
    "minf",
    "mod",
    "mul",
    "mulf",
    "mustAppend",
    "mustChunk",
    "mustCompact",
    "mustDateModify",
    "mustDeepCopy",
    "mustFirst",
    "mustFromJson",
    "mustHas",
    "mustInitial",
    "mustLast",
    "mustMerge",
    "mustMergeOverwrite",
    "mustPrepend",
    "mustRegexFind",
    "mustRegexFindAll",
    "mustRegexMatch",
    "mustRegexReplaceAll",
    "mustRegexReplaceAllLiteral",
    "mustRegexSplit",
    "mustRest",
    "mustReverse",
    "mustSlice",
    "mustToDate",
    "mustToJson",
    "mustToPrettyJson",
    "mustToRawJson",
    "mustToYaml",
    "mustUniq",
    "mustWithout",
    "nindent",
    "nospace",
    "now",
    "omit",
    "osBase",
    "osClean",
    "osDir",
    "osExt",
    "osIsAbs",
    "pick",
    "pluck",
    "plural",
    "prepend",
    "quote",
    "randAlpha",
    "randAlphaNum",
    "randAscii",
    "randBytes",
    "randInt",
    "randNumeric",
    "regexFind",
    "regexFindAll",
    "regexMatch",
    "regexQuoteMeta",
    "regexReplaceAll",
    "regexReplaceAllLiteral",
    "regexSplit",
    "repeat",
    "replace",
    "rest",
    "reverse",
    "round",
    "semver",
    "semverCompare",
    "seq",
    "set",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "shuffle",
    "slice",
    "snakecase",
    "sortAlpha",
    "split",
    "splitList",
    "splitn",
    "squote",
    "sub",
    "subf",
    "substr",
    "swapcase",
    "ternary",
    "title",
    "toDate",
    "toDecimal",
    "toJson",
    "toPrettyJson",
    "toRawJson",
    "toString",
    "toStrings",
    "toToml",
    "toYaml",
    "toYamlPretty",
    "trim",
    "trimAll",
    "trimPrefix",
    "trimSuffix",
    "trimall",
    "trunc",
    "tuple",
    "typeIs",
    "typeIsLike",
    "typeOf",
    "uniq",
    "unixEpoch",
    "unset",
    "until",
    "untilStep",
    "untitle",
    "upper",
    "urlJoin",
    "urlParse",
    "uuidv4",
    "values",
    "without",
    "wrap",
    "wrapWith",
];

const ARGS: &[&str] = &[
    "0",
    "1",
    "-1",
    "3",
    "-7",
    "64",
    "1.5",
    "-0.5",
    "1e3",
    "\"\"",
    "\"a\"",
    "\"a,b.c\"",
    "\"1.2.3\"",
    "\">=1.0.0-0\"",
    "\"[\"",
    "\"{{ .x }}\"",
    "\"2006-01-02\"",
    "\"1h\"",
    "\"a: [\"",
    "\"é☃\"",
    "nil",
    "true",
    ".",
    ".Values",
    ".Values.list",
    ".Values.map",
    ".Values.missing",
    "(list)",
    "(list 1 \"a\" nil)",
    "(dict)",
    "(dict \"a\" 1)",
    "(now)",
    "(.Files.Get \"x\")",
    "$",
];

fn call() -> impl Strategy<Value = String> {
    let leaf = (
        prop::sample::select(FUNCS),
        prop::collection::vec(prop::sample::select(ARGS), 0..4),
    )
        .prop_map(|(f, args)| format!("({f} {})", args.join(" ")));
    leaf.prop_recursive(2, 8, 3, |inner| {
        (
            prop::sample::select(FUNCS),
            prop::collection::vec(
                prop_oneof![inner, prop::sample::select(ARGS).prop_map(String::from)],
                0..4,
            ),
        )
            .prop_map(|(f, args)| format!("({f} {})", args.join(" ")))
    })
}

fn render(chart: &Chart, text: &str) {
    let opts = RenderOptions {
        values: serde_json::json!({
            "text": text,
            "list": [1, "b", null, [2]],
            "map": {"k": "v", "n": 2},
        }),
        ..RenderOptions::default()
    };
    let _ = kiln_helm::render_loaded(chart, &opts);
}

fn chart() -> (tempfile::TempDir, Chart) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("templates")).expect("mkdir");
    std::fs::write(
        dir.path().join("Chart.yaml"),
        "apiVersion: v2\nname: fuzz\nversion: 0.1.0\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("templates/x.yaml"),
        "x: {{ tpl .Values.text . | quote }}\n",
    )
    .expect("write");
    let chart = Chart::load(dir.path()).expect("load");
    (dir, chart)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn function_calls_never_panic(expr in call()) {
        let (_dir, chart) = chart();
        render(&chart, &format!("{{{{ {expr} }}}}"));
        render(&chart, &format!("{{{{ {expr} | toYaml }}}}"));
    }
}

/// Deeply nested YAML given to `fromYaml` ends in an error on a thread with a small stack, where
/// an unbounded recursive decoder overflowed it (found by the property test above).
#[test]
fn deeply_nested_yaml_is_an_error_not_a_stack_overflow() {
    let handle = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(|| {
            let (_dir, chart) = chart();
            for text in ["a: [", "- ", "{a: "] {
                let opts = RenderOptions {
                    values: serde_json::json!({"text": "{{ fromYaml (repeat 64 .Values.piece) | toJson }}", "piece": text}),
                    ..RenderOptions::default()
                };
                let rendered = kiln_helm::render_loaded(&chart, &opts).expect("renders");
                let out = format!("{rendered:?}");
                assert!(out.contains("Error"), "{text}: {out}");
            }
        })
        .expect("spawn");
    handle.join().expect("no stack overflow");
}
