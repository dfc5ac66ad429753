//! The KPI screen: per extension (CDRs) and per queue (queue_log), the same
//! figures `switchboard kpi` prints, recomputed as calls end.

pub mod rows;
pub mod state;
pub mod update;
pub mod view;

pub use state::{KpiTable, KpiView};

use crate::ui::keymap::{Action, Context};

/// The footer's key hints, in order.
pub const HINTS: [(Context, Action, &str); 8] = [
    (Context::Global, Action::Help, "help"),
    (Context::Global, Action::ShowLive, "live"),
    (Context::Global, Action::Filter, "days"),
    (Context::Global, Action::FocusNext, "table"),
    (Context::List, Action::SortNext, "sort"),
    (Context::History, Action::Export, "export"),
    (Context::History, Action::Refresh, "refresh"),
    (Context::Global, Action::Quit, "quit"),
];
