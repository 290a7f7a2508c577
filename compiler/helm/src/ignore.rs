//! `.helmignore`: which files of a chart directory Helm leaves out when it loads the chart.
//!
//! The rules are Helm's (`pkg/ignore`): one pattern per line, `#` comments, `!` negation, a trailing
//! `/` matches directories only, a pattern without `/` matches a file's base name, a pattern with `/`
//! matches the path relative to the chart root, and `**` is rejected. Rules are tried in order and the
//! first that decides wins; like Helm, a negated rule ignores every path it does *not* match.

/// The parsed rules of one `.helmignore` file, plus Helm's built-in defaults.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
struct Pattern {
    glob: Glob,
    /// Whether the pattern has a `/`, and so matches the whole relative path.
    is_path: bool,
    negate: bool,
    must_dir: bool,
}

/// A pattern compiled once: most `.helmignore` lines are plain names or `*.ext`, tried against
/// every file of the chart.
#[derive(Debug, Clone)]
enum Glob {
    Literal(String),
    /// `*` followed by plain text.
    Suffix(String),
    Chars(Vec<char>),
}

impl Glob {
    fn new(pattern: &str) -> Glob {
        let plain = |s: &str| !s.contains(['*', '?', '[', '\\']);
        if plain(pattern) {
            return Glob::Literal(pattern.to_string());
        }
        match pattern.strip_prefix('*') {
            Some(rest) if plain(rest) => Glob::Suffix(rest.to_string()),
            _ => Glob::Chars(pattern.chars().collect()),
        }
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            Glob::Literal(l) => l == name,
            Glob::Suffix(tail) => name
                .strip_suffix(tail.as_str())
                .is_some_and(|head| !head.contains('/')),
            Glob::Chars(p) if name.is_ascii() => match_from(p, 0, name.as_bytes(), 0),
            Glob::Chars(p) => match_from(p, 0, &name.chars().collect::<Vec<_>>(), 0),
        }
    }
}

impl Rules {
    /// Parses `.helmignore` text; Helm's default rule (`templates/.?*`) is always added.
    pub fn parse(text: &str) -> Result<Rules, String> {
        let mut rules = Rules::default();
        rules.add("templates/.?*")?;
        for line in text.lines() {
            rules.add(line)?;
        }
        Ok(rules)
    }

    /// Rules with only Helm's defaults (no `.helmignore` file present).
    pub fn defaults() -> Rules {
        let mut rules = Rules::default();
        let _ = rules.add("templates/.?*");
        rules
    }

    fn add(&mut self, line: &str) -> Result<(), String> {
        let mut p = line.trim();
        if p.is_empty() || p.starts_with('#') {
            return Ok(());
        }
        if p.contains("**") {
            return Err("double-star (**) syntax is not supported".to_string());
        }
        let mut negate = false;
        if let Some(rest) = p.strip_prefix('!') {
            negate = true;
            p = rest;
        }
        let mut must_dir = false;
        if let Some(rest) = p.strip_suffix('/') {
            must_dir = true;
            p = rest;
        }
        let p = p.strip_prefix('/').unwrap_or(p);
        self.patterns.push(Pattern {
            glob: Glob::new(p),
            is_path: p.contains('/'),
            negate,
            must_dir,
        });
        Ok(())
    }

    /// Whether `path` (relative to the chart root, `/`-separated) is ignored.
    pub fn ignored(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." {
            return false;
        }
        let base = path.rsplit_once('/').map_or(path, |(_, base)| base);
        for p in &self.patterns {
            let matched = || p.glob.matches(if p.is_path { path } else { base });
            if p.negate {
                if (p.must_dir && !is_dir) || !matched() {
                    return true;
                }
                continue;
            }
            if p.must_dir && !is_dir {
                continue;
            }
            if matched() {
                return true;
            }
        }
        false
    }
}

/// The name's characters: bytes when it is ASCII, else `char`s.
trait NameChar: Copy {
    fn char(self) -> char;
}

impl NameChar for u8 {
    fn char(self) -> char {
        self as char
    }
}

impl NameChar for char {
    fn char(self) -> char {
        self
    }
}

fn match_from<C: NameChar>(p: &[char], mut pi: usize, n: &[C], mut ni: usize) -> bool {
    while pi < p.len() {
        match p[pi] {
            '*' => {
                let mut k = ni;
                loop {
                    if match_from(p, pi + 1, n, k) {
                        return true;
                    }
                    if k >= n.len() || n[k].char() == '/' {
                        return false;
                    }
                    k += 1;
                }
            }
            '?' => {
                if ni >= n.len() || n[ni].char() == '/' {
                    return false;
                }
                pi += 1;
                ni += 1;
            }
            '[' => {
                if ni >= n.len() || n[ni].char() == '/' {
                    return false;
                }
                let c = n[ni].char();
                let mut i = pi + 1;
                let mut negated = false;
                if i < p.len() && (p[i] == '^' || p[i] == '!') {
                    negated = true;
                    i += 1;
                }
                let mut matched = false;
                let mut first = true;
                while i < p.len() && (first || p[i] != ']') {
                    first = false;
                    let mut lo = p[i];
                    if lo == '\\' && i + 1 < p.len() {
                        i += 1;
                        lo = p[i];
                    }
                    let mut hi = lo;
                    if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
                        hi = p[i + 2];
                        if hi == '\\' && i + 3 < p.len() {
                            hi = p[i + 3];
                            i += 1;
                        }
                        i += 2;
                    }
                    if lo <= c && c <= hi {
                        matched = true;
                    }
                    i += 1;
                }
                if i >= p.len() {
                    return false;
                }
                if matched == negated {
                    return false;
                }
                pi = i + 1;
                ni += 1;
            }
            '\\' if pi + 1 < p.len() => {
                if ni >= n.len() || n[ni].char() != p[pi + 1] {
                    return false;
                }
                pi += 2;
                ni += 1;
            }
            c => {
                if ni >= n.len() || n[ni].char() != c {
                    return false;
                }
                pi += 1;
                ni += 1;
            }
        }
    }
    ni == n.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's `filepath.Match`: `*` (not across `/`), `?`, `[...]` classes with ranges and `^`/`!`, `\` escapes.
    fn glob_match(pattern: &str, name: &str) -> bool {
        Glob::new(pattern).matches(name)
    }

    #[test]
    fn base_name_and_path_patterns() {
        let r = Rules::parse("*.bak\n.git/\nci/*.yaml\n# comment\n").unwrap();
        assert!(r.ignored("a/b/c.bak", false));
        assert!(r.ignored(".git", true));
        assert!(!r.ignored(".git", false));
        assert!(r.ignored("ci/x.yaml", false));
        assert!(!r.ignored("x/ci/x.yaml", false));
        assert!(!r.ignored("values.yaml", false));
    }

    #[test]
    fn hidden_templates_are_ignored_by_default() {
        let r = Rules::defaults();
        assert!(r.ignored("templates/.hidden.yaml", false));
        assert!(!r.ignored("templates/a.yaml", false));
    }

    #[test]
    fn negation_ignores_what_it_does_not_match_like_helm() {
        let r = Rules::parse("!keep.txt\n").unwrap();
        assert!(!r.ignored("keep.txt", false));
        assert!(r.ignored("other.txt", false));
    }

    #[test]
    fn double_star_is_rejected() {
        assert!(Rules::parse("a/**/b\n").is_err());
    }

    #[test]
    fn compiled_shortcuts_match_as_the_glob_does() {
        for (pattern, name) in [
            ("*.bak", "a.bak"),
            ("*.bak", "x/a.bak"),
            ("*.bak", ".bak"),
            ("*~", "values.yaml~"),
            (".DS_Store", ".DS_Store"),
            (".DS_Store", "x.DS_Store"),
            ("ci/*.yaml", "ci/a/b.yaml"),
            ("*.yäml", "ä.yäml"),
            ("[ä]", "ä"),
        ] {
            let chars: Vec<char> = pattern.chars().collect();
            let name_chars: Vec<char> = name.chars().collect();
            assert_eq!(
                glob_match(pattern, name),
                match_from(&chars, 0, &name_chars, 0),
                "{pattern} {name}"
            );
        }
    }

    #[test]
    fn go_glob_classes() {
        assert!(glob_match("[a-c]x", "bx"));
        assert!(!glob_match("[^a-c]x", "bx"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a*", "a/b"));
    }
}
