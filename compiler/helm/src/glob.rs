//! `.Files.Glob` patterns with the semantics of gobwas/glob (which Helm uses) and `/` as separator:
//! `*` stays within a path segment, `**` crosses segments, `?`, `[a-z]`/`[!a-z]` classes, `{a,b}`
//! alternatives and `\` escapes.

#[derive(Debug, Clone)]
enum Token {
    Lit(char),
    Any,
    Super,
    Single,
    Class(bool, Vec<(char, char)>),
    Alt(Vec<Vec<Token>>),
}

/// A compiled glob.
#[derive(Debug, Clone)]
pub struct Glob {
    tokens: Vec<Token>,
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let tokens = parse_seq(&chars, &mut pos, false);
        Glob { tokens }
    }

    pub fn matches(&self, s: &str) -> bool {
        let chars: Vec<char> = s.chars().collect();
        match_tokens(&self.tokens, &chars)
    }
}

fn parse_seq(c: &[char], pos: &mut usize, in_alt: bool) -> Vec<Token> {
    let mut out = Vec::new();
    while *pos < c.len() {
        let ch = c[*pos];
        if in_alt && (ch == ',' || ch == '}') {
            break;
        }
        *pos += 1;
        match ch {
            '*' => {
                if *pos < c.len() && c[*pos] == '*' {
                    *pos += 1;
                    out.push(Token::Super);
                } else {
                    out.push(Token::Any);
                }
            }
            '?' => out.push(Token::Single),
            '\\' if *pos < c.len() => {
                out.push(Token::Lit(c[*pos]));
                *pos += 1;
            }
            '[' => {
                let mut neg = false;
                if *pos < c.len() && c[*pos] == '!' {
                    neg = true;
                    *pos += 1;
                }
                let mut ranges = Vec::new();
                while *pos < c.len() && c[*pos] != ']' {
                    let lo = c[*pos];
                    *pos += 1;
                    if *pos + 1 < c.len() && c[*pos] == '-' && c[*pos + 1] != ']' {
                        ranges.push((lo, c[*pos + 1]));
                        *pos += 2;
                    } else {
                        ranges.push((lo, lo));
                    }
                }
                *pos += 1;
                out.push(Token::Class(neg, ranges));
            }
            '{' => {
                let mut alts = Vec::new();
                loop {
                    alts.push(parse_seq(c, pos, true));
                    if *pos >= c.len() {
                        break;
                    }
                    let sep = c[*pos];
                    *pos += 1;
                    if sep == '}' {
                        break;
                    }
                }
                out.push(Token::Alt(alts));
            }
            other => out.push(Token::Lit(other)),
        }
    }
    out
}

fn match_tokens(t: &[Token], s: &[char]) -> bool {
    let Some((first, rest)) = t.split_first() else {
        return s.is_empty();
    };
    match first {
        Token::Lit(c) => s.first() == Some(c) && match_tokens(rest, &s[1..]),
        Token::Single => s.first().is_some_and(|&c| c != '/') && match_tokens(rest, &s[1..]),
        Token::Class(neg, ranges) => {
            let Some(&c) = s.first() else { return false };
            let inside = ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
            inside != *neg && c != '/' && match_tokens(rest, &s[1..])
        }
        Token::Any => {
            for i in 0..=s.len() {
                if match_tokens(rest, &s[i..]) {
                    return true;
                }
                if i < s.len() && s[i] == '/' {
                    return false;
                }
            }
            false
        }
        Token::Super => (0..=s.len()).any(|i| match_tokens(rest, &s[i..])),
        Token::Alt(alts) => alts.iter().any(|a| {
            let mut combined = a.clone();
            combined.extend_from_slice(rest);
            match_tokens(&combined, s)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::Glob;

    #[test]
    fn stars_classes_and_alternatives() {
        assert!(Glob::new("files/*.yaml").matches("files/a.yaml"));
        assert!(!Glob::new("files/*.yaml").matches("files/x/a.yaml"));
        assert!(Glob::new("files/**.yaml").matches("files/x/a.yaml"));
        assert!(Glob::new("files/**").matches("files/x/a.yaml"));
        assert!(Glob::new("{a,b}/*.json").matches("b/c.json"));
        assert!(Glob::new("f[0-9].txt").matches("f7.txt"));
        assert!(!Glob::new("f[!0-9].txt").matches("f7.txt"));
    }
}
