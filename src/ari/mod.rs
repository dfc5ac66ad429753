//! Our own thin ARI client (Asterisk REST Interface): the REST calls the
//! dialer needs ([`rest`]) and the event WebSocket with reconnects
//! ([`events`]).
//!
//! Written here rather than taken from a crate: the dialer needs five REST
//! calls and four events, with exact control over reconnects, timeouts and
//! what is logged (never the password); the ARI crates available wrap the
//! whole API and hide those choices.

pub mod events;
pub mod rest;

use crate::config::{ConfigError, secret};
use crate::secret::Secret;
use serde::Deserialize;
use std::path::PathBuf;
use thiserror::Error;

/// How to reach ARI.
#[derive(Clone, Debug)]
pub struct AriSettings {
    /// `http://host:port` (no trailing slash).
    pub base: String,
    /// ARI user.
    pub username: String,
    /// Its password.
    pub secret: Secret,
    /// Stasis application name.
    pub app: String,
}

/// `[ari]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AriConfig {
    /// Host of Asterisk's HTTP server.
    pub host: String,
    /// Its port (http.conf `bindport`).
    pub port: u16,
    /// ARI user (ari.conf).
    pub username: String,
    /// File holding the password, mode 0600.
    pub secret_file: Option<PathBuf>,
    /// Variable holding the password (default `SWITCHBOARD_ARI_SECRET`).
    pub secret_env: Option<String>,
    /// Prefix of the Stasis application each engine registers
    /// (`<app>-<engine id>`).
    pub app: String,
}

impl Default for AriConfig {
    fn default() -> Self {
        AriConfig {
            host: "127.0.0.1".into(),
            port: 8088,
            username: "switchboard".into(),
            secret_file: None,
            secret_env: None,
            app: "switchboard".into(),
        }
    }
}

impl AriConfig {
    /// Checks the app name, which reaches the dialplan (the AMD context's
    /// `Stasis(${SB_APP},…)`): letters, digits, `.`, `_`, `-`, 1 to 64.
    ///
    /// Errors: `ari.app` otherwise.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let ok = !self.app.is_empty()
            && self.app.len() <= 64
            && self
                .app
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(())
        } else {
            Err(ConfigError::new(
                "ari.app",
                format!(
                    "`{}`: use letters, digits and . _ - (1 to 64 characters)",
                    crate::sanitize::escape(&self.app)
                ),
            ))
        }
    }

    /// The ARI password: `ari.secret_file`, the systemd credential
    /// `ari-secret`, or the variable named by `ari.secret_env` (default
    /// `SWITCHBOARD_ARI_SECRET`).
    ///
    /// Errors: none found, or a file readable by others.
    pub fn secret(&self) -> Result<Secret, ConfigError> {
        secret::require(secret::SecretSource {
            what: "ARI password",
            file_key: "ari.secret_file",
            file: self.secret_file.as_deref(),
            env: self
                .secret_env
                .as_deref()
                .unwrap_or("SWITCHBOARD_ARI_SECRET"),
            credential: "ari-secret",
        })
    }
}

impl AriSettings {
    /// Settings from the `[ari]` table with the password resolved.
    ///
    /// Errors: no password, or a password file readable by others.
    pub fn from_table(c: &AriConfig) -> Result<Self, ConfigError> {
        Ok(AriSettings {
            base: format!("http://{}:{}", c.host, c.port),
            username: c.username.clone(),
            secret: c.secret()?,
            app: c.app.clone(),
        })
    }
}

/// An ARI failure.
#[derive(Debug, Error)]
pub enum AriError {
    /// Asterisk could not be reached, or did not answer in time.
    #[error("ARI at {base}: {reason}")]
    Unreachable {
        /// Where.
        base: String,
        /// Why.
        reason: String,
    },
    /// Asterisk answered with an error status.
    #[error("ARI {what}: {status} {body}")]
    Status {
        /// The request.
        what: String,
        /// HTTP status.
        status: u16,
        /// Asterisk's message.
        body: String,
    },
    /// A value that must not reach Asterisk.
    #[error("refused to send to ARI: {0}")]
    Invalid(String),
}

impl AriError {
    /// Asterisk does not have that channel (404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, AriError::Status { status: 404, .. })
    }

    /// The HTTP status Asterisk answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            AriError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}
