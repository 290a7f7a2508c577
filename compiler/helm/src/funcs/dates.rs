//! Sprig's date functions. `now` does not read the clock: it returns `SOURCE_DATE_EPOCH` when that
//! is set and the Unix epoch otherwise, so rendering stays a pure function of its inputs (a chart
//! stamping `now` into an annotation would otherwise change every build). Times are in UTC.

use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc};
use kiln_gotemplate::{ArgType as A, FuncError, FuncMap, Object, Signature, Value};

/// A Go `time.Time`.
#[derive(Debug, Clone)]
pub struct Time(pub DateTime<Utc>);

impl Object for Time {
    fn type_name(&self) -> &str {
        "time.Time"
    }

    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, FuncError>> {
        Some(Ok(match name {
            "Unix" => Value::Int(self.0.timestamp()),
            "UnixNano" => Value::Int(self.0.timestamp_nanos_opt().unwrap_or(0)),
            "Year" => Value::Int(i64::from(self.0.year())),
            "Format" => Value::from(go_format(
                &self.0,
                args.first().and_then(Value::as_str).unwrap_or(""),
            )),
            "UTC" | "Local" => Value::object(self.clone()),
            "String" => Value::from(self.format()),
            _ => return None,
        }))
    }

    fn format(&self) -> String {
        go_format(&self.0, "2006-01-02 15:04:05.999999999 -0700 MST")
    }

    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(go_format(
            &self.0,
            "2006-01-02T15:04:05.999999999Z07:00",
        )))
    }
}

/// The instant `now` returns (see the module docs).
pub fn fixed_now() -> DateTime<Utc> {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(0);
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Formats with a Go reference-time layout (`2006-01-02T15:04:05Z07:00`).
pub fn go_format(t: &DateTime<Utc>, layout: &str) -> String {
    let mut out = String::new();
    let mut rest = layout;
    let month = t.month0() as usize;
    let wd = t.weekday().num_days_from_sunday() as usize;
    let nanos = t.nanosecond();
    while !rest.is_empty() {
        let tok: &[(&str, String)] = &[
            ("January", MONTHS[month].to_string()),
            ("Monday", DAYS[wd].to_string()),
            ("2006", format!("{:04}", t.year())),
            ("Z07:00", "Z".to_string()),
            ("-07:00", "+00:00".to_string()),
            ("Z0700", "Z".to_string()),
            ("-0700", "+0000".to_string()),
            ("Jan", MONTHS[month][..3].to_string()),
            ("Mon", DAYS[wd][..3].to_string()),
            ("MST", "UTC".to_string()),
            ("01", format!("{:02}", t.month())),
            ("02", format!("{:02}", t.day())),
            ("_2", format!("{:>2}", t.day())),
            ("06", format!("{:02}", t.year() % 100)),
            ("15", format!("{:02}", t.hour())),
            ("03", format!("{:02}", (t.hour() + 11) % 12 + 1)),
            ("04", format!("{:02}", t.minute())),
            ("05", format!("{:02}", t.second())),
            ("PM", if t.hour() >= 12 { "PM" } else { "AM" }.to_string()),
            ("pm", if t.hour() >= 12 { "pm" } else { "am" }.to_string()),
            ("1", t.month().to_string()),
            ("2", t.day().to_string()),
            ("3", ((t.hour() + 11) % 12 + 1).to_string()),
            ("4", t.minute().to_string()),
            ("5", t.second().to_string()),
        ];
        if let Some(frac) = rest
            .strip_prefix(".999999999")
            .or_else(|| rest.strip_prefix(".000000000"))
        {
            let zeros = rest.as_bytes()[1] == b'0';
            let digits = format!("{nanos:09}");
            if zeros {
                out.push('.');
                out.push_str(&digits);
            } else if nanos != 0 {
                out.push('.');
                out.push_str(digits.trim_end_matches('0'));
            }
            rest = frac;
            continue;
        }
        if let Some((t_str, v)) = tok.iter().find(|(k, _)| rest.starts_with(k)) {
            out.push_str(v);
            rest = &rest[t_str.len()..];
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn to_time(v: &Value) -> DateTime<Utc> {
    match v {
        Value::Int(i) => Utc.timestamp_opt(*i, 0).single().unwrap_or_default(),
        other if super::conv::as_int64(other).is_some() => {
            let secs = super::conv::as_int64(other).unwrap_or(0);
            Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
        }
        Value::Object(o) => o
            .call_method("Unix", &[])
            .and_then(Result::ok)
            .and_then(|u| u.as_i64())
            .and_then(|s| Utc.timestamp_opt(s, 0).single())
            .unwrap_or_else(fixed_now),
        _ => fixed_now(),
    }
}

/// Go's `time.Duration.String()` for whole seconds.
fn duration_string(secs: i64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let neg = secs < 0;
    let s = secs.unsigned_abs();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if h > 0 {
        out.push_str(&format!("{h}h{m}m"));
    } else if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{sec}s"));
    out
}

pub fn register(m: &mut FuncMap) {
    m.insert("now", Signature::fixed(&[]), |_, _| {
        Ok(Value::object(Time(fixed_now())))
    });
    for name in ["date", "dateInZone", "date_in_zone"] {
        m.insert(
            name,
            Signature::variadic(&[A::String, A::Any], A::String),
            |_, a| Ok(go_format(&to_time(&a[1]), a[0].as_str().unwrap_or_default()).into()),
        );
    }
    m.insert("htmlDate", Signature::fixed(&[A::Any]), |_, a| {
        Ok(go_format(&to_time(&a[0]), "2006-01-02").into())
    });
    m.insert(
        "htmlDateInZone",
        Signature::fixed(&[A::Any, A::String]),
        |_, a| Ok(go_format(&to_time(&a[0]), "2006-01-02").into()),
    );
    m.insert("unixEpoch", Signature::fixed(&[A::Any]), |_, a| {
        Ok(to_time(&a[0]).timestamp().to_string().into())
    });
    m.insert("ago", Signature::fixed(&[A::Any]), |_, a| {
        Ok(duration_string(fixed_now().timestamp() - to_time(&a[0]).timestamp()).into())
    });
    // Sprig takes a string (seconds) or an int64; any other type (an `int` literal, a float64
    // from values files) is zero seconds.
    m.insert("duration", Signature::fixed(&[A::Any]), |_, a| {
        let secs = match &a[0] {
            Value::String(s) => super::conv::parse_go_int(s).unwrap_or(0),
            other => super::conv::as_int64(other).unwrap_or(0),
        };
        Ok(duration_string(secs).into())
    });
    m.insert("durationRound", Signature::fixed(&[A::Any]), |_, a| {
        let nanos: i128 = match &a[0] {
            Value::String(s) => parse_go_duration(s).unwrap_or(0).into(),
            other if super::conv::as_int64(other).is_some() => {
                super::conv::as_int64(other).unwrap_or(0).into()
            }
            Value::Object(o) => match o.call_method("Unix", &[]) {
                Some(Ok(Value::Int(t))) => i128::from(fixed_now().timestamp() - t) * 1_000_000_000,
                _ => 0,
            },
            _ => 0,
        };
        Ok(round_duration(nanos.unsigned_abs()).into())
    });
    m.insert(
        "dateModify",
        Signature::fixed(&[A::String, A::Any]),
        |_, a| {
            let t = to_time(&a[1]);
            Ok(match parse_go_duration(a[0].as_str().unwrap_or_default()) {
                Ok(d) => Value::object(Time(t + chrono::Duration::nanoseconds(d))),
                Err(_) => Value::object(Time(t)),
            })
        },
    );
    m.insert(
        "mustDateModify",
        Signature::fixed(&[A::String, A::Any]),
        |_, a| {
            let t = to_time(&a[1]);
            let d = parse_go_duration(a[0].as_str().unwrap_or_default()).map_err(FuncError::new)?;
            Ok(Value::object(Time(t + chrono::Duration::nanoseconds(d))))
        },
    );
    for name in ["toDate", "mustToDate"] {
        m.insert(name, Signature::fixed(&[A::String, A::String]), |_, a| {
            let text = a[1].as_str().unwrap_or_default();
            let parsed = DateTime::parse_from_rfc3339(text)
                .map(|d| d.with_timezone(&Utc))
                .or_else(|_| {
                    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
                })
                .map_err(|e| FuncError::new(format!("parsing time {text:?}: {e}")))?;
            Ok(Value::object(Time(parsed)))
        });
    }
}

/// Sprig's `durationRound`: the largest whole unit (years of 365 days, months of 30) of a duration.
fn round_duration(nanos: u128) -> String {
    const SECOND: u128 = 1_000_000_000;
    let units: [(u128, &str); 6] = [
        (SECOND * 3600 * 24 * 365, "y"),
        (SECOND * 3600 * 24 * 30, "mo"),
        (SECOND * 3600 * 24, "d"),
        (SECOND * 3600, "h"),
        (SECOND * 60, "m"),
        (SECOND, "s"),
    ];
    units
        .iter()
        .find(|(size, _)| nanos > *size)
        .map(|(size, name)| format!("{}{name}", nanos / size))
        .unwrap_or_else(|| "0s".into())
}

/// Go's `time.ParseDuration` (`1h30m`, `-1.5s`, `300ms`, `2us`), in nanoseconds, with Go's errors.
pub fn parse_go_duration(text: &str) -> Result<i64, String> {
    let invalid = || {
        format!(
            "time: invalid duration {}",
            kiln_gotemplate::gofmt::quote(text)
        )
    };
    let (neg, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(invalid());
        }
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale: f64 = match unit {
            "ns" => 1.0,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => {
                return Err(format!(
                    "time: missing unit in duration {}",
                    kiln_gotemplate::gofmt::quote(text)
                ));
            }
            other => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    kiln_gotemplate::gofmt::quote(other),
                    kiln_gotemplate::gofmt::quote(text)
                ));
            }
        };
        total += number.parse::<f64>().map_err(|_| invalid())? * scale;
    }
    if total > i64::MAX as f64 {
        return Err(invalid());
    }
    let nanos = total.round() as i64;
    Ok(if neg { -nanos } else { nanos })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_layouts() {
        let t = Utc.with_ymd_and_hms(2024, 3, 5, 14, 7, 9).unwrap();
        assert_eq!(
            go_format(&t, "2006-01-02T15:04:05Z07:00"),
            "2024-03-05T14:07:09Z"
        );
        assert_eq!(
            go_format(&t, "Jan 2, 2006 at 3:04pm (MST)"),
            "Mar 5, 2024 at 2:07pm (UTC)"
        );
        assert_eq!(duration_string(3725), "1h2m5s");
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("-1.5s"), Ok(-1_500_000_000));
        assert_eq!(parse_go_duration("300ms"), Ok(300_000_000));
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert_eq!(
            parse_go_duration("bad"),
            Err("time: invalid duration \"bad\"".into())
        );
        assert_eq!(
            parse_go_duration("1"),
            Err("time: missing unit in duration \"1\"".into())
        );
        assert_eq!(
            parse_go_duration("1x"),
            Err("time: unknown unit \"x\" in duration \"1x\"".into())
        );
        assert_eq!(round_duration(90 * 1_000_000_000), "1m");
        assert_eq!(round_duration(400 * 3600 * 1_000_000_000), "16d");
        assert_eq!(round_duration(1_000_000), "0s");
    }
}
