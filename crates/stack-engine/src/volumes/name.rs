//! Volume names: Docker's rule, and the random name of a volume created
//! without one.

use stack_spec::names::{check_object_name, ObjectKind};

use super::VolumeError;

/// The volume name rule, `[a-zA-Z0-9][a-zA-Z0-9_.-]*` as Docker's local
/// driver accepts: stack-spec's [`check_object_name`], which the stack-file
/// loader applies too. The first character rule also keeps our own work
/// directories (`.trash-…`, `.new-…`) out of every listing.
pub fn validate(name: &str) -> Result<(), VolumeError> {
    check_object_name(ObjectKind::Volume, name).map_err(|e| VolumeError::Invalid(e.to_string()))
}

/// 64 hex digits, as Docker names anonymous volumes.
pub fn random() -> Result<String, VolumeError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| VolumeError::Invalid(format!("random name: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A short random suffix for work directories.
pub(crate) fn suffix() -> String {
    let mut bytes = [0u8; 6];
    if getrandom::fill(&mut bytes).is_err() {
        return format!("{}", std::process::id());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_names_only() {
        for good in ["data", "a", "my_vol.v2-x", "0abc", "demo_db"] {
            assert!(validate(good).is_ok(), "{good}");
        }
        for bad in ["", ".hidden", "-x", "_x", "a/b", "a b", "a:b", "é"] {
            let err = validate(bad).expect_err(bad);
            assert!(err.to_string().contains("invalid volume name"), "{err}");
        }
        let r = random().expect("random");
        assert_eq!(r.len(), 64);
        assert!(validate(&r).is_ok());
    }
}
