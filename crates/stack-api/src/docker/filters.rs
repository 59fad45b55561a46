//! Docker's `filters` query parameter. Clients send it in two encodings:
//! the map form `{"label": {"k=v": true}}` (the docker CLI) and the older
//! list form `{"label": ["k=v"]}` (docker-compose v1, the Python SDK).
//! Both become one map of lists.

use std::collections::BTreeMap;

/// Filter name to accepted values.
pub type Filters = BTreeMap<String, Vec<String>>;

/// A `filters` value that is neither encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter {0:?}: expected a JSON object of lists or of maps to true")]
pub struct FilterError(pub String);

/// Parses a `filters` parameter (already percent-decoded); an absent or
/// empty one is no filter.
pub fn parse(text: Option<&str>) -> Result<Filters, FilterError> {
    use serde_json::Value;
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Filters::new());
    };
    let bad = || FilterError(text.to_string());
    let Value::Object(map) = serde_json::from_str::<Value>(text).map_err(|_| bad())? else {
        return Err(bad());
    };
    let mut filters = Filters::new();
    for (name, values) in map {
        let list = match values {
            Value::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(bad()),
                })
                .collect::<Result<Vec<_>, _>>()?,
            Value::Object(set) => set
                .into_iter()
                .filter(|(_, on)| on.as_bool() == Some(true))
                .map(|(k, _)| k)
                .collect(),
            _ => return Err(bad()),
        };
        filters.insert(name, list);
    }
    Ok(filters)
}

/// Whether `labels` has every `key` or `key=value` of `wanted`.
pub fn labels_match(wanted: &[String], labels: &BTreeMap<String, String>) -> bool {
    wanted.iter().all(|w| match w.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(w.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_encodings_give_the_same_map() {
        let map = parse(Some(r#"{"label":{"a=b":true,"c":true,"off":false}}"#)).expect("map");
        let list = parse(Some(r#"{"label":["a=b","c"]}"#)).expect("list");
        assert_eq!(map, list);
        assert_eq!(map["label"], ["a=b", "c"]);
        assert!(parse(None).expect("none").is_empty());
        assert!(parse(Some("")).expect("empty").is_empty());
        assert!(parse(Some("[1]")).is_err());
        assert!(parse(Some(r#"{"label":"x"}"#)).is_err());
        assert!(parse(Some(r#"{"label":[1]}"#)).is_err());
    }

    #[test]
    fn label_matching() {
        let labels: BTreeMap<String, String> = [("a".to_string(), "b".to_string())].into();
        assert!(labels_match(&["a".into()], &labels));
        assert!(labels_match(&["a=b".into()], &labels));
        assert!(!labels_match(&["a=c".into()], &labels));
        assert!(!labels_match(&["z".into()], &labels));
        assert!(labels_match(&[], &labels));
    }
}
