//! Tar entry names: normalization and whiteout classification.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// The OCI opaque-directory marker.
pub const OPAQUE: &[u8] = b".wh..wh..opq";
const WHITEOUT_PREFIX: &[u8] = b".wh.";

/// A tar entry name a layer may not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("path contains a \"..\" component")]
    DotDot,
    #[error("path contains a NUL byte")]
    Nul,
    #[error("whiteout with an empty name")]
    EmptyWhiteout,
    #[error("whiteout of {0:?} would hide a directory outside the entry's own")]
    WhiteoutOutside(String),
    #[error("reserved whiteout name (.wh..wh.*) other than the opaque marker")]
    ReservedWhiteout,
}

/// Splits a tar path into clean components relative to the layer root.
/// `./x`, `x` and `/x` are the same entry; `.` and empty components vanish.
/// A `..` component is refused outright: no legitimate layer needs one, and
/// refusing is clearer than guessing what the author meant.
pub fn components(raw: &[u8]) -> Result<Vec<OsString>, NameError> {
    let mut out = Vec::new();
    for part in raw.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err(NameError::DotDot),
            _ if part.contains(&0) => return Err(NameError::Nul),
            _ => out.push(OsStr::from_bytes(part).to_os_string()),
        }
    }
    Ok(out)
}

/// What a name means in an OCI layer.
#[derive(Debug, PartialEq, Eq)]
pub enum Name<'a> {
    /// An ordinary entry.
    Plain,
    /// `.wh..wh..opq`: hide everything below this directory in lower layers.
    Opaque,
    /// `.wh.<name>`: hide `<name>` of lower layers.
    Whiteout(&'a OsStr),
}

/// Classifies a base name; `.wh.`, `.wh..`, `.wh...` and other reserved
/// `.wh..wh.` names are errors (a whiteout of `..` would hide the parent).
pub fn classify(base: &OsStr) -> Result<Name<'_>, NameError> {
    let bytes = base.as_bytes();
    if bytes == OPAQUE {
        return Ok(Name::Opaque);
    }
    let Some(target) = bytes.strip_prefix(WHITEOUT_PREFIX) else {
        return Ok(Name::Plain);
    };
    match target {
        b"" => Err(NameError::EmptyWhiteout),
        b"." | b".." => Err(NameError::WhiteoutOutside(
            String::from_utf8_lossy(target).into_owned(),
        )),
        _ if target.starts_with(WHITEOUT_PREFIX) => Err(NameError::ReservedWhiteout),
        _ => Ok(Name::Whiteout(OsStr::from_bytes(target))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comps(s: &str) -> Vec<String> {
        components(s.as_bytes())
            .expect("valid")
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn normalizes_prefixes() {
        assert_eq!(comps("./etc/passwd"), ["etc", "passwd"]);
        assert_eq!(comps("/etc//passwd"), ["etc", "passwd"]);
        assert_eq!(comps("etc/./x/"), ["etc", "x"]);
        assert!(comps("/").is_empty() && comps("./").is_empty());
        assert!(components(b"../../etc/x").is_err());
        assert!(components(b"a/../../b").is_err());
    }

    #[test]
    fn whiteout_names() {
        assert_eq!(classify(OsStr::new("x")), Ok(Name::Plain));
        assert_eq!(classify(OsStr::new(".wh..wh..opq")), Ok(Name::Opaque));
        assert_eq!(
            classify(OsStr::new(".wh.gone")),
            Ok(Name::Whiteout(OsStr::new("gone")))
        );
        for bad in [".wh.", ".wh..", ".wh...", ".wh..wh.x"] {
            assert!(classify(OsStr::new(bad)).is_err(), "{bad}");
        }
    }
}
