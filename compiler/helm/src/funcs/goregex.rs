//! Go regular expressions (`regexMatch`, `regexReplaceAll`, ...) for templates. Charts use a few
//! short patterns on short strings, so compiling is what costs: the `regex` crate builds UTF-8
//! automata for a class such as `[^}]` or `.` with a 10,000-entry table (hundreds of KiB to
//! touch), `regex-lite` builds none. Patterns are compiled with `regex-lite` when it takes them
//! as Go does (its Perl classes and word boundaries are ASCII, like Go's; it folds case in ASCII
//! only, so case-insensitive patterns are left to `regex`), and long haystacks, which
//! `regex-lite` searches slowly, go to `regex`, compiled when first needed.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use kiln_gotemplate::FuncError;

/// Haystacks from this length on are searched with `regex`.
const LITE_HAYSTACK_MAX: usize = 1 << 10;

/// A compiled Go regular expression.
pub(crate) struct GoRegex {
    lite: Option<regex_lite::Regex>,
    /// The pattern for `regex`, compiled when first needed (at once when `lite` is `None`).
    pattern: String,
    full: OnceLock<Result<regex::Regex, String>>,
}

/// The engine searching one haystack.
enum Engine<'r> {
    Lite(&'r regex_lite::Regex),
    Full(&'r regex::Regex),
}

/// Compiles `p`, reusing earlier compilations: charts call `regexReplaceAll` and friends with the
/// same few patterns thousands of times, and compiling costs far more than matching. Shared by
/// every render thread, and shared rather than cloned: a cloned `Regex` starts with empty match
/// caches, which made every call rebuild its lazy DFA.
pub(crate) fn re(p: &str) -> Result<Arc<GoRegex>, FuncError> {
    static CACHE: LazyLock<Mutex<HashMap<String, Arc<GoRegex>>>> = LazyLock::new(Mutex::default);
    let cache = || CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = cache().get(p).cloned() {
        return Ok(r);
    }
    let r = Arc::new(GoRegex::new(p)?);
    let mut c = cache();
    if c.len() >= 512 {
        c.clear();
    }
    c.insert(p.to_string(), r.clone());
    Ok(r)
}

impl GoRegex {
    fn new(p: &str) -> Result<GoRegex, FuncError> {
        let lite = (!folds_case(p))
            .then(|| regex_lite::Regex::new(&go_regex(p, true)).ok())
            .flatten();
        let r = GoRegex {
            lite,
            pattern: go_regex(p, false),
            full: OnceLock::new(),
        };
        if r.lite.is_none() {
            r.full()?;
        }
        Ok(r)
    }

    fn full(&self) -> Result<&regex::Regex, FuncError> {
        self.full
            .get_or_init(|| regex::Regex::new(&self.pattern).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| FuncError::new(format!("error parsing regexp: {e}")))
    }

    fn engine(&self, haystack: &str) -> Result<Engine<'_>, FuncError> {
        match &self.lite {
            Some(lite) if haystack.len() < LITE_HAYSTACK_MAX => Ok(Engine::Lite(lite)),
            _ => self.full().map(Engine::Full),
        }
    }

    pub(crate) fn is_match(&self, haystack: &str) -> Result<bool, FuncError> {
        Ok(self.engine(haystack)?.is_match(haystack))
    }

    /// The text of the first match, or `""`.
    pub(crate) fn find(&self, haystack: &str) -> Result<String, FuncError> {
        Ok(self.engine(haystack)?.find(haystack))
    }

    /// The texts of the first `limit` matches.
    pub(crate) fn find_all(&self, haystack: &str, limit: usize) -> Result<Vec<String>, FuncError> {
        Ok(self.engine(haystack)?.find_all(haystack, limit))
    }

    /// Every match replaced by `with`, expanding `$1`/`${name}` unless `literal`.
    pub(crate) fn replace_all(
        &self,
        haystack: &str,
        with: &str,
        literal: bool,
    ) -> Result<String, FuncError> {
        Ok(self.engine(haystack)?.replace_all(haystack, with, literal))
    }

    /// The pieces between matches, at most `limit` of them (the last holds the rest).
    pub(crate) fn split(&self, haystack: &str, limit: usize) -> Result<Vec<String>, FuncError> {
        Ok(self.engine(haystack)?.split(haystack, limit))
    }
}

impl Engine<'_> {
    fn is_match(&self, h: &str) -> bool {
        match self {
            Engine::Lite(r) => r.is_match(h),
            Engine::Full(r) => r.is_match(h),
        }
    }

    fn find(&self, h: &str) -> String {
        match self {
            Engine::Lite(r) => r.find(h).map(|m| m.as_str()),
            Engine::Full(r) => r.find(h).map(|m| m.as_str()),
        }
        .unwrap_or_default()
        .to_string()
    }

    fn find_all(&self, h: &str, limit: usize) -> Vec<String> {
        match self {
            Engine::Lite(r) => r
                .find_iter(h)
                .take(limit)
                .map(|m| m.as_str().to_string())
                .collect(),
            Engine::Full(r) => r
                .find_iter(h)
                .take(limit)
                .map(|m| m.as_str().to_string())
                .collect(),
        }
    }

    fn replace_all(&self, h: &str, with: &str, literal: bool) -> String {
        match (self, literal) {
            (Engine::Lite(r), false) => r.replace_all(h, with).into_owned(),
            (Engine::Lite(r), true) => r.replace_all(h, regex_lite::NoExpand(with)).into_owned(),
            (Engine::Full(r), false) => r.replace_all(h, with).into_owned(),
            (Engine::Full(r), true) => r.replace_all(h, regex::NoExpand(with)).into_owned(),
        }
    }

    fn split(&self, h: &str, limit: usize) -> Vec<String> {
        let owned = |s: &str| s.to_string();
        match (self, limit) {
            (Engine::Lite(r), usize::MAX) => r.split(h).map(owned).collect(),
            (Engine::Lite(r), n) => r.splitn(h, n).map(owned).collect(),
            (Engine::Full(r), usize::MAX) => r.split(h).map(owned).collect(),
            (Engine::Full(r), n) => r.splitn(h, n).map(owned).collect(),
        }
    }
}

/// Whether `p` sets the case-insensitive flag (`(?i)`, `(?mi:...)`), which `regex-lite` applies
/// to ASCII letters only where Go folds all of Unicode.
fn folds_case(p: &str) -> bool {
    p.match_indices("(?").any(|(i, _)| {
        p[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic() || *c == '-')
            .any(|c| c == 'i')
    })
}

/// Adapts RE2 syntax to the engines: a `-` next to a class escape inside `[...]` (`[\w-.]`) is a
/// literal in Go, and Go's Perl classes and word boundaries are ASCII ([`ascii_class`]; an
/// engine whose `\b` is ASCII already keeps it when `ascii_boundaries`).
fn go_regex(p: &str, ascii_boundaries: bool) -> String {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len());
    let mut in_class = false;
    let mut prev_was_class_escape = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            match ascii_class(n, in_class, ascii_boundaries) {
                Some(class) => out.push_str(class),
                None => {
                    out.push(c);
                    out.push(n);
                }
            }
            prev_was_class_escape = in_class && "dDsSwW".contains(n);
            i += 2;
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            } else if c == '-' {
                let next_is_escape =
                    i + 2 < chars.len() && chars[i + 1] == '\\' && "dDsSwW".contains(chars[i + 2]);
                if prev_was_class_escape || next_is_escape {
                    out.push_str("\\-");
                    prev_was_class_escape = false;
                    i += 1;
                    continue;
                }
            } else if c == '[' && chars.get(i + 1) != Some(&':') {
                out.push_str("\\[");
                prev_was_class_escape = false;
                i += 1;
                continue;
            }
        } else if c == '[' {
            in_class = true;
            out.push(c);
            i += 1;
            if chars.get(i) == Some(&'^') {
                out.push('^');
                i += 1;
            }
            if chars.get(i) == Some(&']') {
                out.push_str("\\]");
                i += 1;
            }
            prev_was_class_escape = false;
            continue;
        }
        prev_was_class_escape = false;
        out.push(c);
        i += 1;
    }
    out
}

/// What Go means by the escape `\\{escape}` where the `regex` crate means something else: Go's
/// `\\d`, `\\s`, `\\w` (and their negations) and `\\b`, `\\B` are ASCII, the crate's are Unicode.
/// Besides matching like Go (`\\d` is not an Arabic-Indic digit), ASCII classes compile an order
/// of magnitude faster and build no UTF-8 automaton (whose tables cost hundreds of KiB).
fn ascii_class(escape: char, in_class: bool, ascii_boundaries: bool) -> Option<&'static str> {
    if ascii_boundaries && matches!(escape, 'b' | 'B') {
        return None;
    }
    Some(match (escape, in_class) {
        ('d', false) => "[0-9]",
        ('d', true) => "0-9",
        ('D', _) => "[^0-9]",
        ('s', false) => r"[\t\n\f\r\x20]",
        ('s', true) => r"\t\n\f\r\x20",
        ('S', _) => r"[^\t\n\f\r\x20]",
        ('w', false) => "[0-9A-Za-z_]",
        ('w', true) => "0-9A-Za-z_",
        ('W', _) => "[^0-9A-Za-z_]",
        ('b', false) => r"(?-u:\b)",
        ('B', false) => r"(?-u:\B)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn go_regex_classes() {
        let r = regex::Regex::new(&go_regex(r"^[\w-\.]+$", false)).unwrap();
        assert!(r.is_match("a-b.c"));
        assert!(
            regex::Regex::new(&go_regex(r"[]a]", false))
                .unwrap()
                .is_match("]")
        );
    }

    /// Go's Perl classes and word boundaries are ASCII, inside and outside brackets.
    #[test]
    fn go_regex_perl_classes_are_ascii() {
        let m = |p: &str, s: &str| regex::Regex::new(&go_regex(p, false)).unwrap().is_match(s);
        assert!(m(r"^\d+$", "0129"));
        assert!(!m(r"^\d+$", "\u{663}"));
        assert!(m(r"^\D$", "\u{663}"));
        assert!(m(r"^[\d]$", "7") && !m(r"^[\d]$", "\u{663}"));
        assert!(m(r"^[^\d]$", "\u{663}") && !m(r"^[^\d]$", "7"));
        assert!(m(r"^[^\D]$", "7") && !m(r"^[^\D]$", "\u{663}"));
        assert!(m(r"^\w+$", "aZ_9") && !m(r"^\w$", "é") && m(r"^\W$", "é"));
        assert!(m(r"^[\w.]+$", "a.b") && !m(r"^[\w.]+$", "é"));
        assert!(m(r"^[\W]$", "é") && !m(r"^[^\W]$", "é") && m(r"^[^\W]$", "e"));
        assert!(m(r"^\s+$", " \t\n\r\x0c") && !m(r"^\s$", "\x0b") && !m(r"^\s$", "\u{a0}"));
        assert!(m(r"^\S$", "\u{a0}") && m(r"^[^\s]$", "\x0b") && m(r"^[\s]$", " "));
        assert!(m(r"x\b", "x é") && m(r"x\b", "xé") && !m(r"x\b", "xy"));
        assert!(m(r"x\B", "xy") && !m(r"x\B", "x y"));
        assert!(m(r"(?i)^\w$", "\u{212a}"));
        assert!(m(r"^[\w-.]+$", "a-b.c") && m(r"^[.-\w]+$", "a-b.c"));
        assert!(m(r"^\\d$", "\\d") && m(r"^\.\d$", ".5"));
    }

    #[test]
    fn case_folding_and_unicode_classes_go_to_regex() {
        assert!(GoRegex::new("(?i)k").unwrap().lite.is_none());
        assert!(GoRegex::new("(?m-i:k)(?si)x").unwrap().lite.is_none());
        assert!(GoRegex::new(r"\pL").unwrap().lite.is_none());
        assert!(GoRegex::new("[^}]+").unwrap().lite.is_some());
        assert!(GoRegex::new(r"\(?i").unwrap().lite.is_none());
        let r = GoRegex::new("(?i)k").unwrap();
        assert!(r.is_match("\u{212a}").unwrap());
        assert!(GoRegex::new("(").is_err());
        let long = "é".repeat(LITE_HAYSTACK_MAX);
        let r = GoRegex::new("^[^}]+$").unwrap();
        assert!(r.is_match(&long).unwrap() && r.full.get().is_some());
    }

    /// Patterns over a few atoms Go and both engines share, with every operator.
    fn pattern() -> impl Strategy<Value = String> {
        let atom = prop_oneof![
            Just("a".to_string()),
            Just("é".to_string()),
            Just(".".to_string()),
            Just(r"\d".to_string()),
            Just(r"\w".to_string()),
            Just(r"\s".to_string()),
            Just(r"\S".to_string()),
            Just(r"\b".to_string()),
            Just(r"\B".to_string()),
            Just("[^}]".to_string()),
            Just("[a-c0-9]".to_string()),
            Just(r"[\w-.]".to_string()),
            Just("^".to_string()),
            Just("$".to_string()),
        ];
        atom.prop_recursive(3, 16, 3, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 1..4).prop_map(|v| v.concat()),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("(?:{a}|{b})")),
                inner.clone().prop_map(|a| format!("({a})")),
                (
                    inner,
                    prop_oneof![Just("*"), Just("+"), Just("?"), Just("{1,2}"), Just("*?")]
                )
                    .prop_map(|(a, q)| format!("(?:{a}){q}")),
            ]
        })
    }

    proptest! {
        /// `regex-lite` finds, replaces and splits as `regex` does on Go patterns.
        #[test]
        fn lite_agrees_with_regex(
            p in pattern(),
            h in "[aé0-9 }\\t\\n_.x\\u{663}\\u{a0}\\x0b-]{0,12}",
        ) {
            let r = GoRegex::new(&p).unwrap();
            let lite = Engine::Lite(r.lite.as_ref().unwrap());
            let full = Engine::Full(r.full().unwrap());
            prop_assert_eq!(lite.is_match(&h), full.is_match(&h));
            prop_assert_eq!(lite.find(&h), full.find(&h));
            prop_assert_eq!(lite.find_all(&h, usize::MAX), full.find_all(&h, usize::MAX));
            prop_assert_eq!(lite.replace_all(&h, "<$1>", false), full.replace_all(&h, "<$1>", false));
            prop_assert_eq!(lite.replace_all(&h, "$1", true), full.replace_all(&h, "$1", true));
            prop_assert_eq!(lite.split(&h, usize::MAX), full.split(&h, usize::MAX));
            prop_assert_eq!(lite.split(&h, 2), full.split(&h, 2));
        }
    }
}
