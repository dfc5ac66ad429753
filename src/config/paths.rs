//! Where switchboard keeps its files (XDG on Linux, via `directories`).

use directories::ProjectDirs;
use std::path::PathBuf;

fn dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "switchboard")
}

/// The config folder (`~/.config/switchboard`); user themes and keymaps live
/// in its `themes/` and `keymaps/` subfolders.
pub fn config_dir() -> Option<PathBuf> {
    dirs().map(|d| d.config_dir().to_path_buf())
}

/// The default config file (`~/.config/switchboard/config.toml`).
pub fn config_file() -> Option<PathBuf> {
    config_dir().map(|d| d.join("config.toml"))
}

/// Where logs go (`~/.local/state/switchboard`, or the local data folder on
/// platforms without a state folder).
pub fn state_dir() -> Option<PathBuf> {
    dirs().map(|d| {
        d.state_dir()
            .unwrap_or_else(|| d.data_local_dir())
            .to_path_buf()
    })
}

/// The text of `<config>/<folder>/<name>.toml` when the user has one, else
/// `builtin(name)`; `Ok(None)` when neither exists. Used by themes and keymaps.
///
/// Errors: the user file exists but cannot be read (message names it).
pub fn user_or_builtin(
    folder: &str,
    name: &str,
    builtin: fn(&str) -> Option<&'static str>,
) -> Result<Option<String>, String> {
    let user = config_dir().map(|d| d.join(folder).join(format!("{name}.toml")));
    match user.filter(|p| p.exists()) {
        Some(path) => std::fs::read_to_string(&path)
            .map(Some)
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        None => Ok(builtin(name).map(str::to_string)),
    }
}
