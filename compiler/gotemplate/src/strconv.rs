//! Go's `strconv` pieces the parser needs: unquoting string and character literals, and number
//! parsing with base prefixes (`0x`, `0o`, `0b`, legacy octal) and `_` digit separators.

use std::fmt;

/// Go's `strconv.ErrSyntax`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SyntaxError;

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid syntax")
    }
}

/// Go's `strconv.Unquote` for `"..."`, `` `...` `` and `'.'` literals.
pub(crate) fn unquote(s: &str) -> Result<String, SyntaxError> {
    let b = s.as_bytes();
    if b.len() < 2 {
        return Err(SyntaxError);
    }
    let quote = b[0];
    if quote != b[b.len() - 1] {
        return Err(SyntaxError);
    }
    let inner = &s[1..s.len() - 1];
    match quote {
        b'`' => {
            if inner.contains('`') {
                return Err(SyntaxError);
            }
            Ok(inner.replace('\r', ""))
        }
        b'"' | b'\'' => {
            let q = quote as char;
            if !inner.contains('\\') && !inner.contains(q) {
                if quote == b'\'' && inner.chars().count() != 1 {
                    return Err(SyntaxError);
                }
                return Ok(inner.to_string());
            }
            let mut out = String::with_capacity(inner.len());
            let mut rest = inner;
            while !rest.is_empty() {
                let (c, tail) = unquote_char(rest, q)?;
                out.push(c);
                rest = tail;
                if quote == b'\'' && !rest.is_empty() {
                    return Err(SyntaxError);
                }
            }
            Ok(out)
        }
        _ => Err(SyntaxError),
    }
}

/// Go's `strconv.UnquoteChar`: the first (possibly escaped) character of `s` and the rest.
pub(crate) fn unquote_char(s: &str, quote: char) -> Result<(char, &str), SyntaxError> {
    let mut chars = s.chars();
    let c = chars.next().ok_or(SyntaxError)?;
    if c == quote && (quote == '\'' || quote == '"') {
        return Err(SyntaxError);
    }
    if c != '\\' {
        return Ok((c, chars.as_str()));
    }
    let e = chars.next().ok_or(SyntaxError)?;
    let rest = chars.as_str();
    let simple = match e {
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        'f' => Some('\x0c'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\x0b'),
        '\\' => Some('\\'),
        '\'' | '"' => {
            if e != quote {
                return Err(SyntaxError);
            }
            Some(e)
        }
        _ => None,
    };
    if let Some(c) = simple {
        return Ok((c, rest));
    }
    match e {
        'x' | 'u' | 'U' => {
            let n = match e {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            if rest.len() < n || !rest.is_char_boundary(n) {
                return Err(SyntaxError);
            }
            let v = u32::from_str_radix(&rest[..n], 16).map_err(|_| SyntaxError)?;
            if !rest[..n].bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(SyntaxError);
            }
            if e == 'x' {
                // A byte value; Go keeps raw bytes, which a Rust string cannot hold past 0x7F.
                let c = char::from_u32(v).ok_or(SyntaxError)?;
                return Ok((c, &rest[n..]));
            }
            let c = char::from_u32(v).ok_or(SyntaxError)?;
            Ok((c, &rest[n..]))
        }
        '0'..='7' => {
            if rest.len() < 2 || !rest.is_char_boundary(2) {
                return Err(SyntaxError);
            }
            let digits = format!("{e}{}", &rest[..2]);
            if !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return Err(SyntaxError);
            }
            let v = u32::from_str_radix(&digits, 8).map_err(|_| SyntaxError)?;
            if v > 255 {
                return Err(SyntaxError);
            }
            Ok((char::from_u32(v).ok_or(SyntaxError)?, &rest[2..]))
        }
        _ => Err(SyntaxError),
    }
}

/// Go's `underscoreOK`: underscores only between digits (a base prefix counts as a digit).
fn underscore_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.to_ascii_lowercase().is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Magnitude of an unsigned literal with Go's base-0 rules.
fn parse_magnitude(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let b = s.as_bytes();
    let (radix, digits) = if b.len() >= 2 && b[0] == b'0' {
        match b[1].to_ascii_lowercase() {
            b'x' => (16, &s[2..]),
            b'o' => (8, &s[2..]),
            b'b' => (2, &s[2..]),
            _ => (8, &s[1..]),
        }
    } else {
        (10, s)
    };
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() {
        return None;
    }
    u64::from_str_radix(&digits, radix).ok()
}

/// Go's `strconv.ParseUint(s, 0, 64)`.
pub(crate) fn parse_uint(s: &str) -> Option<u64> {
    if s.starts_with(['+', '-']) {
        return None;
    }
    if s == "0" {
        return Some(0);
    }
    parse_magnitude(s)
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let m = if body == "0" {
        0
    } else {
        parse_magnitude(body)?
    };
    if neg {
        if m <= i64::MAX as u64 + 1 {
            Some((m as i128).wrapping_neg() as i64)
        } else {
            None
        }
    } else {
        i64::try_from(m).ok()
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for the literals the lexer lets through (decimal and
/// hexadecimal mantissas, `_` separators).
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let clean: String = s.chars().filter(|&c| c != '_').collect();
    let (neg, body) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, &clean[..]),
    };
    let v = if body.len() > 2 && (body.starts_with("0x") || body.starts_with("0X")) {
        parse_hex_float(&body[2..])?
    } else {
        if !body
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = match s.find(['p', 'P']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((mant, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int_part.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquotes_like_go() {
        assert_eq!(unquote(r#""a\tb\u00e9\x41\101""#).unwrap(), "a\tbéAA");
        assert_eq!(unquote("`a\\n`").unwrap(), "a\\n");
        assert!(unquote(r#""\q""#).is_err());
        assert!(unquote(r#""\'""#).is_err());
        assert_eq!(unquote_char("a'", '\'').unwrap(), ('a', "'"));
    }

    #[test]
    fn parses_numbers_like_go() {
        assert_eq!(parse_int("0x1F"), Some(31));
        assert_eq!(parse_int("0777"), Some(511));
        assert_eq!(parse_int("0o17"), Some(15));
        assert_eq!(parse_int("0b101"), Some(5));
        assert_eq!(parse_int("1_000"), Some(1000));
        assert_eq!(parse_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int("08"), None);
        assert_eq!(parse_int("1__0"), None);
        assert_eq!(parse_uint("-1"), None);
        assert_eq!(parse_float("1.5e3"), Some(1500.0));
        assert_eq!(parse_float("0x1p-2"), Some(0.25));
        assert_eq!(parse_float(".5"), Some(0.5));
    }
}
