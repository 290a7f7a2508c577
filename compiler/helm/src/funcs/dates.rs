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
        Value::Float(f) => Utc.timestamp_opt(*f as i64, 0).single().unwrap_or_default(),
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
    m.insert("duration", Signature::fixed(&[A::Any]), |_, a| {
        Ok(duration_string(super::conv::to_i64(&a[0])).into())
    });
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
}
