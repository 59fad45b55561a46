//! One `.dockerignore` pattern, matched as Docker's patternmatcher
//! matches it: an exact path, a `dir/**` prefix, a `**/x` suffix, or a
//! full pattern (`*` and `?` stop at `/`, `[a-z]`/`[^a]` classes, `\`
//! quoting, `**` any number of directories).

/// How a pattern matches, as Docker decides from its text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// No wildcard: the path itself.
    Exact,
    /// `dir/**`: anything starting with `dir/`.
    Prefix,
    /// `**` first and nothing else wild after: anything ending with the rest.
    Suffix,
    /// Anything else, as the token machine below.
    Tokens,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(char),
    /// `*`: any run without `/`.
    Star,
    /// `?`: one character but `/`.
    One,
    /// `[...]`: one character in (or, negated, not in) the ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// `**/` (or `**` before more text): nothing, or anything ending in `/`.
    AnyDirs,
    /// `**` at the end: anything.
    Any,
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(super) struct Glob {
    text: String,
    kind: Kind,
    toks: Vec<Tok>,
}

/// A state of the token machine: at token `i`, or inside an `AnyDirs`
/// (`(.*/)?`) at token `i` having consumed some of it.
type State = (usize, bool);

impl Glob {
    /// Compiles a cleaned pattern; an unclosed `[` is an error.
    pub(super) fn new(text: &str) -> Result<Glob, String> {
        let chars: Vec<char> = text.chars().collect();
        let mut toks = Vec::new();
        let mut kind = Kind::Exact;
        let mut i = 0;
        let mut first = true;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            match c {
                '*' if chars.get(i) == Some(&'*') => {
                    i += 1;
                    if chars.get(i) == Some(&'/') {
                        i += 1;
                    }
                    if i >= chars.len() {
                        toks.push(Tok::Any);
                        if kind == Kind::Exact {
                            kind = Kind::Prefix;
                        } else {
                            kind = Kind::Tokens;
                        }
                    } else {
                        toks.push(Tok::AnyDirs);
                        kind = Kind::Tokens;
                    }
                    if first {
                        kind = Kind::Suffix;
                    }
                }
                '*' => {
                    toks.push(Tok::Star);
                    kind = Kind::Tokens;
                }
                '?' => {
                    toks.push(Tok::One);
                    kind = Kind::Tokens;
                }
                '\\' => match chars.get(i) {
                    Some(&n) => {
                        i += 1;
                        toks.push(Tok::Lit(n));
                        kind = Kind::Tokens;
                    }
                    None => toks.push(Tok::Lit('\\')),
                },
                '[' => {
                    let (tok, next) = class(&chars, i)
                        .ok_or_else(|| format!("syntax error in pattern {text:?}: unclosed ["))?;
                    toks.push(tok);
                    i = next;
                    kind = Kind::Tokens;
                }
                ']' => {
                    toks.push(Tok::Lit(']'));
                    kind = Kind::Tokens;
                }
                _ => toks.push(Tok::Lit(c)),
            }
            first = false;
        }
        Ok(Glob {
            text: text.to_string(),
            kind,
            toks,
        })
    }

    /// Whether the pattern matches all of `path`.
    pub(super) fn matches(&self, path: &str) -> bool {
        match self.kind {
            Kind::Exact => path == self.text,
            Kind::Prefix => path.starts_with(&self.text[..self.text.len().saturating_sub(2)]),
            Kind::Suffix => {
                let suffix = self.text.get(2..).unwrap_or_default();
                path.ends_with(suffix) || suffix.strip_prefix('/') == Some(path)
            }
            Kind::Tokens => self.run(path).contains(&(self.toks.len(), false)),
        }
    }

    /// Whether some path below `dir` could match (so a walk must look
    /// inside `dir` even though `dir` itself is excluded).
    pub(super) fn may_match_below(&self, dir: &str) -> bool {
        let below = format!("{dir}/");
        match self.kind {
            Kind::Exact => self.text.starts_with(&below),
            Kind::Prefix => {
                let prefix = &self.text[..self.text.len().saturating_sub(2)];
                below.starts_with(prefix) || prefix.starts_with(&below)
            }
            Kind::Suffix => true,
            Kind::Tokens => !self.run(&below).is_empty(),
        }
    }

    /// The states the token machine can be in after reading `input`.
    fn run(&self, input: &str) -> Vec<State> {
        let mut states = self.closure(vec![(0, false)]);
        for c in input.chars() {
            let mut next = Vec::new();
            for &(i, inside) in &states {
                let Some(tok) = self.toks.get(i) else {
                    continue;
                };
                if *tok == Tok::AnyDirs {
                    next.push((i, true));
                }
                let advance = match tok {
                    Tok::Lit(l) => !inside && *l == c,
                    Tok::One => c != '/',
                    Tok::Class { negated, ranges } => {
                        ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
                    }
                    Tok::Star => {
                        if c != '/' {
                            next.push((i, false));
                        }
                        false
                    }
                    Tok::Any => {
                        next.push((i, false));
                        false
                    }
                    Tok::AnyDirs => c == '/',
                };
                if advance {
                    next.push((i + 1, false));
                }
            }
            states = self.closure(next);
            if states.is_empty() {
                break;
            }
        }
        states
    }

    /// Adds the states reachable without reading: past `*`, `**`, `**/`.
    fn closure(&self, mut states: Vec<State>) -> Vec<State> {
        let mut k = 0;
        while k < states.len() {
            let (i, inside) = states[k];
            if !inside
                && matches!(self.toks.get(i), Some(Tok::Star | Tok::Any | Tok::AnyDirs))
                && !states.contains(&(i + 1, false))
            {
                states.push((i + 1, false));
            }
            k += 1;
        }
        states.sort_unstable();
        states.dedup();
        states
    }
}

/// A `[...]` class starting after the `[` at `start`: the token and the
/// index after its `]`; `None` when it is not closed.
fn class(chars: &[char], start: usize) -> Option<(Tok, usize)> {
    let mut i = start;
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let mut c = *chars.get(i)?;
        i += 1;
        if c == ']' && !first {
            return Some((Tok::Class { negated, ranges }, i));
        }
        first = false;
        if c == '\\' {
            c = *chars.get(i)?;
            i += 1;
        }
        if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|n| *n != ']') {
            let mut hi = *chars.get(i + 1)?;
            i += 2;
            if hi == '\\' {
                hi = *chars.get(i)?;
                i += 1;
            }
            if hi < c {
                return None;
            }
            ranges.push((c, hi));
        } else {
            ranges.push((c, c));
        }
    }
}
