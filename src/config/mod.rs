//! What every table of the config file shares: the error that names a key
//! ([`ConfigError`]), where the file and the state folders are
//! ([`paths`]), and how secrets are read from files, credentials and the
//! environment ([`secret`]). A leaf: the tables themselves belong to their
//! modules, and [`crate::setup`] composes them.

pub mod paths;
pub mod secret;

use thiserror::Error;

/// A config problem, naming the key (`ami.port`) or the file.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{key}: {message}")]
pub struct ConfigError {
    /// Dotted key (`ami.port`) or file path.
    pub key: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl ConfigError {
    /// An error about `key`.
    pub fn new(key: &str, message: impl Into<String>) -> Self {
        ConfigError {
            key: key.to_string(),
            message: message.into(),
        }
    }
}
