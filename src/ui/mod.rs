//! The console: model, update, view, panes, keymap, theme, and the loop that
//! ties them to the terminal. Nothing outside `ui` knows of the screen.

pub mod app;
pub mod chrome;
pub mod config;
pub mod fit;
pub mod format;
pub mod keymap;
pub mod layout;
pub mod model;
pub mod nav;
pub mod query;
pub mod screens;
pub mod supervise;
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
use model::{Model, Source};
use tokio::sync::mpsc;

use crate::ami::connection::AMI_QUEUE;
use crate::ami::fan_in::FanIn;

/// A console's own look, from the config file (built by
/// [`crate::setup::Config::console`]).
#[derive(Clone, Debug)]
pub struct Launch {
    /// Theme, keymap, frame rate.
    pub ui: config::UiConfig,
    /// Colour ramps per state.
    pub time_in_state: config::TimeInState,
    /// Queue health thresholds.
    pub health: crate::pbx::HealthThresholds,
    /// The AMI ping interval: a healthy link (or daemon) is never silent
    /// much longer.
    pub ping_interval: std::time::Duration,
}

/// A direct console's user, rights and workers (built by
/// [`crate::setup::Config::direct_console`]).
pub struct Direct {
    /// The PBX's time zone.
    pub tz: chrono_tz::Tz,
    /// The user (login, or `--as-user`).
    pub login: String,
    /// What the user sees.
    pub visibility: crate::access::Visibility,
    /// The PBXs the user sees (`None`: every one).
    pub pbx_scope: Option<Vec<String>>,
    /// Service-level targets per queue.
    pub sl_targets: crate::service_level::Targets,
    /// What counts as an extension.
    pub extension_rule: crate::endpoints::ExtensionRule,
    /// May change campaigns.
    pub may_control_campaigns: bool,
    /// An admin (reads every user's audit rows).
    pub is_admin: bool,
    /// What the user may do to the floor (a courtesy here: this process
    /// holds the AMI secret).
    pub rights: crate::access::Rights,
    /// `[actions]`: pause reasons, transfer contexts.
    pub actions: crate::supervise::config::ActionsConfig,
    /// The user's own phone (listen, whisper, barge).
    pub phone: Option<String>,
    /// The app database's URL (`Err`: why there is none, shown on screen).
    pub app_db: Result<crate::secret::Secret, String>,
    /// The CDR service's sources, one per PBX, within the user's PBXs.
    pub cdr: db::Sites,
}

fn setup(launch: &Launch, clock: app::Clock) -> anyhow::Result<app::Setup> {
    Ok(app::Setup {
        clock,
        keymap: keymap::Keymap::load(&launch.ui.keymap)?,
        theme: theme::Theme::load(&launch.ui.theme)?,
        fps: launch.ui.fps,
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

/// A direct console's workers.
struct Workers {
    db: db::DbLink,
    app: appdb::AppLink,
    act: crate::service::supervise::ActLink,
}

/// The model and the workers (CDR, app database, supervisor actions on
/// `links`, each PBX's name and AMI handle) of a direct console: the
/// user's ACL applies to the live panes and to every CDR query, campaign
/// rights to the Campaigns screen, roles to the action menu (a courtesy:
/// this process holds the AMI secret).
fn model_and_workers(
    launch: &Launch,
    d: Direct,
    source: Source,
    links: Vec<(String, connection::Handle)>,
) -> (Model, Workers) {
    let mut model =
        Model::new(source, launch.time_in_state, launch.health, now_ms()).with_time_zone(d.tz);
    let slot = appdb::AppDbSlot::default();
    let act = crate::service::supervise::spawn(
        std::sync::Arc::new(crate::service::supervise::Floor {
            links,
            live: None,
            rule: d.extension_rule.clone(),
            actions: d.actions.clone(),
            audit_db: d.app_db.clone(),
            slot: slot.clone(),
            privileges: Default::default(),
        }),
        crate::service::supervise::Supervisor {
            login: d.login.clone(),
            rights: d.rights.clone(),
            visibility: d.visibility.clone(),
            pbx_scope: d.pbx_scope.clone(),
            phone: d.phone.clone(),
        },
    );
    model.supervise.rights = d.rights;
    model.supervise.phone = d.phone;
    model.supervise.pause_reasons = d.actions.pause_reasons;
    model.access = d.visibility;
    model.pbx_scope = d.pbx_scope;
    model.sl_targets = d.sl_targets;
    model.extension_rule = d.extension_rule;
    model.campaigns.may_control = d.may_control_campaigns;
    let app = appdb::spawn(
        d.app_db,
        appdb::Actor {
            login: d.login,
            may_control: d.may_control_campaigns,
            reads_every_audit: d.is_admin,
        },
        slot,
    );
    let workers = Workers {
        db: db::spawn_sites(d.cdr),
        app,
        act,
    };
    (model, workers)
}

/// The longest a healthy link is silent, ms: the ping interval plus
/// [`connection::PING_OVERDUE`] (longer, the header shows the data's age).
fn quiet_after_ms(ping_interval: std::time::Duration) -> i64 {
    i64::try_from((ping_interval + connection::PING_OVERDUE).as_millis()).unwrap_or(i64::MAX)
}

/// The console on live AMI connections, one per PBX (`links`: each PBX's
/// name and settings, in config order).
pub async fn run_live(
    launch: Launch,
    direct: Direct,
    links: Vec<(String, Settings)>,
) -> anyhow::Result<()> {
    let addrs: Vec<&str> = links.iter().map(|(_, s)| s.addr.as_str()).collect();
    let source = Source::Live {
        addr: addrs.join(", "),
    };
    let names: Vec<String> = links.iter().map(|(n, _)| n.clone()).collect();
    let ping = links.iter().map(|(_, s)| s.ping_interval).max();
    let links = crate::ami::fan_in::spawn_links(links.into_iter().map(|(_, s)| s).collect());
    let handles = names
        .iter()
        .cloned()
        .zip(links.handles.iter().cloned())
        .collect();
    let (mut model, workers) = model_and_workers(&launch, direct, source, handles);
    model.pbxs = crate::pbx::Pbxs::named(&names, now_ms());
    model.quiet_after_ms = ping.map(quiet_after_ms);
    let setup = setup(&launch, app::Clock::default())?;
    let feeds = app::Feeds {
        ami: links.ami,
        health: Some(links.health),
        live: None,
        db: workers.db,
        app: workers.app,
        act: workers.act,
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
pub async fn run_attached(launch: Launch, socket: std::path::PathBuf) -> anyhow::Result<()> {
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
        Model::new(source, launch.time_in_state, launch.health, now_ms()).with_time_zone(tz);
    model.pbxs = crate::pbx::Pbxs::named(&a.site.pbxs, now_ms());
    model.pbx_scope = Some(a.site.seen_pbxs.clone());
    model.sl_targets = a.site.kpi.targets();
    model.extension_rule = a.site.kpi.extensions.clone();
    model.campaigns.may_control = a.site.may_control_campaigns;
    model.supervise.rights = a.site.rights.clone();
    model.supervise.pause_reasons = a.site.pause_reasons.clone();
    model.supervise.phone = a.site.phone.clone();
    // The daemon's link reads from Asterisk at least once per ping interval;
    // longer silence (a frozen daemon or PBX) shows as the data's age.
    model.quiet_after_ms = Some(quiet_after_ms(launch.ping_interval));
    let setup = setup(&launch, app::Clock::default())?;
    let feeds = app::Feeds {
        ami: FanIn::new(a.ami),
        health: Some(a.health),
        live: Some(a.live),
        db: a.db,
        app: a.app,
        act: a.act,
    };
    let result = app::run(model, feeds, setup).await;
    a.task.abort();
    result
}

/// The console fed by a capture, paced by `speed`. The console's clock follows
/// the capture's, so every duration reads as it did live.
pub async fn run_replay(
    launch: Launch,
    direct: Direct,
    file: std::path::PathBuf,
    speed: Speed,
) -> anyhow::Result<()> {
    let reader = crate::capture::open(&file)?;
    let clock = app::Clock::default();
    let setup = setup(&launch, clock.clone())?;
    let (tx, rx) = mpsc::channel(AMI_QUEUE);
    let source = Source::Replay {
        file: file.display().to_string(),
    };
    let (model, workers) = model_and_workers(&launch, direct, source, Vec::new());
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
        db: workers.db,
        app: workers.app,
        act: workers.act,
    };
    let result = app::run(model, feeds, setup).await;
    feeder.abort();
    result
}
