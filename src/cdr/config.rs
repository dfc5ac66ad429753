//! The `[cdr]` table: where the CDRs and the queue_log are, the PBX's time
//! zone, and how long a query may wait.

use crate::config::{ConfigError, secret};
use crate::secret::Secret;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `[cdr]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CdrConfig {
    /// File holding the database URL (it carries a password): mode 0600.
    pub url_file: Option<PathBuf>,
    /// Environment variable holding the URL (default `SWITCHBOARD_CDR_URL`).
    pub url_env: Option<String>,
    /// CDR table name.
    pub table: String,
    /// The PBX's time zone (IANA name): Asterisk writes CDR times in it.
    /// Default: `TZ`, else the system zone, else UTC.
    pub time_zone: Option<String>,
    /// Column overrides, CDR field → column (`start = "calldate"`).
    pub columns: BTreeMap<String, String>,
    /// Asterisk's queue_log file, for queue KPIs.
    pub queue_log: Option<PathBuf>,
    /// Commands (`cdr export`, `kpi`): longest wait for a query's next row,
    /// seconds, before failing with a message naming the server.
    pub query_timeout_s: u64,
    /// The console's History and KPI screens: the same wait, seconds.
    pub screen_query_timeout_s: u64,
}

impl Default for CdrConfig {
    fn default() -> Self {
        CdrConfig {
            url_file: None,
            url_env: None,
            table: "cdr".into(),
            time_zone: None,
            columns: BTreeMap::new(),
            queue_log: None,
            query_timeout_s: 30,
            screen_query_timeout_s: 10,
        }
    }
}

impl CdrConfig {
    /// Checks what serde cannot.
    ///
    /// Errors: a time zone that is not an IANA name, or a wait out of
    /// range, named.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(tz) = &self.time_zone
            && tz.parse::<chrono_tz::Tz>().is_err()
        {
            return Err(ConfigError::new(
                "cdr.time_zone",
                format!("`{tz}` is not an IANA time zone (e.g. Europe/Paris)"),
            ));
        }
        let ranges = [
            ("cdr.query_timeout_s", self.query_timeout_s, 3_600),
            (
                "cdr.screen_query_timeout_s",
                self.screen_query_timeout_s,
                600,
            ),
        ];
        for (key, value, hi) in ranges {
            if !(1..=hi).contains(&value) {
                return Err(ConfigError::new(
                    key,
                    format!("{value} is out of range 1-{hi}"),
                ));
            }
        }
        Ok(())
    }

    /// The CDR database URL: `cli` (`--cdr-url` or `SWITCHBOARD_CDR_URL`),
    /// else `url_file` (0600), else the variable `url_env`.
    ///
    /// Errors: none of them is set, or the file is readable by others.
    pub fn url(&self, cli: Option<&str>) -> Result<Secret, ConfigError> {
        if let Some(url) = cli.filter(|u| !u.is_empty()) {
            return Ok(Secret::new(url));
        }
        if let Some(path) = &self.url_file {
            return secret::read_private(path, "cdr.url_file");
        }
        let var = self.url_env.as_deref().unwrap_or("SWITCHBOARD_CDR_URL");
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Secret::new(v.trim())),
            _ => Err(ConfigError::new(
                "cdr.url_file",
                format!(
                    "no CDR database: pass --cdr-url, export {var}, or set cdr.url_file (mode 0600)"
                ),
            )),
        }
    }

    /// The PBX time zone: `cli` (`--tz` / `SWITCHBOARD_TZ`), else
    /// `time_zone`, else `TZ`, else the system's zone (`/etc/localtime`
    /// as systemd and RHEL-family systems set it, or `/etc/timezone`), else
    /// UTC.
    ///
    /// Errors: a name that is not an IANA zone.
    pub fn zone(&self, cli: Option<&str>) -> Result<chrono_tz::Tz, ConfigError> {
        let (name, key) = match (cli, &self.time_zone) {
            (Some(z), _) => (z.to_string(), "--tz"),
            (None, Some(z)) => (z.clone(), "cdr.time_zone"),
            (None, None) => {
                let sys = std::env::var("TZ")
                    .ok()
                    .map(|z| z.trim().trim_start_matches(':').to_string())
                    .filter(|z| z.parse::<chrono_tz::Tz>().is_ok())
                    .or_else(|| iana_time_zone::get_timezone().ok())
                    .or_else(|| std::fs::read_to_string("/etc/timezone").ok())
                    .map(|z| z.trim().to_string())
                    .filter(|z| z.parse::<chrono_tz::Tz>().is_ok());
                (sys.unwrap_or_else(|| "UTC".into()), "TZ")
            }
        };
        name.parse().map_err(|_| {
            ConfigError::new(
                key,
                format!("`{name}` is not an IANA time zone (e.g. Europe/Paris)"),
            )
        })
    }
}
