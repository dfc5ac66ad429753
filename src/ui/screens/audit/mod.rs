//! The Audit screen: the trail of supervisor actions and campaign
//! intents, newest last, read from the app database (every user's rows
//! for an admin, one's own otherwise). `switchboard audit` exports the
//! same rows.

pub mod rows;
pub mod update;
pub mod view;

use crate::dialer::store::AuditRow;
use crate::ui::keymap::{Action, Context};
use crate::ui::table::TableState;

/// The footer's key hints, in order.
pub const HINTS: [(Context, Action, &str); 4] = [
    (Context::Global, Action::Help, "help"),
    (Context::Global, Action::ShowLive, "live"),
    (Context::Global, Action::Filter, "filter"),
    (Context::Global, Action::Quit, "quit"),
];

/// Rows the screen reads (the newest).
pub const SHOWN: u32 = 500;

/// What the Audit screen holds.
#[derive(Clone, Debug, Default)]
pub struct AuditView {
    /// The rows, oldest first, each with its id as text (the table's
    /// key).
    pub rows: Vec<(String, AuditRow)>,
    /// The table's selection, sort and filter.
    pub table: TableState,
    /// The read asked for and not answered yet.
    pub pending: Option<u64>,
    /// When the rows were read, ms since the epoch (UTC).
    pub read_ms: Option<i64>,
}
