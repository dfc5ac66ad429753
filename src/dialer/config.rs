//! The `[dialer]` table: the app database and the engine's dialplan
//! places, drain and spool.

use crate::config::{ConfigError, secret};
use crate::secret::Secret;
use serde::Deserialize;
use std::path::PathBuf;

/// `[dialer]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DialerConfig {
    /// File holding the app database URL (mode 0600). Default: a SQLite
    /// file in the platform data folder.
    pub db_url_file: Option<PathBuf>,
    /// Variable holding the URL (default `SWITCHBOARD_DB_URL`).
    pub db_url_env: Option<String>,
    /// This engine's id (default: host name).
    pub engine_id: Option<String>,
    /// With several `[[pbx]]`: the one the engine dials on (the one `[ari]`
    /// reaches), whose AMI link shows it the queues' agents. Default: the
    /// first.
    pub pbx: Option<String>,
    /// Dialplan context answered calls go to for `{ queue = "q" }`; its
    /// extension is the queue name and it runs `Queue(${EXTEN})`.
    pub queue_context: String,
    /// Dialplan context for `{ extension = "201" }`.
    pub extension_context: String,
    /// Dialplan context whose `s` extension plays the safe-harbour message
    /// (`${SB_DROP_MESSAGE}`, the campaign's `pacing.drop_message`) and
    /// hangs up: where an answered call no agent took within the
    /// campaign's `drop_s` is moved (AMI `Redirect`, `write = call`).
    pub drop_context: String,
    /// Dialplan context whose `s` extension runs `AMD()` and returns the
    /// call to the engine's Stasis app (`${SB_APP}`) with `amd`, the
    /// verdict and its cause: where an answered call of a campaign with
    /// `[amd]` goes first.
    pub amd_context: String,
    /// Dialplan context whose `s` extension leaves a message on an
    /// answering machine (`${SB_MACHINE_MESSAGE}`, the campaign's
    /// `amd.message`) and hangs up, for `amd.machine = "message"`.
    pub machine_context: String,
    /// On SIGTERM, wait at most this long for live calls, seconds.
    pub drain_s: u32,
    /// Where the engine keeps its spool of database writes not yet landed
    /// (`engine-<id>.spool`, mode 0600), replayed at its next start.
    /// Default: the state folder (`~/.local/state/switchboard`; under the
    /// shipped unit, inside its `StateDirectory`).
    pub spool_dir: Option<PathBuf>,
}

impl Default for DialerConfig {
    fn default() -> Self {
        DialerConfig {
            db_url_file: None,
            db_url_env: None,
            engine_id: None,
            pbx: None,
            queue_context: "switchboard-queue".into(),
            extension_context: "from-internal".into(),
            drop_context: "switchboard-drop".into(),
            amd_context: "switchboard-amd".into(),
            machine_context: "switchboard-machine".into(),
            drain_s: 120,
            spool_dir: None,
        }
    }
}

impl DialerConfig {
    /// Checks what serde cannot.
    ///
    /// Errors: a bad `engine_id` or `drain_s`, named.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(id) = &self.engine_id {
            let ok = !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !ok {
                return Err(ConfigError::new(
                    "dialer.engine_id",
                    "use letters, digits and . _ - (1 to 64 characters)",
                ));
            }
        }
        if self.drain_s > 86_400 {
            return Err(ConfigError::new(
                "dialer.drain_s",
                format!("{} is out of range 0-86400", self.drain_s),
            ));
        }
        Ok(())
    }

    /// The app database URL: `cli` (`--db-url` / `SWITCHBOARD_DB_URL`), else
    /// `db_url_file`, the systemd credential `db-url`, the variable named
    /// by `db_url_env`, else the embedded SQLite file.
    ///
    /// Errors: an unreadable or world-readable URL file; no data folder.
    pub fn db_url(&self, cli: Option<&str>) -> Result<Secret, ConfigError> {
        if let Some(url) = cli.filter(|u| !u.is_empty()) {
            return Ok(Secret::new(url));
        }
        let found = secret::find(secret::SecretSource {
            what: "app database URL",
            file_key: "dialer.db_url_file",
            file: self.db_url_file.as_deref(),
            env: self.db_url_env.as_deref().unwrap_or("SWITCHBOARD_DB_URL"),
            credential: "db-url",
        })?;
        match found {
            Some(url) => Ok(url),
            None => super::store::default_url()
                .map(Secret::new)
                .map_err(|e| ConfigError::new("dialer.db_url_file", e.to_string())),
        }
    }
}
