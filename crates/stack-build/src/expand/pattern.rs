//! The shell patterns of `${VAR#pattern}`, `${VAR%pattern}` and
//! `${VAR/pattern/replacement}`: `*` any run, `?` one character, `\`
//! quoting `*`, `?` and `\`; everything else literal (no classes, as in
//! Docker).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Star,
    One,
    Lit(char),
}

/// A compiled shell pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern(Vec<Tok>);

impl Pattern {
    pub(crate) fn parse(text: &str) -> Result<Pattern, String> {
        let mut toks = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' => toks.push(Tok::Star),
                '?' => toks.push(Tok::One),
                '\\' => match chars.peek().copied() {
                    // `\}` and `\/` were only there to get past the lexer.
                    Some('}' | '/') => {}
                    Some(n @ ('*' | '?' | '\\')) => {
                        chars.next();
                        toks.push(Tok::Lit(n));
                    }
                    Some(n) => return Err(format!("invalid escape '\\{n}'")),
                    None => return Err("invalid escape at end of pattern".into()),
                },
                _ => toks.push(Tok::Lit(c)),
            }
        }
        Ok(Pattern(toks))
    }

    /// Whether the pattern matches all of `s`.
    fn matches(&self, s: &[char]) -> bool {
        // reach[i]: the tokens so far can match s[..i].
        let mut reach = vec![false; s.len() + 1];
        reach[0] = true;
        for tok in &self.0 {
            let mut next = vec![false; s.len() + 1];
            match tok {
                Tok::Star => {
                    let mut any = false;
                    for i in 0..=s.len() {
                        any |= reach[i];
                        next[i] = any;
                    }
                }
                Tok::One => (1..=s.len()).for_each(|i| next[i] = reach[i - 1]),
                Tok::Lit(c) => (1..=s.len()).for_each(|i| next[i] = reach[i - 1] && s[i - 1] == *c),
            }
            reach = next;
        }
        reach[s.len()]
    }
}

/// `${VAR#p}` (shortest) and `${VAR##p}` (longest): the value without the
/// prefix the pattern matches.
pub(crate) fn trim_prefix(p: &Pattern, value: &str, greedy: bool) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut lens: Vec<usize> = (0..=chars.len()).collect();
    if greedy {
        lens.reverse();
    }
    match lens.into_iter().find(|&n| p.matches(&chars[..n])) {
        Some(n) => chars[n..].iter().collect(),
        None => value.to_string(),
    }
}

/// `${VAR%p}` (shortest) and `${VAR%%p}` (longest): the value without
/// the suffix the pattern matches.
pub(crate) fn trim_suffix(p: &Pattern, value: &str, greedy: bool) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut starts: Vec<usize> = (0..=chars.len()).rev().collect();
    if greedy {
        starts.reverse();
    }
    match starts.into_iter().find(|&i| p.matches(&chars[i..])) {
        Some(i) => chars[..i].iter().collect(),
        None => value.to_string(),
    }
}

/// `${VAR/p/r}` replaces the leftmost longest match; `${VAR//p/r}` every
/// match, left to right.
pub(crate) fn replace(p: &Pattern, value: &str, replacement: &str, all: bool) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut replaced = false;
    // Where the last non-empty match ended: no empty match right there.
    let mut last_end = None;
    while i <= chars.len() {
        let found = if replaced && !all {
            None
        } else {
            (i..=chars.len())
                .rev()
                .find(|&j| p.matches(&chars[i..j]))
                .filter(|&j| j > i || last_end != Some(i))
        };
        match found {
            Some(j) => {
                out.push_str(replacement);
                replaced = true;
                if j > i {
                    i = j;
                    last_end = Some(j);
                    continue;
                }
                // An empty match: keep the character and move on.
                if let Some(c) = chars.get(i) {
                    out.push(*c);
                }
                i += 1;
            }
            None => {
                if let Some(c) = chars.get(i) {
                    out.push(*c);
                }
                i += 1;
            }
        }
    }
    out
}
