//! `volume ls --filter`: Docker's `label=`, `name=` and `dangling=`
//! filters, from `KEY=VALUE` words or Docker's `{"key": ["value"]}` map.

use std::collections::BTreeMap;

use super::{VolumeError, VolumeInfo};

/// Which volumes a listing keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeFilter {
    /// Every one must match: `KEY` (present) or `KEY=VALUE`.
    pub labels: Vec<(String, Option<String>)>,
    /// Any one must be part of the name.
    pub names: Vec<String>,
    /// `true`: only volumes no container uses; `false`: only used ones.
    pub dangling: Option<bool>,
}

impl VolumeFilter {
    /// From `--filter KEY=VALUE` words.
    pub fn parse(words: &[String]) -> Result<VolumeFilter, VolumeError> {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for word in words {
            let (key, value) = word.split_once('=').ok_or_else(|| {
                VolumeError::Invalid(format!("--filter {word:?}: expected KEY=VALUE"))
            })?;
            map.entry(key.to_string())
                .or_default()
                .push(value.to_string());
        }
        VolumeFilter::from_map(&map)
    }

    /// From Docker's filter map (`{"label": ["a=b"], "dangling": ["true"]}`).
    pub fn from_map(map: &BTreeMap<String, Vec<String>>) -> Result<VolumeFilter, VolumeError> {
        let mut filter = VolumeFilter::default();
        for (key, values) in map {
            for value in values {
                match key.as_str() {
                    "label" => {
                        let (k, v) = match value.split_once('=') {
                            Some((k, v)) => (k, Some(v.to_string())),
                            None => (value.as_str(), None),
                        };
                        if k.is_empty() {
                            return Err(VolumeError::Invalid(format!(
                                "filter label={value:?}: expected KEY or KEY=VALUE"
                            )));
                        }
                        filter.labels.push((k.to_string(), v));
                    }
                    "name" => filter.names.push(value.clone()),
                    "dangling" => {
                        filter.dangling = Some(match value.as_str() {
                            "true" | "1" => true,
                            "false" | "0" => false,
                            other => {
                                return Err(VolumeError::Invalid(format!(
                                    "filter dangling={other:?}: expected true or false"
                                )))
                            }
                        })
                    }
                    other => {
                        return Err(VolumeError::Invalid(format!(
                            "unknown filter {other:?}: expected label, name or dangling"
                        )))
                    }
                }
            }
        }
        Ok(filter)
    }

    pub fn matches(&self, v: &VolumeInfo) -> bool {
        let labels_ok = self
            .labels
            .iter()
            .all(|(k, want)| match (v.labels.get(k), want) {
                (Some(_), None) => true,
                (Some(have), Some(want)) => have == want,
                (None, _) => false,
            });
        let name_ok = self.names.is_empty() || self.names.iter().any(|n| v.name.contains(n));
        let dangling_ok = self.dangling.is_none_or(|d| d == v.used_by.is_empty());
        labels_ok && name_ok && dangling_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vol(name: &str, labels: &[(&str, &str)], used: bool) -> VolumeInfo {
        VolumeInfo {
            name: name.into(),
            driver: "local".into(),
            mountpoint: Default::default(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            created_at: String::new(),
            project: None,
            used_by: if used { vec!["c".into()] } else { vec![] },
        }
    }

    #[test]
    fn label_name_and_dangling() {
        let f = VolumeFilter::parse(&["label=team=web".into(), "dangling=true".into()])
            .expect("filter");
        assert!(f.matches(&vol("a", &[("team", "web")], false)));
        assert!(!f.matches(&vol("a", &[("team", "web")], true)));
        assert!(!f.matches(&vol("a", &[("team", "db")], false)));
        let f = VolumeFilter::parse(&["label=team".into(), "name=dat".into()]).expect("filter");
        assert!(f.matches(&vol("mydata", &[("team", "x")], true)));
        assert!(!f.matches(&vol("other", &[("team", "x")], true)));
        assert!(VolumeFilter::parse(&["color=red".into()]).is_err());
        assert!(VolumeFilter::parse(&["dangling=maybe".into()]).is_err());
        assert!(VolumeFilter::parse(&["nothing".into()]).is_err());
    }
}
