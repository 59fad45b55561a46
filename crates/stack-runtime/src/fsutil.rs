//! Small file helpers shared by the engine side and the helper side.

use std::io::Write;
use std::path::Path;

use crate::error::{Context, Error};

/// Writes a file so readers see the old or the new content, never a part.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp).context(|| format!("create {}", tmp.display()))?;
    file.write_all(data)
        .context(|| format!("write {}", tmp.display()))?;
    drop(file);
    std::fs::rename(&tmp, path).context(|| format!("rename to {}", path.display()))
}

/// Removes a directory tree; a missing one is fine.
pub fn remove_tree(path: &Path) -> Result<(), Error> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(Error::io(format!("remove {}", path.display()), err)),
    }
}

/// Moves a container directory (`<root>/containers/<id>`) to
/// `<root>/trash/<id>`, so it is gone from the store atomically and can be
/// deleted at leisure. Falls back to deleting it in place.
pub fn move_to_trash(dir: &Path) -> Result<std::path::PathBuf, Error> {
    let (Some(id), Some(root)) = (dir.file_name(), dir.parent().and_then(Path::parent)) else {
        remove_tree(dir)?;
        return Ok(dir.to_path_buf());
    };
    let trash = root.join("trash");
    let target = trash.join(id);
    let moved = std::fs::create_dir_all(&trash).and_then(|()| std::fs::rename(dir, &target));
    match moved {
        Ok(()) => Ok(target),
        Err(_) => {
            remove_tree(dir)?;
            Ok(dir.to_path_buf())
        }
    }
}
