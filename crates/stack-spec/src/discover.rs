//! Which files to load and what the project is called.

use std::path::{Path, PathBuf};

/// File names searched, in order, in the working directory then its parents.
pub const DEFAULT_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
    "stack.yaml",
    "stack.yml",
];

/// Finds the default stack file from `dir` upwards, plus its override file
/// (`compose.override.yaml` next to `compose.yaml`, and so on).
pub fn discover(dir: &Path) -> Option<Vec<PathBuf>> {
    for candidate_dir in dir.ancestors() {
        for name in DEFAULT_FILES {
            let path = candidate_dir.join(name);
            if path.is_file() {
                let mut files = vec![path];
                if let Some((stem, ext)) = name.rsplit_once('.') {
                    let over = candidate_dir.join(format!("{stem}.override.{ext}"));
                    if over.is_file() {
                        files.push(over);
                    }
                }
                return Some(files);
            }
        }
    }
    None
}

/// Compose's rule for an explicit name: lowercase letters, digits, `_`, `-`,
/// starting with a letter or digit.
pub fn is_valid_project_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Normalizes a directory name into a project name: lowercased, other
/// characters dropped, leading `_`/`-` trimmed.
pub fn normalize_project_name(name: &str) -> String {
    let lowered: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    lowered.trim_start_matches(['_', '-']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names() {
        assert!(is_valid_project_name("my-app_2"));
        assert!(!is_valid_project_name("My App"));
        assert!(!is_valid_project_name("-x"));
        assert!(!is_valid_project_name(""));
        assert_eq!(normalize_project_name("My App.v2"), "myappv2");
        assert_eq!(normalize_project_name("__Web-1"), "web-1");
    }
}
