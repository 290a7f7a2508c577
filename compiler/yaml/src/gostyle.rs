//! String scalars written the way Go's YAML encoders (`yaml.v3`, used by kustomize's kyaml, and
//! `sigs.k8s.io/yaml`) write them, so `kiln kustomize` output matches `kubectl kustomize` byte for
//! byte.
//!
//! The encoder picks a style per string: a literal block (`|`, `|-`, `|+`) when it holds a line
//! break; double quotes when a plain scalar would resolve to something else (null, bool —
//! including YAML 1.1's `yes`/`on`/`y` —, int, float, timestamp, sexagesimal number); single quotes
//! when only YAML syntax forbids a plain scalar (`a: b`, ` lead`, `*x`); double quotes with
//! escapes when the text holds non-printable characters; plain otherwise. Plain and single-quoted
//! values longer than 80 columns are folded at spaces, as the Go emitter does.

use crate::emit::plain_syntax_ok;
use std::fmt::Write as _;

/// The Go emitter's preferred line width.
const BEST_WIDTH: usize = 80;

/// Whether `yaml.v3` would resolve the plain scalar `s` to a non-string, or refuses it as plain
/// for YAML 1.1 compatibility (old booleans, base-60 floats).
pub fn go_resolves_non_string(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    const WORDS: &[&str] = &[
        "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "<<",
        ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
        ".NaN", ".NAN", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On",
        "ON", "off", "Off", "OFF",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return false;
    }
    let plain = s.replace('_', "");
    if go_int(&plain) || yaml_float(&plain) {
        return true;
    }
    if first.is_ascii_digit() && timestamp_like(s) {
        return true;
    }
    base60(s)
}

/// `strconv.ParseInt(s, 0, 64)` syntax (range aside), plus yaml.v3's `0b` prefix handling.
fn go_int(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let all = |t: &str, ok: fn(&u8) -> bool| !t.is_empty() && t.as_bytes().iter().all(ok);
    if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        return all(h, u8::is_ascii_hexdigit);
    }
    if let Some(o) = digits
        .strip_prefix("0o")
        .or_else(|| digits.strip_prefix("0O"))
    {
        return all(o, |b| (b'0'..=b'7').contains(b));
    }
    if let Some(b) = digits
        .strip_prefix("0b")
        .or_else(|| digits.strip_prefix("0B"))
    {
        return all(b, |c| matches!(c, b'0' | b'1'));
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return all(digits, |b| (b'0'..=b'7').contains(b));
    }
    all(digits, u8::is_ascii_digit)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && digits(frac),
        Some((int, frac)) => digits(int) && digits(frac),
        None => !mantissa.is_empty() && digits(mantissa),
    };
    let exponent_ok = match exponent {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && digits(e)
        }
    };
    mantissa_ok && exponent_ok
}

/// Starts like a YAML timestamp (`2001-12-14…`); conservative, so such strings are quoted.
fn timestamp_like(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[5].is_ascii_digit()
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn base60(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (main, frac) = match s.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (s, None),
    };
    if let Some(f) = frac
        && !f.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return false;
    }
    let mut parts = main.split(':');
    let head = parts.next().unwrap_or_default();
    if !head.starts_with(|c: char| c.is_ascii_digit())
        || !head.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return false;
    }
    let mut any = false;
    for part in parts {
        any = true;
        let ok = match part.as_bytes() {
            [d] => d.is_ascii_digit(),
            [a, b] => (b'0'..=b'5').contains(a) && b.is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    any
}

fn go_printable(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
        && c != '\u{FEFF}'
}

/// Writes a string value in Go style. `indent` is where folded or block content lines start;
/// keys (`is_key`) are never folded or written as blocks.
pub fn write_string(out: &mut String, s: &str, indent: usize, is_key: bool) {
    let special = s.chars().any(|c| !go_printable(c) && c != '\n');
    if !is_key && s.contains('\n') && !special && block_allowed(s) {
        write_literal(out, s, indent);
        return;
    }
    if go_resolves_non_string(s) || special || s.contains('\n') {
        write_double(out, s, indent, !is_key);
    } else if plain_syntax_ok(s) {
        write_folded(out, s, indent, !is_key, false);
    } else {
        out.push('\'');
        write_folded(out, s, indent, !is_key, true);
        out.push('\'');
    }
}

/// The Go emitter's test for block scalars (after its special-character test): no line ends
/// in a space and the text does not end in one.
fn block_allowed(s: &str) -> bool {
    !s.ends_with(' ') && !s.contains(" \n")
}

/// A literal block scalar as the Go emitter writes it: an indentation indicator when the text
/// starts with a space or a line break, `-` without a final line break, `+` with more than one
/// (or when the text is a single line break).
fn write_literal(out: &mut String, s: &str, indent: usize) {
    out.push('|');
    if s.starts_with([' ', '\n']) {
        out.push('2');
    }
    let body = s.strip_suffix('\n');
    match body {
        None => out.push('-'),
        Some("") => out.push('+'),
        Some(b) if b.ends_with('\n') => out.push('+'),
        Some(_) => {}
    }
    let body = body.unwrap_or(s);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(line);
        }
    }
}

/// Writes plain or single-quoted text, breaking at a single space once past the line width.
fn write_folded(out: &mut String, s: &str, indent: usize, allow_breaks: bool, single: bool) {
    let mut column = out.len() - out.rfind('\n').map_or(0, |i| i + 1);
    column = out[out.len() - column..].chars().count();
    let chars: Vec<char> = s.chars().collect();
    let mut prev_space = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let next_space = chars.get(i + 1) == Some(&' ');
            let inner = !single || (i != 0 && i + 1 != chars.len());
            if allow_breaks && !prev_space && column > BEST_WIDTH && !next_space && inner {
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', indent));
                column = indent;
            } else {
                out.push(' ');
                column += 1;
            }
            prev_space = true;
            continue;
        }
        prev_space = false;
        if single && c == '\'' {
            out.push_str("''");
            column += 2;
        } else {
            out.push(c);
            column += 1;
        }
    }
}

/// Double-quoted with the Go emitter's escapes, folded like plain text: past the line width, a
/// single space (not the first or last character) becomes a line break and indentation, with a
/// `\\` before the break when a space follows (so that it is kept).
fn write_double(out: &mut String, s: &str, indent: usize, allow_breaks: bool) {
    let line_start = out.rfind('\n').map_or(0, |i| i + 1);
    let mut column = out[line_start..].chars().count();
    out.push('"');
    column += 1;
    let chars: Vec<char> = s.chars().collect();
    let mut prev_space = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            if allow_breaks && !prev_space && column > BEST_WIDTH && i != 0 && i + 1 != chars.len()
            {
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', indent));
                column = indent;
                if chars.get(i + 1) == Some(&' ') {
                    out.push('\\');
                    column += 1;
                }
            } else {
                out.push(' ');
                column += 1;
            }
            prev_space = true;
            continue;
        }
        prev_space = false;
        let before = out.len();
        write_double_char(out, c);
        column += out[before..].chars().count();
    }
    out.push('"');
}

fn write_double_char(out: &mut String, c: char) {
    {
        match c {
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{B}' => out.push_str("\\v"),
            '\u{C}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1B}' => out.push_str("\\e"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if go_printable(c) => out.push(c),
            c if (c as u32) <= 0xFF => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c if (c as u32) <= 0xFFFF => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08X}", c as u32);
            }
        }
    }
}

/// `yaml.v3`'s order of string mapping keys (what `kubectl kustomize` prints): letters compare
/// as characters, a letter sorts after other characters (before them right after a digit), and
/// runs of digits compare as numbers.
pub fn key_less(a: &str, b: &str) -> bool {
    go_key_less(a, b, true)
}

/// go-yaml v2's order of string mapping keys (what `sigs.k8s.io/yaml`, and so Helm, prints): as
/// [`key_less`], except that a letter always sorts after other characters.
pub fn key_less_v2(a: &str, b: &str) -> bool {
    go_key_less(a, b, false)
}

/// go-yaml's `keyList.Less`; v3 added the rule that a letter right after a digit sorts first.
fn go_key_less(a: &str, b: &str, v3: bool) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut digits = false;
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            digits = v3 && ar[i].is_ascii_digit();
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return if digits { al } else { bl };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_follows_go() {
        for s in [
            "yes",
            "y",
            "On",
            "0777",
            "08",
            "+1",
            "1e3",
            "3.",
            "1_000",
            "0x1F",
            "0b101",
            "0o17",
            "12:30",
            ".inf",
            "~",
            "null",
            "2001-12-14",
            "1.0",
        ] {
            assert!(go_resolves_non_string(s), "{s}");
        }
        for s in ["1.2.3", "1e", "10m", "é", "it's", "a: b", "_1", "12:60"] {
            assert!(!go_resolves_non_string(s), "{s}");
        }
    }

    #[test]
    fn keys_sort_as_yaml_v3_sorts_them() {
        let mut keys = vec![
            "NAMESPACE_LABEL",
            "NAME_LABEL",
            "ARTIFACTS_PROXY_ENABLED",
            "ARTIFACT_RETENTION_DAYS",
            "ConMaxLifeTime",
            "a10",
            "a9",
            "a",
            "b",
        ];
        keys.sort_by(|a, b| crate::emit::go_key_order(a, b));
        assert_eq!(
            keys,
            [
                "ARTIFACT_RETENTION_DAYS",
                "ARTIFACTS_PROXY_ENABLED",
                "ConMaxLifeTime",
                "NAME_LABEL",
                "NAMESPACE_LABEL",
                "a",
                "a9",
                "a10",
                "b",
            ]
        );
    }

    #[test]
    fn blocks_and_long_double_quoted_strings_match_kubectl() {
        let render = |s: &str| {
            let mut out = String::from("  k: ");
            write_string(&mut out, s, 4, false);
            out[5..].to_string()
        };
        assert_eq!(render(" indented\nline\n"), "|2\n     indented\n    line");
        assert_eq!(render("a\n\n"), "|+\n    a\n");
        assert_eq!(render("trailing \nspace"), "\"trailing \\nspace\"");
        let long = format!("x\ty {}word  two", "word ".repeat(14));
        assert_eq!(
            render(&long),
            format!("\"x\\ty {}word\n    \\ two\"", "word ".repeat(14))
        );
    }

    #[test]
    fn styles_match_kubectl() {
        let render = |s: &str| {
            let mut out = String::from("  k: ");
            write_string(&mut out, s, 4, false);
            out[5..].to_string()
        };
        assert_eq!(render("yes"), "\"yes\"");
        assert_eq!(render("a: b"), "'a: b'");
        assert_eq!(render("-"), "'-'");
        assert_eq!(render("it's"), "it's");
        assert_eq!(render("x\ty"), "\"x\\ty\"");
        assert_eq!(render("a\u{1}b"), "\"a\\x01b\"");
        assert_eq!(render("1.2.3"), "1.2.3");
    }
}
