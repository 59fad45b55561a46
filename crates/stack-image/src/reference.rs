//! Image references with Docker's normalization: `redis` is
//! `docker.io/library/redis:latest`. Written here rather than taken from
//! oci-spec because Docker rejects uppercase repository names and oci-spec
//! accepts them.

use std::fmt;

use crate::digest::Digest;
use crate::error::{ImageError, Result};

/// The registry Docker Hub names are normalized to.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that actually serves Docker Hub's v2 API.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A normalized image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Registry host, with port if any (`docker.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// Repository path inside the registry (`library/redis`).
    pub repository: String,
    /// Tag, if given or defaulted.
    pub tag: Option<String>,
    /// Digest, if given; it wins over the tag when fetching.
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses and normalizes a reference as `docker pull` does.
    pub fn parse(input: &str) -> Result<Reference> {
        let bad = |reason: &str| ImageError::InvalidReference {
            reference: input.to_string(),
            reason: reason.to_string(),
        };
        if input.is_empty() {
            return Err(bad("empty reference"));
        }
        let (rest, digest) = match input.split_once('@') {
            Some((rest, digest)) => (
                rest,
                Some(Digest::parse(digest).map_err(|e| bad(&e.to_string()))?),
            ),
            None => (input, None),
        };
        let (name, tag) = split_tag(rest);
        if let Some(tag) = tag {
            if !valid_tag(tag) {
                return Err(bad("tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"));
            }
        }
        let (registry, repository) = split_registry(name);
        let registry = if registry == "index.docker.io" {
            DOCKER_HUB.to_string()
        } else {
            registry.to_string()
        };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_string()
        };
        if repository.is_empty() {
            return Err(bad("repository name is empty"));
        }
        for component in repository.split('/') {
            if !valid_component(component) {
                return Err(bad(&format!(
                    "repository component {component:?} must be lowercase letters, digits and separators (. _ __ -)"
                )));
            }
        }
        if registry.len() + 1 + repository.len() > 255 {
            return Err(bad("name longer than 255 characters"));
        }
        let tag = match (tag, &digest) {
            (Some(tag), _) => Some(tag.to_string()),
            (None, Some(_)) => None,
            (None, None) => Some("latest".to_string()),
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// `registry/repository`, the name without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// What to ask the registry for: the digest if known, else the tag.
    pub fn manifest_ref(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }

    /// The name as Docker prints it (`redis`, `quay.io/x/y`).
    pub fn familiar_name(&self) -> String {
        if self.registry == DOCKER_HUB {
            self.repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository)
                .to_string()
        } else {
            self.name()
        }
    }

    /// The short form Docker prints (`redis:7`, `quay.io/x/y:1`).
    pub fn familiar(&self) -> String {
        let name = self.familiar_name();
        match &self.tag {
            Some(tag) => format!("{name}:{tag}"),
            None => name,
        }
    }

    /// The same image with `tag` (and no digest).
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Reference {
    type Err = ImageError;
    fn from_str(s: &str) -> Result<Self> {
        Reference::parse(s)
    }
}

/// Splits `name:tag`; a colon before the last `/` belongs to a port.
fn split_tag(s: &str) -> (&str, Option<&str>) {
    match s.rfind(':') {
        Some(i) if !s[i..].contains('/') => (&s[..i], Some(&s[i + 1..])),
        _ => (s, None),
    }
}

/// The first component is a registry iff it has `.` or `:` or is
/// `localhost` (distribution's rule).
fn split_registry(name: &str) -> (&str, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first, rest)
        }
        _ => (DOCKER_HUB, name),
    }
}

fn valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric() || c == '_')
        && tag.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_component(c: &str) -> bool {
    let bytes = c.as_bytes();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Reference::parse(s).expect("valid reference").to_string()
    }

    #[test]
    fn docker_hub_normalization() {
        assert_eq!(norm("redis"), "docker.io/library/redis:latest");
        assert_eq!(norm("library/redis:7"), "docker.io/library/redis:7");
        assert_eq!(norm("docker.io/redis"), "docker.io/library/redis:latest");
        assert_eq!(
            norm("index.docker.io/library/redis"),
            "docker.io/library/redis:latest"
        );
        assert_eq!(norm("registry/redis"), "docker.io/registry/redis:latest");
        assert_eq!(norm("localhost/redis"), "localhost/redis:latest");
        assert_eq!(norm("localhost:5000/a/b:c"), "localhost:5000/a/b:c");
        assert_eq!(
            Reference::parse("redis:7").expect("ok").familiar(),
            "redis:7"
        );
    }

    #[test]
    fn digests_and_tags() {
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("ghcr.io/x/y@{d}")).expect("ok");
        assert_eq!(r.tag, None);
        assert_eq!(r.manifest_ref(), d);
        let r = Reference::parse(&format!("my.registry/redis:1@{d}")).expect("ok");
        assert_eq!(r.tag.as_deref(), Some("1"));
        assert_eq!(r.manifest_ref(), d);
        let r = Reference::parse("127.0.0.1:5000/busybox").expect("ok");
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.tag.as_deref(), Some("latest"));
    }

    #[test]
    fn invalid_references_say_why() {
        for bad in [
            "Foo/bar",
            "UPPER",
            "redis@sha256:abc",
            "redis:-bad",
            "",
            "a//b",
            "redis@md5:00",
        ] {
            let err = Reference::parse(bad).expect_err(bad).to_string();
            assert!(err.contains("invalid image reference"), "{bad}: {err}");
        }
        let err = Reference::parse("Foo/bar").expect_err("upper").to_string();
        assert!(err.contains("lowercase"), "{err}");
    }
}
