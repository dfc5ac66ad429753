//! Finding a secret (the AMI and ARI passwords, the app database URL): a
//! 0600 file, a systemd credential, or an environment variable. Never from
//! the config file itself, never logged.

use super::ConfigError;
use crate::secret::Secret;
use std::path::Path;

/// Name of the systemd credential (`LoadCredential=ami-secret:...`).
pub const CREDENTIAL: &str = "ami-secret";

/// Default environment variable holding the secret.
pub const DEFAULT_ENV: &str = "SWITCHBOARD_AMI_SECRET";

/// Where one secret may come from.
#[derive(Clone, Copy, Debug)]
pub struct SecretSource<'a> {
    /// What it is, for messages ("AMI secret").
    pub what: &'a str,
    /// Config key of the file (`ami.secret_file`).
    pub file_key: &'a str,
    /// The file, if configured.
    pub file: Option<&'a Path>,
    /// The variable to read (configured, else the default).
    pub env: &'a str,
    /// systemd credential name (`LoadCredential=NAME:…`).
    pub credential: &'a str,
}

/// Resolves a secret, in order: the file (must not be readable by group or
/// others), `$CREDENTIALS_DIRECTORY/<credential>`, the variable. One trailing
/// line end is stripped. `Ok(None)` when none is set.
///
/// Errors: a file that cannot be read or is readable by others; a secret
/// with a line break, NUL, or leading or trailing blanks inside.
pub fn find(src: SecretSource<'_>) -> Result<Option<Secret>, ConfigError> {
    if let Some(path) = src.file {
        return read_private(path, src.file_key).map(Some);
    }
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
        let path = Path::new(&dir).join(src.credential);
        if path.exists() {
            return read_private(&path, &format!("systemd credential {}", src.credential))
                .map(Some);
        }
    }
    match std::env::var(src.env) {
        Ok(v) if !v.is_empty() => checked(&v, src.env, &format!("${}", src.env)).map(Some),
        _ => Ok(None),
    }
}

/// A secret as read, less one trailing line end. Refused, naming `key` and
/// `origin`: an embedded CR, LF or NUL (it would end the AMI `Secret:` line
/// and start another header), and leading or trailing spaces or tabs (almost
/// always a copy-paste slip, and Asterisk compares secrets exactly).
fn checked(raw: &str, key: &str, origin: &str) -> Result<Secret, ConfigError> {
    let value = raw
        .strip_suffix("\r\n")
        .or_else(|| raw.strip_suffix('\n'))
        .unwrap_or(raw);
    if value.is_empty() {
        return Err(ConfigError::new(key, format!("{origin} is empty")));
    }
    if value.contains(['\r', '\n', '\0']) {
        return Err(ConfigError::new(
            key,
            format!("{origin} holds a line break or NUL inside the secret; keep it on one line"),
        ));
    }
    if value.trim_matches([' ', '\t']) != value {
        return Err(ConfigError::new(
            key,
            format!("{origin} starts or ends with spaces or tabs; remove them"),
        ));
    }
    Ok(Secret::new(value))
}

/// Like [`find`], and a missing secret is an error that says where to put it.
///
/// Errors: as [`find`], or no secret anywhere.
pub fn require(src: SecretSource<'_>) -> Result<Secret, ConfigError> {
    find(src)?.ok_or_else(|| {
        ConfigError::new(
            src.file_key,
            format!(
                "no {}: set {} to a file with mode 0600, or export {}, or pass a systemd credential named {}",
                src.what, src.file_key, src.env, src.credential
            ),
        )
    })
}

/// Resolves the AMI secret: `secret_file`, `$CREDENTIALS_DIRECTORY/ami-secret`,
/// the variable named by `secret_env` (default `SWITCHBOARD_AMI_SECRET`).
///
/// Errors: see [`require`].
pub fn resolve(
    secret_file: Option<&Path>,
    secret_env: Option<&str>,
) -> Result<Secret, ConfigError> {
    require(SecretSource {
        what: "AMI secret",
        file_key: "ami.secret_file",
        file: secret_file,
        env: secret_env.unwrap_or(DEFAULT_ENV),
        credential: CREDENTIAL,
    })
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
    checked(&text, key, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn secrets_with_inner_line_breaks_or_blanks_are_refused() {
        for bad in ["a\nb", "a\rb\n", "a\0b", " abc", "abc \n", "abc\t", "\n"] {
            assert!(checked(bad, "ami.secret_file", "f").is_err(), "{bad:?}");
        }
        for (good, want) in [("abc\n", "abc"), ("abc\r\n", "abc"), ("a b", "a b")] {
            assert_eq!(
                checked(good, "k", "f").map(|s| s.expose().to_string()),
                Ok(want.to_string())
            );
        }
    }

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
