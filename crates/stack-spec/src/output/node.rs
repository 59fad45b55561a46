//! The document `stack config` prints, before it is written out: an ordered
//! tree whose maps keep the order Compose gives them (its struct field
//! order, or its map key order for maps), and whose numbers keep the width
//! Compose prints them with.

use std::cmp::Ordering;

/// Which of Compose's two printers a document is shaped for. They differ
/// where Go's `json` and `yaml` tags differ (`omitempty` on a struct field
/// means nothing to `encoding/json`, `command` has no `omitempty` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Yaml,
    Json,
}

/// One value of the printed document.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    /// A Go `float32` (`cpus`): printed with the shortest digits that read
    /// back as the same `float32`.
    Float32(f32),
    Float64(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in print order.
    Map(Vec<(String, Node)>),
}

impl Node {
    pub fn str(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }

    /// A list of strings.
    pub fn strs<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Node {
        Node::Seq(items.into_iter().map(|s| Node::str(s.as_ref())).collect())
    }

    /// A Go map: entries sorted the way `yaml.v3` sorts map keys.
    pub fn sorted_map(entries: impl IntoIterator<Item = (String, Node)>) -> Node {
        let mut entries: Vec<(String, Node)> = entries.into_iter().collect();
        entries.sort_by(|a, b| key_order(&a.0, &b.0));
        Node::Map(entries)
    }

    /// A map of strings to strings, sorted.
    pub fn string_map<'a>(entries: impl IntoIterator<Item = (&'a String, &'a String)>) -> Node {
        Node::sorted_map(entries.into_iter().map(|(k, v)| (k.clone(), Node::str(v))))
    }

    /// A value kept as written (extensions, keys stack does not model).
    pub fn from_json(value: &serde_json::Value) -> Node {
        use serde_json::Value as J;
        match value {
            J::Null => Node::Null,
            J::Bool(b) => Node::Bool(*b),
            J::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Node::Int(i),
                _ => match (n.as_u64(), n.as_f64()) {
                    (Some(u), _) => Node::UInt(u),
                    (None, Some(f)) => Node::Float64(f),
                    (None, None) => Node::str(n.to_string()),
                },
            },
            J::String(s) => Node::str(s),
            J::Array(items) => Node::Seq(items.iter().map(Node::from_json).collect()),
            J::Object(map) => {
                Node::sorted_map(map.iter().map(|(k, v)| (k.clone(), Node::from_json(v))))
            }
        }
    }

    /// The same document as JSON data (maps sorted by key).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Node::Null => J::Null,
            Node::Bool(b) => J::Bool(*b),
            Node::Int(i) => J::from(*i),
            Node::UInt(u) => J::from(*u),
            // Through its shortest text, so 0.1f32 is 0.1 and not 0.100000001.
            Node::Float32(f) => float_json(f.to_string().parse().unwrap_or(f64::NAN)),
            Node::Float64(f) => float_json(*f),
            Node::Str(s) => J::String(s.clone()),
            Node::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Node::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    pub fn is_empty_map(&self) -> bool {
        matches!(self, Node::Map(e) if e.is_empty())
    }
}

fn float_json(f: f64) -> serde_json::Value {
    serde_json::Number::from_f64(f)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

/// A Go struct being printed: fields in declaration order, empty ones left
/// out as `omitempty` does.
#[derive(Debug, Default)]
pub struct Obj(Vec<(String, Node)>);

impl Obj {
    pub fn new() -> Obj {
        Obj::default()
    }

    /// Always printed.
    pub fn put(&mut self, key: &str, value: Node) -> &mut Obj {
        self.0.push((key.to_string(), value));
        self
    }

    pub fn opt(&mut self, key: &str, value: Option<Node>) -> &mut Obj {
        if let Some(v) = value {
            self.put(key, v);
        }
        self
    }

    /// A string field: left out when absent or empty.
    pub fn string(&mut self, key: &str, value: Option<&str>) -> &mut Obj {
        match value {
            Some(s) if !s.is_empty() => self.put(key, Node::str(s)),
            _ => self,
        }
    }

    pub fn flag(&mut self, key: &str, value: bool) -> &mut Obj {
        if value {
            self.put(key, Node::Bool(true));
        }
        self
    }

    /// A list field: left out when empty.
    pub fn strings<S: AsRef<str>>(&mut self, key: &str, items: &[S]) -> &mut Obj {
        if !items.is_empty() {
            self.put(key, Node::strs(items));
        }
        self
    }

    /// A map or list field: left out when empty.
    pub fn nonempty(&mut self, key: &str, value: Node) -> &mut Obj {
        let empty = match &value {
            Node::Map(e) => e.is_empty(),
            Node::Seq(e) => e.is_empty(),
            _ => false,
        };
        if !empty {
            self.put(key, value);
        }
        self
    }

    /// `x-*` keys of a nested object, after the fields, sorted like a Go
    /// map. Compose's JSON leaves them out (`json:"-"`).
    pub fn extensions<'a>(
        &mut self,
        flavor: Flavor,
        extensions: impl IntoIterator<Item = (&'a String, &'a serde_json::Value)>,
    ) -> &mut Obj {
        if flavor == Flavor::Json {
            return self;
        }
        self.top_extensions(extensions)
    }

    /// The project's `x-*` keys, which both printers include.
    pub fn top_extensions<'a>(
        &mut self,
        extensions: impl IntoIterator<Item = (&'a String, &'a serde_json::Value)>,
    ) -> &mut Obj {
        let mut x: Vec<(String, Node)> = extensions
            .into_iter()
            .filter(|(k, _)| k.starts_with("x-"))
            .map(|(k, v)| (k.clone(), Node::from_json(v)))
            .collect();
        x.sort_by(|a, b| key_order(&a.0, &b.0));
        self.0.extend(x);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn node(self) -> Node {
        Node::Map(self.0)
    }
}

/// The order `yaml.v3` gives map keys (its `keyList.Less`): letters compare
/// as characters, runs of digits compare as numbers, and a letter sorts
/// after a non-letter unless both follow a digit.
pub fn key_order(a: &str, b: &str) -> Ordering {
    if less(a, b) {
        Ordering::Less
    } else if less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut digits = false;
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            digits = is_go_digit(ar[i]);
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return if digits { al } else { bl };
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && is_go_digit(ar[j - 1]) {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && is_go_digit(ar[ai]) {
            an = an.wrapping_mul(10).wrapping_add(digit_value(ar[ai]));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && is_go_digit(br[bi]) {
            bn = bn.wrapping_mul(10).wrapping_add(digit_value(br[bi]));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

/// Go's `unicode.IsDigit`, for the ASCII digits map keys are made of
/// (digits of other scripts sort as other characters here).
fn is_go_digit(c: char) -> bool {
    c.is_ascii_digit()
}

fn digit_value(c: char) -> i64 {
    i64::from(c.to_digit(10).unwrap_or(0))
}

/// Go's `strconv.FormatFloat(f, 'g', -1, bits)`, from `shortest`: the
/// number's shortest round-tripping digits in Rust's `{:e}` form.
pub fn go_float(f: f64, shortest: &str) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    // Rust's `{:e}` is the shortest round-tripping form: `1.5e-7`, `-2e0`.
    let (neg, body) = match shortest.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, shortest),
    };
    let (mantissa, exp) = body.split_once('e').unwrap_or((body, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let digits = if digits.trim_start_matches('0').is_empty() {
        "0".to_string()
    } else {
        digits
    };
    let nd = digits.len() as i32;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    // Go uses %e when the exponent is below -4 or at least 6 (the
    // precision it assumes for the shortest form).
    let eprec = 6;
    if exp < -4 || exp >= eprec {
        out.push_str(&digits[..1]);
        if nd > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
        return out;
    }
    let dp = exp + 1; // digits before the decimal point
    if dp <= 0 {
        out.push_str("0.");
        for _ in 0..(-dp) {
            out.push('0');
        }
        out.push_str(&digits);
    } else if dp >= nd {
        out.push_str(&digits);
        for _ in 0..(dp - nd) {
            out.push('0');
        }
    } else {
        out.push_str(&digits[..dp as usize]);
        out.push('.');
        out.push_str(&digits[dp as usize..]);
    }
    out
}

pub use crate::paths::clean_path;

#[cfg(test)]
mod tests {
    use super::*;

    fn g64(f: f64) -> String {
        go_float(f, &format!("{f:e}"))
    }

    #[test]
    fn keys_sort_like_yaml_v3() {
        let mut keys = vec!["b", "a10", "a9", "A", "_x", "a", "x-1"];
        keys.sort_by(|a, b| key_order(a, b));
        assert_eq!(keys, ["_x", "A", "a", "a9", "a10", "b", "x-1"]);
    }

    #[test]
    fn floats_print_like_go() {
        assert_eq!(g64(0.5), "0.5");
        assert_eq!(g64(2.0), "2");
        assert_eq!(g64(1e6), "1e+06");
        assert_eq!(g64(123456.0), "123456");
        assert_eq!(g64(0.0001), "0.0001");
        assert_eq!(g64(0.00001), "1e-05");
        assert_eq!(g64(1.5e300), "1.5e+300");
        assert_eq!(g64(-0.25), "-0.25");
        assert_eq!(g64(0.0), "0");
        let f = 0.1f32;
        assert_eq!(go_float(f64::from(f), &format!("{f:e}")), "0.1");
    }

    #[test]
    fn paths_clean_like_go() {
        assert_eq!(clean_path("/a//b/./c/"), "/a/b/c");
        assert_eq!(clean_path("/a/../../b"), "/b");
        assert_eq!(clean_path("a/../.."), "..");
        assert_eq!(clean_path("/"), "/");
        assert_eq!(clean_path("C:\\x"), "C:\\x");
    }
}
