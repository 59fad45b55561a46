//! The fixture images (busybox, redis; gzip, zstd, plain; a multi-arch
//! index) built from this machine's Debian packages by
//! tests/fixtures/build-images.sh into target/fixtures. The script keeps a
//! stamp and returns at once while its output is up to date.

use std::path::PathBuf;
use std::process::Command;

/// Builds (or confirms) the fixtures; returns their directory.
pub fn ensure() -> Result<PathBuf, String> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let out = target.join("fixtures");
    crate::run::checked(
        Command::new("bash")
            .arg(workspace.join("tests/fixtures/build-images.sh"))
            .arg(&out),
    )?;
    Ok(out)
}
