//! How `yaml.v3` (the encoder behind `docker compose config`) writes a
//! string: plain when a reader would read it back as the same string,
//! quoted otherwise, and in which quotes. A port of its `stringv`,
//! `resolve`, `yaml_emitter_analyze_scalar` and
//! `yaml_emitter_select_scalar_style`, for block context (the printer never
//! writes a non-empty flow collection).

/// The four styles the encoder can pick for a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// The style of `s`; `simple_key` when it is a mapping key written inline.
pub fn style(s: &str, simple_key: bool) -> Style {
    let can_use_plain = resolves_to_string(s) && !is_base60_float(s) && !is_old_bool(s);
    let mut style = if s.contains('\n') {
        Style::Literal
    } else if can_use_plain {
        Style::Plain
    } else {
        Style::Double
    };
    let a = analyze(s);
    if simple_key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain && (!a.block_plain_allowed || (s.is_empty() && simple_key)) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single_quoted_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block_allowed || simple_key) {
        style = Style::Double;
    }
    style
}

/// Whether a key can be written inline (`key: value`) rather than after
/// `? `: not spread over lines and at most 128 bytes.
pub fn is_simple_key(s: &str) -> bool {
    !analyze(s).multiline && s.len() <= 128
}

pub fn is_space(c: char) -> bool {
    c == ' '
}

pub fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_blankz(c: Option<char>) -> bool {
    match c {
        None | Some('\0') => true,
        Some(c) => is_blank(c) || is_break(c),
    }
}

/// libyaml's printable set, as `yaml.v3` tests it on UTF-8 bytes: no
/// control characters, no surrogates, no BOM and nothing beyond U+FFFD.
pub fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = value.chars().collect();
    let mut block_indicators = value.starts_with("---") || value.starts_with("...");
    let (mut line_breaks, mut special, mut tabs) = (false, false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_whitespace = next.is_none_or(is_blank_or_break);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if c == '\t' {
            tabs = true;
        } else if !is_printable(c) {
            special = true;
        }
        let last = i + 1 == chars.len();
        if is_space(c) {
            leading_space |= i == 0;
            trailing_space |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(Some(c));
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || tabs || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

fn is_blank_or_break(c: char) -> bool {
    is_blank(c) || is_break(c)
}

/// `yaml.v3`'s `resolve` with no tag: whether `s`, written plain, reads
/// back as a string (and not as null, a bool, a number or a timestamp).
pub fn resolves_to_string(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false; // the empty plain scalar is null
    };
    const SPECIAL: &[&str] = &[
        "true", "True", "TRUE", "false", "False", "FALSE", "~", "null", "Null", "NULL", ".nan",
        ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf",
        "-.INF", "<<",
    ];
    match first {
        '+' | '-' | '0'..='9' => {
            if SPECIAL.contains(&s) {
                return false;
            }
            if is_timestamp(s) {
                return false;
            }
            let plain: String = s.chars().filter(|c| *c != '_').collect();
            !(parse_go_int(&plain) || is_yaml_float(&plain))
        }
        '.' => !(SPECIAL.contains(&s) || s.parse::<f64>().is_ok_and(f64::is_finite)),
        'y' | 'Y' | 'n' | 'N' | 't' | 'T' | 'f' | 'F' | 'o' | 'O' | '~' => !SPECIAL.contains(&s),
        _ => true,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` or `ParseUint(s, 0, 64)` succeeds.
fn parse_go_int(s: &str) -> bool {
    let (signed, body) = match s.as_bytes().first() {
        Some(b'+' | b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return false;
    }
    match u128::from_str_radix(digits, radix) {
        Ok(v) if signed && s.starts_with('-') => v <= 1u128 << 63,
        Ok(v) if signed => v < 1u128 << 63,
        Ok(v) => v <= u128::from(u64::MAX),
        Err(_) => false,
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, in range.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len() && s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$` (`80:80` is a
/// sexagesimal number to YAML 1.1 readers, so it is quoted).
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        match i - start {
            1 => {}
            2 if b[start] <= b'5' => {}
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// One of the timestamp layouts `yaml.v3` tries on plain scalars that start
/// with `YYYY-`: a date, a date and time with a `T` and a zone, or a date
/// and time with a space and no zone.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let mut i = 5;
    let num = |i: &mut usize| -> Option<u32> {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < 2 {
            *i += 1;
        }
        (*i > start).then(|| s[start..*i].parse().unwrap_or(0))
    };
    let year: u32 = s[..4].parse().unwrap_or(0);
    let Some(month) = num(&mut i) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    let Some(day) = num(&mut i) else { return false };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days {
        return false;
    }
    let Some(&sep) = b.get(i) else { return true };
    if !matches!(sep, b'T' | b't' | b' ') {
        return false;
    }
    i += 1;
    let mut clock = [0u32; 3];
    for (n, part) in clock.iter_mut().enumerate() {
        if n > 0 {
            if b.get(i) != Some(&b':') {
                return false;
            }
            i += 1;
        }
        match num(&mut i) {
            Some(v) => *part = v,
            None => return false,
        }
    }
    if clock[0] > 23 || clock[1] > 59 || clock[2] > 59 {
        return false;
    }
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if sep == b' ' {
        return i == b.len();
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            let zone = &b[i + 1..];
            zone.len() == 5
                && zone[2] == b':'
                && [0, 1, 3, 4].iter().all(|&k| zone[k].is_ascii_digit())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(s: &str) -> Style {
        style(s, false)
    }

    #[test]
    fn plain_when_it_reads_back_as_the_same_string() {
        for s in [
            "nginx", "a b", "/var/lib", "x:y", "--flag=1", "a#b", "é", "1.2.3",
        ] {
            assert_eq!(st(s), Style::Plain, "{s}");
        }
    }

    #[test]
    fn double_quoted_when_it_would_read_as_another_type() {
        for s in [
            "",
            "80",
            "0x1F",
            "1e3",
            "true",
            "null",
            "~",
            "yes",
            "off",
            "y",
            "1:30",
            "1.",
            "2024-01-31",
            ".5",
            "-1",
            "0777",
            "09",
        ] {
            assert_eq!(st(s), Style::Double, "{s}");
        }
        for s in [
            "2024-02-30",
            "1e400",
            "0x",
            "8080/tcp",
            "1.2.3",
            "1:60",
            "80:80",
            "NaN",
            "<<",
            "?x",
        ] {
            assert_eq!(st(s), Style::Plain, "{s}");
        }
    }

    #[test]
    fn single_quoted_when_plain_would_misread() {
        for s in [
            "*", "- a", ": x", "a: b", "a #b", " lead", "trail ", "{x}", "@x", "`x`",
        ] {
            assert_eq!(st(s), Style::Single, "{s:?}");
        }
        assert_eq!(style("", true), Style::Double);
    }

    #[test]
    fn literal_for_lines_unless_they_cannot_be_one() {
        assert_eq!(st("a\nb"), Style::Literal);
        assert_eq!(st("a \nb"), Style::Double);
        assert_eq!(st("a\tb"), Style::Double);
        assert_eq!(st("emoji 😀"), Style::Double);
        assert_eq!(style("a\nb", true), Style::Double);
    }
}
