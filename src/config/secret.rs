//! Finding the AMI secret: a 0600 file, a systemd credential, or an
//! environment variable. Never from the config file itself, never logged.

use super::ConfigError;
use crate::secret::Secret;
use std::path::Path;

/// Name of the systemd credential (`LoadCredential=ami-secret:...`).
pub const CREDENTIAL: &str = "ami-secret";

/// Default environment variable holding the secret.
pub const DEFAULT_ENV: &str = "SWITCHBOARD_AMI_SECRET";

/// Resolves the secret, in order: `secret_file` (must not be readable by
/// group or others), `$CREDENTIALS_DIRECTORY/ami-secret`, the variable named by
/// `secret_env` (default `SWITCHBOARD_AMI_SECRET`). Trailing newlines are
/// stripped.
pub fn resolve(
    secret_file: Option<&Path>,
    secret_env: Option<&str>,
) -> Result<Secret, ConfigError> {
    if let Some(path) = secret_file {
        return read_private(path, "ami.secret_file");
    }
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
        let path = Path::new(&dir).join(CREDENTIAL);
        if path.exists() {
            return read_private(&path, "systemd credential ami-secret");
        }
    }
    let var = secret_env.unwrap_or(DEFAULT_ENV);
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(Secret::new(v.trim_end_matches(['\r', '\n']))),
        _ => Err(ConfigError::new(
            "ami.secret_file",
            format!(
                "no AMI secret: set ami.secret_file to a file with mode 0600, \
                 or export {var}, or pass a systemd credential named {CREDENTIAL}"
            ),
        )),
    }
}

/// Reads a secret from `path`, refusing a file that group or others can
/// read; `key` names the setting in errors.
pub fn read_private(path: &Path, key: &str) -> Result<Secret, ConfigError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)
            .map_err(|e| ConfigError::new(key, format!("cannot read {}: {e}", path.display())))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(ConfigError::new(
                key,
                format!(
                    "{} is readable by group or others (mode {mode:04o}); run `chmod 600 {}`",
                    path.display(),
                    path.display()
                ),
            ));
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(key, format!("cannot read {}: {e}", path.display())))?;
    let value = text.trim_end_matches(['\r', '\n']);
    if value.is_empty() {
        return Err(ConfigError::new(
            key,
            format!("{} is empty", path.display()),
        ));
    }
    Ok(Secret::new(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn file_must_be_private() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("s");
        std::fs::write(&path, "abc\n")?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
        let err = resolve(Some(&path), None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("chmod 600") && err.starts_with("ami.secret_file"),
            "{err}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        assert_eq!(
            resolve(Some(&path), None).map(|s| s.expose().to_string()),
            Ok("abc".into())
        );
        Ok(())
    }
}
