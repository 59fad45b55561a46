//! The fixture stack files under `tests/fixtures/`.

use std::path::{Path, PathBuf};

use stack_spec::{LoadOptions, Project};

/// Directory of the fixtures (their relative paths resolve against it).
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every fixture that renders with default options.
pub const RENDERABLE: &[&str] = &["shop", "options", "untranslatable", "names", "migration"];

/// Loads `tests/fixtures/<name>.yaml` with the stack file loader, with an
/// empty environment so results never depend on the machine.
pub fn load(name: &str) -> Project {
    load_file(&dir().join(format!("{name}.yaml")))
}

/// Loads any stack file the same way.
pub fn load_file(path: &Path) -> Project {
    let options = LoadOptions {
        files: vec![path.to_path_buf()],
        working_dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        ..LoadOptions::default()
    };
    stack_spec::load(&options)
        .unwrap_or_else(|err| panic!("{} does not load:\n{}", path.display(), err.render_plain()))
}
