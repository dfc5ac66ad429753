//! The console's model: everything the view draws, nothing else. Only
//! [`super::update`] changes it.

use super::table::TableState;
use crate::ami::ConnectionState;
use crate::config::TimeInState;
use crate::pbx::{HealthThresholds, State};
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

/// Input mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Keys move, sort, focus.
    Normal,
    /// Keys type into the focused pane's filter.
    Filter,
    /// The help popup is open, scrolled by `scroll` lines.
    Help {
        /// First line shown.
        scroll: u16,
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
    /// A capture replayed.
    Replay {
        /// File name.
        file: String,
    },
}

/// The console model.
#[derive(Clone, Debug)]
pub struct Model {
    /// The PBX state.
    pub pbx: State,
    /// Connection state and when it was entered (ms since epoch, UTC).
    pub conn: ConnectionState,
    /// When `conn` was entered, ms since epoch (UTC).
    pub conn_since_ms: i64,
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
}

impl Model {
    /// A model before any data.
    pub fn new(
        source: Source,
        time_in_state: TimeInState,
        health: HealthThresholds,
        now_ms: i64,
    ) -> Self {
        Model {
            pbx: State::new(),
            conn: ConnectionState::Connecting { attempt: 1 },
            conn_since_ms: now_ms,
            source,
            now_ms,
            focus: PaneId::Queues,
            mode: Mode::Normal,
            zoom: false,
            size: Rect::new(0, 0, 120, 40),
            tables: Default::default(),
            time_in_state,
            health,
        }
    }

    /// Table state of `pane`.
    pub fn table(&self, pane: PaneId) -> &TableState {
        &self.tables[pane.index()]
    }

    /// Mutable table state of `pane`.
    pub fn table_mut(&mut self, pane: PaneId) -> &mut TableState {
        &mut self.tables[pane.index()]
    }

    /// Data on screen may be out of date (not Ready).
    pub fn is_stale(&self) -> bool {
        self.conn != ConnectionState::Ready
    }
}
