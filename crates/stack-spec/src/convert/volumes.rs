//! A service's `volumes:` item, short (`SRC:TARGET[:MODE]`) or long form.

use super::Ctx;
use crate::model::{BindOptions, ByteSize, MountType, ServiceVolume, TmpfsOptions, VolumeOptions};
use crate::yaml::{Node, Value};

const LONG_KEYS: &[&str] = &[
    "type",
    "source",
    "target",
    "read_only",
    "bind",
    "volume",
    "tmpfs",
    "image",
    "consistency",
];

/// A short-syntax volume that was refused, naming it as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid volume {spec:?}: {problem}")]
pub struct VolumeSpecError {
    pub spec: String,
    pub problem: VolumeProblem,
}

/// What is wrong with a short-syntax volume.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VolumeProblem {
    #[error("too many `:`")]
    TooManyColons,
    #[error("the container path {0:?} must be absolute")]
    RelativeTarget(String),
    #[error("`{0}` needs a bind mount")]
    NeedsBind(String),
    #[error("unknown option {0:?}")]
    UnknownOption(String),
}

/// Parses the short syntax. A source starting with `/`, `.` or `~` is a bind
/// mount (paths are already absolute when the loader calls this), any other
/// source is a named volume, and a lone path is an anonymous volume.
pub fn parse_volume(spec: &str) -> Result<ServiceVolume, VolumeSpecError> {
    parse_volume_with(spec, &mut |_| false)
}

/// [`parse_volume`], asking `skip_unknown` whether an unknown option is
/// left out (as Compose leaves it out) rather than refused.
pub fn parse_volume_with(
    spec: &str,
    skip_unknown: &mut dyn FnMut(&VolumeSpecError) -> bool,
) -> Result<ServiceVolume, VolumeSpecError> {
    let bad = |problem| VolumeSpecError {
        spec: spec.to_string(),
        problem,
    };
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [target] => (None, *target, None),
        [a, b] if a.starts_with('/') && !b.starts_with('/') => (None, *a, Some(*b)),
        [source, target] => (Some(*source), *target, None),
        [source, target, mode] => (Some(*source), *target, Some(*mode)),
        _ => return Err(bad(VolumeProblem::TooManyColons)),
    };
    if target.is_empty() || !target.starts_with('/') {
        return Err(bad(VolumeProblem::RelativeTarget(target.to_string())));
    }
    let source = source.filter(|s| !s.is_empty());
    let kind = match source {
        None => MountType::Volume,
        Some(s) if s.starts_with(['/', '.', '~']) => MountType::Bind,
        Some(_) => MountType::Volume,
    };
    let mut volume = ServiceVolume {
        kind,
        source: source.map(str::to_string),
        // Compose cleans a short-syntax target as it parses it (the long
        // syntax only in normalization).
        target: crate::paths::clean_path(target),
        read_only: false,
        bind: (kind == MountType::Bind).then(|| BindOptions {
            create_host_path: true,
            ..BindOptions::default()
        }),
        // A named or anonymous volume in short syntax carries empty volume
        // options, as Compose's parser gives it (`volume: {}`).
        volume: (kind == MountType::Volume && spec.len() > 2).then(VolumeOptions::default),
        tmpfs: None,
        consistency: None,
    };
    for option in mode.unwrap_or("").split(',').filter(|o| !o.is_empty()) {
        match option {
            "ro" => volume.read_only = true,
            "rw" => volume.read_only = false,
            "z" | "Z" => match volume.bind.as_mut() {
                Some(b) => b.selinux = Some(option.to_string()),
                None => return Err(bad(VolumeProblem::NeedsBind(option.to_string()))),
            },
            "nocopy" => {
                volume.volume = Some(VolumeOptions {
                    nocopy: true,
                    subpath: None,
                })
            }
            "shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate" => {
                match volume.bind.as_mut() {
                    Some(b) => b.propagation = Some(option.to_string()),
                    None => return Err(bad(VolumeProblem::NeedsBind(option.to_string()))),
                }
            }
            // Docker Desktop's consistency hints: accepted and, as Compose
            // does in the short syntax, not kept.
            "cached" | "delegated" | "consistent" => {}
            other => {
                let e = bad(VolumeProblem::UnknownOption(other.to_string()));
                if !skip_unknown(&e) {
                    return Err(e);
                }
            }
        }
    }
    Ok(volume)
}

/// One `volumes:` item of a service.
pub fn volume_entry(ctx: &mut Ctx, node: &Node, service: &str) -> Option<ServiceVolume> {
    let context = format!("service `{service}` volumes");
    let Value::Map(m) = &node.value else {
        let spec = ctx.string(node, &context)?;
        let compatibility = ctx.compatibility;
        let mut skipped = Vec::new();
        let parsed = parse_volume_with(&spec, &mut |e| {
            skipped.push(e.to_string());
            compatibility
        });
        let label = "unknown volume option";
        return match parsed {
            Ok(v) => {
                for message in skipped {
                    ctx.stricter_than_compose(node.span, message, label);
                }
                Some(v)
            }
            Err(e) if matches!(e.problem, VolumeProblem::UnknownOption(_)) => {
                ctx.stricter_than_compose(node.span, e.to_string(), label);
                None
            }
            Err(e) => {
                ctx.error_with(node.span, e.to_string(), "bad volume");
                None
            }
        };
    };
    let kind = match m.get("type").and_then(Node::as_text) {
        Some("bind") => MountType::Bind,
        Some("volume") | None => MountType::Volume,
        Some("tmpfs") => MountType::Tmpfs,
        Some("image") => MountType::Image,
        Some("npipe") => MountType::Npipe,
        Some("cluster") => MountType::Cluster,
        Some(other) => {
            let span = m.get("type").map(|n| n.span).unwrap_or(node.span);
            ctx.error(span, format!("{context}: unknown mount type {other:?}"));
            return None;
        }
    };
    let mut volume = ServiceVolume {
        kind,
        source: None,
        target: String::new(),
        read_only: false,
        bind: None,
        volume: None,
        tmpfs: None,
        consistency: None,
    };
    for (k, v) in m.iter() {
        match k.name.as_str() {
            "type" => {}
            "source" => volume.source = ctx.string(v, &context),
            "target" => volume.target = ctx.string(v, &context).unwrap_or_default(),
            "read_only" => volume.read_only = ctx.bool(v, &context).unwrap_or(false),
            "consistency" => volume.consistency = ctx.string(v, &context),
            "bind" => volume.bind = bind_options(ctx, v, &context),
            "volume" => volume.volume = volume_options(ctx, v, &context),
            "tmpfs" => volume.tmpfs = tmpfs_options(ctx, v, &context),
            "image" => {}
            key if key.starts_with("x-") => {}
            key => ctx.unknown_key(k.span, key, &context, LONG_KEYS),
        }
    }
    if !volume.target.starts_with('/') {
        ctx.error(
            node.span,
            format!("{context}: `target` must be an absolute path in the container"),
        );
        return None;
    }
    if kind == MountType::Bind && volume.source.is_none() {
        ctx.error(
            node.span,
            format!("{context}: a bind mount needs a `source`"),
        );
        return None;
    }
    Some(volume)
}

fn bind_options(ctx: &mut Ctx, node: &Node, context: &str) -> Option<BindOptions> {
    let m = ctx.map(node, context)?;
    let mut b = BindOptions {
        create_host_path: true,
        ..BindOptions::default()
    };
    for (k, v) in m.iter() {
        match k.name.as_str() {
            "propagation" => b.propagation = ctx.string(v, context),
            "create_host_path" => b.create_host_path = ctx.bool(v, context).unwrap_or(true),
            "selinux" => b.selinux = ctx.string(v, context),
            key => ctx.unknown_key(
                k.span,
                key,
                context,
                &["propagation", "create_host_path", "selinux"],
            ),
        }
    }
    Some(b)
}

fn volume_options(ctx: &mut Ctx, node: &Node, context: &str) -> Option<VolumeOptions> {
    let m = ctx.map(node, context)?;
    let mut o = VolumeOptions::default();
    for (k, v) in m.iter() {
        match k.name.as_str() {
            "nocopy" => o.nocopy = ctx.bool(v, context).unwrap_or(false),
            "subpath" => o.subpath = ctx.string(v, context),
            key => ctx.unknown_key(k.span, key, context, &["nocopy", "subpath"]),
        }
    }
    Some(o)
}

fn tmpfs_options(ctx: &mut Ctx, node: &Node, context: &str) -> Option<TmpfsOptions> {
    let m = ctx.map(node, context)?;
    let mut o = TmpfsOptions::default();
    for (k, v) in m.iter() {
        match k.name.as_str() {
            "size" => o.size = byte_size(ctx, v, context),
            "mode" => o.mode = ctx.uint(v, context),
            key => ctx.unknown_key(k.span, key, context, &["size", "mode"]),
        }
    }
    Some(o)
}

/// A byte size written as a number or a string with a unit.
pub fn byte_size(ctx: &mut Ctx, node: &Node, context: &str) -> Option<ByteSize> {
    let text = ctx.string(node, context)?;
    match ByteSize::parse(&text) {
        Ok(b) => Some(b),
        Err(e) => {
            ctx.error_with(node.span, format!("{context}: {e}"), "bad size");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms() {
        let v = parse_volume("/srv/data:/data:ro").expect("valid");
        assert_eq!((v.kind, v.read_only), (MountType::Bind, true));
        assert!(v.bind.as_ref().is_some_and(|b| b.create_host_path));
        let v = parse_volume("db:/var/lib/db").expect("valid");
        assert_eq!(
            (v.kind, v.source.as_deref()),
            (MountType::Volume, Some("db"))
        );
        let v = parse_volume("/cache").expect("valid");
        assert_eq!((v.kind, v.source), (MountType::Volume, None));
        let v = parse_volume("/cache:ro").expect("valid");
        assert_eq!((v.target.as_str(), v.read_only), ("/cache", true));
        let v = parse_volume("./src:/app:z,rshared").expect("valid");
        let b = v.bind.expect("bind options");
        assert_eq!(b.selinux.as_deref(), Some("z"));
        assert_eq!(b.propagation.as_deref(), Some("rshared"));
    }

    #[test]
    fn bad_volumes() {
        for spec in ["db:data", "a:/b:c:d", "db:/x:bogus", "db:/x:z"] {
            assert!(parse_volume(spec).is_err(), "{spec}");
        }
    }
}
