//! The word processor of Dockerfile variable expansion: Docker's shell
//! lexer rules (quotes, the escape character, `$VAR`, `${VAR}` and its
//! operators), not a shell. The same processor, with its raw switches,
//! also finds heredoc markers on an instruction line.

use super::pattern::{replace, trim_prefix, trim_suffix, Pattern};

/// How to process a word. The defaults are those of an instruction's
/// expansion: quotes removed, escapes applied, unset variables empty.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lexer {
    pub escape: char,
    /// Keep quote characters in the result (quotes still group words).
    pub raw_quotes: bool,
    /// Keep escape characters in the result.
    pub raw_escapes: bool,
    /// Quotes are ordinary characters (heredoc bodies).
    pub skip_quotes: bool,
    /// An unset variable stays as written instead of becoming empty.
    pub skip_unset: bool,
}

impl Lexer {
    pub(crate) fn new(escape: char) -> Lexer {
        Lexer {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_quotes: false,
            skip_unset: false,
        }
    }

    /// The word with variables replaced, quotes and escapes removed.
    pub(crate) fn word(&self, input: &str, lookup: Lookup<'_>) -> Result<String, String> {
        self.run(input, lookup).map(|(word, _)| word)
    }

    /// The words the input splits into: whitespace outside quotes splits,
    /// and so does whitespace in an unquoted variable's value.
    pub(crate) fn words(&self, input: &str, lookup: Lookup<'_>) -> Result<Vec<String>, String> {
        self.run(input, lookup).map(|(_, words)| words)
    }

    fn run(&self, input: &str, lookup: Lookup<'_>) -> Result<(String, Vec<String>), String> {
        let mut scan = Scan {
            chars: input.chars().collect(),
            pos: 0,
            lex: *self,
            lookup,
            raw_escapes: self.raw_escapes,
        };
        scan.until(None, self.raw_escapes)
    }
}

/// Where variable values come from: `None` is unset.
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

struct Scan<'a> {
    chars: Vec<char>,
    pos: usize,
    lex: Lexer,
    lookup: Lookup<'a>,
    raw_escapes: bool,
}

/// The words being built while the result is.
#[derive(Default)]
struct Words {
    buf: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, c: char) {
        if c.is_whitespace() {
            if self.in_word && !self.buf.is_empty() {
                self.words.push(std::mem::take(&mut self.buf));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(c);
        }
    }

    fn add_raw_char(&mut self, c: char) {
        self.buf.push(c);
        self.in_word = true;
    }

    fn add_string(&mut self, s: &str) {
        s.chars().for_each(|c| self.add_char(c));
    }

    fn add_raw_string(&mut self, s: &str) {
        self.buf.push_str(s);
        self.in_word = true;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.buf.is_empty() {
            self.words.push(self.buf);
        }
        self.words
    }
}

const MISSING_BRACE: &str = "syntax error: missing '}'";

impl Scan<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    /// Processes up to `stop` (consumed) or the end of input.
    fn until(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), String> {
        let saved = self.raw_escapes;
        self.raw_escapes = raw_escapes;
        let out = self.until_inner(stop);
        self.raw_escapes = saved;
        out
    }

    fn until_inner(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(ch) = self.peek() {
            if Some(ch) == stop {
                self.pos += 1;
                return Ok((result, words.finish()));
            }
            match ch {
                '$' => {
                    let value = self.dollar()?;
                    result.push_str(&value);
                    words.add_string(&value);
                }
                '<' => {
                    let marker = self.possible_heredoc();
                    result.push_str(&marker);
                    words.add_raw_string(&marker);
                }
                '\'' if !self.lex.skip_quotes => {
                    let quoted = self.single_quote()?;
                    result.push_str(&quoted);
                    words.add_raw_string(&quoted);
                }
                '"' if !self.lex.skip_quotes => {
                    let quoted = self.double_quote()?;
                    result.push_str(&quoted);
                    words.add_raw_string(&quoted);
                }
                _ => {
                    self.pos += 1;
                    if ch == self.lex.escape {
                        if self.raw_escapes {
                            words.add_raw_char(ch);
                            result.push(ch);
                        }
                        let Some(escaped) = self.next() else { break };
                        words.add_raw_char(escaped);
                        result.push(escaped);
                    } else {
                        words.add_char(ch);
                        result.push(ch);
                    }
                }
            }
        }
        match stop {
            Some(c) => Err(format!(
                "unexpected end of statement while looking for matching {c}"
            )),
            None => Ok((result, words.finish())),
        }
    }

    fn single_quote(&mut self) -> Result<String, String> {
        let mut out = String::new();
        self.pos += 1;
        if self.lex.raw_quotes {
            out.push('\'');
        }
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    )
                }
                Some('\'') => {
                    if self.lex.raw_quotes {
                        out.push('\'');
                    }
                    return Ok(out);
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn double_quote(&mut self) -> Result<String, String> {
        let mut out = String::new();
        self.pos += 1;
        if self.lex.raw_quotes {
            out.push('"');
        }
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    )
                }
                Some('"') => {
                    self.pos += 1;
                    if self.lex.raw_quotes {
                        out.push('"');
                    }
                    return Ok(out);
                }
                Some('$') => {
                    let value = self.dollar()?;
                    out.push_str(&value);
                }
                Some(mut c) => {
                    self.pos += 1;
                    if c == self.lex.escape {
                        if self.raw_escapes {
                            out.push(c);
                        }
                        match self.peek() {
                            None => continue,
                            Some(n) if n == '"' || n == '$' || n == self.lex.escape => {
                                self.pos += 1;
                                c = n;
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(c);
                }
            }
        }
    }

    /// `<<` and the blanks after it stay one piece of a word, so that
    /// `<< EOF` is found as one heredoc marker.
    fn possible_heredoc(&mut self) -> String {
        self.pos += 1;
        if self.peek() != Some('<') {
            return "<".into();
        }
        self.pos += 1;
        let mut out = String::from("<<");
        while let Some(c @ (' ' | '\t' | '\r')) = self.peek() {
            out.push(c);
            self.pos += 1;
        }
        out
    }

    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    fn unset_as_written(&self, written: String) -> Option<String> {
        self.lex.skip_unset.then_some(written)
    }

    fn dollar(&mut self) -> Result<String, String> {
        self.pos += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(match self.get(&name) {
                Some(v) => v,
                None => self
                    .unset_as_written(format!("${name}"))
                    .unwrap_or_default(),
            });
        }
        self.pos += 1;
        match self.peek() {
            None => return Err(MISSING_BRACE.into()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".into()),
            Some(_) => {}
        }
        let name = self.name();
        let Some(ch) = self.next() else {
            return Err(MISSING_BRACE.into());
        };
        match ch {
            '}' => Ok(match self.get(&name) {
                Some(v) => v,
                None => self
                    .unset_as_written(format!("${{{name}}}"))
                    .unwrap_or_default(),
            }),
            ':' | '+' | '-' | '?' | '#' | '%' => self.operator(name, ch),
            '/' => self.substitute(name),
            other => Err(format!("unsupported modifier ({other}) in substitution")),
        }
    }

    /// `${name<op>word}` with `op` one of `:- - :+ + :? ? # ## % %%`.
    fn operator(&mut self, name: String, first: char) -> Result<String, String> {
        let (op, colon) = if first == ':' {
            (self.next().ok_or(MISSING_BRACE)?, true)
        } else {
            (first, false)
        };
        let written_op = if colon {
            format!(":{op}")
        } else {
            op.to_string()
        };
        let trims = op == '#' || op == '%';
        if !matches!(op, '+' | '-' | '?' | '#' | '%') || (colon && trims) {
            return Err(format!(
                "unsupported modifier ({written_op}) in substitution"
            ));
        }
        let word = self.until_brace(trims)?;
        let Some(value) = self.get(&name) else {
            if self.lex.skip_unset {
                return Ok(format!("${{{name}{written_op}{word}}}"));
            }
            return unset_operator(&name, op, word);
        };
        let null = colon && value.is_empty();
        match op {
            '-' => Ok(if null { word } else { value }),
            '+' => Ok(if null { String::new() } else { word }),
            '?' if null => Err(format!(
                "{name}: {}",
                if word.is_empty() {
                    "is not allowed to be empty"
                } else {
                    word.as_str()
                }
            )),
            '?' => Ok(value),
            _ => {
                let (greedy, pattern) = match word.strip_prefix(op) {
                    Some(rest) => (true, rest.to_string()),
                    None => (false, word),
                };
                let pattern = Pattern::parse(&pattern)
                    .map_err(|e| format!("invalid pattern ({pattern}) in substitution: {e}"))?;
                Ok(if op == '#' {
                    trim_prefix(&pattern, &value, greedy)
                } else {
                    trim_suffix(&pattern, &value, greedy)
                })
            }
        }
    }

    fn until_brace(&mut self, raw_escapes: bool) -> Result<String, String> {
        match self.until(Some('}'), raw_escapes) {
            Ok((word, _)) => Ok(word),
            Err(_) if self.peek().is_none() => Err(MISSING_BRACE.into()),
            Err(e) => Err(e),
        }
    }

    /// `${name/pattern/replacement}` and `${name//pattern/replacement}`.
    fn substitute(&mut self, name: String) -> Result<String, String> {
        let all = self.peek() == Some('/');
        if all {
            self.pos += 1;
        }
        let pattern = match self.until(Some('/'), true) {
            Ok((p, _)) => p,
            Err(_) if self.peek().is_none() => {
                return Err("syntax error: missing '/' in ${}".into())
            }
            Err(e) => return Err(e),
        };
        let replacement = self.until_brace(true)?;
        let Some(value) = self.get(&name) else {
            if self.lex.skip_unset {
                return Ok(format!("${{{name}/{pattern}/{replacement}}}"));
            }
            return Ok(String::new());
        };
        let compiled = Pattern::parse(&pattern)
            .map_err(|e| format!("invalid pattern ({pattern}) in substitution: {e}"))?;
        Ok(replace(&compiled, &value, &replacement, all))
    }

    /// A variable name: letters, digits and `_`; or all digits; or one
    /// special parameter character.
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if name.is_empty() && c.is_ascii_digit() {
                while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                    name.push(d);
                    self.pos += 1;
                }
                return name;
            }
            if name.is_empty() && matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.pos += 1;
                return c.to_string();
            }
            if !c.is_alphanumeric() && c != '_' {
                break;
            }
            name.push(c);
            self.pos += 1;
        }
        name
    }
}

/// The value of `${name<op>word}` when `name` is unset.
fn unset_operator(name: &str, op: char, word: String) -> Result<String, String> {
    match op {
        '-' => Ok(word),
        '?' => Err(format!(
            "{name}: {}",
            if word.is_empty() {
                "is not allowed to be unset"
            } else {
                word.as_str()
            }
        )),
        // `+`, and trimming an empty value.
        _ => Ok(String::new()),
    }
}
