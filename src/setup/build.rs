//! The settings each part is built with, from the whole [`Config`]: the
//! engine's, ARI's, a CDR service's, a console's and the daemon's.

use super::Config;
use crate::access::{Visibility, acl};
use crate::config::ConfigError;
use crate::service::cdr::{Connections, DbSettings};
use std::time::Duration;

/// Where queue_log is when `[cdr] queue_log` does not say.
const QUEUE_LOG: &str = "/var/log/asterisk/queue_log";

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

    /// A CDR service's settings for a user with `visibility`: the CDR
    /// database URL from `cdr_url` or the config, the app database keeping
    /// KPI days from `db_url` or the config (each `Err` inside when there
    /// is none, shown on screen), the time zone from `tz` or the config, the
    /// site's KPI settings, a screen's wait, exports to the current folder.
    ///
    /// Errors: a bad time zone.
    pub fn db_settings(
        &self,
        visibility: Visibility,
        cdr_url: Option<&str>,
        db_url: Option<&str>,
        tz: Option<&str>,
    ) -> Result<DbSettings, ConfigError> {
        Ok(DbSettings {
            url: self.cdr_url(cdr_url).map_err(|e| e.to_string()),
            table: self.cdr.table.clone(),
            columns: self.cdr.columns.clone(),
            visibility,
            extension_rule: self.kpi.extensions.clone(),
            tz: self.time_zone(tz)?,
            queue_log: self
                .cdr
                .queue_log
                .clone()
                .unwrap_or_else(|| QUEUE_LOG.into()),
            queue_kpi: self.kpi.queue_kpi_settings(),
            export_dir: std::env::current_dir().unwrap_or_else(|_| ".".into()),
            deadline: Duration::from_secs(self.cdr.screen_query_timeout_s),
            kpi_days: self.db_url(db_url).map_err(|e| e.to_string()),
            connections: Connections::default(),
        })
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
            app_db: self
                .db_url(opts.db_url.as_deref())
                .map_err(|e| e.to_string()),
            cdr: self.db_settings(
                visibility.clone(),
                opts.cdr_url.as_deref(),
                opts.db_url.as_deref(),
                opts.tz.as_deref(),
            )?,
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
            cdr: self.db_settings(Visibility::All, None, None, None)?,
            command_deadline: self.command_deadline(),
            app_db: self.db_url(None).map_err(|e| e.to_string()),
        })
    }
}
