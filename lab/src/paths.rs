//! How paths are shown to people: relative to the working directory when below it.

use std::path::Path;

/// Folders whose files are shown relative to themselves (the bundled suite written to disk).
static SHOWN_RELATIVE: std::sync::RwLock<Vec<std::path::PathBuf>> =
    std::sync::RwLock::new(Vec::new());

/// Shows files under `root` relative to it, as the repository names them.
pub fn show_relative_to(root: &Path) {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    SHOWN_RELATIVE
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .push(root);
}

/// A path relative to the working directory when it is below it (or to a folder registered
/// with [`show_relative_to`]).
pub fn display_path(path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    for root in SHOWN_RELATIVE
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
    {
        if let Ok(relative) = path.strip_prefix(root) {
            return relative.display().to_string();
        }
    }
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(path)
        .display()
        .to_string()
}
