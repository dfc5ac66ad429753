//! Configuration: one TOML file, every key optional, unknown keys refused.
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

pub mod paths;
pub mod secret;

use crate::ami::Settings;
use crate::pbx::HealthThresholds;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
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
    pub serve: crate::serve::ServeConfig,
}

/// `[kpi]`.
///
/// ```toml
/// [kpi]
/// sl = "offered"                  # sl, sl2 or offered (docs/kpi.md)
/// [kpi.extensions]                # the one rule for what an extension is
/// technologies = ["PJSIP", "SIP", "IAX2", "DAHDI"]
/// member_contexts = ["from-queue"]
/// max_digits = 6
/// [kpi.queues.sales]
/// sl = "offered"
/// sl_seconds = 30
/// wrapup_s = 10
/// [kpi.agents]                    # queue_log member name → extension
/// "Alice Martin" = "201"
/// ```
///
/// `wrapup_pause_reasons = ["wrapup", "acw"]` (in `[kpi]`) names the pause
/// reasons that are after-call work.
#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct KpiConfig {
    /// The default service-level variant.
    pub sl: crate::service_level::SlVariant,
    /// What counts as an extension.
    pub extensions: crate::endpoints::ExtensionRule,
    /// Per-queue service-level variant, T and wrap-up.
    pub queues: BTreeMap<String, crate::service_level::QueueTarget>,
    /// Queue members' names, as queue_log writes them, to their extensions
    /// (for members whose name is not their interface).
    pub agents: BTreeMap<String, String>,
    /// Pause reasons that are after-call work (any case): time paused with
    /// them counts as wrap-up, not as pause. Default `wrapup`, `acw`.
    pub wrapup_pause_reasons: Vec<String>,
}

impl Default for KpiConfig {
    fn default() -> Self {
        KpiConfig {
            sl: crate::service_level::SlVariant::default(),
            extensions: crate::endpoints::ExtensionRule::default(),
            queues: BTreeMap::new(),
            agents: BTreeMap::new(),
            wrapup_pause_reasons: crate::cdr::queue_log::QueueKpiSettings::default()
                .wrapup_pause_reasons,
        }
    }
}

impl KpiConfig {
    /// The service-level targets of every queue.
    pub fn targets(&self) -> crate::service_level::Targets {
        crate::service_level::Targets {
            sl: self.sl,
            queues: self.queues.clone(),
        }
    }

    /// The queue_log KPI settings these keys give (thresholds and the
    /// staffing window keep their defaults).
    pub fn queue_kpi_settings(&self) -> crate::cdr::queue_log::QueueKpiSettings {
        crate::cdr::queue_log::QueueKpiSettings {
            targets: self.targets(),
            wrapup_pause_reasons: self.wrapup_pause_reasons.clone(),
            agent_names: crate::cdr::queue_log::AgentNames {
                rule: self.extensions.clone(),
                names: self.agents.clone(),
            },
            ..crate::cdr::queue_log::QueueKpiSettings::default()
        }
    }
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
            drain_s: 120,
            spool_dir: None,
        }
    }
}

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

/// A user's role.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees every call.
    Admin,
    /// Sees calls of their extensions (and queues).
    Supervisor,
}

/// One `[acl.users.<login>]`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AclUser {
    /// Role.
    pub role: Role,
    /// Extensions whose calls the user sees.
    #[serde(default)]
    pub extensions: Vec<String>,
    /// Queues whose calls the user sees.
    #[serde(default)]
    pub queues: Vec<String>,
    /// May start, pause and stop campaigns (admins always may).
    #[serde(default)]
    pub campaigns: bool,
    /// With several `[[pbx]]`: the PBXs whose live data the user sees (by
    /// name); empty, every PBX. Rights by extension and queue apply within
    /// them.
    #[serde(default)]
    pub pbxs: Vec<String>,
}

/// `[acl]`: per-user access, by Unix login. With no user configured,
/// everyone sees every call (a single-supervisor install).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AclConfig {
    /// Users by login.
    pub users: BTreeMap<String, AclUser>,
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
}

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

/// `[ui]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// Theme name: built-in (`dark`, `light`, `high-contrast`) or a file
    /// `<config>/themes/<name>.toml`.
    pub theme: String,
    /// Keymap name: built-in (`default`, `vim`) or `<config>/keymaps/<name>.toml`.
    pub keymap: String,
    /// Most frames per second (1-60).
    pub fps: u32,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            theme: "dark".into(),
            keymap: "default".into(),
            fps: 30,
        }
    }
}

/// A colour ramp: normal below `warn_s`, warning from `warn_s`, critical from
/// `crit_s` (seconds in state).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Ramp {
    /// Seconds from which the warning colour is used.
    pub warn_s: u32,
    /// Seconds from which the critical colour is used.
    pub crit_s: u32,
}

/// `[time_in_state]`: one ramp per extension state worth watching.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct TimeInState {
    /// Ringing unanswered.
    pub ringing: Ramp,
    /// In a call (long calls).
    pub in_call: Ramp,
    /// Holding a caller.
    pub on_hold: Ramp,
    /// Paused.
    pub paused: Ramp,
    /// A caller waiting in a queue.
    pub waiting: Ramp,
}

impl Default for TimeInState {
    fn default() -> Self {
        TimeInState {
            ringing: Ramp {
                warn_s: 15,
                crit_s: 30,
            },
            in_call: Ramp {
                warn_s: 300,
                crit_s: 900,
            },
            on_hold: Ramp {
                warn_s: 60,
                crit_s: 180,
            },
            paused: Ramp {
                warn_s: 900,
                crit_s: 1800,
            },
            waiting: Ramp {
                warn_s: 30,
                crit_s: 90,
            },
        }
    }
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
    /// PBX named [`crate::pbx::site::DEFAULT_PBX`].
    pub fn pbxs(&self) -> Vec<(&str, &AmiConfig)> {
        if self.pbx.is_empty() {
            vec![(crate::pbx::site::DEFAULT_PBX, &self.ami)]
        } else {
            self.pbx.iter().map(|p| (p.name.as_str(), &p.ami)).collect()
        }
    }

    /// The PBXs' names, in order.
    pub fn pbx_names(&self) -> Vec<String> {
        self.pbxs().iter().map(|(n, _)| n.to_string()).collect()
    }

    /// Each PBX's name and connection settings (secrets resolved), in order.
    ///
    /// Errors: a PBX's secret is missing or its file readable by others.
    pub fn pbx_links(
        &self,
        resync: &[crate::ami::Action],
    ) -> Result<Vec<(String, Settings)>, ConfigError> {
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
        Ok(())
    }

    /// Checks values serde cannot: ranges and orderings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(id) = &self.dialer.engine_id {
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
        self.validate_pbxs()?;
        // Seconds and milliseconds that become Durations and deadlines:
        // outside these ranges a value is a typo, and a huge one would
        // overflow an Instant.
        let ranges: [(&str, u64, u64, u64); 4] = [
            ("cdr.query_timeout_s", self.cdr.query_timeout_s, 1, 3_600),
            (
                "cdr.screen_query_timeout_s",
                self.cdr.screen_query_timeout_s,
                1,
                600,
            ),
            ("dialer.drain_s", u64::from(self.dialer.drain_s), 0, 86_400),
            (
                "health.staffing_window_s",
                u64::from(self.health.staffing_window_s),
                60,
                3_600,
            ),
        ];
        for (key, value, lo, hi) in ranges {
            if !(lo..=hi).contains(&value) {
                return Err(ConfigError::new(
                    key,
                    format!("{value} is out of range {lo}-{hi}"),
                ));
            }
        }
        if !(1..=60).contains(&self.ui.fps) {
            return Err(ConfigError::new(
                "ui.fps",
                format!("{} is out of range 1-60", self.ui.fps),
            ));
        }
        let ramps = [
            ("ringing", self.time_in_state.ringing),
            ("in_call", self.time_in_state.in_call),
            ("on_hold", self.time_in_state.on_hold),
            ("paused", self.time_in_state.paused),
            ("waiting", self.time_in_state.waiting),
        ];
        for (name, r) in ramps {
            if r.warn_s > r.crit_s {
                return Err(ConfigError::new(
                    &format!("time_in_state.{name}"),
                    format!(
                        "warn_s ({}) must not exceed crit_s ({})",
                        r.warn_s, r.crit_s
                    ),
                ));
            }
        }
        if let Some(tz) = &self.cdr.time_zone
            && tz.parse::<chrono_tz::Tz>().is_err()
        {
            return Err(ConfigError::new(
                "cdr.time_zone",
                format!("`{tz}` is not an IANA time zone (e.g. Europe/Paris)"),
            ));
        }
        for (login, u) in &self.acl.users {
            if let Some(bad) = u.extensions.iter().find(|e| {
                e.is_empty()
                    || !e
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "*#+-_".contains(c))
            }) {
                return Err(ConfigError::new(
                    &format!("acl.users.{login}.extensions"),
                    format!("`{bad}` is not an extension"),
                ));
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
        if self.health.wait_warn_s > self.health.wait_crit_s {
            return Err(ConfigError::new(
                "health.wait_warn_s",
                "must not exceed health.wait_crit_s",
            ));
        }
        if !(1.0..=99.0).contains(&self.health.staffing_goal_percent) {
            return Err(ConfigError::new(
                "health.staffing_goal_percent",
                "must be between 1 and 99 (percent of calls answered within the queue's service level)",
            ));
        }
        let rule = &self.kpi.extensions;
        if !(1..=20).contains(&rule.max_digits) {
            return Err(ConfigError::new(
                "kpi.extensions.max_digits",
                "must be 1 to 20 (the longest extension number on this PBX)",
            ));
        }
        let names = rule.technologies.iter().chain(&rule.member_contexts);
        if let Some(bad) = names.into_iter().find(|n| {
            n.is_empty()
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        }) {
            return Err(ConfigError::new(
                "kpi.extensions",
                format!(
                    "`{}` is not a channel technology or a dialplan context (letters, digits and - _ . only: `PJSIP`, `from-queue`)",
                    crate::sanitize::escape(bad)
                ),
            ));
        }
        Ok(())
    }

    /// The CDR database URL: `cli` (`--cdr-url` or `SWITCHBOARD_CDR_URL`),
    /// else `cdr.url_file` (0600), else the variable `cdr.url_env`.
    ///
    /// Errors: none of them is set, or the file is readable by others.
    pub fn cdr_url(&self, cli: Option<&str>) -> Result<crate::secret::Secret, ConfigError> {
        if let Some(url) = cli.filter(|u| !u.is_empty()) {
            return Ok(crate::secret::Secret::new(url));
        }
        if let Some(path) = &self.cdr.url_file {
            return secret::read_private(path, "cdr.url_file");
        }
        let var = self.cdr.url_env.as_deref().unwrap_or("SWITCHBOARD_CDR_URL");
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(crate::secret::Secret::new(v.trim())),
            _ => Err(ConfigError::new(
                "cdr.url_file",
                format!(
                    "no CDR database: pass --cdr-url, export {var}, or set cdr.url_file (mode 0600)"
                ),
            )),
        }
    }

    /// The PBX time zone: `cli` (`--tz` / `SWITCHBOARD_TZ`), else
    /// `cdr.time_zone`, else `TZ`, else the system's zone (`/etc/localtime`
    /// as systemd and RHEL-family systems set it, or `/etc/timezone`), else
    /// UTC.
    ///
    /// Errors: a name that is not an IANA zone.
    pub fn time_zone(&self, cli: Option<&str>) -> Result<chrono_tz::Tz, ConfigError> {
        let (name, key) = match (cli, &self.cdr.time_zone) {
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

    /// The app database URL: `cli` (`--db-url` / `SWITCHBOARD_DB_URL`), else
    /// `dialer.db_url_file`, the systemd credential `db-url`, the variable
    /// named by `dialer.db_url_env`, else the embedded SQLite file.
    ///
    /// Errors: an unreadable or world-readable URL file; no data folder.
    pub fn db_url(&self, cli: Option<&str>) -> Result<crate::secret::Secret, ConfigError> {
        if let Some(url) = cli.filter(|u| !u.is_empty()) {
            return Ok(crate::secret::Secret::new(url));
        }
        let found = secret::find(secret::SecretSource {
            what: "app database URL",
            file_key: "dialer.db_url_file",
            file: self.dialer.db_url_file.as_deref(),
            env: self
                .dialer
                .db_url_env
                .as_deref()
                .unwrap_or("SWITCHBOARD_DB_URL"),
            credential: "db-url",
        })?;
        match found {
            Some(url) => Ok(url),
            None => crate::dialer::store::default_url()
                .map(crate::secret::Secret::new)
                .map_err(|e| ConfigError::new("dialer.db_url_file", e.to_string())),
        }
    }

    /// The ARI password: `ari.secret_file`, the systemd credential
    /// `ari-secret`, or the variable named by `ari.secret_env` (default
    /// `SWITCHBOARD_ARI_SECRET`).
    ///
    /// Errors: none found, or a file readable by others.
    pub fn ari_secret(&self) -> Result<crate::secret::Secret, ConfigError> {
        secret::require(secret::SecretSource {
            what: "ARI password",
            file_key: "ari.secret_file",
            file: self.ari.secret_file.as_deref(),
            env: self
                .ari
                .secret_env
                .as_deref()
                .unwrap_or("SWITCHBOARD_ARI_SECRET"),
            credential: "ari-secret",
        })
    }

    /// The first PBX's connection settings (secret resolved) with the given
    /// resync list: what `record` follows.
    ///
    /// Errors: its secret is missing or its file readable by others.
    pub fn ami_settings(&self, resync: Vec<crate::ami::Action>) -> Result<Settings, ConfigError> {
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
    pub fn engine_ami_settings(
        &self,
        resync: Vec<crate::ami::Action>,
    ) -> Result<Settings, ConfigError> {
        self.engine_pbx().1.settings(resync)
    }
}

impl AmiConfig {
    /// Connection settings with the secret resolved and the given resync
    /// list.
    ///
    /// Errors: the secret is missing or its file readable by others.
    pub fn settings(&self, resync: Vec<crate::ami::Action>) -> Result<Settings, ConfigError> {
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
    fn validate(&self, key: &str) -> Result<(), ConfigError> {
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
