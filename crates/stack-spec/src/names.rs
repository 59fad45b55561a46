//! The rule for names of volumes and networks, wherever they come from: a
//! stack file's `name:` (checked by the loader, with file, line and column),
//! the command line and the API (checked by the engine through
//! [`check_object_name`]). The names become directory and file names under
//! the state root, so the rule is also what keeps `../..` out of paths.

/// Which kind of object a name is for, so messages say which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Volume,
    Network,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Volume => "volume",
            ObjectKind::Network => "network",
        }
    }
}

/// A name that breaks [`check_object_name`]'s rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {} name {name:?}: it must match [a-zA-Z0-9][a-zA-Z0-9_.-]* (at most {MAX_NAME_LEN} characters)", .kind.as_str())]
pub struct NameError {
    pub kind: ObjectKind,
    pub name: String,
}

/// Longest name accepted: one path component stays far below NAME_MAX
/// once suffixes such as `.json` are added.
pub const MAX_NAME_LEN: usize = 200;

/// `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, Docker's rule for volume and container
/// names. A name that passes is one plain path component: no `/`, not `.`
/// or `..`, no leading dot (which also keeps the engine's own work
/// directories, `.new-…` and `.trash-…`, out of every listing).
pub fn check_object_name(kind: ObjectKind, name: &str) -> Result<(), NameError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if first_ok && rest_ok && name.len() <= MAX_NAME_LEN {
        Ok(())
    } else {
        Err(NameError {
            kind,
            name: name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_names_only() {
        for good in ["data", "a", "my_vol.v2-x", "0abc", "demo_db", "a..b"] {
            assert!(
                check_object_name(ObjectKind::Volume, good).is_ok(),
                "{good}"
            );
        }
        let long = "a".repeat(MAX_NAME_LEN + 1);
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "-x",
            "_x",
            "a/b",
            "../../../../tmp/x",
            "a b",
            "a:b",
            "é",
            "a\0b",
            long.as_str(),
        ] {
            let err = check_object_name(ObjectKind::Network, bad).expect_err(bad);
            assert!(err.to_string().contains("invalid network name"), "{err}");
        }
    }
}
