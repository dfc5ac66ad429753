//! The console: model, update, view, panes, keymap, theme, and the loop that
//! ties them to the terminal. Nothing outside `ui` knows of the screen.

pub mod app;
pub mod chrome;
pub mod fit;
pub mod format;
pub mod keymap;
pub mod layout;
pub mod model;
pub mod nav;
pub mod query;
pub mod screens;
pub mod table;
pub mod terminal;
pub mod theme;
pub mod update;
pub mod view;

use crate::service::{campaigns as appdb, cdr as db};

use crate::ami::Settings;
use crate::ami::connection;
use crate::capture::{Replay, Speed};
use crate::clock::now_ms;
use crate::config::Config;
use model::{Model, Source};
use tokio::sync::mpsc;

use crate::ami::connection::AMI_QUEUE;
use crate::ami::fan_in::FanIn;

fn setup(config: &Config, clock: app::Clock) -> anyhow::Result<app::Setup> {
    Ok(app::Setup {
        clock,
        keymap: keymap::Keymap::load(&config.ui.keymap)?,
        theme: theme::Theme::load(&config.ui.theme)?,
        fps: config.ui.fps,
    })
}

/// What the console takes from the command line besides the config.
#[derive(Clone, Debug, Default)]
pub struct ConsoleOptions {
    /// `--cdr-url` / `SWITCHBOARD_CDR_URL`.
    pub cdr_url: Option<String>,
    /// `--tz` / `SWITCHBOARD_TZ`.
    pub tz: Option<String>,
    /// `--as-user` (admins only).
    pub as_user: Option<String>,
    /// `--db-url` / `SWITCHBOARD_DB_URL`: the app database.
    pub db_url: Option<String>,
}

/// The model and the workers (CDR, app database) for `config`: the user's
/// ACL applies to the live panes and to every CDR query, and campaign
/// rights to the Campaigns screen.
///
/// Errors: a bad time zone, or a login the ACL does not know.
fn model_and_db(
    config: &Config,
    source: Source,
    opts: &ConsoleOptions,
) -> anyhow::Result<(Model, db::DbLink, appdb::AppLink)> {
    let tz = config.time_zone(opts.tz.as_deref())?;
    let login = crate::access::acl::login(&config.acl, opts.as_user.as_deref())?;
    let visibility = crate::access::acl::visibility(&config.acl, &login)?;
    let mut model =
        Model::new(source, config.time_in_state, config.health, now_ms()).with_time_zone(tz);
    model.access = visibility.clone();
    model.pbx_scope = crate::access::acl::pbx_scope(&config.acl, &login);
    model.sl_targets = config.kpi.targets();
    model.extension_rule = config.kpi.extensions.clone();
    model.campaigns.may_control = crate::access::acl::may_control_campaigns(&config.acl, &login);
    let app = appdb::spawn(
        config
            .db_url(opts.db_url.as_deref())
            .map_err(|e| e.to_string()),
        appdb::Actor {
            login: login.clone(),
            may_control: model.campaigns.may_control,
        },
        appdb::AppDbSlot::default(),
    );
    let link = db::spawn(db::DbSettings::from_config(
        config,
        visibility,
        opts.cdr_url.as_deref(),
        opts.db_url.as_deref(),
        opts.tz.as_deref(),
    )?);
    Ok((model, link, app))
}

/// The longest a healthy link is silent, ms: the ping interval plus
/// [`connection::PING_OVERDUE`] (longer, the header shows the data's age).
fn quiet_after_ms(ping_interval: std::time::Duration) -> i64 {
    i64::try_from((ping_interval + connection::PING_OVERDUE).as_millis()).unwrap_or(i64::MAX)
}

/// The console on live AMI connections, one per PBX (`links`: each PBX's
/// name and settings, in config order).
pub async fn run_live(
    config: Config,
    links: Vec<(String, Settings)>,
    opts: ConsoleOptions,
) -> anyhow::Result<()> {
    let addrs: Vec<&str> = links.iter().map(|(_, s)| s.addr.as_str()).collect();
    let source = Source::Live {
        addr: addrs.join(", "),
    };
    let (mut model, db, appdb) = model_and_db(&config, source, &opts)?;
    let names: Vec<&str> = links.iter().map(|(n, _)| n.as_str()).collect();
    model.pbxs = crate::pbx::Pbxs::named(&names, now_ms());
    let ping = links.iter().map(|(_, s)| s.ping_interval).max();
    model.quiet_after_ms = ping.map(quiet_after_ms);
    let links = crate::ami::fan_in::spawn_links(links.into_iter().map(|(_, s)| s).collect());
    let setup = setup(&config, app::Clock::default())?;
    let feeds = app::Feeds {
        ami: links.ami,
        health: Some(links.health),
        live: None,
        db,
        app: appdb,
    };
    let result = app::run(model, feeds, setup).await;
    for t in links.tasks {
        t.abort();
    }
    result
}

/// The console attached to the `switchboard serve` daemon at `socket`: the
/// live panes, History, KPIs and Campaigns all come through it, filtered
/// there for the user the kernel names; this process holds no PBX or
/// database credential. Theme, keymap and frame rate are the user's own.
///
/// Errors: the daemon cannot be reached or refuses (its words), or the
/// daemon's time zone is unknown here.
pub async fn run_attached(config: Config, socket: std::path::PathBuf) -> anyhow::Result<()> {
    let a = crate::serve::attach::attach(socket).await?;
    let tz: chrono_tz::Tz =
        a.site.tz.parse().map_err(|_| {
            anyhow::anyhow!(
            "the daemon's time zone `{}` is unknown to this switchboard; run the same version as the daemon",
            a.site.tz
        )
        })?;
    let source = Source::Attached {
        pbx: a.pbx.clone(),
        login: a.login.clone(),
    };
    let mut model =
        Model::new(source, config.time_in_state, config.health, now_ms()).with_time_zone(tz);
    model.pbxs = crate::pbx::Pbxs::named(&a.site.pbxs, now_ms());
    model.pbx_scope = Some(a.site.seen_pbxs.clone());
    model.sl_targets = a.site.kpi.targets();
    model.extension_rule = a.site.kpi.extensions.clone();
    model.campaigns.may_control = a.site.may_control_campaigns;
    // The daemon's link reads from Asterisk at least once per ping interval;
    // longer silence (a frozen daemon or PBX) shows as the data's age.
    model.quiet_after_ms = Some(quiet_after_ms(std::time::Duration::from_secs(
        config.ami.ping_interval_s,
    )));
    let setup = setup(&config, app::Clock::default())?;
    let feeds = app::Feeds {
        ami: FanIn::new(a.ami),
        health: Some(a.health),
        live: Some(a.live),
        db: a.db,
        app: a.app,
    };
    let result = app::run(model, feeds, setup).await;
    a.task.abort();
    result
}

/// The console fed by a capture, paced by `speed`. The console's clock follows
/// the capture's, so every duration reads as it did live.
pub async fn run_replay(
    config: Config,
    file: std::path::PathBuf,
    speed: Speed,
    opts: ConsoleOptions,
) -> anyhow::Result<()> {
    let reader = crate::capture::open(&file)?;
    let clock = app::Clock::default();
    let setup = setup(&config, clock.clone())?;
    let (tx, rx) = mpsc::channel(AMI_QUEUE);
    let source = Source::Replay {
        file: file.display().to_string(),
    };
    let (model, db, appdb) = model_and_db(&config, source, &opts)?;
    let feeder = tokio::spawn(async move {
        crate::capture::feed(Replay::from_reader(reader), speed, tx, |at_ms| {
            clock.follow(at_ms)
        })
        .await
    });
    let feeds = app::Feeds {
        ami: FanIn::new(vec![rx]),
        health: None,
        live: None,
        db,
        app: appdb,
    };
    let result = app::run(model, feeds, setup).await;
    feeder.abort();
    result
}
