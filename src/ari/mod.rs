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

use crate::secret::Secret;
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

impl AriSettings {
    /// Settings from the `[ari]` config with the password resolved.
    ///
    /// Errors: no password, or a password file readable by others.
    pub fn from_config(c: &crate::config::Config) -> Result<Self, crate::config::ConfigError> {
        Ok(AriSettings {
            base: format!("http://{}:{}", c.ari.host, c.ari.port),
            username: c.ari.username.clone(),
            secret: c.ari_secret()?,
            app: c.ari.app.clone(),
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
