//! `-u USER` resolved through the container's own /etc/passwd and
//! /etc/group, as Docker does: `name`, `uid`, `name:group`, `uid:gid`.
//! A numeric uid missing from passwd is allowed (gid 0, home /); a name
//! missing from passwd is an error. Supplementary groups are every group
//! that lists the user's name.

use crate::error::Error;

/// Who the process runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups, without the primary gid unless listed.
    pub groups: Vec<u32>,
    pub home: String,
}

struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: Vec<&'a str>,
}

fn passwd_entries(text: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    text.lines().filter_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() < 7 || line.starts_with('#') {
            return None;
        }
        Some(PasswdEntry {
            name: f[0],
            uid: f[2].parse().ok()?,
            gid: f[3].parse().ok()?,
            home: f[5],
        })
    })
}

fn group_entries(text: &str) -> impl Iterator<Item = GroupEntry<'_>> {
    text.lines().filter_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() < 4 || line.starts_with('#') {
            return None;
        }
        Some(GroupEntry {
            name: f[0],
            gid: f[2].parse().ok()?,
            members: f[3].split(',').filter(|m| !m.is_empty()).collect(),
        })
    })
}

/// Resolves `spec` against the container's passwd and group files (either
/// may be empty when the image has none).
pub fn resolve(spec: &str, passwd: &str, group: &str) -> Result<ResolvedUser, Error> {
    let spec = if spec.is_empty() { "0" } else { spec };
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let entry = passwd_entries(passwd).find(|e| match user_part.parse::<u32>() {
        Ok(uid) => e.uid == uid,
        Err(_) => e.name == user_part,
    });
    let (uid, mut gid, name, home) = match (entry, user_part.parse::<u32>()) {
        (Some(e), _) => (e.uid, e.gid, Some(e.name), e.home.to_string()),
        (None, Ok(uid)) => (uid, 0, None, "/".to_string()),
        (None, Err(_)) => {
            return Err(Error::UnknownIdentity {
                what: format!("user {user_part:?}"),
                message: "no matching entry in the container's /etc/passwd",
            })
        }
    };
    if let Some(g) = group_part {
        gid = match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => group_entries(group)
                .find(|e| e.name == g)
                .map(|e| e.gid)
                .ok_or_else(|| Error::UnknownIdentity {
                    what: format!("group {g:?}"),
                    message: "no matching entry in the container's /etc/group",
                })?,
        };
    }
    let mut groups: Vec<u32> = match name {
        Some(name) => group_entries(group)
            .filter(|e| e.members.contains(&name))
            .map(|e| e.gid)
            .collect(),
        None => Vec::new(),
    };
    groups.dedup();
    Ok(ResolvedUser {
        uid,
        gid,
        groups,
        home,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str =
        "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nalice:x:1000:\nwheel:x:10:alice,bob\naudio:x:29:alice\n";

    #[test]
    fn name_gives_primary_and_supplementary_groups() {
        let u = resolve("alice", PASSWD, GROUP).expect("alice");
        assert_eq!((u.uid, u.gid), (1000, 1000));
        assert_eq!(u.groups, vec![10, 29]);
        assert_eq!(u.home, "/home/alice");
    }

    #[test]
    fn numeric_uid_unknown_to_passwd_is_allowed() {
        let u = resolve("4242", PASSWD, GROUP).expect("uid");
        assert_eq!((u.uid, u.gid, u.home.as_str()), (4242, 0, "/"));
        assert!(u.groups.is_empty());
    }

    #[test]
    fn uid_gid_and_group_names() {
        let u = resolve("1000:29", PASSWD, GROUP).expect("uid:gid");
        assert_eq!((u.uid, u.gid), (1000, 29));
        let u = resolve("alice:wheel", PASSWD, GROUP).expect("name:group");
        assert_eq!((u.uid, u.gid), (1000, 10));
    }

    #[test]
    fn empty_is_root_and_unknown_name_is_an_error() {
        assert_eq!(resolve("", PASSWD, GROUP).expect("root").uid, 0);
        let err = resolve("mallory", PASSWD, GROUP).expect_err("unknown");
        assert!(err.to_string().contains("mallory"), "{err}");
        assert!(resolve("alice:nogroup", PASSWD, GROUP).is_err());
    }
}
