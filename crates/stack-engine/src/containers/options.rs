//! Parsing of `run` flag values: sizes, `-v`, `--tmpfs`.

use std::path::{Path, PathBuf};

use stack_runtime::spec::{MountKind, MountSpec};

use crate::volumes::VolumeError;

/// A size that is not a number with an optional `k`/`m`/`g`/`t` unit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid size {0:?}")]
pub struct SizeError(pub String);

/// A `-v` or `--tmpfs` value that was refused; each names the value.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error(transparent)]
    Size(#[from] SizeError),
    #[error("invalid volume {0:?}: expected SRC:DST[:ro|rw]")]
    VolumeShape(String),
    #[error("invalid volume {0:?}: destination must be absolute")]
    VolumeDestination(String),
    #[error("invalid volume {text:?}: unknown option {option:?}")]
    VolumeOption { text: String, option: String },
    /// The working directory, needed for a relative bind source, is gone.
    #[error("volume {text:?}: {source}")]
    BindPath {
        text: String,
        #[source]
        source: std::io::Error,
    },
    #[error("bind source path does not exist: {}", .0.display())]
    NoBindSource(PathBuf),
    /// Boxed: volume errors are large and this one is rare.
    #[error(transparent)]
    Volume(Box<VolumeError>),
    #[error("invalid tmpfs {0:?}: destination must be absolute")]
    TmpfsDestination(String),
    #[error("invalid tmpfs mode {0:?}")]
    TmpfsMode(String),
    #[error("invalid tmpfs option {0:?}")]
    TmpfsOption(String),
}

/// `512`, `64k`, `64m`, `1g` (Docker's units, powers of 1024) to bytes.
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let t = text.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let value: f64 = num.parse().map_err(|_| SizeError(text.to_string()))?;
    if value < 0.0 {
        return Err(SizeError(text.to_string()));
    }
    Ok((value * mult as f64) as u64)
}

/// A named volume that a mount refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeRef {
    pub name: String,
    pub data_dir: PathBuf,
}

/// `SRC:DST[:OPTS]` (`ro`, `rw`, a propagation, `nocopy`): an absolute (or `./`) SRC is a bind mount, anything
/// else names a volume under `<state root>/volumes/<name>/_data`.
pub fn parse_volume(
    text: &str,
    state_root: &Path,
) -> Result<(MountSpec, Option<VolumeRef>), MountError> {
    let parts: Vec<&str> = text.split(':').collect();
    let (src, dst, opts) = match parts.as_slice() {
        [src, dst] => (*src, *dst, ""),
        [src, dst, opts] => (*src, *dst, *opts),
        _ => return Err(MountError::VolumeShape(text.to_string())),
    };
    if !dst.starts_with('/') {
        return Err(MountError::VolumeDestination(text.to_string()));
    }
    let mut read_only = false;
    let mut propagation = None;
    let mut nocopy = false;
    for opt in opts.split(',').filter(|o| !o.is_empty()) {
        match opt {
            "ro" => read_only = true,
            "rw" => read_only = false,
            // A volume left empty instead of filled from the image.
            "nocopy" => nocopy = true,
            "shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate" => {
                propagation = Some(opt.to_string())
            }
            other => {
                return Err(MountError::VolumeOption {
                    text: text.to_string(),
                    option: other.to_string(),
                })
            }
        }
    }
    if src.starts_with('/') || src.starts_with('.') {
        if nocopy {
            return Err(MountError::VolumeOption {
                text: text.to_string(),
                option: "nocopy".into(),
            });
        }
        let source = std::path::absolute(src).map_err(|source| MountError::BindPath {
            text: text.to_string(),
            source,
        })?;
        if !source.exists() {
            return Err(MountError::NoBindSource(source));
        }
        return Ok((
            MountSpec {
                destination: dst.into(),
                kind: MountKind::Bind {
                    source,
                    propagation,
                },
                read_only,
            },
            None,
        ));
    }
    let data_dir = crate::volumes::volume_dir(state_root, src)
        .map_err(|e| MountError::Volume(Box::new(e)))?
        .join("_data");
    let volume = VolumeRef {
        name: src.into(),
        data_dir: data_dir.clone(),
    };
    Ok((
        MountSpec {
            destination: dst.into(),
            kind: MountKind::Volume {
                source: data_dir,
                fill: !nocopy,
            },
            read_only,
        },
        Some(volume),
    ))
}

/// `DST[:size=64m,mode=1770]`.
pub fn parse_tmpfs(text: &str) -> Result<MountSpec, MountError> {
    let (dst, opts) = text.split_once(':').unwrap_or((text, ""));
    if !dst.starts_with('/') {
        return Err(MountError::TmpfsDestination(text.to_string()));
    }
    let (mut size, mut mode, mut read_only) = (None, None, false);
    for opt in opts.split(',').filter(|o| !o.is_empty()) {
        match opt.split_once('=') {
            Some(("size", v)) => size = Some(parse_size(v)?),
            Some(("mode", v)) => {
                mode = Some(
                    u32::from_str_radix(v, 8).map_err(|_| MountError::TmpfsMode(v.to_string()))?,
                )
            }
            None if opt == "ro" => read_only = true,
            None if matches!(opt, "rw" | "noexec" | "nosuid" | "nodev" | "exec") => {}
            _ => return Err(MountError::TmpfsOption(opt.to_string())),
        }
    }
    Ok(MountSpec {
        destination: dst.into(),
        kind: MountKind::Tmpfs { size, mode },
        read_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64m"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("1.5k"), Ok(1536));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn volumes_and_binds() {
        let (m, v) = parse_volume("data:/var/lib/x:ro", Path::new("/s")).expect("volume");
        assert_eq!(
            v.expect("named").data_dir,
            PathBuf::from("/s/volumes/data/_data")
        );
        assert!(m.read_only);
        let (m, _) = parse_volume("data:/x:nocopy", Path::new("/s")).expect("nocopy");
        assert!(matches!(m.kind, MountKind::Volume { fill: false, .. }));
        assert!(parse_volume("/tmp:/x:nocopy", Path::new("/s")).is_err());
        let (m, v) = parse_volume("/tmp:/host-tmp", Path::new("/s")).expect("bind");
        assert!(v.is_none());
        assert!(matches!(m.kind, MountKind::Bind { .. }));
        assert!(parse_volume("/nonexistent-src-dir:/x", Path::new("/s")).is_err());
        assert!(parse_volume("data:relative", Path::new("/s")).is_err());
        assert!(parse_volume("just-one", Path::new("/s")).is_err());
    }

    #[test]
    fn tmpfs_options() {
        let m = parse_tmpfs("/run:size=1m,mode=700").expect("tmpfs");
        assert_eq!(
            m.kind,
            MountKind::Tmpfs {
                size: Some(1 << 20),
                mode: Some(0o700)
            }
        );
        assert!(parse_tmpfs("/run:size=1m,bogus").is_err());
    }
}
