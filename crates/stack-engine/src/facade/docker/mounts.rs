//! `HostConfig.Mounts` (`docker run --mount`, and Compose's long-syntax
//! volumes when they carry options its `Binds` strings cannot) as the
//! `-v` and `--tmpfs` values `stack run` takes, so both go through the
//! same parsing. Each option stack does not apply is refused by its JSON
//! name, never dropped.

use serde_json::Value;
use stack_api::docker::create::{Mount, MountOptions};
use stack_api::docker::is_unset;

use super::super::EngineError;

/// The mounts as `stack run` flag values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountArgs {
    /// `-v SRC:DST[:OPTS]`.
    pub volumes: Vec<String>,
    /// `--tmpfs DST[:OPTS]`.
    pub tmpfs: Vec<String>,
}

fn invalid(message: String) -> EngineError {
    EngineError::Invalid(message)
}

/// Reads `mounts` in order.
pub fn mount_args(mounts: &[Mount]) -> Result<MountArgs, EngineError> {
    let mut out = MountArgs::default();
    for (i, m) in mounts.iter().enumerate() {
        let field = format!("HostConfig.Mounts[{i}].");
        if let Some((key, value)) = m.unmapped.iter().find(|(_, v)| !is_unset(v)) {
            return Err(invalid(format!(
                "{field}{key} is not supported by stack (got {value})"
            )));
        }
        if !matches!(m.consistency.as_str(), "" | "default") {
            return Err(invalid(format!(
                "{field}Consistency {:?} is not supported by stack",
                m.consistency
            )));
        }
        let others = |allowed: &str| -> Result<(), EngineError> {
            for (name, opts) in [
                ("BindOptions", &m.bind_options),
                ("VolumeOptions", &m.volume_options),
                ("TmpfsOptions", &m.tmpfs_options),
            ] {
                if name != allowed && opts.as_ref().is_some_and(|o| !o.fields.is_empty()) {
                    return Err(invalid(format!(
                        "{field}{name} does not go with Type {:?}",
                        m.kind
                    )));
                }
            }
            Ok(())
        };
        let mut flags: Vec<String> = Vec::new();
        if m.read_only {
            flags.push("ro".into());
        }
        match m.kind.as_str() {
            "bind" => {
                others("BindOptions")?;
                let opts = options(&field, "BindOptions", m.bind_options.as_ref())?;
                if let Some(p) = opts.text("Propagation")? {
                    flags.push(p);
                }
                // `CreateMountpoint` asks that a missing source be made:
                // stack makes none (nor for `Binds`), and a missing source
                // is an error either way, so it changes nothing.
                opts.done(&["Propagation", "CreateMountpoint"])?;
                if !m.source.starts_with('/') {
                    return Err(invalid(format!(
                        "{field}Source {:?}: a bind mount's source must be an absolute path",
                        m.source
                    )));
                }
                out.volumes.push(volume_arg(&m.source, &m.target, &flags));
            }
            "volume" => {
                others("VolumeOptions")?;
                let opts = options(&field, "VolumeOptions", m.volume_options.as_ref())?;
                if opts.flag("NoCopy")? {
                    flags.push("nocopy".into());
                }
                opts.done(&["NoCopy"])?;
                if m.source.is_empty() {
                    return Err(invalid(format!(
                        "{field}Source: anonymous volumes are not supported by stack (name the volume)"
                    )));
                }
                if m.source.starts_with('/') || m.source.starts_with('.') {
                    return Err(invalid(format!(
                        "{field}Source {:?} is not a volume name",
                        m.source
                    )));
                }
                out.volumes.push(volume_arg(&m.source, &m.target, &flags));
            }
            "tmpfs" => {
                others("TmpfsOptions")?;
                if !m.source.is_empty() {
                    return Err(invalid(format!(
                        "{field}Source must be empty for a tmpfs mount"
                    )));
                }
                let opts = options(&field, "TmpfsOptions", m.tmpfs_options.as_ref())?;
                if let Some(size) = opts.number("SizeBytes")? {
                    flags.push(format!("size={size}"));
                }
                if let Some(mode) = opts.number("Mode")? {
                    flags.push(format!("mode={mode:o}"));
                }
                opts.done(&["SizeBytes", "Mode"])?;
                out.tmpfs.push(if flags.is_empty() {
                    m.target.clone()
                } else {
                    format!("{}:{}", m.target, flags.join(","))
                });
            }
            other => {
                return Err(invalid(format!(
                    "{field}Type {other:?} is not supported by stack (bind, volume, tmpfs)"
                )))
            }
        }
    }
    Ok(out)
}

/// `Config.Volumes`: paths declared as volumes (`docker run -v /data`
/// puts them there; the Python SDK lists every bind's target too). A path
/// that a bind, a mount or a tmpfs already covers gets nothing more, as
/// in Docker; any other becomes an anonymous volume (`-v PATH`).
pub fn declared_volumes(
    declared: Option<&Value>,
    volumes: &[String],
    tmpfs: &[String],
) -> Result<Vec<String>, EngineError> {
    let paths = match declared {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(map)) => map.keys(),
        Some(other) => {
            return Err(invalid(format!(
                "Volumes must map paths to {{}} (got {other})"
            )))
        }
    };
    let covered: Vec<&str> = volumes
        .iter()
        .map(|v| {
            let mut parts = v.split(':');
            let first = parts.next().unwrap_or_default();
            parts.next().unwrap_or(first)
        })
        .chain(
            tmpfs
                .iter()
                .map(|t| t.split(':').next().unwrap_or_default()),
        )
        .map(|p| p.trim_end_matches('/'))
        .collect();
    let mut out = Vec::new();
    for path in paths {
        if !path.starts_with('/') {
            return Err(invalid(format!(
                "Volumes: {path:?} is not an absolute path"
            )));
        }
        if !covered.contains(&path.trim_end_matches('/')) {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn volume_arg(source: &str, target: &str, flags: &[String]) -> String {
    if flags.is_empty() {
        format!("{source}:{target}")
    } else {
        format!("{source}:{target}:{}", flags.join(","))
    }
}

/// One options object read field by field; [`Options::done`] refuses the
/// set fields nobody read.
struct Options<'a> {
    field: String,
    fields: std::collections::BTreeMap<&'a str, &'a Value>,
}

fn options<'a>(
    field: &str,
    name: &str,
    opts: Option<&'a MountOptions>,
) -> Result<Options<'a>, EngineError> {
    Ok(Options {
        field: format!("{field}{name}."),
        fields: opts
            .map(|o| o.fields.iter().map(|(k, v)| (k.as_str(), v)).collect())
            .unwrap_or_default(),
    })
}

impl Options<'_> {
    fn take(&self, name: &str) -> Option<&Value> {
        self.fields.get(name).copied().filter(|v| !is_unset(v))
    }

    fn text(&self, name: &str) -> Result<Option<String>, EngineError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(invalid(format!("{}{name} {v} is not a string", self.field))),
        }
    }

    fn flag(&self, name: &str) -> Result<bool, EngineError> {
        match self.take(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(invalid(format!(
                "{}{name} {v} is not a boolean",
                self.field
            ))),
        }
    }

    fn number(&self, name: &str) -> Result<Option<u64>, EngineError> {
        match self.take(name) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| invalid(format!("{}{name} {v} is not a size", self.field))),
        }
    }

    /// Refuses the first set field other than `read`.
    fn done(&self, read: &[&str]) -> Result<(), EngineError> {
        match self
            .fields
            .iter()
            .find(|(k, v)| !read.contains(k) && !is_unset(v))
        {
            Some((k, v)) => Err(invalid(format!(
                "{}{k} is not supported by stack (got {v})",
                self.field
            ))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(value: Value) -> Result<MountArgs, EngineError> {
        let mounts: Vec<Mount> = serde_json::from_value(value).expect("mounts");
        mount_args(&mounts)
    }

    #[test]
    fn mounts_become_run_flags() {
        let got = args(json!([
            {"Type": "volume", "Source": "p_data", "Target": "/data", "VolumeOptions": {"NoCopy": true}},
            {"Type": "bind", "Source": "/srv", "Target": "/srv", "ReadOnly": true,
             "BindOptions": {"Propagation": "rslave", "CreateMountpoint": true}},
            {"Type": "tmpfs", "Target": "/run", "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 448}},
            {"Type": "volume", "Source": "plain", "Target": "/p", "Consistency": "", "VolumeOptions": {}},
        ]))
        .expect("mapped");
        assert_eq!(
            got.volumes,
            ["p_data:/data:nocopy", "/srv:/srv:ro,rslave", "plain:/p"]
        );
        assert_eq!(got.tmpfs, ["/run:size=1048576,mode=700"]);
    }

    #[test]
    fn what_stack_does_not_apply_is_named() {
        let refused = |v: Value, words: &str| {
            let err = args(v).expect_err("refused").to_string();
            assert!(err.contains(words), "{err} lacks {words}");
        };
        refused(
            json!([{"Type": "volume", "Target": "/data"}]),
            "Mounts[0].Source: anonymous volumes",
        );
        refused(
            json!([{"Type": "volume", "Source": "d", "Target": "/d", "VolumeOptions": {"Subpath": "x"}}]),
            "Mounts[0].VolumeOptions.Subpath",
        );
        refused(
            json!([{"Type": "bind", "Source": "/a", "Target": "/a", "BindOptions": {"NonRecursive": true}}]),
            "BindOptions.NonRecursive",
        );
        refused(
            json!([{"Type": "bind", "Source": "rel", "Target": "/a"}]),
            "absolute path",
        );
        refused(
            json!([{"Type": "npipe", "Source": "x", "Target": "/a"}]),
            "Type \"npipe\"",
        );
        refused(
            json!([{"Type": "tmpfs", "Target": "/t", "VolumeOptions": {"NoCopy": true}}]),
            "VolumeOptions does not go with Type \"tmpfs\"",
        );
        refused(
            json!([{"Type": "bind", "Source": "/a", "Target": "/a", "Consistency": "cached"}]),
            "Consistency",
        );
    }

    #[test]
    fn declared_volumes_not_covered_become_anonymous() {
        let declared = serde_json::json!({"/data": {}, "/cache/": {}, "/scratch": {}, "/new": {}});
        let volumes = ["/tmp:/data:ro".to_string(), "named:/cache".to_string()];
        let tmpfs = ["/scratch:size=1m".to_string()];
        let got = declared_volumes(Some(&declared), &volumes, &tmpfs).expect("declared");
        assert_eq!(got, ["/new"]);
        let err = declared_volumes(Some(&serde_json::json!({"rel": {}})), &[], &[])
            .expect_err("relative");
        assert!(err.to_string().contains("absolute"), "{err}");
    }
}
