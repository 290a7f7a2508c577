//! Sprig's integer and float math (`add`, `sub`, `div`, `max`, `addf`, `round`, ...) and number
//! conversions (`int`, `int64`, `float64`, `atoi`, `toDecimal`). Float math goes through decimal
//! arithmetic like Sprig's shopspring/decimal, so `addf 0.1 0.2` is `0.3`.

use kiln_gotemplate::{ArgType as A, FuncError, FuncMap, Signature, Value};

use super::conv::{int64, strval, to_f64, to_i64};

/// A decimal number `mantissa × 10^-scale`, exact for values written with a few digits.
#[derive(Clone, Copy, Debug)]
struct Dec {
    m: i128,
    scale: u32,
}

impl Dec {
    fn from_f64(f: f64) -> Option<Dec> {
        if !f.is_finite() {
            return None;
        }
        let s = format!("{f}");
        let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
        let digits = format!("{int}{frac}");
        let m: i128 = digits.parse().ok()?;
        Some(Dec {
            m,
            scale: frac.len() as u32,
        })
    }

    fn rescale(self, scale: u32) -> Option<Dec> {
        let factor = 10i128.checked_pow(scale - self.scale)?;
        Some(Dec {
            m: self.m.checked_mul(factor)?,
            scale,
        })
    }

    fn to_f64(self) -> f64 {
        let s = if self.scale == 0 {
            self.m.to_string()
        } else {
            let neg = self.m < 0;
            let digits = self.m.unsigned_abs().to_string();
            let scale = self.scale as usize;
            let padded = if digits.len() <= scale {
                format!("{}{digits}", "0".repeat(scale - digits.len() + 1))
            } else {
                digits
            };
            let (i, f) = padded.split_at(padded.len() - scale);
            format!("{}{i}.{f}", if neg { "-" } else { "" })
        };
        s.parse().unwrap_or(0.0)
    }
}

fn dec_op(a: f64, b: f64, op: char) -> f64 {
    let exact = || -> Option<f64> {
        let (x, y) = (Dec::from_f64(a)?, Dec::from_f64(b)?);
        match op {
            '+' | '-' => {
                let scale = x.scale.max(y.scale);
                let (x, y) = (x.rescale(scale)?, y.rescale(scale)?);
                let m = if op == '+' {
                    x.m.checked_add(y.m)?
                } else {
                    x.m.checked_sub(y.m)?
                };
                Some(Dec { m, scale }.to_f64())
            }
            '*' => {
                let m = x.m.checked_mul(y.m)?;
                Some(
                    Dec {
                        m,
                        scale: x.scale + y.scale,
                    }
                    .to_f64(),
                )
            }
            _ => None,
        }
    };
    exact().unwrap_or(match op {
        '+' => a + b,
        '-' => a - b,
        '*' => a * b,
        _ => a / b,
    })
}

/// Division with shopspring/decimal's default 16 fractional digits, rounded half away from zero.
fn dec_div(a: f64, b: f64) -> f64 {
    let q = a / b;
    if !q.is_finite() {
        return q;
    }
    let r = (q * 1e16).round() / 1e16;
    if r.is_finite() {
        format!("{r}").parse().unwrap_or(q)
    } else {
        q
    }
}

fn int_list(a: &[Value]) -> Vec<i64> {
    a.iter().map(to_i64).collect()
}

pub fn register(m: &mut FuncMap) {
    m.insert("add1", Signature::fixed(&[A::Any]), |_, a| {
        Ok(int64(to_i64(&a[0]).wrapping_add(1)))
    });
    m.insert("add", Signature::variadic(&[], A::Any), |_, a| {
        Ok(int64(int_list(a).into_iter().fold(0i64, i64::wrapping_add)))
    });
    m.insert("sub", Signature::fixed(&[A::Any, A::Any]), |_, a| {
        Ok(int64(to_i64(&a[0]).wrapping_sub(to_i64(&a[1]))))
    });
    m.insert("mul", Signature::variadic(&[A::Any], A::Any), |_, a| {
        Ok(int64(int_list(a).into_iter().fold(1i64, i64::wrapping_mul)))
    });
    m.insert("div", Signature::fixed(&[A::Any, A::Any]), |_, a| {
        let d = to_i64(&a[1]);
        if d == 0 {
            return Err(FuncError::new("runtime error: integer divide by zero"));
        }
        Ok(int64(to_i64(&a[0]).wrapping_div(d)))
    });
    m.insert("mod", Signature::fixed(&[A::Any, A::Any]), |_, a| {
        let d = to_i64(&a[1]);
        if d == 0 {
            return Err(FuncError::new("runtime error: integer divide by zero"));
        }
        Ok(int64(to_i64(&a[0]).wrapping_rem(d)))
    });
    for name in ["max", "biggest"] {
        m.insert(name, Signature::variadic(&[A::Any], A::Any), |_, a| {
            Ok(int64(int_list(a).into_iter().max().unwrap_or(0)))
        });
    }
    m.insert("min", Signature::variadic(&[A::Any], A::Any), |_, a| {
        Ok(int64(int_list(a).into_iter().min().unwrap_or(0)))
    });
    m.insert("maxf", Signature::variadic(&[A::Any], A::Any), |_, a| {
        Ok(Value::Float(
            a.iter().map(to_f64).fold(f64::NEG_INFINITY, f64::max),
        ))
    });
    m.insert("minf", Signature::variadic(&[A::Any], A::Any), |_, a| {
        Ok(Value::Float(
            a.iter().map(to_f64).fold(f64::INFINITY, f64::min),
        ))
    });
    m.insert("add1f", Signature::fixed(&[A::Any]), |_, a| {
        Ok(Value::Float(dec_op(to_f64(&a[0]), 1.0, '+')))
    });
    m.insert("addf", Signature::variadic(&[], A::Any), |_, a| {
        Ok(Value::Float(
            a.iter().map(to_f64).fold(0.0, |x, y| dec_op(x, y, '+')),
        ))
    });
    m.insert("subf", Signature::variadic(&[A::Any], A::Any), |_, a| {
        let first = to_f64(&a[0]);
        Ok(Value::Float(
            a[1..]
                .iter()
                .map(to_f64)
                .fold(first, |x, y| dec_op(x, y, '-')),
        ))
    });
    m.insert("mulf", Signature::variadic(&[A::Any], A::Any), |_, a| {
        let first = to_f64(&a[0]);
        Ok(Value::Float(
            a[1..]
                .iter()
                .map(to_f64)
                .fold(first, |x, y| dec_op(x, y, '*')),
        ))
    });
    m.insert("divf", Signature::variadic(&[A::Any], A::Any), |_, a| {
        let first = to_f64(&a[0]);
        for d in &a[1..] {
            if to_f64(d) == 0.0 {
                return Err(FuncError::new("decimal division by 0"));
            }
        }
        Ok(Value::Float(a[1..].iter().map(to_f64).fold(first, dec_div)))
    });
    m.insert("floor", Signature::fixed(&[A::Any]), |_, a| {
        Ok(Value::Float(to_f64(&a[0]).floor()))
    });
    m.insert("ceil", Signature::fixed(&[A::Any]), |_, a| {
        Ok(Value::Float(to_f64(&a[0]).ceil()))
    });
    m.insert(
        "round",
        Signature::variadic(&[A::Any, A::Int], A::Float64),
        |_, a| {
            let round_on = a.get(2).map(to_f64).unwrap_or(0.5);
            let val = to_f64(&a[0]);
            let pow = 10f64.powf(a[1].as_i64().unwrap_or(0) as f64);
            let digit = pow * val;
            let frac = digit.fract();
            let r = if frac >= round_on {
                digit.ceil()
            } else {
                digit.floor()
            };
            Ok(Value::Float(r / pow))
        },
    );
    m.insert("int", Signature::fixed(&[A::Any]), |_, a| {
        Ok(Value::Int(to_i64(&a[0])))
    });
    m.insert("int64", Signature::fixed(&[A::Any]), |_, a| {
        Ok(int64(to_i64(&a[0])))
    });
    m.insert("float64", Signature::fixed(&[A::Any]), |_, a| {
        Ok(Value::Float(to_f64(&a[0])))
    });
    m.insert("atoi", Signature::fixed(&[A::String]), |_, a| {
        Ok(Value::Int(
            a[0].as_str()
                .unwrap_or_default()
                .trim_start_matches('+')
                .parse()
                .unwrap_or(0),
        ))
    });
    m.insert("toDecimal", Signature::fixed(&[A::Any]), |_, a| {
        Ok(int64(i64::from_str_radix(&strval(&a[0]), 8).unwrap_or(0)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_float_math() {
        assert_eq!(dec_op(0.1, 0.2, '+'), 0.3);
        assert_eq!(dec_op(1.1, 3.0, '*'), 3.3);
        assert_eq!(dec_op(0.3, 0.1, '-'), 0.2);
        assert_eq!(dec_div(1.0, 3.0), 0.3333333333333333);
    }
}
