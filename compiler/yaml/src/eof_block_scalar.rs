//! A block scalar (`key: |`) whose last line ends the text without a line break gets no final
//! line feed in Go (libyaml's reading, which yaml.v2 and yaml.v3 inherit), while the YAML test
//! suite reads the line as if it ended with one. ConfigMaps holding nginx or collector configs
//! often come from editors that drop the final newline, so this matters for output parity.
//!
//! The fast decoder reads such scalars as Go does through a parser option. The complete decoder
//! (serde-saphyr) cannot be given that option, so its result is corrected here: the last scalar
//! of the text is read again with the option, and the decoded string loses the line feed the
//! complete decoder added.

use granit_parser::{Event, Parser, ScalarStyle};
use serde_json::Value;

/// Trims the line feed the complete decoder added to a block scalar ending `text` unterminated.
pub(crate) fn trim_final_line_feed(text: &str, value: &mut Value) {
    if text.is_empty() || text.ends_with(['\n', '\r']) {
        return;
    }
    let Some(go_text) = last_block_scalar(text) else {
        return;
    };
    if let Some(Value::String(s)) = last_scalar(value)
        && s.len() == go_text.len() + 1
        && s.ends_with('\n')
        && s.starts_with(go_text.as_str())
    {
        s.pop();
    }
}

/// The text of the last scalar event, as Go reads it, when that scalar is a block scalar.
fn last_block_scalar(text: &str) -> Option<String> {
    let mut last = None;
    for event in Parser::new_from_str_with_options(text, crate::decode::parser_options()) {
        match event.ok()?.0 {
            Event::Scalar(s, style, ..) => {
                last = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
                    .then(|| s.into_owned());
            }
            Event::Alias(_) => last = None,
            _ => {}
        }
    }
    last
}

/// The last scalar of a document in source order.
fn last_scalar(v: &mut Value) -> Option<&mut Value> {
    match v {
        Value::Object(m) => m.values_mut().next_back().and_then(last_scalar),
        Value::Array(a) => a.last_mut().and_then(last_scalar),
        other => Some(other),
    }
}
