//! What could not be translated.
//!
//! Kompose and `docker stack deploy` drop some keys without a word; users
//! then find out in production. Every key the mapping cannot carry over is
//! recorded here with where it was and why, printed by the CLI, and turned
//! into an error by `--strict`.

use std::fmt;

/// One stack-file key that has no (or only a partial) Kubernetes meaning.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    /// Where the key is, as a dotted path: `services.web.network_mode`.
    pub path: String,
    /// Why it was not translated, and what stands in for it if anything.
    pub reason: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// The warnings of one render, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warnings(Vec<Warning>);

impl Warnings {
    /// Records that the key at `path` was not (fully) translated.
    pub fn push(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.0.push(Warning {
            path: path.into(),
            reason: reason.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Warning> {
        self.0.iter()
    }

    /// The warnings sorted by path, so output does not depend on map order.
    pub fn into_sorted(mut self) -> Vec<Warning> {
        self.0.sort();
        self.0.dedup();
        self.0
    }
}

impl fmt::Display for Warnings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for warning in &self.0 {
            writeln!(f, "  {warning}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_deduplicated() {
        let mut warnings = Warnings::default();
        warnings.push("services.web.pid", "no pod equivalent");
        warnings.push("services.api.links", "not needed");
        warnings.push("services.web.pid", "no pod equivalent");
        let sorted = warnings.into_sorted();
        assert_eq!(sorted.len(), 2);
        assert_eq!(sorted[0].path, "services.api.links");
    }

    #[test]
    fn display_names_path_and_reason() {
        let mut warnings = Warnings::default();
        warnings.push("services.web.pid", "no pod equivalent");
        assert_eq!(
            warnings.to_string(),
            "  services.web.pid: no pod equivalent\n"
        );
    }
}
