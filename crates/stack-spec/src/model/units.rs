//! Durations (`1m30s`) and byte sizes (`512m`) as Compose writes them.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration, printed the way Go prints one (`1m30s`, `500ms`, `0s`) so the
/// normal form matches `docker compose config`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub std::time::Duration);

/// A size in bytes, printed as a quoted decimal number as Compose does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(pub u64);

/// A duration that is not Go duration syntax; each names the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration")]
    Empty,
    #[error("invalid duration {0:?}: expected a number")]
    NoNumber(String),
    #[error("invalid duration {0:?}: bad number")]
    BadNumber(String),
    #[error("invalid duration {0:?}: missing unit (e.g. 10s)")]
    NoUnit(String),
    #[error("invalid duration {text:?}: unknown unit {unit:?}")]
    Unit { text: String, unit: String },
    #[error("invalid duration {0:?}: too large")]
    TooLarge(String),
}

/// A byte size that is not a number with a known unit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ByteSizeError {
    #[error("invalid byte size {0:?}: expected e.g. 512m")]
    Number(String),
    #[error("invalid byte size {text:?}: unknown unit {unit:?}")]
    Unit { text: String, unit: String },
    #[error("invalid byte size {0:?}: too large")]
    TooLarge(String),
}

impl Duration {
    /// Parses Go duration syntax: a sequence of decimal numbers with a unit
    /// (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), e.g. `1h2m3.5s`; `0` alone is zero.
    pub fn parse(text: &str) -> Result<Duration, DurationError> {
        let t = text.trim();
        if t == "0" {
            return Ok(Duration(std::time::Duration::ZERO));
        }
        if t.is_empty() {
            return Err(DurationError::Empty);
        }
        let mut rest = t;
        let mut nanos: f64 = 0.0;
        while !rest.is_empty() {
            let num_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            if num_len == 0 {
                return Err(DurationError::NoNumber(t.to_string()));
            }
            let number: f64 = rest[..num_len]
                .parse()
                .map_err(|_| DurationError::BadNumber(t.to_string()))?;
            rest = &rest[num_len..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let scale = match &rest[..unit_len] {
                "ns" => 1.0,
                "us" | "µs" | "μs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                "" => return Err(DurationError::NoUnit(t.to_string())),
                u => {
                    return Err(DurationError::Unit {
                        text: t.to_string(),
                        unit: u.to_string(),
                    })
                }
            };
            rest = &rest[unit_len..];
            nanos += number * scale;
        }
        if !nanos.is_finite() || nanos > u64::MAX as f64 {
            return Err(DurationError::TooLarge(t.to_string()));
        }
        Ok(Duration(std::time::Duration::from_nanos(
            nanos.round() as u64
        )))
    }
}

impl fmt::Display for Duration {
    /// Go's `time.Duration.String`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.0.as_nanos();
        if total == 0 {
            return f.write_str("0s");
        }
        if total < 1_000 {
            return write!(f, "{total}ns");
        }
        if total < 1_000_000 {
            return write!(f, "{}µs", trim_fraction(total, 1_000));
        }
        if total < 1_000_000_000 {
            return write!(f, "{}ms", trim_fraction(total, 1_000_000));
        }
        let hours = total / 3_600_000_000_000;
        let minutes = (total / 60_000_000_000) % 60;
        let sec_nanos = total % 60_000_000_000;
        if hours > 0 {
            write!(f, "{hours}h{minutes}m")?;
        } else if minutes > 0 {
            write!(f, "{minutes}m")?;
        }
        write!(f, "{}s", trim_fraction(sec_nanos, 1_000_000_000))
    }
}

/// `value / unit` with up to 9 decimals, trailing zeros removed.
fn trim_fraction(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let frac = value % unit;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = unit.ilog10() as usize;
    let frac = format!("{frac:0digits$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

impl ByteSize {
    /// Parses `512`, `512b`, `64k`, `1.5g`, `100MB`, `2GiB` (powers of 1024).
    pub fn parse(text: &str) -> Result<ByteSize, ByteSizeError> {
        let t = text.trim().to_ascii_lowercase();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let number: f64 = number
            .parse()
            .map_err(|_| ByteSizeError::Number(text.to_string()))?;
        let scale: u64 = match unit.trim() {
            "" | "b" => 1,
            "k" | "kb" | "kib" => 1 << 10,
            "m" | "mb" | "mib" => 1 << 20,
            "g" | "gb" | "gib" => 1 << 30,
            "t" | "tb" | "tib" => 1 << 40,
            "p" | "pb" | "pib" => 1 << 50,
            u => {
                return Err(ByteSizeError::Unit {
                    text: text.to_string(),
                    unit: u.to_string(),
                })
            }
        };
        let bytes = number * scale as f64;
        if !bytes.is_finite() || bytes > u64::MAX as f64 {
            return Err(ByteSizeError::TooLarge(text.to_string()));
        }
        Ok(ByteSize(bytes as u64))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Duration::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ByteSize::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dur(t: &str) -> String {
        Duration::parse(t).expect("valid duration").to_string()
    }

    #[test]
    fn durations_parse_and_print_like_go() {
        assert_eq!(dur("1m30s"), "1m30s");
        assert_eq!(dur("90s"), "1m30s");
        assert_eq!(dur("10s"), "10s");
        assert_eq!(dur("1h"), "1h0m0s");
        assert_eq!(dur("500ms"), "500ms");
        assert_eq!(dur("1.5s"), "1.5s");
        assert_eq!(dur("0"), "0s");
        assert_eq!(dur("2us"), "2µs");
    }

    #[test]
    fn bad_durations_are_refused() {
        assert!(Duration::parse("10").is_err());
        assert!(Duration::parse("ten seconds").is_err());
        assert!(Duration::parse("5x").is_err());
        assert!(Duration::parse("").is_err());
    }

    #[test]
    fn byte_sizes_use_powers_of_1024() {
        assert_eq!(ByteSize::parse("512m"), Ok(ByteSize(512 << 20)));
        assert_eq!(ByteSize::parse("1g"), Ok(ByteSize(1 << 30)));
        assert_eq!(ByteSize::parse("64KB"), Ok(ByteSize(64 << 10)));
        assert_eq!(ByteSize::parse("100"), Ok(ByteSize(100)));
        assert_eq!(ByteSize::parse("1.5k"), Ok(ByteSize(1536)));
        assert!(ByteSize::parse("12q").is_err());
        assert!(ByteSize::parse("m").is_err());
    }
}
