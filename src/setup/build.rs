//! The settings each part is built with, from the whole [`Config`]: the
//! engine's, ARI's, a CDR service's, a console's and the daemon's.

use super::Config;
use crate::access::{Visibility, acl};
use crate::config::ConfigError;
use crate::service::cdr::{Connections, DbSettings};
use std::time::Duration;

/// Where the first PBX's queue_log is when `[cdr] queue_log` does not say.
const QUEUE_LOG: &str = "/var/log/asterisk/queue_log";

/// Why PBX `name` has no CDRs.
fn no_cdr(name: &str) -> String {
    format!(
        "PBX {name} has no CDR source: give its [[pbx]] a `cdr` table (url_file, table, time_zone, queue_log)"
    )
}

/// Why PBX `name` has no queue_log.
fn no_queue_log(name: &str) -> String {
    format!("PBX {name} has no queue_log: set `queue_log` in its [[pbx]] `cdr` table")
}

impl Config {
    /// The engine's settings (`[dialer]`, and the queues' wrap-up from
    /// `[kpi.queues]`), without its AMI link.
    pub fn engine_settings(&self) -> crate::dialer::engine::EngineSettings {
        crate::dialer::engine::EngineSettings::new(&self.dialer, self.kpi.targets())
    }

    /// ARI's settings (`[ari]`), the password resolved.
    ///
    /// Errors: no password, or a password file readable by others.
    pub fn ari_settings(&self) -> Result<crate::ari::AriSettings, ConfigError> {
        crate::ari::AriSettings::from_table(&self.ari)
    }

    /// A CDR service's settings for a user with `visibility`, one per
    /// PBX in config order (see [`Config::cdr_of`] for whose source each
    /// reads): the CDR database URL from `cdr_url` (the first PBX's) or the
    /// config, the app database keeping KPI days from `db_url` or the
    /// config (each `Err` inside when there is none, shown on screen), the
    /// time zone from `tz` or the config, the site's KPI settings, a
    /// screen's wait, exports to the current folder.
    ///
    /// Errors: a bad time zone.
    pub fn cdr_sites(
        &self,
        visibility: Visibility,
        cdr_url: Option<&str>,
        db_url: Option<&str>,
        tz: Option<&str>,
    ) -> Result<Vec<(String, DbSettings)>, ConfigError> {
        let kpi_days = self.db_url(db_url).map_err(|e| e.to_string());
        let site_tz = self.time_zone(tz)?;
        let mut sites = Vec::new();
        for (i, name) in self.pbx_names().into_iter().enumerate() {
            let first = i == 0;
            let (url, table, columns, zone, queue_log) = match self.cdr_of(&name) {
                Some(cdr) => (
                    // SWITCHBOARD_CDR_URL and --cdr-url are the first
                    // PBX's; another names its own.
                    if first || cdr.url_file.is_some() || cdr.url_env.is_some() {
                        cdr.url(cdr_url.filter(|_| first))
                            .map_err(|e| e.to_string())
                    } else {
                        Err(format!(
                            "PBX {name}: its `cdr` table names no url_file or url_env"
                        ))
                    },
                    cdr.table.clone(),
                    cdr.columns.clone(),
                    // `--tz` is the first PBX's; a zone checked at load.
                    cdr.time_zone
                        .as_deref()
                        .filter(|_| !(first && tz.is_some()))
                        .and_then(|z| z.parse().ok())
                        .unwrap_or(site_tz),
                    cdr.queue_log
                        .clone()
                        .or_else(|| first.then(|| QUEUE_LOG.into()))
                        .ok_or_else(|| no_queue_log(&name)),
                ),
                None => (
                    Err(no_cdr(&name)),
                    self.cdr.table.clone(),
                    Default::default(),
                    site_tz,
                    Err(no_queue_log(&name)),
                ),
            };
            sites.push((
                name,
                DbSettings {
                    url,
                    table,
                    columns,
                    visibility: visibility.clone(),
                    extension_rule: self.kpi.extensions.clone(),
                    tz: zone,
                    queue_log,
                    queue_kpi: self.kpi.queue_kpi_settings(),
                    export_dir: std::env::current_dir().unwrap_or_else(|_| ".".into()),
                    deadline: Duration::from_secs(self.cdr.screen_query_timeout_s),
                    kpi_days: kpi_days.clone(),
                    connections: Connections::default(),
                },
            ));
        }
        Ok(sites)
    }

    /// How long a command's query may wait per row (`[cdr]
    /// query_timeout_s`).
    pub fn command_deadline(&self) -> Duration {
        Duration::from_secs(self.cdr.query_timeout_s)
    }

    /// A console's own look: `[ui]`, `[time_in_state]`, `[health]`, and
    /// the AMI ping (how long a healthy link may be silent).
    pub fn console(&self) -> crate::ui::Launch {
        crate::ui::Launch {
            ui: self.ui.clone(),
            time_in_state: self.time_in_state,
            health: self.health,
            ping_interval: Duration::from_secs(self.ami.ping_interval_s),
        }
    }

    /// A direct console's user (the login, or `--as-user` for an admin),
    /// rights and workers' settings.
    ///
    /// Errors: a bad time zone, or a login the ACL does not know.
    pub fn direct_console(
        &self,
        opts: &crate::ui::ConsoleOptions,
    ) -> Result<crate::ui::Direct, ConfigError> {
        let login = acl::login(&self.acl, opts.as_user.as_deref())?;
        let visibility = acl::visibility(&self.acl, &login)?;
        Ok(crate::ui::Direct {
            tz: self.time_zone(opts.tz.as_deref())?,
            pbx_scope: acl::pbx_scope(&self.acl, &login),
            sl_targets: self.kpi.targets(),
            extension_rule: self.kpi.extensions.clone(),
            may_control_campaigns: acl::may_control_campaigns(&self.acl, &login),
            is_admin: acl::is_admin(&self.acl, &login),
            rights: crate::access::Rights::of(&self.acl, &self.roles, &login),
            phone: self.actions.phone_of(&self.acl, &login),
            actions: self.actions.clone(),
            app_db: self
                .db_url(opts.db_url.as_deref())
                .map_err(|e| e.to_string()),
            cdr: crate::service::cdr::Sites::new(
                self.cdr_sites(
                    visibility.clone(),
                    opts.cdr_url.as_deref(),
                    opts.db_url.as_deref(),
                    opts.tz.as_deref(),
                )?,
                acl::pbx_scope(&self.acl, &login),
            ),
            login,
            visibility,
        })
    }

    /// What the daemon serves with: its time zone, socket group, ACL and
    /// KPI settings, the CDR settings every console's worker starts from,
    /// and the app database.
    ///
    /// Errors: a bad time zone.
    pub fn daemon(&self) -> Result<crate::serve::daemon::DaemonSettings, ConfigError> {
        Ok(crate::serve::daemon::DaemonSettings {
            tz: self.time_zone(None)?,
            group: self.serve.group.clone(),
            acl: self.acl.clone(),
            kpi: self.kpi.clone(),
            cdr: self.cdr_sites(Visibility::All, None, None, None)?,
            command_deadline: self.command_deadline(),
            app_db: self.db_url(None).map_err(|e| e.to_string()),
            roles: self.roles.clone(),
            actions: self.actions.clone(),
        })
    }
}
