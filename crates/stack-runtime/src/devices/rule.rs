//! One device cgroup rule, in the text form cgroup v1, Docker's
//! `--device-cgroup-rule` and Compose's `device_cgroup_rules` share:
//! `TYPE MAJOR:MINOR ACCESS`, e.g. `c 1:3 rwm`, `b 7:* r`, `a *:* m`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Character, block, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    All,
    Char,
    Block,
}

impl DeviceKind {
    fn letter(self) -> char {
        match self {
            DeviceKind::All => 'a',
            DeviceKind::Char => 'c',
            DeviceKind::Block => 'b',
        }
    }
}

/// Why an access set (`rwm`) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("unknown access {0:?}")]
    Unknown(char),
    #[error("{0:?} given twice")]
    Twice(char),
    #[error("no access given")]
    Empty,
}

/// Why a device rule's text was refused; each names the rule as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("device rule {rule:?}: expected TYPE MAJOR:MINOR ACCESS, e.g. \"c 1:3 rwm\"")]
    Shape { rule: String },
    #[error("device rule {rule:?}: type {kind:?} is not a, b or c")]
    Kind { rule: String, kind: String },
    #[error("device rule {rule:?}: expected MAJOR:MINOR")]
    Numbers { rule: String },
    #[error("device rule {rule:?}: {number:?} is not a device number or *")]
    Number { rule: String, number: String },
    #[error("device rule {rule:?}: {source}")]
    Access {
        rule: String,
        #[source]
        source: AccessError,
    },
}

/// Read, write and mknod, as a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Access {
    pub read: bool,
    pub write: bool,
    pub mknod: bool,
}

impl Access {
    pub const ALL: Access = Access {
        read: true,
        write: true,
        mknod: true,
    };

    /// A non-empty combination of `r`, `w` and `m`, each at most once.
    pub fn parse(text: &str) -> Result<Access, AccessError> {
        let mut access = Access {
            read: false,
            write: false,
            mknod: false,
        };
        for c in text.chars() {
            let slot = match c {
                'r' => &mut access.read,
                'w' => &mut access.write,
                'm' => &mut access.mknod,
                other => return Err(AccessError::Unknown(other)),
            };
            if *slot {
                return Err(AccessError::Twice(c));
            }
            *slot = true;
        }
        if text.is_empty() {
            return Err(AccessError::Empty);
        }
        Ok(access)
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (set, c) in [(self.read, 'r'), (self.write, 'w'), (self.mknod, 'm')] {
            if set {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

impl From<Access> for String {
    fn from(a: Access) -> String {
        a.to_string()
    }
}

impl TryFrom<String> for Access {
    type Error = AccessError;
    fn try_from(s: String) -> Result<Access, AccessError> {
        Access::parse(&s)
    }
}

/// An allow or deny rule; `None` for a major or minor means any (`*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct DeviceRule {
    pub allow: bool,
    pub kind: DeviceKind,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: Access,
}

impl DeviceRule {
    /// Whether a request of `access` to the device `kind major:minor`
    /// matches this rule (the semantics of both the v1 controller and the
    /// BPF program, tested against each other).
    pub fn matches(&self, kind: DeviceKind, major: u32, minor: u32, access: Access) -> bool {
        (self.kind == DeviceKind::All || self.kind == kind)
            && self.major.is_none_or(|m| m == major)
            && self.minor.is_none_or(|m| m == minor)
            && (!access.read || self.access.read)
            && (!access.write || self.access.write)
            && (!access.mknod || self.access.mknod)
    }
}

/// A major or minor number of the rule `rule`, `None` for `*`.
fn number(rule: &str, text: &str) -> Result<Option<u32>, RuleError> {
    if text == "*" {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| RuleError::Number {
        rule: rule.to_string(),
        number: text.to_string(),
    })
}

impl FromStr for DeviceRule {
    type Err = RuleError;

    /// Always an allow rule: that is what the text form means in Docker's
    /// and Compose's options.
    fn from_str(text: &str) -> Result<DeviceRule, RuleError> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [kind, numbers, access] = fields.as_slice() else {
            return Err(RuleError::Shape {
                rule: text.to_string(),
            });
        };
        let kind = match *kind {
            "a" => DeviceKind::All,
            "c" => DeviceKind::Char,
            "b" => DeviceKind::Block,
            other => {
                return Err(RuleError::Kind {
                    rule: text.to_string(),
                    kind: other.to_string(),
                })
            }
        };
        let (major, minor) = numbers.split_once(':').ok_or_else(|| RuleError::Numbers {
            rule: text.to_string(),
        })?;
        Ok(DeviceRule {
            allow: true,
            kind,
            major: number(text, major)?,
            minor: number(text, minor)?,
            access: Access::parse(access).map_err(|source| RuleError::Access {
                rule: text.to_string(),
                source,
            })?,
        })
    }
}

impl fmt::Display for DeviceRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = |v: Option<u32>| v.map_or_else(|| "*".to_string(), |v| v.to_string());
        write!(
            f,
            "{} {}:{} {}",
            self.kind.letter(),
            n(self.major),
            n(self.minor),
            self.access
        )
    }
}

impl From<DeviceRule> for String {
    fn from(r: DeviceRule) -> String {
        r.to_string()
    }
}

impl TryFrom<String> for DeviceRule {
    type Error = RuleError;
    fn try_from(s: String) -> Result<DeviceRule, RuleError> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for text in ["c 1:3 rwm", "b 7:* r", "a *:* m", "c *:5 wm"] {
            let rule: DeviceRule = text.parse().expect(text);
            assert_eq!(rule.to_string(), text);
        }
        for bad in [
            "", "c 1:3", "x 1:3 r", "c 1-3 r", "c a:3 r", "c 1:3 rx", "c 1:3 rr",
        ] {
            let err = bad.parse::<DeviceRule>().expect_err(bad).to_string();
            assert!(err.contains("device rule"), "{err}");
        }
    }

    #[test]
    fn matching_needs_kind_numbers_and_every_access_asked() {
        let rule: DeviceRule = "c 1:* rw".parse().expect("rule");
        let rw = Access::parse("rw").expect("rw");
        let r = Access::parse("r").expect("r");
        let m = Access::parse("m").expect("m");
        assert!(rule.matches(DeviceKind::Char, 1, 9, rw));
        assert!(rule.matches(DeviceKind::Char, 1, 9, r));
        assert!(!rule.matches(DeviceKind::Char, 1, 9, m));
        assert!(!rule.matches(DeviceKind::Block, 1, 9, r));
        assert!(!rule.matches(DeviceKind::Char, 2, 9, r));
    }
}
