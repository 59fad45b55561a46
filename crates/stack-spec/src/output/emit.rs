//! YAML exactly as `docker compose config` writes it: Go's `yaml.v3`
//! encoder with an indent of 2, which indents sequences under their key,
//! writes empty collections as `{}` and `[]`, never folds long lines and
//! picks each string's quoting by the rules in [`super::scalar`]. This
//! follows libyaml's emitter (column, "after whitespace" and "in
//! indentation" state) so that line breaks land where it puts them.

use super::node::{go_float, Node};
use super::scalar::{self, is_break, is_printable, is_space, Style};

/// The document as YAML, ending with a newline.
pub fn to_yaml(doc: &Node) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
    };
    e.node(doc, 0);
    e.write_indent(0);
    e.out
}

struct Emitter {
    out: String,
    column: usize,
    /// The last character written was whitespace.
    whitespace: bool,
    /// Only indentation (and `- `) has been written on this line.
    indention: bool,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
        self.indention = true;
    }

    fn write_indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
    }

    fn indicator(&mut self, text: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        for c in text.chars() {
            self.put(c);
        }
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    /// One node; `indent` is where its block content goes (its mapping's
    /// indent plus 2 for a value, the `-` column plus 2 for an item).
    fn node(&mut self, node: &Node, indent: usize) {
        match node {
            Node::Null => self.plain("null"),
            Node::Bool(b) => self.plain(if *b { "true" } else { "false" }),
            Node::Int(i) => self.plain(&i.to_string()),
            Node::UInt(u) => self.plain(&u.to_string()),
            Node::Float32(f) => self.plain(&go_float(f64::from(*f), &format!("{f:e}"))),
            Node::Float64(f) => self.plain(&go_float(*f, &format!("{f:e}"))),
            Node::Str(s) => self.string(s, false, indent),
            Node::Seq(items) if items.is_empty() => {
                self.indicator("[", true, true, false);
                self.indicator("]", false, false, false);
            }
            Node::Map(entries) if entries.is_empty() => {
                self.indicator("{", true, true, false);
                self.indicator("}", false, false, false);
            }
            Node::Seq(items) => {
                for item in items {
                    self.write_indent(indent);
                    self.indicator("-", true, false, true);
                    self.node(item, indent + 2);
                }
            }
            Node::Map(entries) => {
                for (key, value) in entries {
                    self.write_indent(indent);
                    if scalar::is_simple_key(key) {
                        self.string(key, true, indent + 2);
                        self.indicator(":", false, false, false);
                    } else {
                        self.indicator("?", true, false, true);
                        self.string(key, false, indent + 2);
                        self.write_indent(indent);
                        self.indicator(":", true, false, true);
                    }
                    self.node(value, indent + 2);
                }
            }
        }
    }

    fn plain(&mut self, text: &str) {
        if !text.is_empty() && !self.whitespace {
            self.put(' ');
        }
        for c in text.chars() {
            self.put(c);
        }
        if !text.is_empty() {
            self.whitespace = false;
        }
        self.indention = false;
    }

    fn string(&mut self, s: &str, simple_key: bool, indent: usize) {
        match scalar::style(s, simple_key) {
            Style::Plain => self.plain(s),
            Style::Single => self.single_quoted(s, indent),
            Style::Double => self.double_quoted(s),
            Style::Literal => self.literal(s, indent),
        }
    }

    /// A break inside a scalar, written as is (`\n` through `put_break`).
    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
            self.indention = true;
        }
    }

    fn single_quoted(&mut self, s: &str, indent: usize) {
        self.indicator("'", true, false, false);
        let mut breaks = false;
        for c in s.chars() {
            if is_space(c) {
                self.put(c);
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
        self.indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn double_quoted(&mut self, s: &str) {
        self.indicator("\"", true, false, false);
        let bom = s.starts_with('\u{feff}');
        for c in s.chars() {
            if !is_printable(c) || bom || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                let escape = match c {
                    '\0' => Some('0'),
                    '\u{7}' => Some('a'),
                    '\u{8}' => Some('b'),
                    '\t' => Some('t'),
                    '\n' => Some('n'),
                    '\u{b}' => Some('v'),
                    '\u{c}' => Some('f'),
                    '\r' => Some('r'),
                    '\u{1b}' => Some('e'),
                    '"' => Some('"'),
                    '\\' => Some('\\'),
                    '\u{85}' => Some('N'),
                    '\u{a0}' => Some('_'),
                    '\u{2028}' => Some('L'),
                    '\u{2029}' => Some('P'),
                    _ => None,
                };
                match escape {
                    Some(e) => self.put(e),
                    None => {
                        let v = c as u32;
                        let (letter, width) = match v {
                            0..=0xFF => ('x', 2),
                            0x100..=0xFFFF => ('u', 4),
                            _ => ('U', 8),
                        };
                        self.put(letter);
                        for ch in format!("{v:0width$X}").chars() {
                            self.put(ch);
                        }
                    }
                }
            } else {
                self.put(c);
            }
        }
        self.indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.indicator("|", true, false, false);
        let first = s.chars().next();
        if first.is_some_and(|c| is_space(c) || is_break(c)) {
            self.indicator("2", false, false, false);
        }
        let mut rev = s.chars().rev();
        let chomp = match (rev.next(), rev.next()) {
            (Some(last), _) if !is_break(last) => Some("-"),
            (Some(_), None) => Some("+"),
            (Some(_), Some(before)) if is_break(before) => Some("+"),
            (None, _) => Some("-"),
            _ => None,
        };
        if let Some(chomp) = chomp {
            self.indicator(chomp, false, false, false);
        }
        self.put_break();
        self.whitespace = true;
        let mut breaks = true;
        for c in s.chars() {
            if is_break(c) {
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: Vec<(&str, Node)>) -> Node {
        Node::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    #[test]
    fn writes_blocks_like_yaml_v3() {
        let doc = map(vec![
            ("name", Node::str("demo")),
            (
                "services",
                map(vec![(
                    "web",
                    map(vec![
                        ("command", Node::strs(["a", "1:30"])),
                        ("networks", map(vec![("default", Node::Null)])),
                        ("volume", map(vec![])),
                        (
                            "items",
                            Node::Seq(vec![
                                map(vec![("a", Node::Int(1)), ("b", Node::Bool(true))]),
                                Node::Seq(vec![Node::str("x"), Node::str("y")]),
                            ]),
                        ),
                        ("text", Node::str("line 1\nline 2\n")),
                        ("cpus", Node::Float32(0.5)),
                    ]),
                )]),
            ),
        ]);
        let expected = "name: demo
services:
  web:
    command:
      - a
      - \"1:30\"
    networks:
      default: null
    volume: {}
    items:
      - a: 1
        b: true
      - - x
        - \"y\"
    text: |
      line 1
      line 2
    cpus: 0.5
";
        assert_eq!(to_yaml(&doc), expected);
    }

    #[test]
    fn literal_chomping_and_quotes() {
        let doc = map(vec![
            ("a", Node::str("x\ny")),
            ("b", Node::str("x\n\n")),
            ("c", Node::str(" x\ny")),
            ("d", Node::str("it's: \"q\"")),
            ("e", Node::str("tab\there")),
        ]);
        let expected = "a: |-
  x
  y
b: |+
  x

c: |2-
   x
  y
d: 'it''s: \"q\"'
e: \"tab\\there\"
";
        assert_eq!(to_yaml(&doc), expected);
    }
}
