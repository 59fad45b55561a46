//! The labels stack puts on every object it renders.
//!
//! They are the only link between a cluster object and the stack that made
//! it: `apply` prunes and `down` deletes by [`project_selector`], so an
//! object without them would be leaked, and an object of another tool that
//! had them would be deleted. Hence `managed-by` is part of the selector.

use std::collections::BTreeMap;

/// The stack object (service, volume, config…) this object comes from.
pub const NAME: &str = "app.kubernetes.io/name";
/// The project the object belongs to.
pub const PART_OF: &str = "app.kubernetes.io/part-of";
/// Always [`MANAGER`].
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY`], and the server-side-apply field manager.
pub const MANAGER: &str = "stack";

/// Labels of an object made for stack object `name` of `project`.
pub fn common(project: &str, name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (NAME.to_string(), name.to_string()),
        (PART_OF.to_string(), project.to_string()),
        (MANAGED_BY.to_string(), MANAGER.to_string()),
    ])
}

/// The pod selector of a service's workload and Service. A subset of
/// [`common`], so the pod template's labels always match it. Kept small
/// because a Deployment's selector can never change after creation.
pub fn selector(project: &str, service: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (NAME.to_string(), service.to_string()),
        (PART_OF.to_string(), project.to_string()),
    ])
}

/// Label selector (the `labelSelector` query) matching every object of
/// `project` made by stack.
pub fn project_selector(project: &str) -> String {
    format!("{PART_OF}={project},{MANAGED_BY}={MANAGER}")
}

/// True when `value` is a valid label value: at most 63 bytes of
/// alphanumerics, `-`, `_`, `.`, beginning and ending with an alphanumeric
/// (or empty).
pub fn is_label_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    value.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && bytes.first().is_none_or(u8::is_ascii_alphanumeric)
        && bytes.last().is_none_or(u8::is_ascii_alphanumeric)
}

/// True when `key` is a valid label or annotation key: an optional DNS
/// subdomain prefix and `/`, then a name as for [`is_label_value`] but not
/// empty.
pub fn is_qualified_key(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty() && p.len() <= 253 && p.split('.').all(crate::names::is_dns1123_label)
    });
    prefix_ok && !name.is_empty() && is_label_value(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_is_a_subset_of_common_labels() {
        let common = common("shop", "web");
        for (key, value) in selector("shop", "web") {
            assert_eq!(common.get(&key), Some(&value), "{key}");
        }
    }

    #[test]
    fn project_selector_names_project_and_manager() {
        assert_eq!(
            project_selector("shop"),
            "app.kubernetes.io/part-of=shop,app.kubernetes.io/managed-by=stack"
        );
    }

    #[test]
    fn label_values() {
        assert!(is_label_value(""));
        assert!(is_label_value("web_1.a-b"));
        assert!(!is_label_value("-web"));
        assert!(!is_label_value("web/1"));
        assert!(!is_label_value(&"a".repeat(64)));
    }

    #[test]
    fn qualified_keys() {
        assert!(is_qualified_key("com.example.description"));
        assert!(is_qualified_key("example.com/tier"));
        assert!(!is_qualified_key("Example.com/tier"));
        assert!(!is_qualified_key("a/b/c"));
        assert!(!is_qualified_key(""));
        assert!(!is_qualified_key("key with space"));
    }
}
