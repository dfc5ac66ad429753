//! Where the history and campaign commands get their services: the
//! daemon's, when one serves (the commands then hold no database URL and
//! the daemon applies the kernel-verified user's rights), or their own,
//! run in this process with the config's URLs and ACL (a single-user
//! install, or `--direct`). Either way the commands send the same requests
//! and read the same replies: one service layer, no rule copied here.

use anyhow::Context;
use std::path::{Path, PathBuf};
use switchboard::service::campaigns::{self as appdb, AppLink, AppReply, AppRequest};
use switchboard::service::cdr::{self as db, DbLink, DbReply, DbRequest};
use switchboard::setup::Config;

/// Where a command runs.
pub(crate) enum Target {
    /// Through the daemon at this socket.
    Daemon(PathBuf),
    /// In this process.
    Direct,
}

impl Target {
    /// The daemon's socket when `direct` is not asked and a daemon's socket
    /// is named (`--connect`) or exists at `socket`.
    pub(crate) fn choose(direct: bool, named: bool, socket: PathBuf) -> Self {
        if !direct && (named || socket.exists()) {
            Target::Daemon(socket)
        } else {
            Target::Direct
        }
    }
}

/// What a direct run takes from the command line (ignored or refused when
/// attached: the daemon has its own).
#[derive(Default)]
pub(crate) struct DirectOptions<'a> {
    /// CDR database URL.
    pub cdr_url: Option<&'a str>,
    /// App database URL.
    pub db_url: Option<&'a str>,
    /// The PBX's time zone.
    pub tz: Option<&'a str>,
    /// Look as this user (admins).
    pub as_user: Option<&'a str>,
    /// queue_log file.
    pub queue_log: Option<&'a Path>,
}

/// A command's services.
pub(crate) struct Services {
    /// The PBX's time zone.
    pub tz: chrono_tz::Tz,
    /// CDR queries.
    pub db: DbLink,
    /// Campaign reads and changes.
    pub app: AppLink,
    /// The daemon's socket, when attached (for messages).
    pub daemon: Option<PathBuf>,
    /// Why the daemon's link ended, once it has.
    ended: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

/// Opens the services for `target`.
///
/// Errors: the daemon refuses or cannot be reached; attached, an option
/// only a direct run takes (`--as-user`, `--queue-log`); direct, a login
/// the ACL does not know or a bad time zone.
pub(crate) async fn open(
    config: &Config,
    target: &Target,
    o: &DirectOptions<'_>,
) -> anyhow::Result<Services> {
    match target {
        Target::Daemon(socket) => {
            if o.as_user.is_some() {
                anyhow::bail!(
                    "--as-user: attached to the daemon at {}, you are who the kernel says; `switchboard serve snapshot` run by that user shows their view (or add --direct)",
                    socket.display()
                );
            }
            if o.queue_log.is_some() {
                anyhow::bail!(
                    "--queue-log: attached to the daemon at {}, which reads its own ([cdr] queue_log in its config); drop the option or add --direct",
                    socket.display()
                );
            }
            if o.cdr_url.is_some() || o.db_url.is_some() {
                eprintln!(
                    "attached to the daemon at {}: the database URL given (--cdr-url, --db-url or their variables) is not used; --direct uses it",
                    socket.display()
                );
            }
            let s = switchboard::serve::attach::services(socket).await?;
            let tz: chrono_tz::Tz = s.site.tz.parse().map_err(|_| {
                anyhow::anyhow!(
                    "the daemon's time zone `{}` is unknown here; update this host's tzdata",
                    switchboard::sanitize::escape(&s.site.tz)
                )
            })?;
            if let Some(asked) = o.tz.filter(|t| *t != s.site.tz) {
                eprintln!(
                    "attached to the daemon at {}: days are the PBX's ({}), not {}; --direct uses --tz",
                    socket.display(),
                    tz,
                    switchboard::sanitize::escape(asked)
                );
            }
            Ok(Services {
                tz,
                db: s.db,
                app: s.app,
                daemon: Some(socket.clone()),
                ended: s.ended,
            })
        }
        Target::Direct => {
            let acl = &config.acl;
            let login = switchboard::access::acl::login(acl, o.as_user)?;
            let visibility = switchboard::access::acl::visibility(acl, &login)?;
            let sites: Vec<(String, db::DbSettings)> = config
                .cdr_sites(visibility, o.cdr_url, o.db_url, o.tz)?
                .into_iter()
                .map(|(name, s)| {
                    let mut s = s.for_commands(config.command_deadline());
                    // `--queue-log` is the file of the PBX asked about.
                    if let Some(path) = o.queue_log {
                        s.queue_log = Ok(path.to_path_buf());
                    }
                    (name, s)
                })
                .collect();
            let tz = config.time_zone(o.tz)?;
            let scope = switchboard::access::acl::pbx_scope(acl, &login);
            let app = appdb::spawn(
                config.db_url(o.db_url).map_err(|e| e.to_string()),
                appdb::Actor {
                    may_control: switchboard::access::acl::may_control_campaigns(acl, &login),
                    reads_every_audit: switchboard::access::acl::is_admin(acl, &login),
                    login,
                },
                appdb::AppDbSlot::default(),
            );
            Ok(Services {
                tz,
                db: db::spawn_sites(db::Sites::new(sites, scope)),
                app,
                daemon: None,
                ended: Default::default(),
            })
        }
    }
}

impl Services {
    /// Why the services went away before answering.
    fn gone(&self) -> anyhow::Error {
        let why = self
            .ended
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| "it closed the connection".into());
        match &self.daemon {
            Some(socket) => anyhow::anyhow!(
                "the daemon at {} stopped before answering: {}; its log says more (journalctl -u switchboard-serve)",
                socket.display(),
                switchboard::sanitize::escape(&why)
            ),
            None => anyhow::anyhow!("the database worker stopped before answering"),
        }
    }

    /// Sends a CDR request.
    pub(crate) async fn ask_db(&mut self, req: DbRequest) -> anyhow::Result<()> {
        if self.db.requests.send(req).await.is_err() {
            return Err(self.gone());
        }
        Ok(())
    }

    /// The next CDR reply; a failure is an error with its message.
    pub(crate) async fn next_db(&mut self) -> anyhow::Result<DbReply> {
        match self.db.replies.recv().await {
            Some(DbReply::Failed { message, .. }) => Err(anyhow::anyhow!(message)),
            Some(r) => Ok(r),
            None => Err(self.gone()),
        }
    }

    /// A campaign request and its reply; a failure is an error with its
    /// message.
    pub(crate) async fn ask_app(&mut self, req: AppRequest) -> anyhow::Result<AppReply> {
        if self.app.requests.send(req).await.is_err() {
            return Err(self.gone());
        }
        match self.app.replies.recv().await {
            Some(AppReply::Failed { message, .. }) => Err(anyhow::anyhow!(message)),
            Some(r) => Ok(r),
            None => Err(self.gone()),
        }
    }
}

/// Reads a file the command sends (a campaign, a lead list), as this user.
///
/// Errors: the file cannot be read (the message names it).
pub(crate) fn read(file: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))
}
