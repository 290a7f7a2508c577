//! Go's `fmt` package for template values: `Sprint`, `Sprintln`, `Sprintf` with Go's verbs,
//! flags, widths, precisions, argument indexes and error forms (`%!d(string=x)`,
//! `%!v(MISSING)`, `%!(EXTRA ...)`), plus `strconv.Quote` and Go's float formatting
//! (`%v` of 1e6 is `1e+06`).

use crate::value::Value;

/// Go's `strconv.Quote`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    quote_into(&mut out, s, '"', false);
    out.push('"');
    out
}

/// Go's `strconv.QuoteToASCII`.
pub fn quote_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    quote_into(&mut out, s, '"', true);
    out.push('"');
    out
}

fn quote_into(out: &mut String, s: &str, q: char, ascii: bool) {
    for c in s.chars() {
        push_escaped(out, c, q, ascii);
    }
}

fn push_escaped(out: &mut String, c: char, q: char, ascii: bool) {
    use std::fmt::Write;
    if c == q || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if ascii {
        if (c as u32) < 0x80 && is_print(c) {
            out.push(c);
            return;
        }
    } else if is_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if (c as u32) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

/// Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and ASCII space.
pub fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    !matches!(u,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF
        | 0xFFFE | 0xFFFF | 0xF0000..=0x10FFFF | 0xE0001 | 0xE0020..=0xE007F)
}

/// Go's `%#U`: `U+0023 '#'`.
pub fn format_unicode_sharp(c: char) -> String {
    if is_print(c) {
        format!("U+{:04X} '{}'", c as u32, c)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

/// Go's `fmt.Sprint` of one value (`%v`).
pub fn sprint_value(v: &Value) -> String {
    let mut p = Printer::default();
    p.print_arg(v, 'v');
    p.buf
}

/// Go's `fmt.Sprint`: spaces between operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut p = Printer::default();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            p.buf.push(' ');
        }
        p.print_arg(a, 'v');
        prev_string = is_string;
    }
    p.buf
}

/// Go's `fmt.Sprintln`: spaces between all operands and a newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut p = Printer::default();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            p.buf.push(' ');
        }
        p.print_arg(a, 'v');
    }
    p.buf.push('\n');
    p.buf
}

/// Go's `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut p = Printer::default();
    p.do_printf(format, args);
    p.buf
}

#[derive(Default, Clone, Copy)]
struct Flags {
    wid_present: bool,
    prec_present: bool,
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
    wid: usize,
    prec: usize,
}

#[derive(Default)]
struct Printer {
    buf: String,
    f: Flags,
    reordered: bool,
    good_arg_num: bool,
}

const TOO_LARGE: usize = 1_000_000;

fn parse_num(s: &[u8], start: usize, end: usize) -> (usize, bool, usize) {
    if start >= end {
        return (0, false, end);
    }
    let mut num = 0usize;
    let mut is_num = false;
    let mut i = start;
    while i < end && s[i].is_ascii_digit() {
        if num > TOO_LARGE {
            return (0, false, end);
        }
        num = num * 10 + usize::from(s[i] - b'0');
        is_num = true;
        i += 1;
    }
    (num, is_num, i)
}

fn parse_arg_number(format: &[u8]) -> (usize, usize, bool) {
    if format.len() < 3 {
        return (0, 1, false);
    }
    for i in 1..format.len() {
        if format[i] == b']' {
            let (width, ok, newi) = parse_num(format, 1, i);
            if !ok || newi != i {
                return (0, i + 1, false);
            }
            return (width.wrapping_sub(1), i + 1, true);
        }
    }
    (0, 1, false)
}

impl Printer {
    fn write_padding(&mut self, n: usize) {
        let c = if self.f.zero { '0' } else { ' ' };
        self.buf.extend(std::iter::repeat_n(c, n));
    }

    fn pad(&mut self, s: &str) {
        if !self.f.wid_present || self.f.wid == 0 {
            self.buf.push_str(s);
            return;
        }
        let width = self.f.wid.saturating_sub(s.chars().count());
        if !self.f.minus {
            self.write_padding(width);
            self.buf.push_str(s);
        } else {
            self.buf.push_str(s);
            self.write_padding(width);
        }
    }

    fn truncate<'s>(&self, s: &'s str) -> &'s str {
        if self.f.prec_present
            && let Some((i, _)) = s.char_indices().nth(self.f.prec)
        {
            return &s[..i];
        }
        s
    }

    fn arg_number(
        &mut self,
        arg_num: usize,
        format: &[u8],
        i: usize,
        num_args: usize,
    ) -> (usize, usize, bool) {
        if format.len() <= i || format[i] != b'[' {
            return (arg_num, i, false);
        }
        self.reordered = true;
        let (index, wid, ok) = parse_arg_number(&format[i..]);
        if ok && index < num_args {
            return (index, i + wid, true);
        }
        self.good_arg_num = false;
        (arg_num, i + wid, ok)
    }

    fn int_from_arg(args: &[Value], arg_num: usize) -> (i64, bool, usize) {
        let mut new_arg = arg_num;
        let mut num = 0;
        let mut is_int = false;
        if arg_num < args.len() {
            if let Value::Int(n) = args[arg_num] {
                num = n;
                is_int = true;
            }
            new_arg = arg_num + 1;
            if num.unsigned_abs() > TOO_LARGE as u64 {
                num = 0;
                is_int = false;
            }
        }
        (num, is_int, new_arg)
    }

    fn do_printf(&mut self, format: &str, args: &[Value]) {
        let fb = format.as_bytes();
        let end = fb.len();
        let mut arg_num = 0usize;
        let mut after_index;
        self.reordered = false;
        let mut i = 0;
        'format: while i < end {
            self.good_arg_num = true;
            let last = i;
            while i < end && fb[i] != b'%' {
                i += 1;
            }
            if i > last {
                self.buf.push_str(&format[last..i]);
            }
            if i >= end {
                break;
            }
            i += 1;
            self.f = Flags::default();
            while i < end {
                let c = fb[i];
                match c {
                    b'#' => self.f.sharp = true,
                    b'0' => self.f.zero = !self.f.minus,
                    b'+' => self.f.plus = true,
                    b'-' => {
                        self.f.minus = true;
                        self.f.zero = false;
                    }
                    b' ' => self.f.space = true,
                    _ => {
                        if c.is_ascii_lowercase() && arg_num < args.len() {
                            if c == b'v' {
                                self.f.sharp_v = self.f.sharp;
                                self.f.sharp = false;
                                self.f.plus_v = self.f.plus;
                                self.f.plus = false;
                            }
                            self.print_arg(&args[arg_num], c as char);
                            arg_num += 1;
                            i += 1;
                            continue 'format;
                        }
                        break;
                    }
                }
                i += 1;
            }
            (arg_num, i, after_index) = self.arg_number(arg_num, fb, i, args.len());
            if i < end && fb[i] == b'*' {
                i += 1;
                let (w, ok, n) = Self::int_from_arg(args, arg_num);
                arg_num = n;
                self.f.wid_present = ok;
                if !ok {
                    self.buf.push_str("%!(BADWIDTH)");
                }
                if w < 0 {
                    self.f.minus = true;
                    self.f.zero = false;
                }
                self.f.wid = w.unsigned_abs() as usize;
                after_index = false;
            } else {
                let (w, ok, n) = parse_num(fb, i, end);
                self.f.wid = w;
                self.f.wid_present = ok;
                i = n;
                if after_index && ok {
                    self.good_arg_num = false;
                }
            }
            if i + 1 < end && fb[i] == b'.' {
                i += 1;
                if after_index {
                    self.good_arg_num = false;
                }
                (arg_num, i, after_index) = self.arg_number(arg_num, fb, i, args.len());
                if i < end && fb[i] == b'*' {
                    i += 1;
                    let (p, ok, n) = Self::int_from_arg(args, arg_num);
                    arg_num = n;
                    if p < 0 {
                        self.f.prec = 0;
                        self.f.prec_present = false;
                    } else {
                        self.f.prec = p as usize;
                        self.f.prec_present = ok;
                    }
                    if !self.f.prec_present {
                        self.buf.push_str("%!(BADPREC)");
                    }
                    after_index = false;
                } else {
                    let (p, ok, n) = parse_num(fb, i, end);
                    i = n;
                    self.f.prec = if ok { p } else { 0 };
                    self.f.prec_present = true;
                }
            }
            if !after_index {
                (arg_num, i, _) = self.arg_number(arg_num, fb, i, args.len());
            }
            if i >= end {
                self.buf.push_str("%!(NOVERB)");
                break;
            }
            let verb = format[i..].chars().next().unwrap_or('?');
            i += verb.len_utf8();
            if verb == '%' {
                self.buf.push('%');
            } else if !self.good_arg_num {
                self.buf.push_str("%!");
                self.buf.push(verb);
                self.buf.push_str("(BADINDEX)");
            } else if arg_num >= args.len() {
                self.buf.push_str("%!");
                self.buf.push(verb);
                self.buf.push_str("(MISSING)");
            } else {
                if verb == 'v' {
                    self.f.sharp_v = self.f.sharp;
                    self.f.sharp = false;
                    self.f.plus_v = self.f.plus;
                    self.f.plus = false;
                }
                self.print_arg(&args[arg_num], verb);
                arg_num += 1;
            }
        }
        if !self.reordered && arg_num < args.len() {
            self.f = Flags::default();
            self.buf.push_str("%!(EXTRA ");
            for (k, a) in args[arg_num..].iter().enumerate() {
                if k > 0 {
                    self.buf.push_str(", ");
                }
                if a.is_nil() {
                    self.buf.push_str("<nil>");
                } else {
                    self.buf.push_str(&a.type_name());
                    self.buf.push('=');
                    self.print_arg(a, 'v');
                }
            }
            self.buf.push(')');
        }
    }

    fn bad_verb(&mut self, verb: char, v: &Value) {
        self.buf.push_str("%!");
        self.buf.push(verb);
        self.buf.push('(');
        if v.is_nil() {
            self.buf.push_str("<nil>");
        } else {
            self.buf.push_str(&v.type_name());
            self.buf.push('=');
            match v {
                Value::Object(o) => match o.underlying() {
                    Some(u @ (Value::Int(_) | Value::Float(_) | Value::Bool(_))) => {
                        self.print_value(&u, 'v', 0)
                    }
                    _ => self.print_value(v, 'v', 0),
                },
                _ => self.print_value(v, 'v', 0),
            }
        }
        self.buf.push(')');
    }

    fn print_arg(&mut self, v: &Value, verb: char) {
        if v.is_nil() {
            match verb {
                'T' | 'v' => self.pad("<nil>"),
                _ => self.bad_verb(verb, v),
            }
            return;
        }
        if verb == 'T' {
            let t = v.type_name();
            let t = self.truncate(&t).to_string();
            self.pad(&t);
            return;
        }
        if verb == 'p' {
            self.bad_verb(verb, v);
            return;
        }
        self.print_value(v, verb, 0);
    }

    fn print_value(&mut self, v: &Value, verb: char, depth: usize) {
        match v {
            Value::Nil => {
                if depth == 0 {
                    self.buf.push_str("<invalid reflect.Value>");
                } else {
                    self.buf.push_str("<nil>");
                }
            }
            Value::Bool(b) => match verb {
                't' | 'v' => self.pad(if *b { "true" } else { "false" }),
                _ => self.bad_verb(verb, v),
            },
            Value::Int(i) => self.fmt_integer(*i as u64, true, verb, v),
            Value::Float(x) => self.fmt_float(*x, verb, v),
            Value::String(s) => self.fmt_string(s, verb, v),
            Value::Bytes(b) => self.fmt_bytes(b, verb, v, depth),
            Value::List(l) => {
                if self.f.sharp_v {
                    self.buf.push_str("[]interface {}{");
                    for (i, e) in l.iter().enumerate() {
                        if i > 0 {
                            self.buf.push_str(", ");
                        }
                        self.print_nested(e, verb, depth + 1);
                    }
                    self.buf.push('}');
                    return;
                }
                self.buf.push('[');
                for (i, e) in l.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.print_nested(e, verb, depth + 1);
                }
                self.buf.push(']');
            }
            Value::Map(m) => {
                let entries = m.entries();
                if self.f.sharp_v {
                    self.buf.push_str("map[string]interface {}{");
                } else {
                    self.buf.push_str("map[");
                }
                for (i, (k, e)) in entries.iter().enumerate() {
                    if i > 0 {
                        if self.f.sharp_v {
                            self.buf.push_str(", ");
                        } else {
                            self.buf.push(' ');
                        }
                    }
                    self.print_value(&Value::string(k.as_str()), verb, depth + 1);
                    self.buf.push(':');
                    self.print_nested(e, verb, depth + 1);
                }
                self.buf.push(if self.f.sharp_v { '}' } else { ']' });
            }
            // A named basic type without a String method (Helm's int64): formatted as its
            // underlying value, but a verb that does not fit names the type (`%!s(int64=3)`).
            Value::Object(o)
                if o.underlying().is_some_and(|u| match u {
                    Value::Int(_) => !"bcdoOqxXUv".contains(verb),
                    Value::Float(_) => !"beEfFgGxXv".contains(verb),
                    Value::Bool(_) => !"tv".contains(verb),
                    _ => false,
                }) =>
            {
                self.bad_verb(verb, v)
            }
            Value::Object(o) => match verb {
                'v' | 's' => {
                    let s = o.format();
                    let s = if verb == 's' {
                        self.truncate(&s).to_string()
                    } else {
                        s
                    };
                    self.pad(&s);
                }
                _ => match o.underlying() {
                    Some(u) => self.print_value(&u, verb, depth),
                    None => self.bad_verb(verb, v),
                },
            },
        }
    }

    /// An element of a slice or map: its static type is `interface{}`, so nil prints `<nil>`
    /// whatever the verb.
    fn print_nested(&mut self, v: &Value, verb: char, depth: usize) {
        if v.is_nil() {
            self.buf.push_str("<nil>");
        } else {
            self.print_value(v, verb, depth);
        }
    }

    fn fmt_string(&mut self, s: &str, verb: char, v: &Value) {
        match verb {
            'v' => {
                if self.f.sharp_v {
                    self.fmt_q(s);
                } else {
                    let t = self.truncate(s).to_string();
                    self.pad(&t);
                }
            }
            's' => {
                let t = self.truncate(s).to_string();
                self.pad(&t);
            }
            'x' => self.fmt_sbx(s.as_bytes(), false),
            'X' => self.fmt_sbx(s.as_bytes(), true),
            'q' => self.fmt_q(s),
            _ => self.bad_verb(verb, v),
        }
    }

    fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s);
        let quoted = if self.f.sharp && can_backquote(s) {
            format!("`{s}`")
        } else if self.f.plus {
            quote_ascii(s)
        } else {
            quote(s)
        };
        self.pad(&quoted);
    }

    fn fmt_bytes(&mut self, b: &[u8], verb: char, v: &Value, depth: usize) {
        match verb {
            'v' | 'd' => {
                if self.f.sharp_v {
                    self.buf.push_str("[]byte{");
                    for (i, c) in b.iter().enumerate() {
                        if i > 0 {
                            self.buf.push_str(", ");
                        }
                        self.buf.push_str(&format!("0x{c:x}"));
                    }
                    self.buf.push('}');
                    return;
                }
                self.buf.push('[');
                for (i, c) in b.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.fmt_integer(u64::from(*c), false, verb, v);
                }
                self.buf.push(']');
            }
            's' => {
                let s = String::from_utf8_lossy(b).into_owned();
                let t = self.truncate(&s).to_string();
                self.pad(&t);
            }
            'x' => self.fmt_sbx(b, false),
            'X' => self.fmt_sbx(b, true),
            'q' => {
                let s = String::from_utf8_lossy(b).into_owned();
                self.fmt_q(&s);
            }
            _ => {
                self.buf.push('[');
                for (i, c) in b.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.fmt_integer(u64::from(*c), false, verb, &Value::Int(i64::from(*c)));
                }
                self.buf.push(']');
                let _ = depth;
            }
        }
    }

    fn fmt_sbx(&mut self, b: &[u8], upper: bool) {
        let digits: &[u8; 17] = if upper {
            b"0123456789ABCDEFX"
        } else {
            b"0123456789abcdefx"
        };
        let mut length = b.len();
        if self.f.prec_present && self.f.prec < length {
            length = self.f.prec;
        }
        let mut width = 2 * length;
        if width > 0 {
            if self.f.space {
                if self.f.sharp {
                    width *= 2;
                }
                width += length - 1;
            } else if self.f.sharp {
                width += 2;
            }
        } else {
            if self.f.wid_present {
                self.write_padding(self.f.wid);
            }
            return;
        }
        if self.f.wid_present && self.f.wid > width && !self.f.minus {
            self.write_padding(self.f.wid - width);
        }
        if self.f.sharp {
            self.buf.push('0');
            self.buf.push(digits[16] as char);
        }
        for (i, c) in b[..length].iter().enumerate() {
            if self.f.space && i > 0 {
                self.buf.push(' ');
                if self.f.sharp {
                    self.buf.push('0');
                    self.buf.push(digits[16] as char);
                }
            }
            self.buf.push(digits[usize::from(c >> 4)] as char);
            self.buf.push(digits[usize::from(c & 0xF)] as char);
        }
        if self.f.wid_present && self.f.wid > width && self.f.minus {
            self.write_padding(self.f.wid - width);
        }
    }

    fn fmt_integer(&mut self, u: u64, signed: bool, verb: char, v: &Value) {
        match verb {
            'v' | 'd' => self.fmt_int_base(u, 10, signed, verb, false),
            'b' => self.fmt_int_base(u, 2, signed, verb, false),
            'o' | 'O' => self.fmt_int_base(u, 8, signed, verb, false),
            'x' => self.fmt_int_base(u, 16, signed, verb, false),
            'X' => self.fmt_int_base(u, 16, signed, verb, true),
            'c' => {
                let r = char_of(u);
                self.pad(&r.to_string());
            }
            'q' => {
                let r = char_of(u);
                let mut s = String::from('\'');
                push_escaped(&mut s, r, '\'', self.f.plus);
                s.push('\'');
                self.pad(&s);
            }
            'U' => self.fmt_unicode(u),
            _ => self.bad_verb(verb, v),
        }
    }

    fn fmt_int_base(&mut self, mut u: u64, base: u64, signed: bool, verb: char, upper: bool) {
        let digits: &[u8; 17] = if upper {
            b"0123456789ABCDEFX"
        } else {
            b"0123456789abcdefx"
        };
        let negative = signed && (u as i64) < 0;
        if negative {
            u = u.wrapping_neg();
        }
        let mut prec = 0usize;
        if self.f.prec_present {
            prec = self.f.prec;
            if prec == 0 && u == 0 {
                let old = self.f.zero;
                self.f.zero = false;
                self.write_padding(self.f.wid);
                self.f.zero = old;
                return;
            }
        } else if self.f.zero && !self.f.minus && self.f.wid_present {
            prec = self.f.wid;
            if negative || self.f.plus || self.f.space {
                prec = prec.saturating_sub(1);
            }
        }
        let mut rev: Vec<u8> = Vec::with_capacity(24);
        loop {
            rev.push(digits[(u % base) as usize]);
            u /= base;
            if u == 0 {
                break;
            }
        }
        while rev.len() < prec {
            rev.push(b'0');
        }
        if self.f.sharp {
            match base {
                2 => rev.extend_from_slice(b"b0"),
                8 if rev.last() != Some(&b'0') => {
                    rev.push(b'0');
                }
                16 => {
                    rev.push(digits[16]);
                    rev.push(b'0');
                }
                _ => {}
            }
        }
        if verb == 'O' {
            rev.extend_from_slice(b"o0");
        }
        if negative {
            rev.push(b'-');
        } else if self.f.plus {
            rev.push(b'+');
        } else if self.f.space {
            rev.push(b' ');
        }
        rev.reverse();
        let s = String::from_utf8(rev).unwrap_or_default();
        let old = self.f.zero;
        self.f.zero = false;
        self.pad(&s);
        self.f.zero = old;
    }

    fn fmt_unicode(&mut self, u: u64) {
        let mut prec = 4;
        if self.f.prec_present && self.f.prec > 4 {
            prec = self.f.prec;
        }
        let mut s = format!("U+{:0width$X}", u, width = prec);
        if self.f.sharp
            && u <= 0x10FFFF
            && let Some(c) = char::from_u32(u as u32)
            && is_print(c)
        {
            s.push_str(&format!(" '{c}'"));
        }
        let old = self.f.zero;
        self.f.zero = false;
        self.pad(&s);
        self.f.zero = old;
    }

    fn fmt_float(&mut self, x: f64, verb: char, v: &Value) {
        let (fmt_verb, default_prec) = match verb {
            'v' => ('g', -1),
            'g' | 'G' | 'b' | 'x' | 'X' => (verb, -1),
            'f' | 'F' | 'e' | 'E' => (verb, 6),
            _ => {
                self.bad_verb(verb, v);
                return;
            }
        };
        if matches!(fmt_verb, 'b' | 'x' | 'X') {
            self.bad_verb(verb, v);
            return;
        }
        let prec = if self.f.prec_present {
            self.f.prec as i64
        } else {
            default_prec
        };
        let mut num = format_float(x, fmt_verb, prec);
        if self.f.sharp && verb != 'b' {
            num = sharp_float(&num, fmt_verb, prec);
        }
        let mut num = if num.starts_with('-') || num.starts_with('+') {
            num
        } else {
            format!("+{num}")
        };
        if self.f.space && num.starts_with('+') && !self.f.plus {
            num.replace_range(0..1, " ");
        }
        let body = &num[1..];
        if body.starts_with('I') || body.starts_with('N') {
            let old = self.f.zero;
            self.f.zero = false;
            if body.starts_with('N') && !self.f.space && !self.f.plus {
                let b = body.to_string();
                self.pad(&b);
            } else {
                self.pad(&num);
            }
            self.f.zero = old;
            return;
        }
        if self.f.plus || !num.starts_with('+') {
            if self.f.zero && !self.f.minus && self.f.wid_present && self.f.wid > num.len() {
                let sign = num.as_bytes()[0] as char;
                self.buf.push(sign);
                self.write_padding(self.f.wid - num.len());
                self.buf.push_str(&num[1..]);
                return;
            }
            self.pad(&num);
            return;
        }
        let b = num[1..].to_string();
        self.pad(&b);
    }
}

fn char_of(u: u64) -> char {
    if u > 0x10FFFF {
        return '\u{FFFD}';
    }
    char::from_u32(u as u32).unwrap_or('\u{FFFD}')
}

fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c != '`' && c != '\u{FEFF}' && (c == '\t' || !c.is_control()))
}

/// `%#g` style: keep a decimal point (and trailing zeros for `g`).
fn sharp_float(num: &str, verb: char, prec: i64) -> String {
    let (mantissa, exp) = match num.find(['e', 'E']) {
        Some(i) => (&num[..i], &num[i..]),
        None => (num, ""),
    };
    let mut m = mantissa.to_string();
    if !m.contains('.') {
        m.push('.');
    }
    if matches!(verb, 'g' | 'G') {
        let digits = if prec < 0 { 6 } else { prec.max(1) as usize };
        let sig = m.bytes().filter(u8::is_ascii_digit).count();
        let lead_zeros = {
            let t = m.trim_start_matches(['-', '+']);
            if let Some(rest) = t.strip_prefix("0.") {
                rest.bytes().take_while(|&b| b == b'0').count() + 1
            } else {
                0
            }
        };
        let have = sig.saturating_sub(lead_zeros);
        for _ in have..digits {
            m.push('0');
        }
    }
    format!("{m}{exp}")
}

/// Decimal digits of a float: `digits` (no leading zeros; empty for 0) and the position of the
/// decimal point `dp` (value = 0.digits × 10^dp).
struct Decimal {
    digits: Vec<u8>,
    dp: i32,
}

fn decimal_shortest(x: f64) -> Decimal {
    if x == 0.0 {
        return Decimal {
            digits: Vec::new(),
            dp: 0,
        };
    }
    decimal_from_sci(&format!("{:e}", x.abs()))
}

fn decimal_significant(x: f64, n: usize) -> Decimal {
    if x == 0.0 {
        return Decimal {
            digits: Vec::new(),
            dp: 0,
        };
    }
    let mut d = decimal_from_sci(&format!("{:.*e}", n.saturating_sub(1), x.abs()));
    while d.digits.last() == Some(&b'0') {
        d.digits.pop();
    }
    d
}

fn decimal_from_sci(s: &str) -> Decimal {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    Decimal {
        digits,
        dp: exp + 1,
    }
}

fn fmt_e(d: &Decimal, prec: usize, e: char, out: &mut String) {
    out.push(d.digits.first().map_or('0', |&c| c as char));
    if prec > 0 {
        out.push('.');
        let mut i = 1;
        let m = d.digits.len().min(prec + 1);
        while i < m {
            out.push(d.digits[i] as char);
            i += 1;
        }
        while i <= prec {
            out.push('0');
            i += 1;
        }
    }
    out.push(e);
    let mut exp = d.dp - 1;
    if d.digits.is_empty() {
        exp = 0;
    }
    out.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.unsigned_abs();
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
}

fn fmt_f(d: &Decimal, prec: usize, out: &mut String) {
    if d.dp > 0 {
        let dp = d.dp as usize;
        let m = d.digits.len().min(dp);
        out.extend(d.digits[..m].iter().map(|&c| c as char));
        for _ in m..dp {
            out.push('0');
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec as i64 {
            let j = i64::from(d.dp) + i - 1;
            let c = if j >= 0 && (j as usize) < d.digits.len() {
                d.digits[j as usize] as char
            } else {
                '0'
            };
            out.push(c);
        }
    }
}

/// Go's `strconv.FormatFloat(x, verb, prec, 64)` for verbs e, E, f, F, g, G.
pub fn format_float(x: f64, verb: char, prec: i64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = x.is_sign_negative();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let shortest = prec < 0;
    match verb {
        'e' | 'E' => {
            let d = if shortest {
                decimal_shortest(x)
            } else {
                decimal_significant(x, prec as usize + 1)
            };
            let p = if shortest {
                d.digits.len().saturating_sub(1)
            } else {
                prec as usize
            };
            fmt_e(&d, p, verb, &mut out);
        }
        'f' | 'F' => {
            if shortest {
                let d = decimal_shortest(x);
                let p = (d.digits.len() as i64 - i64::from(d.dp)).max(0) as usize;
                fmt_f(&d, p, &mut out);
            } else {
                let s = format!("{:.*}", prec as usize, x.abs());
                out.push_str(&s);
            }
        }
        _ => {
            let upper = verb == 'G';
            let (d, mut p) = if shortest {
                let d = decimal_shortest(x);
                let n = d.digits.len();
                (d, n as i64)
            } else {
                let p = if prec == 0 { 1 } else { prec };
                (decimal_significant(x, p as usize), p)
            };
            let nd = d.digits.len() as i64;
            let dp = i64::from(d.dp);
            let mut eprec = p;
            if eprec > nd && nd >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            if exp < -4 || exp >= eprec {
                if p > nd {
                    p = nd;
                }
                fmt_e(
                    &d,
                    (p - 1).max(0) as usize,
                    if upper { 'E' } else { 'e' },
                    &mut out,
                );
            } else {
                if p > dp {
                    p = nd;
                }
                fmt_f(&d, (p - dp).max(0) as usize, &mut out);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Map;

    fn v(x: impl Into<Value>) -> Value {
        x.into()
    }

    #[test]
    fn floats_print_like_go() {
        assert_eq!(sprint_value(&v(1_000_000.0)), "1e+06");
        assert_eq!(sprint_value(&v(100_000.0)), "100000");
        assert_eq!(sprint_value(&v(2.75)), "2.75");
        assert_eq!(sprint_value(&v(3.0)), "3");
        assert_eq!(sprint_value(&v(0.0001)), "0.0001");
        assert_eq!(sprint_value(&v(0.00001)), "1e-05");
        assert_eq!(sprint_value(&v(-2.5)), "-2.5");
        assert_eq!(sprint_value(&v(123456789.0)), "1.23456789e+08");
        assert_eq!(sprint_value(&v(f64::INFINITY)), "+Inf");
        assert_eq!(sprint_value(&v(f64::NAN)), "NaN");
        assert_eq!(sprintf("%f", &[v(1.23456)]), "1.234560");
        assert_eq!(sprintf("%.2f", &[v(1.23456)]), "1.23");
        assert_eq!(sprintf("%e", &[v(1234.5678)]), "1.234568e+03");
        assert_eq!(sprintf("%g", &[v(1234.5678)]), "1234.5678");
        assert_eq!(sprintf("%.3g", &[v(1234.5678)]), "1.23e+03");
        assert_eq!(
            sprintf("%8.3f|%-8.2f|", &[v(1.23456), v(2.5)]),
            "   1.235|2.50    |"
        );
        assert_eq!(sprintf("%08.3f", &[v(-1.23456)]), "-001.235");
        assert_eq!(sprintf("%+.1f", &[v(2.0)]), "+2.0");
    }

    #[test]
    fn integers_print_like_go() {
        assert_eq!(
            sprintf("%d|%5d|%-5d|%05d", &[v(42), v(42), v(42), v(-42)]),
            "42|   42|42   |-0042"
        );
        assert_eq!(
            sprintf(
                "%x %X %o %b %#x %#o %O",
                &[v(255), v(255), v(8), v(5), v(255), v(8), v(8)]
            ),
            "ff FF 10 101 0xff 010 0o10"
        );
        assert_eq!(
            sprintf("%c|%q|%U|%#U", &[v(65), v(65), v(0x1F600), v(65)]),
            "A|'A'|U+1F600|U+0041 'A'"
        );
        assert_eq!(sprintf("%+d % d", &[v(5), v(5)]), "+5  5");
        assert_eq!(sprintf("%.3d", &[v(7)]), "007");
    }

    #[test]
    fn strings_and_errors_print_like_go() {
        assert_eq!(
            sprintf(
                "%s|%q|%x|%10s|%-4s|%.2s",
                &[v("hi"), v("a\"b"), v("hi"), v("r"), v("l"), v("abc")]
            ),
            "hi|\"a\\\"b\"|6869|         r|l   |ab"
        );
        assert_eq!(sprintf("%d", &[v("x")]), "%!d(string=x)");
        assert_eq!(sprintf("%s", &[v(5)]), "%!s(int=5)");
        assert_eq!(sprintf("%d", &[Value::Nil]), "%!d(<nil>)");
        assert_eq!(sprintf("%d %d", &[v(1)]), "1 %!d(MISSING)");
        assert_eq!(sprintf("%d", &[v(1), v("a")]), "1%!(EXTRA string=a)");
        assert_eq!(sprintf("100%%", &[]), "100%");
        assert_eq!(sprintf("%", &[]), "%!(NOVERB)");
        assert_eq!(sprintf("%[2]d %[1]d", &[v(1), v(2)]), "2 1");
        assert_eq!(sprintf("%*d", &[v(4), v(1)]), "   1");
        assert_eq!(sprintf("%t %v", &[v(true), Value::Nil]), "true <nil>");
        assert_eq!(
            sprintf("%T %T %T", &[v(1), v("s"), v(1.5)]),
            "int string float64"
        );
    }

    #[test]
    fn composites_print_like_go() {
        let m: Map = [("b".to_string(), v(2)), ("a".to_string(), v("x"))]
            .into_iter()
            .collect();
        let l = Value::list(vec![v(1), v("a"), Value::Nil, Value::Map(m.clone())]);
        assert_eq!(sprint_value(&l), "[1 a <nil> map[a:x b:2]]");
        assert_eq!(
            sprintf("%d", &[Value::list(vec![v(1), v("a")])]),
            "[1 %!d(string=a)]"
        );
        assert_eq!(
            sprint(&[v(1), v(2), v("a"), v(3), v("b"), v("c")]),
            "1 2a3bc"
        );
        assert_eq!(sprintln(&[v("a"), v(1)]), "a 1\n");
        assert_eq!(
            sprint_value(&Value::Bytes(b"hi".to_vec().into())),
            "[104 105]"
        );
        assert_eq!(sprintf("%s", &[Value::Bytes(b"hi".to_vec().into())]), "hi");
        assert_eq!(quote("a\u{7}\u{200b}é"), "\"a\\a\\u200bé\"");
    }
}
