//! Regular expressions that are plain text: selector fields and image names are regular
//! expressions to kustomize, but nearly all are names like `my-app` or `networking.k8s.io`.
//! Compiling each costs more than a whole small build, so those are matched by hand, with the
//! meaning the regex engine gives them (`.` is any character but a line feed).

use regex::Regex;

/// Characters with a meaning outside character classes other than `.` (`-`, `&`, `~` mean
/// something only inside `[...]`, `#` only in `(?x)` mode).
const META: &str = "\\+*?()|[]{}^$";

/// Whether `pattern` is plain text with `.` wildcards.
pub fn is_plain(pattern: &str) -> bool {
    !pattern.chars().any(|c| META.contains(c))
}

/// The byte length of the start of `text` a plain pattern matches, if it does.
pub fn plain_prefix(pattern: &str, text: &str) -> Option<usize> {
    let mut rest = text.char_indices();
    for p in pattern.chars() {
        let (_, t) = rest.next()?;
        if !(p == t || (p == '.' && t != '\n')) {
            return None;
        }
    }
    Some(rest.next().map_or(text.len(), |(i, _)| i))
}

/// A regular expression matched against whole texts (`^(?:pattern)$`).
pub enum Anchored {
    Plain(String),
    Regex(Regex),
}

impl Anchored {
    pub fn new(pattern: &str) -> Result<Anchored, regex::Error> {
        if is_plain(pattern) {
            return Ok(Anchored::Plain(pattern.to_string()));
        }
        Regex::new(&format!("^(?:{pattern})$")).map(Anchored::Regex)
    }

    pub fn is_match(&self, text: &str) -> bool {
        match self {
            Anchored::Plain(p) => plain_prefix(p, text) == Some(text.len()),
            Anchored::Regex(re) => re.is_match(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXTS: &[&str] = &[
        "app-1",
        "app-12",
        "xapp-1",
        "app-1x",
        "a.b",
        "axb",
        "a\nb",
        "",
        "my app",
        "x#y",
        "a&b~c",
        "networking.k8s.io",
        "networkingxk8sxio",
        "é.b",
        "éxb",
    ];

    /// Plain patterns skip the regex engine; they must match exactly what the anchored
    /// regular expression would.
    #[test]
    fn plain_patterns_match_like_anchored_regexes() {
        for p in [
            "app-1",
            "app-.*",
            "a.b",
            "a\\.b",
            "my app",
            "x#y",
            "a&b~c",
            "app-1|axb",
            "networking.k8s.io",
            "",
            "é.b",
            "..",
        ] {
            let ours = Anchored::new(p).unwrap();
            let re = Regex::new(&format!("^(?:{p})$")).unwrap();
            for t in TEXTS {
                assert_eq!(ours.is_match(t), re.is_match(t), "pattern {p:?} on {t:?}");
            }
        }
        assert!(matches!(
            Anchored::new("a.b-c").unwrap(),
            Anchored::Plain(_)
        ));
        assert!(matches!(
            Anchored::new("app-.*").unwrap(),
            Anchored::Regex(_)
        ));
    }

    #[test]
    fn plain_prefix_reports_the_matched_length() {
        assert_eq!(plain_prefix("a.c", "abcdef"), Some(3));
        assert_eq!(plain_prefix("é.", "éxé"), Some(3));
        assert_eq!(plain_prefix("abc", "ab"), None);
        assert_eq!(plain_prefix("", "ab"), Some(0));
    }
}
