//! Kubernetes object names from stack names.
//!
//! Compose allows names Kubernetes refuses (`web_api`, `My.Service`,
//! `1worker`). Each name is turned into an RFC 1123 label the way Kompose
//! does it (lower-case; `_` and `.` become `-`), and a [`NameTable`] refuses
//! two stack names that land on the same Kubernetes name, because one object
//! would silently overwrite the other in the cluster.

use std::collections::BTreeMap;

use thiserror::Error;

/// The longest label Kubernetes accepts (RFC 1123 / RFC 1035).
pub const MAX_LABEL_LEN: usize = 63;

/// A stack name that cannot become a Kubernetes name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    #[error("{what} {raw:?} has no letter or digit to build a Kubernetes name from")]
    Empty { what: String, raw: String },
    #[error(
        "{what} {first:?} and {what} {second:?} both become the Kubernetes name {name:?}; \
         rename one of them"
    )]
    Collision {
        what: String,
        first: String,
        second: String,
        name: String,
    },
}

/// Turns `raw` into an RFC 1123 label: lower-case ASCII letters, digits and
/// `-`, starting and ending with a letter or digit, at most 63 bytes.
///
/// Runs of characters Kubernetes refuses collapse into one `-`, so
/// `a__b` gives `a-b`. `what` names the kind of thing in the error.
pub fn dns1123_label(what: &str, raw: &str) -> Result<String, NameError> {
    let mut out = String::with_capacity(raw.len());
    for ch in raw.chars() {
        let mapped = match ch {
            'a'..='z' | '0'..='9' => ch,
            'A'..='Z' => ch.to_ascii_lowercase(),
            _ => '-',
        };
        if mapped == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(mapped);
    }
    out.truncate(MAX_LABEL_LEN);
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        return Err(NameError::Empty {
            what: what.to_string(),
            raw: raw.to_string(),
        });
    }
    Ok(out)
}

/// Like [`dns1123_label`], but also starting with a letter (RFC 1035), as
/// Service names must. A leading digit gets an `s-` prefix.
pub fn dns1035_label(what: &str, raw: &str) -> Result<String, NameError> {
    let label = dns1123_label(what, raw)?;
    if label.starts_with(|c: char| c.is_ascii_digit()) {
        let mut prefixed = format!("s-{label}");
        prefixed.truncate(MAX_LABEL_LEN);
        while prefixed.ends_with('-') {
            prefixed.pop();
        }
        return Ok(prefixed);
    }
    Ok(label)
}

/// True when `name` is already a valid RFC 1123 label.
pub fn is_dns1123_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_LABEL_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// True when `name` is a valid RFC 1035 label (an RFC 1123 label that
/// starts with a letter).
pub fn is_dns1035_label(name: &str) -> bool {
    is_dns1123_label(name) && name.starts_with(|c: char| c.is_ascii_lowercase())
}

/// Kubernetes names handed out for one kind of stack object (services,
/// volumes, …), remembering which stack name took each one.
#[derive(Debug, Clone)]
pub struct NameTable {
    what: String,
    taken: BTreeMap<String, String>,
}

impl NameTable {
    /// An empty table for stack objects of kind `what` ("service", "volume").
    pub fn new(what: &str) -> Self {
        NameTable {
            what: what.to_string(),
            taken: BTreeMap::new(),
        }
    }

    /// Records the Kubernetes name `name` for stack name `raw`; refuses it
    /// if another stack name already has it. Recording the same pair twice
    /// is fine.
    pub fn claim(&mut self, raw: &str, name: String) -> Result<String, NameError> {
        match self.taken.get(&name) {
            Some(first) if first != raw => Err(NameError::Collision {
                what: self.what.clone(),
                first: first.clone(),
                second: raw.to_string(),
                name,
            }),
            _ => {
                self.taken.insert(name.clone(), raw.to_string());
                Ok(name)
            }
        }
    }

    /// Sanitizes `raw` as an RFC 1035 label and claims it.
    pub fn claim_dns1035(&mut self, raw: &str) -> Result<String, NameError> {
        let name = dns1035_label(&self.what, raw)?;
        self.claim(raw, name)
    }

    /// Sanitizes `raw` as an RFC 1123 label and claims it.
    pub fn claim_dns1123(&mut self, raw: &str) -> Result<String, NameError> {
        let name = dns1123_label(&self.what, raw)?;
        self.claim(raw, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kompose_style_replacements() {
        assert_eq!(
            dns1123_label("service", "web_api").expect("valid"),
            "web-api"
        );
        assert_eq!(
            dns1123_label("service", "My.Service").expect("valid"),
            "my-service"
        );
        assert_eq!(dns1123_label("service", "db").expect("valid"), "db");
    }

    #[test]
    fn runs_and_edges_collapse() {
        assert_eq!(dns1123_label("service", "__a__b__").expect("valid"), "a-b");
        assert_eq!(dns1123_label("service", "a-.-b").expect("valid"), "a-b");
    }

    #[test]
    fn long_names_are_cut_without_a_trailing_dash() {
        let raw = format!("{}_{}", "a".repeat(62), "b".repeat(10));
        let name = dns1123_label("service", &raw).expect("valid");
        assert_eq!(name, "a".repeat(62));
        assert!(is_dns1123_label(&name));
    }

    #[test]
    fn nothing_usable_is_an_error() {
        let err = dns1123_label("volume", "___").expect_err("must fail");
        assert!(err.to_string().contains("volume \"___\""), "{err}");
    }

    #[test]
    fn service_names_start_with_a_letter() {
        assert_eq!(
            dns1035_label("service", "1worker").expect("valid"),
            "s-1worker"
        );
        assert!(is_dns1035_label(
            &dns1035_label("service", "9").expect("valid")
        ));
        assert_eq!(dns1035_label("service", "worker").expect("valid"), "worker");
    }

    #[test]
    fn collisions_name_both_sides() {
        let mut table = NameTable::new("service");
        table.claim_dns1035("web_api").expect("valid");
        table.claim_dns1035("web_api").expect("valid");
        let err = table.claim_dns1035("web.api").expect_err("must fail");
        let text = err.to_string();
        assert!(
            text.contains("\"web_api\"") && text.contains("\"web.api\""),
            "{text}"
        );
        assert!(text.contains("\"web-api\""), "{text}");
    }

    #[test]
    fn validity_checks() {
        assert!(is_dns1123_label("a-1"));
        assert!(!is_dns1123_label("A"));
        assert!(!is_dns1123_label("-a"));
        assert!(!is_dns1123_label("a_b"));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        assert!(!is_dns1035_label("1a"));
    }
}
