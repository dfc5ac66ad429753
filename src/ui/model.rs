//! The console's model: everything the view draws, nothing else. Only
//! [`super::update`] changes it.

use super::config::TimeInState;
use super::query::Query;
use super::screens::campaigns::CampaignsView;
use super::screens::history::HistoryView;
use super::screens::kpi::KpiView;
use super::table::TableState;
use crate::access::Visibility;
use crate::pbx::{Call, HealthThresholds, Pbxs, State};
use ratatui::layout::Rect;

/// The list panes, in focus order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaneId {
    /// Queues with the selected queue's callers and members.
    Queues,
    /// Extensions (phones) with state and time in state.
    Extensions,
    /// Live calls.
    Calls,
}

impl PaneId {
    /// Focus order.
    pub const ALL: [PaneId; 3] = [PaneId::Queues, PaneId::Extensions, PaneId::Calls];

    /// Title.
    pub fn title(self) -> &'static str {
        match self {
            PaneId::Queues => "Queues",
            PaneId::Extensions => "Extensions",
            PaneId::Calls => "Calls",
        }
    }

    fn index(self) -> usize {
        match self {
            PaneId::Queues => 0,
            PaneId::Extensions => 1,
            PaneId::Calls => 2,
        }
    }

    /// The pane `step` places after this one, wrapping.
    pub fn cycle(self, step: isize) -> PaneId {
        let n = Self::ALL.len() as isize;
        Self::ALL[((self.index() as isize + step).rem_euclid(n)) as usize]
    }
}

/// What fills the screen between header and footer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// Queues, extensions and calls, live from AMI.
    Live,
    /// CDR history.
    History,
    /// KPIs per extension and per queue.
    Kpi,
    /// Dialer campaigns.
    Campaigns,
    /// The audit trail of actions.
    Audit,
}

/// A CDR query the worker is running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Running {
    /// Request id (replies with another id are stale and dropped).
    pub id: u64,
    /// Started, ms since epoch (UTC), for the elapsed time shown.
    pub since_ms: i64,
    /// What it is ("loading calls", "exporting").
    pub what: &'static str,
    /// Rows so far, when the worker reports them.
    pub rows: Option<u64>,
}

/// Input mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Keys move, sort, focus.
    Normal,
    /// Keys type into the focused pane's filter.
    Filter,
    /// Keys type a command (`:campaign start NAME`).
    Command {
        /// Text typed.
        text: String,
        /// Why the last Enter was refused.
        error: Option<String>,
    },
    /// A yes/no question before a destructive change.
    Confirm {
        /// The question.
        question: String,
        /// What yes does.
        on_yes: OnYes,
    },
    /// The actions the user may take on the selected row (the action
    /// key), or a step of one (the reasons of a pause).
    Menu(crate::ui::supervise::state::Menu),
    /// Keys type the History or KPI query line.
    Query {
        /// Text typed.
        text: String,
        /// Why the last Enter was refused.
        error: Option<String>,
    },
    /// The help popup is open, scrolled by `scroll` lines.
    Help {
        /// First line shown.
        scroll: u16,
    },
}

/// What a yes to [`Mode::Confirm`] does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnYes {
    /// Ask for `status` on campaign `name`.
    Campaign {
        /// Campaign.
        name: String,
        /// `running`, `paused` or `stopped`.
        status: &'static str,
    },
    /// Run a supervisor action.
    Act {
        /// The PBX.
        pbx: String,
        /// The action.
        act: crate::supervise::Act,
    },
}

/// Where the data comes from, for the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A live AMI connection to `addr`.
    Live {
        /// `host:port`.
        addr: String,
    },
    /// The live state from the `switchboard serve` daemon, filtered there
    /// for this user.
    Attached {
        /// The PBX the daemon serves (`host:port`).
        pbx: String,
        /// The login the daemon serves this console as (from the kernel).
        login: String,
    },
    /// A capture replayed.
    Replay {
        /// File name.
        file: String,
    },
}

/// The console model.
#[derive(Clone, Debug)]
pub struct Model {
    /// The PBXs followed: each its state and its AMI link (one for a
    /// single `[ami]`).
    pub pbxs: Pbxs,
    /// A live link answers a Ping at least this often (ping interval plus
    /// [`crate::ami::connection::PING_OVERDUE`]), ms; longer silence makes
    /// the header show the data's age. `None` for a replay.
    pub quiet_after_ms: Option<i64>,
    /// The event source has ended (a replay reached the end of its file).
    pub source_ended: bool,
    /// Data source.
    pub source: Source,
    /// "Now" for every duration on screen, ms since epoch (UTC); set by ticks.
    pub now_ms: i64,
    /// Focused pane.
    pub focus: PaneId,
    /// Input mode.
    pub mode: Mode,
    /// The focused pane fills the body.
    pub zoom: bool,
    /// Terminal size, for layout in mouse handling and paging.
    pub size: Rect,
    /// Table state per pane, indexed like [`PaneId::ALL`].
    pub tables: [TableState; 3],
    /// Colour ramps for time in state.
    pub time_in_state: TimeInState,
    /// Queue health thresholds.
    pub health: HealthThresholds,
    /// Service-level variant per queue (`[kpi]`).
    pub sl_targets: crate::service_level::Targets,
    /// What counts as an extension (`[kpi.extensions]`).
    pub extension_rule: crate::endpoints::ExtensionRule,
    /// What fills the body.
    pub screen: Screen,
    /// What the console's user may see, live and in history (`[acl]`).
    pub access: Visibility,
    /// The PBXs whose live data the user sees (`[acl.users.NAME] pbxs`);
    /// `None`: all. (Attached, the daemon sends no other.)
    pub pbx_scope: Option<Vec<String>>,
    /// The PBX's time zone: "today" and day windows.
    pub tz: chrono_tz::Tz,
    /// The History screen.
    pub history: HistoryView,
    /// The KPI screen.
    pub kpi: KpiView,
    /// The Campaigns screen.
    pub campaigns: CampaignsView,
    /// The Audit screen.
    pub audit: crate::ui::screens::audit::AuditView,
    /// Supervisor actions: rights, pause reasons, what the PBXs refuse.
    pub supervise: crate::ui::supervise::SuperviseView,
    /// The CDR query running, if any.
    pub running: Option<Running>,
    /// Last request id issued.
    pub last_id: u64,
    /// A message for the status line (export done, query failed), with
    /// whether it is an error.
    pub notice: Option<(String, bool)>,
}

impl Model {
    /// A model before any data.
    pub fn new(
        source: Source,
        time_in_state: TimeInState,
        health: HealthThresholds,
        now_ms: i64,
    ) -> Self {
        let tz = chrono_tz::Tz::UTC;
        let today = Query::today(today(tz, now_ms));
        Model {
            pbxs: Pbxs::named(&[crate::pbx::site::DEFAULT_PBX], now_ms),
            quiet_after_ms: None,
            source_ended: false,
            source,
            now_ms,
            focus: PaneId::Queues,
            mode: Mode::Normal,
            zoom: false,
            size: Rect::new(0, 0, 120, 40),
            tables: [
                TableState::default(),
                TableState::default(),
                // Calls: the longest-running first.
                TableState {
                    sort: 3,
                    reverse: true,
                    ..TableState::default()
                },
            ],
            time_in_state,
            health,
            sl_targets: crate::service_level::Targets::default(),
            extension_rule: crate::endpoints::ExtensionRule::default(),
            screen: Screen::Live,
            access: Visibility::All,
            pbx_scope: None,
            tz,
            history: HistoryView::new(today.clone()),
            kpi: KpiView::new(today),
            campaigns: CampaignsView::default(),
            audit: Default::default(),
            supervise: crate::ui::supervise::SuperviseView::default(),
            running: None,
            last_id: 0,
            notice: None,
        }
    }

    /// Sets the PBX time zone (and today's date in the History and KPI
    /// queries with it).
    pub fn with_time_zone(mut self, tz: chrono_tz::Tz) -> Self {
        self.tz = tz;
        let today = Query::today(today(tz, self.now_ms));
        self.history.query = today.clone();
        self.kpi.query = today;
        self
    }

    /// The PBX's date now.
    pub fn today(&self) -> chrono::NaiveDate {
        today(self.tz, self.now_ms)
    }

    /// A fresh request id.
    pub fn next_id(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }

    /// Table state of `pane`.
    pub fn table(&self, pane: PaneId) -> &TableState {
        &self.tables[pane.index()]
    }

    /// Mutable table state of `pane`.
    pub fn table_mut(&mut self, pane: PaneId) -> &mut TableState {
        &mut self.tables[pane.index()]
    }

    /// The live rights of the console's user (`[acl]` with
    /// `[kpi.extensions]`): one rule with the daemon's, see
    /// [`crate::access::LiveAccess`].
    pub fn live_access(&self) -> crate::access::LiveAccess<'_> {
        crate::access::LiveAccess {
            visibility: &self.access,
            rule: &self.extension_rule,
        }
    }

    /// The PBXs whose live data the user sees, in order.
    pub fn visible_pbxs(&self) -> impl Iterator<Item = &crate::pbx::Pbx> {
        self.pbxs
            .iter()
            .filter(|p| self.pbx_scope.as_ref().is_none_or(|s| s.contains(&p.name)))
    }

    /// With several PBXs, whose CDRs a History or KPI query naming `asked`
    /// reads: that PBX, else the first the user sees (what the CDR service
    /// chooses); `None` with one PBX (nothing to say).
    pub fn cdr_pbx(&self, asked: Option<&str>) -> Option<String> {
        if !self.pbxs.is_many() {
            return None;
        }
        asked
            .map(str::to_string)
            .or_else(|| self.visible_pbxs().next().map(|p| p.name.clone()))
    }

    /// The user may see queue `name` (`[acl]`).
    pub fn sees_queue(&self, name: &str) -> bool {
        self.live_access().sees_queue(name)
    }

    /// The user may see extension `exten` (`[acl]`).
    pub fn sees_extension(&self, exten: &str) -> bool {
        self.live_access().sees_extension(exten)
    }

    /// `e` is listed on the Extensions pane and counted as a phone
    /// ([`crate::access::LiveAccess::shows_extension`]).
    pub fn shows_extension(&self, e: &crate::pbx::Extension) -> bool {
        self.live_access().shows_extension(e)
    }

    /// The user may see a live call of the PBX whose state is `state`
    /// ([`crate::access::LiveAccess::sees_call`]).
    pub fn sees_call(&self, state: &State, call: &Call<'_>) -> bool {
        self.live_access().sees_call(state, call)
    }

    /// Data on screen may be out of date: some link is not Ready, dropped
    /// events since its last Ready (a resync follows), or has a Ping
    /// overdue (a half-dead link).
    pub fn is_stale(&self) -> bool {
        self.pbxs.any_stale()
    }

    /// Seconds since anything arrived from `link`'s Asterisk, when that is
    /// longer than a healthy link is ever silent (`quiet_after_ms`); `None`
    /// otherwise.
    pub fn data_age_s(&self, link: &crate::pbx::Link) -> Option<i64> {
        let quiet = self.quiet_after_ms?;
        if link.health.last_read_ms <= 0 || self.source_ended {
            return None;
        }
        let age = self.now_ms.saturating_sub(link.health.last_read_ms);
        (age > quiet).then_some(age / 1000)
    }
}

fn today(tz: chrono_tz::Tz, now_ms: i64) -> chrono::NaiveDate {
    chrono::DateTime::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .with_timezone(&tz)
        .date_naive()
}
