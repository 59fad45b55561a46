//! Platform matching for image indexes: os, then architecture, then
//! variant with Docker's defaults (arm64 means v8, arm means v7 when the
//! variant is left out). Attestation entries (`unknown/unknown`) never match.

use std::fmt;

/// An os/architecture[/variant] triple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The platform of this machine, in OCI's spelling.
    pub fn host() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }

    /// Parses `os/arch[/variant]` (`--platform linux/arm64/v8`).
    pub fn parse(s: &str) -> Option<Platform> {
        let mut parts = s.split('/');
        let os = parts.next().filter(|p| !p.is_empty())?;
        let architecture = parts.next().filter(|p| !p.is_empty())?;
        let variant = parts.next().map(str::to_string);
        if parts.next().is_some() {
            return None;
        }
        Some(Platform {
            os: os.into(),
            architecture: architecture.into(),
            variant,
        })
    }

    /// Whether an index entry's platform satisfies this one.
    pub fn matches(&self, os: &str, architecture: &str, variant: Option<&str>) -> bool {
        if os != self.os || architecture != self.architecture {
            return false;
        }
        match &self.variant {
            None => true,
            Some(wanted) => normalize_variant(architecture, variant) == Some(wanted.as_str()),
        }
    }
}

fn normalize_variant<'a>(architecture: &str, variant: Option<&'a str>) -> Option<&'a str> {
    match (architecture, variant) {
        ("arm64", None) => Some("v8"),
        ("arm", None) => Some("v7"),
        (_, v) => v,
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_defaults() {
        let arm64 = Platform::parse("linux/arm64/v8").expect("valid");
        assert!(arm64.matches("linux", "arm64", None));
        assert!(arm64.matches("linux", "arm64", Some("v8")));
        assert!(!arm64.matches("linux", "amd64", None));
        let any_arm = Platform::parse("linux/arm").expect("valid");
        assert!(any_arm.matches("linux", "arm", Some("v6")));
        assert!(!Platform::parse("linux/arm/v7").expect("valid").matches(
            "linux",
            "arm",
            Some("v6")
        ));
        assert!(!Platform::host().matches("unknown", "unknown", None));
        assert!(Platform::parse("linux").is_none());
    }
}
