//! The History screen: calls from the CDR database, a page at a time, with
//! their legs and a detail popup.

pub mod detail;
pub mod state;
pub mod update;
pub mod view;

pub use state::HistoryView;

use crate::ui::keymap::{Action, Context};

/// The footer's key hints, in order.
pub const HINTS: [(Context, Action, &str); 9] = [
    (Context::Global, Action::Help, "help"),
    (Context::Global, Action::ShowLive, "live"),
    (Context::Global, Action::Filter, "query"),
    (Context::History, Action::Expand, "legs"),
    (Context::History, Action::Detail, "detail"),
    (Context::List, Action::SortNext, "order"),
    (Context::History, Action::Export, "export"),
    (Context::History, Action::Refresh, "refresh"),
    (Context::Global, Action::Quit, "quit"),
];
