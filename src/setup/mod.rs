//! The composition root: the config file as a whole (every module's own
//! table, composed), its checks across tables, and the settings each part
//! of switchboard is built with. Modules own their tables' types
//! (`[ami]` in [`crate::ami::config`], `[cdr]` in [`crate::cdr::config`],
//! `[acl]` in [`crate::access::acl`]…) and never read this file's
//! [`Config`]; the front-ends (the binary's commands, the console, the
//! daemon's start) take what they need from here.
//!
//! ```toml
//! [ami]
//! host = "pbx.example.net"      # default 127.0.0.1
//! port = 5038
//! username = "switchboard"
//! secret_file = "/etc/switchboard/ami-secret"   # mode 0600; or secret_env
//!
//! [ui]
//! theme = "dark"                # dark, light, high-contrast, or a user theme
//! keymap = "default"            # default, vim, or a user keymap
//! fps = 30
//!
//! [time_in_state]               # colour ramps, seconds
//! ringing = { warn_s = 15, crit_s = 30 }
//!
//! [health]                      # queue health thresholds
//! wait_warn_s = 30
//! staffing_goal_percent = 80    # Erlang C advice: % within the queue's SL
//! staffing_window_s = 1800      # ... from the load of this many seconds
//! ```

mod build;

use crate::access::acl::AclConfig;
use crate::ami::config::AmiConfig;
use crate::ami::{Action, Settings};
use crate::ari::AriConfig;
use crate::cdr::config::CdrConfig;
use crate::cdr::kpi_config::KpiConfig;
use crate::config::{ConfigError, paths};
use crate::dialer::config::DialerConfig;
use crate::pbx::HealthThresholds;
use crate::pbx::site::DEFAULT_PBX;
use crate::secret::Secret;
use crate::serve::ServeConfig;
use crate::ui::config::{TimeInState, UiConfig};
use serde::Deserialize;
use std::path::Path;

/// The whole configuration.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[ami]`: how to reach Asterisk, for a single PBX (named
    /// [`crate::pbx::site::DEFAULT_PBX`]).
    pub ami: AmiConfig,
    /// `[[pbx]]`: several PBXs, each with its name and AMI link (instead of
    /// `[ami]`).
    pub pbx: Vec<PbxConfig>,
    /// `[ui]`: theme, keymap, frame rate.
    pub ui: UiConfig,
    /// `[time_in_state]`: colour ramps per extension state.
    pub time_in_state: TimeInState,
    /// `[health]`: queue health thresholds.
    pub health: HealthThresholds,
    /// `[cdr]`: where the CDRs are.
    pub cdr: CdrConfig,
    /// `[acl]`: who sees which calls.
    pub acl: AclConfig,
    /// `[ari]`: how the engine reaches Asterisk's REST interface.
    pub ari: AriConfig,
    /// `[dialer]`: the app database and the engine.
    pub dialer: DialerConfig,
    /// `[kpi]`: what counts as an extension, service-level variants and
    /// targets per queue, agents' extensions.
    pub kpi: KpiConfig,
    /// `[serve]`: the daemon's socket.
    pub serve: ServeConfig,
    /// `[roles]`: what users may do to the floor (action × queues).
    pub roles: crate::access::roles::RolesConfig,
    /// `[actions]`: pause reasons and where transfers land.
    pub actions: crate::supervise::config::ActionsConfig,
}

/// One `[[pbx]]` table: a PBX the daemon (or a direct console) follows.
///
/// ```toml
/// [[pbx]]
/// name = "paris"
/// ami = { host = "10.0.0.2", username = "switchboard", secret_file = "/etc/switchboard/paris-ami" }
/// [[pbx]]
/// name = "lyon"
/// ami = { host = "10.0.1.2", secret_env = "LYON_AMI_SECRET" }
/// cdr = { url_file = "/etc/switchboard/lyon-cdr-url", time_zone = "Europe/Paris", queue_log = "/srv/lyon/queue_log" }
/// ```
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PbxConfig {
    /// Shown in the PBX column and the header, and matched by `pbx:NAME`
    /// filters: letters, digits, `.`, `_`, `-`, at most 32.
    pub name: String,
    /// How to reach its AMI (the keys of `[ami]`).
    #[serde(default)]
    pub ami: AmiConfig,
    /// Where its CDRs and queue_log are (the keys of `[cdr]`). Without
    /// it, the first PBX reads `[cdr]` and any other has no History or
    /// KPIs.
    #[serde(default)]
    pub cdr: Option<CdrConfig>,
}

impl Config {
    /// Parses TOML text; `origin` names the file in errors. Unknown keys and
    /// wrong types are errors that name the key and line.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text)
            .map_err(|e| ConfigError::new(origin, e.to_string().trim_end().to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Loads `path`, or the default file when `path` is `None`; a missing
    /// default file means defaults.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let (path, explicit) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => match paths::config_file() {
                Some(p) => (p, false),
                None => return Ok(Config::default()),
            },
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                Ok(Config::default())
            }
            Err(e) => Err(ConfigError::new(
                &path.display().to_string(),
                format!("cannot read the config file: {e}"),
            )),
        }
    }

    /// The PBXs followed, in order: each `[[pbx]]`, or `[ami]` as the one
    /// PBX named [`DEFAULT_PBX`].
    pub fn pbxs(&self) -> Vec<(&str, &AmiConfig)> {
        if self.pbx.is_empty() {
            vec![(DEFAULT_PBX, &self.ami)]
        } else {
            self.pbx.iter().map(|p| (p.name.as_str(), &p.ami)).collect()
        }
    }

    /// Where PBX `name`'s CDRs are: its own `cdr` table, else `[cdr]` for
    /// the first PBX; `None` for another PBX without one.
    pub fn cdr_of(&self, name: &str) -> Option<&CdrConfig> {
        let own = self.pbx.iter().find(|p| p.name == name);
        match own.and_then(|p| p.cdr.as_ref()) {
            Some(cdr) => Some(cdr),
            None if self.pbx_names().first().map(String::as_str) == Some(name) => Some(&self.cdr),
            None => None,
        }
    }

    /// The PBXs' names, in order.
    pub fn pbx_names(&self) -> Vec<String> {
        self.pbxs().iter().map(|(n, _)| n.to_string()).collect()
    }

    /// Each PBX's name and connection settings (secrets resolved), in order.
    ///
    /// Errors: a PBX's secret is missing or its file readable by others.
    pub fn pbx_links(&self, resync: &[Action]) -> Result<Vec<(String, Settings)>, ConfigError> {
        self.pbxs()
            .into_iter()
            .map(|(name, ami)| {
                let settings = ami.settings(resync.to_vec()).map_err(|e| {
                    if self.pbx.is_empty() {
                        e
                    } else {
                        ConfigError::new(&format!("pbx.{name}.{}", e.key), e.message)
                    }
                })?;
                Ok((name.to_string(), settings))
            })
            .collect()
    }

    /// `[ami]` beside `[[pbx]]`, names and every PBX's AMI keys.
    fn validate_pbxs(&self) -> Result<(), ConfigError> {
        if !self.pbx.is_empty() && self.ami != AmiConfig::default() {
            return Err(ConfigError::new(
                "ami",
                "use either [ami] (one PBX) or [[pbx]] tables (several), not both: move the [ami] keys into a [[pbx]] table's `ami`",
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, p) in self.pbx.iter().enumerate() {
            let ok = !p.name.is_empty()
                && p.name.len() <= 32
                && p.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !ok {
                return Err(ConfigError::new(
                    &format!("pbx[{i}].name"),
                    format!(
                        "`{}` is not a PBX name: use letters, digits and . _ - (1 to 32 characters)",
                        crate::sanitize::escape(&p.name)
                    ),
                ));
            }
            if !seen.insert(p.name.as_str()) {
                return Err(ConfigError::new(
                    &format!("pbx[{i}].name"),
                    format!(
                        "`{}` names two [[pbx]] tables; give each PBX its own name",
                        p.name
                    ),
                ));
            }
        }
        if let Some(name) = &self.dialer.pbx
            && !self.pbxs().iter().any(|(n, _)| n == name)
        {
            return Err(ConfigError::new(
                "dialer.pbx",
                format!(
                    "no [[pbx]] is named `{}`; name one of: {}",
                    crate::sanitize::escape(name),
                    self.pbx_names().join(", ")
                ),
            ));
        }
        for (name, ami) in self.pbxs() {
            let key = if self.pbx.is_empty() {
                "ami".to_string()
            } else {
                format!("pbx.{name}.ami")
            };
            ami.validate(&key)?;
        }
        for p in &self.pbx {
            if let Some(cdr) = &p.cdr {
                cdr.validate().map_err(|e| {
                    ConfigError::new(&format!("pbx.{}.{}", p.name, e.key), e.message)
                })?;
            }
        }
        Ok(())
    }

    /// Checks values serde cannot: each table's own checks, then what ties
    /// tables together (PBX names).
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.dialer.validate()?;
        self.ari.validate()?;
        self.validate_pbxs()?;
        self.cdr.validate()?;
        self.ui.validate()?;
        self.time_in_state.validate()?;
        self.acl.validate()?;
        crate::access::roles::validate(&self.acl, &self.roles)?;
        self.actions.validate()?;
        for (login, u) in &self.acl.users {
            if let Some(phone) = &u.phone {
                crate::supervise::config::check_phone(&format!("acl.users.{login}.phone"), phone)?;
            }
        }
        let names = self.pbx_names();
        for (login, u) in &self.acl.users {
            if let Some(bad) = u.pbxs.iter().find(|p| !names.contains(p)) {
                return Err(ConfigError::new(
                    &format!("acl.users.{login}.pbxs"),
                    format!(
                        "no PBX is named `{}`; name one of: {}",
                        crate::sanitize::escape(bad),
                        names.join(", ")
                    ),
                ));
            }
        }
        self.health.validate()?;
        self.kpi.validate()
    }

    /// The CDR database URL ([`CdrConfig::url`]).
    ///
    /// Errors: none is set, or its file is readable by others.
    pub fn cdr_url(&self, cli: Option<&str>) -> Result<Secret, ConfigError> {
        self.cdr.url(cli)
    }

    /// The PBX time zone ([`CdrConfig::zone`]).
    ///
    /// Errors: a name that is not an IANA zone.
    pub fn time_zone(&self, cli: Option<&str>) -> Result<chrono_tz::Tz, ConfigError> {
        self.cdr.zone(cli)
    }

    /// The app database URL ([`DialerConfig::db_url`]).
    ///
    /// Errors: an unreadable or world-readable URL file; no data folder.
    pub fn db_url(&self, cli: Option<&str>) -> Result<Secret, ConfigError> {
        self.dialer.db_url(cli)
    }

    /// The first PBX's connection settings (secret resolved) with the given
    /// resync list: what `record` follows.
    ///
    /// Errors: its secret is missing or its file readable by others.
    pub fn ami_settings(&self, resync: Vec<Action>) -> Result<Settings, ConfigError> {
        let (_, ami) = self.pbxs()[0];
        ami.settings(resync)
    }

    /// The PBX the engine dials on: `[dialer] pbx`, else the first.
    pub fn engine_pbx(&self) -> (&str, &AmiConfig) {
        let pbxs = self.pbxs();
        let first = pbxs[0];
        self.dialer
            .pbx
            .as_deref()
            .and_then(|name| pbxs.into_iter().find(|(n, _)| *n == name))
            .unwrap_or(first)
    }

    /// The AMI settings of [`Config::engine_pbx`].
    ///
    /// Errors: its secret is missing or its file readable by others.
    pub fn engine_ami_settings(&self, resync: Vec<Action>) -> Result<Settings, ConfigError> {
        self.engine_pbx().1.settings(resync)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_partial_files() {
        let c = Config::parse("[ami]\nhost = \"pbx\"\n", "t.toml");
        assert_eq!(
            c.map(|c| (c.ami.host, c.ami.port)),
            Ok(("pbx".into(), 5038))
        );
    }

    #[test]
    fn pbx_tables_or_one_ami() {
        let one = Config::parse("[ami]\nhost = \"pbx1\"\n", "t").unwrap_or_default();
        assert_eq!(one.pbx_names(), ["default"]);
        let two = Config::parse(
            "[[pbx]]\nname = \"paris\"\nami = { host = \"10.0.0.2\" }\n[[pbx]]\nname = \"lyon\"\n[pbx.ami]\nport = 25038\n",
            "t",
        )
        .unwrap_or_default();
        let got: Vec<(&str, &str, u16)> = two
            .pbxs()
            .into_iter()
            .map(|(n, a)| (n, a.host.as_str(), a.port))
            .collect();
        assert_eq!(
            got,
            [("paris", "10.0.0.2", 5038), ("lyon", "127.0.0.1", 25038)]
        );
    }

    #[test]
    fn each_pbx_reads_its_own_cdrs() {
        let c = Config::parse(
            "[[pbx]]\nname = \"paris\"\n[[pbx]]\nname = \"lyon\"\ncdr = { table = \"cdr_lyon\", time_zone = \"America/Santiago\", queue_log = \"/srv/lyon/queue_log\" }\n[[pbx]]\nname = \"nice\"\n[cdr]\ntable = \"cdr_paris\"\ntime_zone = \"Europe/Paris\"\n",
            "t",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let sites = c
            .cdr_sites(
                crate::access::Visibility::All,
                Some("sqlite::memory:"),
                None,
                None,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<(&str, &str, String, bool, bool)> = sites
            .iter()
            .map(|(n, s)| {
                (
                    n.as_str(),
                    s.table.as_str(),
                    s.tz.to_string(),
                    s.url.is_ok(),
                    s.queue_log.is_ok(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                // The first reads [cdr] (and --cdr-url); its queue_log
                // defaults to Asterisk's.
                ("paris", "cdr_paris", "Europe/Paris".into(), true, true),
                // Its own table; no URL given for it.
                ("lyon", "cdr_lyon", "America/Santiago".into(), false, true),
                // Nothing of its own: no History, said why.
                ("nice", "cdr_paris", "Europe/Paris".into(), false, false),
            ]
        );
        assert!(
            sites[2]
                .1
                .url
                .as_ref()
                .is_err_and(|e| e.contains("PBX nice has no CDR source"))
        );
        let bad = Config::parse(
            "[[pbx]]\nname = \"lyon\"\ncdr = { time_zone = \"Mars/Olympus\" }\n",
            "t",
        );
        assert_eq!(
            bad.err().map(|e| e.key).as_deref(),
            Some("pbx.lyon.cdr.time_zone")
        );
    }

    #[test]
    fn errors_name_the_key() {
        let unknown = Config::parse("[ami]\nhots = \"x\"\n", "t.toml")
            .err()
            .map(|e| e.to_string());
        assert!(
            unknown
                .as_deref()
                .is_some_and(|e| e.contains("hots") && e.starts_with("t.toml")),
            "{unknown:?}"
        );
        let ping = Config::parse("[ami]\nping_timeout_s = 18446744073709551615\n", "t.toml")
            .err()
            .map(|e| e.to_string());
        assert!(
            ping.as_deref()
                .is_some_and(|e| e.contains("ami.ping_timeout_s") && e.contains("out of range")),
            "{ping:?}"
        );
        let fps = Config::parse("[ui]\nfps = 0\n", "t.toml")
            .err()
            .map(|e| e.key);
        assert_eq!(fps.as_deref(), Some("ui.fps"));
        let ramp = Config::parse(
            "[time_in_state]\nringing = { warn_s = 40, crit_s = 30 }\n",
            "t",
        );
        assert_eq!(
            ramp.err().map(|e| e.key).as_deref(),
            Some("time_in_state.ringing")
        );
        // Many PBXs: each mistake names its key.
        for (text, key) in [
            ("[ami]\nhost = \"a\"\n[[pbx]]\nname = \"b\"\n", "ami"),
            (
                "[[pbx]]\nname = \"b\"\n[[pbx]]\nname = \"b\"\n",
                "pbx[1].name",
            ),
            ("[[pbx]]\nname = \"a b\"\n", "pbx[0].name"),
            (
                "[[pbx]]\nname = \"a\"\n[acl.users.x]\nrole = \"supervisor\"\npbxs = [\"b\"]\n",
                "acl.users.x.pbxs",
            ),
            (
                "[[pbx]]\nname = \"a\"\n[dialer]\npbx = \"b\"\n",
                "dialer.pbx",
            ),
            (
                "[[pbx]]\nname = \"lyon\"\nami = { port = 0 }\n",
                "pbx.lyon.ami.port",
            ),
            ("[ari]\napp = \"sb,amd\"\n", "ari.app"),
        ] {
            let got = Config::parse(text, "t").err().map(|e| e.key);
            assert_eq!(got.as_deref(), Some(key), "{text}");
        }
        let typ = Config::parse("[ami]\nport = \"x\"\n", "t.toml")
            .err()
            .map(|e| e.to_string());
        assert!(typ.is_some_and(|e| e.contains("port")));
    }
}
