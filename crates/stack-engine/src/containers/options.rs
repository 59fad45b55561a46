//! Parsing of `run` flag values: sizes, `-v`, `--tmpfs`.

use std::path::{Path, PathBuf};

use stack_runtime::spec::{MountKind, MountSpec};

/// `512`, `64k`, `64m`, `1g` (Docker's units, powers of 1024) to bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let value: f64 = num.parse().map_err(|_| format!("invalid size {text:?}"))?;
    if value < 0.0 {
        return Err(format!("invalid size {text:?}"));
    }
    Ok((value * mult as f64) as u64)
}

/// A named volume that a mount refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeRef {
    pub name: String,
    pub data_dir: PathBuf,
}

/// `SRC:DST[:ro|rw]`: an absolute (or `./`) SRC is a bind mount, anything
/// else names a volume under `<state root>/volumes/<name>/_data`.
pub fn parse_volume(
    text: &str,
    state_root: &Path,
) -> Result<(MountSpec, Option<VolumeRef>), String> {
    let parts: Vec<&str> = text.split(':').collect();
    let (src, dst, opts) = match parts.as_slice() {
        [src, dst] => (*src, *dst, ""),
        [src, dst, opts] => (*src, *dst, *opts),
        _ => return Err(format!("invalid volume {text:?}: expected SRC:DST[:ro|rw]")),
    };
    if !dst.starts_with('/') {
        return Err(format!(
            "invalid volume {text:?}: destination must be absolute"
        ));
    }
    let mut read_only = false;
    let mut propagation = None;
    for opt in opts.split(',').filter(|o| !o.is_empty()) {
        match opt {
            "ro" => read_only = true,
            "rw" => read_only = false,
            "shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate" => {
                propagation = Some(opt.to_string())
            }
            other => return Err(format!("invalid volume {text:?}: unknown option {other:?}")),
        }
    }
    if src.starts_with('/') || src.starts_with('.') {
        let source = std::path::absolute(src).map_err(|e| format!("volume {text:?}: {e}"))?;
        if !source.exists() {
            return Err(format!(
                "bind source path does not exist: {}",
                source.display()
            ));
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
        .map_err(|e| e.to_string())?
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
                fill: true,
            },
            read_only,
        },
        Some(volume),
    ))
}

/// `DST[:size=64m,mode=1770]`.
pub fn parse_tmpfs(text: &str) -> Result<MountSpec, String> {
    let (dst, opts) = text.split_once(':').unwrap_or((text, ""));
    if !dst.starts_with('/') {
        return Err(format!(
            "invalid tmpfs {text:?}: destination must be absolute"
        ));
    }
    let (mut size, mut mode, mut read_only) = (None, None, false);
    for opt in opts.split(',').filter(|o| !o.is_empty()) {
        match opt.split_once('=') {
            Some(("size", v)) => size = Some(parse_size(v)?),
            Some(("mode", v)) => {
                mode = Some(
                    u32::from_str_radix(v, 8).map_err(|_| format!("invalid tmpfs mode {v:?}"))?,
                )
            }
            None if opt == "ro" => read_only = true,
            None if matches!(opt, "rw" | "noexec" | "nosuid" | "nodev" | "exec") => {}
            _ => return Err(format!("invalid tmpfs option {opt:?}")),
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
