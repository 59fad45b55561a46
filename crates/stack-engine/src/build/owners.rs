//! `--chown=user[:group]`: numbers as they are, names looked up in the
//! image's own `/etc/passwd` and `/etc/group` (not the host's), as
//! Docker does.

use std::path::Path;

use super::tree::{resolve, SourceTree};

/// The owner copied files get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

/// Resolves `spec` against the image. A user without a group takes the
/// user's primary group (or its own id when it is a number).
pub fn resolve_owner(spec: &str, image: &dyn SourceTree) -> Result<Owner, String> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let passwd = read(image, "etc/passwd");
    let (uid, primary) = match user.parse::<u32>() {
        Ok(uid) => (uid, uid),
        Err(_) => lookup(&passwd, user)
            .and_then(|f| Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?)))
            .ok_or_else(|| {
                format!("--chown={spec}: no user {user:?} in the image's /etc/passwd")
            })?,
    };
    let gid = match group {
        None => primary,
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => lookup(&read(image, "etc/group"), g)
                .and_then(|f| f.get(2)?.parse().ok())
                .ok_or_else(|| {
                    format!("--chown={spec}: no group {g:?} in the image's /etc/group")
                })?,
        },
    };
    Ok(Owner { uid, gid })
}

fn read(image: &dyn SourceTree, path: &str) -> String {
    resolve(image, Path::new(path), true)
        .and_then(|p| image.entry(&p))
        .filter(|e| e.meta.is_file())
        .and_then(|e| std::fs::read_to_string(e.host_path).ok())
        .unwrap_or_default()
}

/// The `:`-separated fields of the line whose first field is `name`.
fn lookup<'a>(text: &'a str, name: &str) -> Option<Vec<&'a str>> {
    text.lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::tree::LayersTree;

    #[test]
    fn names_come_from_the_image() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join("etc")).expect("etc");
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n",
        )
        .expect("passwd");
        std::fs::write(dir.path().join("etc/group"), "root:x:0:\nstaff:x:50:\n").expect("group");
        let image = LayersTree::new(vec![dir.path().to_path_buf()]);
        let owner = |s| resolve_owner(s, &image);
        assert_eq!(
            owner("app"),
            Ok(Owner {
                uid: 1000,
                gid: 1001
            })
        );
        assert_eq!(owner("app:staff"), Ok(Owner { uid: 1000, gid: 50 }));
        assert_eq!(owner("7:8"), Ok(Owner { uid: 7, gid: 8 }));
        assert_eq!(owner("7"), Ok(Owner { uid: 7, gid: 7 }));
        assert!(owner("nobody")
            .expect_err("unknown")
            .contains("no user \"nobody\""));
    }
}
