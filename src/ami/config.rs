//! The `[ami]` table (or a `[[pbx]]` table's `ami`): how to reach one
//! PBX's manager interface, turned into connection [`Settings`].

use super::Settings;
use crate::config::{ConfigError, secret};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// `[ami]` (or a `[[pbx]]` table's `ami`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AmiConfig {
    /// Host name or address of the AMI listener.
    pub host: String,
    /// TCP port (manager.conf `port`, 5038 by default).
    pub port: u16,
    /// manager.conf user.
    pub username: String,
    /// File holding the secret; must be mode 0600 or stricter.
    pub secret_file: Option<PathBuf>,
    /// Environment variable holding the secret (default `SWITCHBOARD_AMI_SECRET`).
    pub secret_env: Option<String>,
    /// Connect + login deadline, seconds.
    pub connect_timeout_s: u64,
    /// Seconds between keep-alive pings.
    pub ping_interval_s: u64,
    /// Seconds a ping may go unanswered before reconnecting.
    pub ping_timeout_s: u64,
    /// First reconnect delay, milliseconds.
    pub backoff_min_ms: u64,
    /// Longest reconnect delay, seconds.
    pub backoff_max_s: u64,
}

impl Default for AmiConfig {
    fn default() -> Self {
        AmiConfig {
            host: "127.0.0.1".into(),
            port: 5038,
            username: "switchboard".into(),
            secret_file: None,
            secret_env: None,
            connect_timeout_s: 5,
            ping_interval_s: 10,
            ping_timeout_s: 5,
            backoff_min_ms: 500,
            backoff_max_s: 30,
        }
    }
}

impl AmiConfig {
    /// Connection settings with the secret resolved and the given resync
    /// list.
    ///
    /// Errors: the secret is missing or its file readable by others.
    pub fn settings(&self, resync: Vec<super::Action>) -> Result<Settings, ConfigError> {
        let secret = secret::resolve(self.secret_file.as_deref(), self.secret_env.as_deref())?;
        Ok(Settings {
            addr: format!("{}:{}", self.host, self.port),
            username: self.username.clone(),
            secret,
            connect_timeout: Duration::from_secs(self.connect_timeout_s),
            ping_interval: Duration::from_secs(self.ping_interval_s),
            ping_timeout: Duration::from_secs(self.ping_timeout_s),
            backoff_min: Duration::from_millis(self.backoff_min_ms),
            backoff_max: Duration::from_secs(self.backoff_max_s),
            resync,
        })
    }

    /// Host, port, user, and the seconds that become deadlines; `key` is
    /// where these keys are (`ami`, `pbx.paris.ami`).
    pub fn validate(&self, key: &str) -> Result<(), ConfigError> {
        if self.host.trim().is_empty() {
            return Err(ConfigError::new(
                &format!("{key}.host"),
                "must not be empty",
            ));
        }
        if self.port == 0 {
            return Err(ConfigError::new(&format!("{key}.port"), "must be 1-65535"));
        }
        if self.username.is_empty() || self.username.contains(['\r', '\n', '\0']) {
            return Err(ConfigError::new(
                &format!("{key}.username"),
                "must be a non-empty single line",
            ));
        }
        let ranges: [(&str, u64, u64, u64); 5] = [
            ("connect_timeout_s", self.connect_timeout_s, 1, 300),
            ("ping_interval_s", self.ping_interval_s, 1, 3_600),
            ("ping_timeout_s", self.ping_timeout_s, 1, 300),
            ("backoff_min_ms", self.backoff_min_ms, 50, 60_000),
            ("backoff_max_s", self.backoff_max_s, 1, 3_600),
        ];
        for (name, value, lo, hi) in ranges {
            if !(lo..=hi).contains(&value) {
                return Err(ConfigError::new(
                    &format!("{key}.{name}"),
                    format!("{value} is out of range {lo}-{hi}"),
                ));
            }
        }
        if self.backoff_min_ms > self.backoff_max_s.saturating_mul(1000) {
            return Err(ConfigError::new(
                &format!("{key}.backoff_min_ms"),
                format!("must not exceed {key}.backoff_max_s"),
            ));
        }
        Ok(())
    }
}
