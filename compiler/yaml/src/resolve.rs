//! Implicit typing of plain scalars, the way kiln has always decoded them (Go's yaml.v2 rules,
//! or yaml.v3's for [`Resolution::Yaml12`]): `~`/`null` are null, `yes`/`on` booleans in YAML
//! 1.1, `0777` octal, `0x1F` hex, `1_000` a thousand, `08` and `1e3` floats.
//!
//! The event decoder ([`crate::decode`]) resolves scalars here instead of through serde. The rules
//! are those of the serde-saphyr configuration kiln used before (legacy octal numbers on), which the
//! differential tests hold it to. Spellings whose handling is an error or a rare special case
//! (non-finite floats) are reported as [`Plain::Unsupported`] so the caller can defer to the
//! complete decoder.

use serde_json::{Number, Value};

use crate::Resolution;

/// What a plain (unquoted, untagged) scalar means.
#[derive(Debug, PartialEq)]
pub(crate) enum Plain {
    Null,
    Bool(bool),
    Number(Number),
    Str,
    /// Not decided here (`.inf`, `.nan`, overflowing floats): the complete decoder handles it.
    Unsupported,
}

/// Resolves the text of a plain scalar.
pub(crate) fn plain(text: &str, resolution: Resolution) -> Plain {
    let t = text.trim_matches([' ', '\t', '\r', '\n']);
    let Some(&first) = t.as_bytes().first() else {
        return if text.is_empty() {
            Plain::Null
        } else {
            Plain::Str
        };
    };
    // Most scalars are words: only a few first letters can start a null or a boolean, and
    // numbers start with a digit, a sign or a dot.
    match first {
        b'0'..=b'9' | b'+' | b'-' | b'.' => number(t),
        b'~' if text == "~" => Plain::Null,
        b'n' | b'N' if matches!(text, "null" | "Null" | "NULL") => Plain::Null,
        b'y' | b'Y' | b'n' | b'N' | b'o' | b'O' | b't' | b'T' | b'f' | b'F' => {
            match boolean(t, resolution) {
                Some(b) => Plain::Bool(b),
                None => Plain::Str,
            }
        }
        // Rust's float parser also reads `inf`/`infinity`/`nan`; YAML keeps them strings.
        _ => Plain::Str,
    }
}

/// A number map key as sigs.k8s.io/yaml prints it: integers in decimal, floats as
/// `strconv.FormatFloat(f, 'g', -1, 32)`.
pub(crate) fn go_number_key(n: &Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() => go_float_key(f),
        _ => n.to_string(),
    }
}

pub(crate) fn go_float_key(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let short = format!("{:e}", f as f32);
    let (mantissa, exp) = short.split_once('e').unwrap_or((&short, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    format!("{}", f as f32)
}

/// Whether a plain key stays the same string however it is resolved (no null, boolean or number).
pub(crate) fn is_plain_string(text: &str, resolution: Resolution) -> bool {
    plain(text, resolution) == Plain::Str
}

fn boolean(t: &str, resolution: Resolution) -> Option<bool> {
    match resolution {
        Resolution::Yaml12 => match t {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        },
        Resolution::Yaml11 => {
            if t.len() > 5 {
                return None;
            }
            let is = |w: &str| t.eq_ignore_ascii_case(w);
            if is("true") || is("yes") || is("y") || is("on") {
                Some(true)
            } else if is("false") || is("no") || is("n") || is("off") {
                Some(false)
            } else {
                None
            }
        }
    }
}

fn number(t: &str) -> Plain {
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    // Upper-case radix prefixes and signed NaNs are strings, not numbers.
    if matches!(unsigned.as_bytes(), [b'0', b'X' | b'O' | b'B', ..])
        || matches!(unsigned, ".nan" | ".NaN" | ".NAN") && unsigned.len() < t.len()
    {
        return Plain::Str;
    }
    if let Some(n) = integer(t) {
        return Plain::Number(n);
    }
    if matches!(
        unsigned,
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF"
    ) {
        return Plain::Unsupported;
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() => Number::from_f64(f).map_or(Plain::Unsupported, Plain::Number),
        // `1e999` overflows to infinity; `inf`, `nan` (Rust spellings) stay strings.
        Ok(_) if unsigned.as_bytes().first().is_some_and(u8::is_ascii_digit) => Plain::Unsupported,
        _ => Plain::Str,
    }
}

/// An integer in Go's yaml.v2 spellings: decimal, `0x`, `0o`, `0b`, and `0`-prefixed octal,
/// with `_` allowed between digits; `u64` when not negative, `i64` when negative.
fn integer(t: &str) -> Option<Number> {
    let (negative, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if let Some(r) = rest.strip_prefix("0x") {
        (16, prefixed(r))
    } else if let Some(r) = rest.strip_prefix("0o") {
        (8, prefixed(r))
    } else if let Some(r) = rest.strip_prefix("0b") {
        (2, prefixed(r))
    } else if rest == "0" {
        (10, rest)
    } else if let Some(r) = rest.strip_prefix('0') {
        (8, prefixed(r))
    } else {
        (10, rest)
    };
    let magnitude = digits_value(digits, radix)?;
    if negative {
        let v = if magnitude == 1u128 << 63 {
            i64::MIN
        } else {
            i64::try_from(magnitude).ok()?.checked_neg()?
        };
        Some(Number::from(v))
    } else {
        u64::try_from(magnitude).ok().map(Number::from)
    }
}

/// Digits after a radix prefix may start with one `_` (`0x_1F`).
fn prefixed(digits: &str) -> &str {
    digits.strip_prefix('_').unwrap_or(digits)
}

/// The value of `digits` in `radix`; `_` may only sit between two digits.
fn digits_value(digits: &str, radix: u32) -> Option<u128> {
    let bytes = digits.as_bytes();
    let mut value: u128 = 0;
    let mut seen = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            if i == 0 || bytes[i - 1] == b'_' || bytes.get(i + 1).is_none_or(|&n| n == b'_') {
                return None;
            }
            continue;
        }
        let d = (b as char).to_digit(16)?;
        if d >= radix {
            return None;
        }
        value = value
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(d))?;
        seen = true;
    }
    seen.then_some(value)
}

/// A resolved plain scalar as a JSON value, the text given back as a string when it is one.
pub(crate) fn plain_value(text: String, resolution: Resolution) -> Option<Value> {
    Some(match plain(&text, resolution) {
        Plain::Null => Value::Null,
        Plain::Bool(b) => Value::Bool(b),
        Plain::Number(n) => Value::Number(n),
        Plain::Str => Value::String(text),
        Plain::Unsupported => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v11(text: &str) -> Option<Value> {
        plain_value(text.to_string(), Resolution::Yaml11)
    }

    #[test]
    fn go_integer_spellings() {
        assert_eq!(v11("0777"), Some(Value::from(511)));
        assert_eq!(v11("0x1F"), Some(Value::from(31)));
        assert_eq!(v11("0x_1F"), Some(Value::from(31)));
        assert_eq!(v11("0o17"), Some(Value::from(15)));
        assert_eq!(v11("0b101"), Some(Value::from(5)));
        assert_eq!(v11("1_000"), Some(Value::from(1000)));
        assert_eq!(v11("+12"), Some(Value::from(12)));
        assert_eq!(v11("-9223372036854775808"), Some(Value::from(i64::MIN)));
        assert_eq!(v11("18446744073709551615"), Some(Value::from(u64::MAX)));
        assert_eq!(v11("0X1F"), Some(Value::from("0X1F")));
        assert_eq!(v11("1__0"), Some(Value::from("1__0")));
        assert_eq!(v11("_1"), Some(Value::from("_1")));
    }

    #[test]
    fn floats_and_what_is_not_a_float() {
        assert_eq!(v11("08"), Some(Value::from(8.0)));
        assert_eq!(v11("1e3"), Some(Value::from(1000.0)));
        assert_eq!(v11(".5"), Some(Value::from(0.5)));
        assert_eq!(
            v11("18446744073709551616"),
            Some(Value::from(1.8446744073709552e19))
        );
        assert_eq!(v11("-.nan"), Some(Value::from("-.nan")));
        assert_eq!(v11("inf"), Some(Value::from("inf")));
        assert_eq!(v11("nan"), Some(Value::from("nan")));
        assert_eq!(v11(".inf"), None);
        assert_eq!(v11("1e999"), None);
        assert_eq!(v11("1.2.3"), Some(Value::from("1.2.3")));
        assert_eq!(v11("-"), Some(Value::from("-")));
    }

    #[test]
    fn null_and_booleans_by_resolution() {
        assert_eq!(v11(""), Some(Value::Null));
        assert_eq!(v11("~"), Some(Value::Null));
        assert_eq!(v11("Null"), Some(Value::Null));
        assert_eq!(v11("nuLL"), Some(Value::from("nuLL")));
        assert_eq!(v11("oN"), Some(Value::Bool(true)));
        assert_eq!(v11("N"), Some(Value::Bool(false)));
        assert_eq!(
            plain_value("on".into(), Resolution::Yaml12),
            Some(Value::from("on"))
        );
        assert_eq!(
            plain_value("False".into(), Resolution::Yaml12),
            Some(Value::Bool(false))
        );
        assert_eq!(
            plain_value("fALSE".into(), Resolution::Yaml12),
            Some(Value::from("fALSE"))
        );
    }
}
