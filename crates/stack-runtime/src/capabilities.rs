//! Capabilities: Docker's default set, adjusted by `cap_add`/`cap_drop`, or
//! every capability when privileged. The set becomes the bounding,
//! permitted and effective sets of a root process; a non-root process keeps
//! only the bounding set (the kernel clears the others on setuid), which is
//! what Docker does too. Inheritable and ambient sets are empty.

use caps::{CapSet, Capability, CapsHashSet};

use crate::error::Error;
use crate::spec::SecuritySpec;

/// Docker's default capability set.
pub const DOCKER_DEFAULT: &[Capability] = &[
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FSETID,
    Capability::CAP_FOWNER,
    Capability::CAP_MKNOD,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETFCAP,
    Capability::CAP_SETPCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_KILL,
    Capability::CAP_AUDIT_WRITE,
];

fn parse(name: &str) -> Result<Option<Capability>, Error> {
    let upper = name.trim().to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(None);
    }
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    full.parse::<Capability>()
        .map(Some)
        .map_err(|_| Error::invalid(format!("capability {name:?}"), "unknown capability"))
}

/// The capabilities this container gets, limited to those the running
/// kernel knows and this host's bounding set holds.
pub fn resolve(security: &SecuritySpec) -> Result<CapsHashSet, Error> {
    // "All" means all this process can still grant: the host's bounding
    // set may lack some (CAP_SYS_RESOURCE on some VMs).
    let bounding = caps::read(None, CapSet::Bounding)
        .unwrap_or_else(|_| caps::runtime::thread_all_supported());
    let all: CapsHashSet = caps::runtime::thread_all_supported()
        .into_iter()
        .filter(|c| bounding.contains(c))
        .collect();
    let mut set: CapsHashSet = if security.privileged {
        all.clone()
    } else {
        DOCKER_DEFAULT.iter().copied().collect()
    };
    // Docker's rules: ALL in cap_add starts from every capability, ALL in
    // cap_drop from none; otherwise the default set. Then named drops go,
    // then named adds come (an add wins over a drop of the same name only
    // when cap_drop is ALL).
    let adds: Vec<Option<Capability>> = security
        .cap_add
        .iter()
        .map(|n| parse(n))
        .collect::<Result<_, _>>()?;
    let drops: Vec<Option<Capability>> = security
        .cap_drop
        .iter()
        .map(|n| parse(n))
        .collect::<Result<_, _>>()?;
    if adds.contains(&None) {
        set = all.clone();
    } else if drops.contains(&None) {
        set.clear();
    }
    for cap in drops.iter().flatten() {
        set.remove(cap);
    }
    for cap in adds.iter().flatten() {
        if !drops.contains(&Some(*cap)) || drops.contains(&None) {
            set.insert(*cap);
        }
    }
    set.retain(|c| all.contains(c));
    Ok(set)
}

/// Names in `CAP_X` form, for the OCI spec and for `inspect`.
pub fn names(set: &CapsHashSet) -> Vec<String> {
    let mut names: Vec<String> = set.iter().map(|c| c.to_string()).collect();
    names.sort();
    names
}

/// Drops every capability outside `keep` from the bounding set. Must run
/// while the process still has CAP_SETPCAP, i.e. before changing user.
pub fn limit_bounding(keep: &CapsHashSet) -> Result<(), Error> {
    let bounding = caps::read(None, CapSet::Bounding)
        .map_err(|e| Error::Setup(format!("read bounding set: {e}")))?;
    for cap in bounding {
        if !keep.contains(&cap) {
            caps::drop(None, CapSet::Bounding, cap)
                .map_err(|e| Error::Setup(format!("drop {cap} from bounding set: {e}")))?;
        }
    }
    Ok(())
}

/// Sets effective and permitted to `keep` (for a root process, after the
/// user change) and clears inheritable and ambient.
pub fn set_process_sets(keep: &CapsHashSet, is_root: bool) -> Result<(), Error> {
    let wanted: CapsHashSet = if is_root {
        keep.clone()
    } else {
        CapsHashSet::new()
    };
    let fail = |what: &str, e: caps::errors::CapsError| Error::Setup(format!("{what}: {e}"));
    caps::clear(None, CapSet::Ambient).map_err(|e| fail("clear ambient capabilities", e))?;
    caps::clear(None, CapSet::Inheritable)
        .map_err(|e| fail("clear inheritable capabilities", e))?;
    caps::set(None, CapSet::Effective, &wanted)
        .map_err(|e| fail("set effective capabilities", e))?;
    caps::set(None, CapSet::Permitted, &wanted)
        .map_err(|e| fail("set permitted capabilities", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sec(add: &[&str], drop: &[&str]) -> SecuritySpec {
        SecuritySpec {
            cap_add: add.iter().map(|s| s.to_string()).collect(),
            cap_drop: drop.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn default_is_dockers_set() {
        let set = resolve(&SecuritySpec::default()).expect("default");
        assert_eq!(set.len(), DOCKER_DEFAULT.len());
        assert!(!set.contains(&Capability::CAP_SYS_ADMIN));
    }

    #[test]
    fn add_and_drop_accept_both_spellings() {
        let set = resolve(&sec(&["net_admin"], &["CAP_NET_RAW", "chown"])).expect("adjusted");
        assert!(set.contains(&Capability::CAP_NET_ADMIN));
        assert!(!set.contains(&Capability::CAP_NET_RAW));
        assert!(!set.contains(&Capability::CAP_CHOWN));
    }

    #[test]
    fn drop_all_then_add_one() {
        // Docker applies drops to the default set and then adds; ALL in
        // cap_drop empties the default set, cap_add still applies after.
        let set = resolve(&sec(&[], &["ALL"])).expect("none");
        assert!(set.is_empty());
        let set = resolve(&sec(&["NET_ADMIN"], &["ALL"])).expect("one");
        assert_eq!(
            set.into_iter().collect::<Vec<_>>(),
            vec![Capability::CAP_NET_ADMIN]
        );
    }

    #[test]
    fn unknown_capability_is_named() {
        let err = resolve(&sec(&["SYS_MAGIC"], &[])).expect_err("unknown");
        assert!(err.to_string().contains("SYS_MAGIC"));
    }
}
