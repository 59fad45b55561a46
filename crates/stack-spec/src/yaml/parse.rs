//! Event stream -> [`Node`] tree: anchors, aliases, `<<` merge keys and the
//! `!reset` / `!override` tags resolved here, positions kept.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::node::{Key, Mapping, Node, NodeTag, Scalar, ScalarKind, Value};
use crate::diag::{Diagnostic, SourceId, Sources, Span};

/// Upper bound on nodes after alias expansion: a few aliases can otherwise
/// expand to billions of nodes ("billion laughs").
const MAX_NODES: usize = 2_000_000;

/// Parses one file. Returns the first document's root (`None` for an empty
/// file) or every error found; a YAML syntax error stops the parse, other
/// errors (duplicate keys, bad merge keys) are all collected.
pub fn parse(sources: &Sources, id: SourceId) -> Result<Option<Node>, Vec<Diagnostic>> {
    let text = sources.text(id);
    let lines = LineIndex::new(text);
    let mut builder = Builder {
        sources,
        id,
        text,
        lines: &lines,
        stack: Vec::new(),
        anchors: HashMap::new(),
        documents: Vec::new(),
        errors: Vec::new(),
        nodes: 0,
        too_large: false,
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, false) {
        let span = builder.span_at(e.marker(), 1);
        let msg = format!("invalid YAML: {}", e.info());
        return Err(vec![sources.error(span, msg).with_label("here")]);
    }
    if builder.too_large {
        let span = Span {
            source: id,
            line: 1,
            column: 1,
            ..Span::default()
        };
        return Err(vec![sources.error(
            span,
            format!("document too large: more than {MAX_NODES} values after expanding aliases"),
        )]);
    }
    if !builder.errors.is_empty() {
        return Err(builder.errors);
    }
    Ok(builder.documents.into_iter().next())
}

/// Byte offsets of line starts, to turn (line, char column) into bytes.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// Byte offset of a 1-based line and 0-based char column.
    fn offset(&self, text: &str, line: usize, col: usize) -> usize {
        let start = self
            .starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(text.len())
            .min(text.len());
        let rest = &text[start..];
        let within: usize = rest.chars().take(col).map(char::len_utf8).sum();
        start + within
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        size: usize,
        span: Span,
        anchor: usize,
        tag: NodeTag,
    },
    Map {
        map: Mapping,
        size: usize,
        key: Option<Key>,
        merges: Vec<Node>,
        span: Span,
        anchor: usize,
        tag: NodeTag,
    },
}

struct Builder<'a> {
    sources: &'a Sources,
    id: SourceId,
    text: &'a str,
    lines: &'a LineIndex,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    documents: Vec<Node>,
    errors: Vec<Diagnostic>,
    nodes: usize,
    too_large: bool,
}

impl Builder<'_> {
    fn span_at(&self, mark: &Marker, len_hint: usize) -> Span {
        let offset = self.lines.offset(self.text, mark.line(), mark.col());
        let line_end = self.text[offset.min(self.text.len())..]
            .find('\n')
            .map(|i| offset + i)
            .unwrap_or(self.text.len());
        let len = len_hint.min(line_end.saturating_sub(offset));
        Span {
            source: self.id,
            offset: offset as u32,
            len: len as u32,
            line: mark.line() as u32,
            column: mark.col() as u32 + 1,
        }
    }

    fn tag_of(&mut self, tag: &Option<Tag>) -> NodeTag {
        match tag {
            Some(t) if t.handle == "!" && t.suffix == "reset" => NodeTag::Reset,
            Some(t) if t.handle == "!" && t.suffix == "override" => NodeTag::Override,
            _ => NodeTag::None,
        }
    }

    fn complete(&mut self, node: Node, anchor: usize, size: usize) {
        self.bump(1);
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq {
                items, size: total, ..
            }) => {
                *total += size;
                items.push(node)
            }
            Some(Frame::Map {
                map,
                key,
                merges,
                size: total,
                ..
            }) => {
                *total += size;
                let pending = key.take();
                match pending {
                    None => match node.as_scalar() {
                        Some(scalar) => {
                            *key = Some(Key {
                                name: scalar.text.clone(),
                                span: node.span,
                            })
                        }
                        _ => {
                            let found = node.kind_name();
                            let d = self.sources.error(
                                node.span,
                                format!("mapping keys must be strings, found {found}"),
                            );
                            self.errors.push(d);
                            *key = Some(Key {
                                name: String::new(),
                                span: node.span,
                            });
                        }
                    },
                    Some(k) if k.name == "<<" && node.tag == NodeTag::None => merges.push(node),
                    Some(k) => {
                        if map.get(&k.name).is_some() {
                            let d = self
                                .sources
                                .error(
                                    k.span,
                                    format!("key {:?} is defined twice in this mapping", k.name),
                                )
                                .with_label("duplicate key");
                            self.errors.push(d);
                        } else {
                            map.entries.push((k, node));
                        }
                    }
                }
            }
        }
    }

    fn scalar(
        &mut self,
        text: String,
        style: TScalarStyle,
        tag: &Option<Tag>,
        mark: &Marker,
    ) -> Node {
        let quoted = !matches!(style, TScalarStyle::Plain);
        let is_str_tag = matches!(tag, Some(t) if t.suffix == "str");
        let kind = if quoted || is_str_tag {
            ScalarKind::Str
        } else {
            resolve_plain(&text)
        };
        let len = text.len() + if quoted { 2 } else { 0 };
        let span = self.span_at(mark, len.max(1));
        let mut node = Node::new(Value::Scalar(Scalar { text, kind }), span);
        node.tag = self.tag_of(tag);
        node
    }

    /// Applies `<<` merge sources: explicit keys win, then earlier sources.
    fn apply_merges(&mut self, map: &mut Mapping, merges: Vec<Node>) {
        for source in merges {
            let parts: Vec<Node> = match source.value {
                Value::Map(_) => vec![source],
                Value::Seq(items) => items,
                _ => {
                    let d = self.sources.error(
                        source.span,
                        "a `<<` merge key needs a mapping or a list of mappings",
                    );
                    self.errors.push(d);
                    continue;
                }
            };
            for part in parts {
                match part.value {
                    Value::Map(m) => {
                        for (k, v) in m.entries {
                            if map.get(&k.name).is_none() {
                                map.entries.push((k, v));
                            }
                        }
                    }
                    _ => {
                        let d = self.sources.error(
                            part.span,
                            "a `<<` merge key needs a mapping or a list of mappings",
                        );
                        self.errors.push(d);
                    }
                }
            }
        }
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.too_large {
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let node = self.scalar(text, style, &tag, &mark);
                self.complete(node, anchor, 1);
            }
            Event::SequenceStart(anchor, tag) => {
                let tag = self.tag_of(&tag);
                let span = self.span_at(&mark, 1);
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    size: 1,
                    span,
                    anchor,
                    tag,
                });
            }
            Event::MappingStart(anchor, tag) => {
                let tag = self.tag_of(&tag);
                let span = self.span_at(&mark, 1);
                self.stack.push(Frame::Map {
                    map: Mapping::default(),
                    size: 1,
                    key: None,
                    merges: Vec::new(),
                    span,
                    anchor,
                    tag,
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq {
                    items,
                    size,
                    span,
                    anchor,
                    tag,
                }) = self.stack.pop()
                {
                    let mut node = Node::new(Value::Seq(items), span);
                    node.tag = tag;
                    self.complete(node, anchor, size);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    mut map,
                    size,
                    merges,
                    span,
                    anchor,
                    tag,
                    ..
                }) = self.stack.pop()
                {
                    self.apply_merges(&mut map, merges);
                    let mut node = Node::new(Value::Map(map), span);
                    node.tag = tag;
                    self.complete(node, anchor, size);
                }
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some((node, size)) => {
                    let (node, size) = (node.clone(), *size);
                    self.bump(size);
                    if !self.too_large {
                        self.complete(node, 0, size);
                    }
                }
                None => {
                    let span = self.span_at(&mark, 1);
                    self.errors.push(self.sources.error(span, "unknown alias"));
                }
            },
            _ => {}
        }
    }
}

impl Builder<'_> {
    fn bump(&mut self, n: usize) {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            self.too_large = true;
        }
    }
}

/// YAML 1.2 core schema resolution of a plain scalar (as Go's yaml.v3).
fn resolve_plain(text: &str) -> ScalarKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarKind::Null,
        "true" | "True" | "TRUE" => return ScalarKind::Bool(true),
        "false" | "False" | "FALSE" => return ScalarKind::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" => return ScalarKind::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return ScalarKind::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return ScalarKind::Float(f64::NAN),
        _ => {}
    }
    let bytes = text.as_bytes();
    let first = bytes[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return ScalarKind::Str;
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return ScalarKind::Int(i);
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return ScalarKind::Int(i);
        }
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return ScalarKind::Int(i);
        }
        return ScalarKind::Float(text.parse().unwrap_or(f64::NAN));
    }
    let float_like = digits
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|b| b.is_ascii_digit());
    if float_like {
        if let Ok(f) = text.parse::<f64>() {
            return ScalarKind::Float(f);
        }
    }
    ScalarKind::Str
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn load(text: &str) -> Result<Option<Node>, Vec<Diagnostic>> {
        let mut sources = Sources::default();
        let id = sources.add(Path::new("t.yaml"), text.into());
        parse(&sources, id)
    }

    #[test]
    fn scalars_resolve_like_yaml_1_2() {
        assert_eq!(resolve_plain("8080"), ScalarKind::Int(8080));
        assert_eq!(resolve_plain("0x1F"), ScalarKind::Int(31));
        assert_eq!(resolve_plain("1.5"), ScalarKind::Float(1.5));
        assert_eq!(resolve_plain("yes"), ScalarKind::Str);
        assert_eq!(resolve_plain("~"), ScalarKind::Null);
        assert_eq!(resolve_plain("True"), ScalarKind::Bool(true));
        assert_eq!(resolve_plain("1.2.3"), ScalarKind::Str);
        assert_eq!(resolve_plain("80:80"), ScalarKind::Str);
    }

    #[test]
    fn positions_are_one_based() {
        let root = load("a:\n  b: c\n").expect("valid").expect("document");
        let inner = root
            .as_map()
            .and_then(|m| m.get("a"))
            .and_then(Node::as_map)
            .expect("map");
        let c = inner.get("b").expect("b");
        assert_eq!((c.span.line, c.span.column), (2, 6));
        assert_eq!(
            inner.key_span("b").map(|s| (s.line, s.column)),
            Some((2, 3))
        );
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let root = load("x: &base {a: 1, b: 2}\ny:\n  <<: *base\n  b: 3\nz: *base\n")
            .expect("valid")
            .expect("document");
        let m = root.as_map().expect("map");
        let y = m.get("y").and_then(Node::as_map).expect("y");
        assert_eq!(y.get("a").and_then(Node::as_text), Some("1"));
        assert_eq!(y.get("b").and_then(Node::as_text), Some("3"));
        assert!(y.get("<<").is_none());
        assert_eq!(
            m.get("z").and_then(Node::as_map).map(|z| z.entries.len()),
            Some(2)
        );
    }

    #[test]
    fn merge_key_list_earlier_source_wins() {
        let root = load("a: &a {k: 1}\nb: &b {k: 2, j: 3}\nc:\n  <<: [*a, *b]\n")
            .expect("valid")
            .expect("document");
        let c = root
            .as_map()
            .and_then(|m| m.get("c"))
            .and_then(Node::as_map)
            .expect("c");
        assert_eq!(c.get("k").and_then(Node::as_text), Some("1"));
        assert_eq!(c.get("j").and_then(Node::as_text), Some("3"));
    }

    #[test]
    fn reset_and_override_tags_are_kept() {
        let root = load("a: !reset []\nb: !override {x: 1}\n")
            .expect("valid")
            .expect("document");
        let m = root.as_map().expect("map");
        assert_eq!(m.get("a").map(|n| n.tag), Some(NodeTag::Reset));
        assert_eq!(m.get("b").map(|n| n.tag), Some(NodeTag::Override));
    }

    #[test]
    fn duplicate_keys_are_all_reported() {
        let errors = load("a: 1\na: 2\nb: 1\nb: 2\n").expect_err("duplicates");
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].location.as_ref().map(|l| l.line), Some(2));
        assert_eq!(errors[1].location.as_ref().map(|l| l.line), Some(4));
    }

    #[test]
    fn syntax_error_has_a_position() {
        let errors = load("a: [1, 2\nb: 3\n").expect_err("syntax");
        assert!(
            errors[0].to_string().starts_with("t.yaml:"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let errors = load(&doc).expect_err("too large");
        assert!(errors[0].message.contains("too large"));
    }
}
