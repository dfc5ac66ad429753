//! The Live screen: queues (with the selected queue's callers and members),
//! extensions and calls, from the PBX state the AMI events build.

pub mod calls;
pub mod extensions;
pub mod queues;
pub mod update;
pub mod view;

use crate::ui::keymap::{Action, Context};
use crate::ui::model::{Model, PaneId};
use crate::ui::table::{self, Column, TableRow};

/// The footer's key hints, in order.
pub const HINTS: [(Context, Action, &str); 8] = [
    (Context::Global, Action::Help, "help"),
    (Context::Global, Action::ShowHistory, "history"),
    (Context::Global, Action::FocusNext, "pane"),
    (Context::Global, Action::Filter, "filter"),
    (Context::List, Action::SortNext, "sort"),
    (Context::List, Action::SortReverse, "reverse"),
    (Context::Global, Action::Zoom, "zoom"),
    (Context::Global, Action::Quit, "quit"),
];

/// Columns of `pane`.
pub fn columns(pane: PaneId) -> &'static [Column] {
    match pane {
        PaneId::Queues => &queues::COLUMNS,
        PaneId::Extensions => &extensions::COLUMNS,
        PaneId::Calls => &calls::COLUMNS,
    }
}

/// The rows of `pane`, filtered and sorted as its table state says.
pub fn rows(model: &Model, pane: PaneId) -> Vec<TableRow<'_>> {
    let sort = model.table(pane).sort;
    let raw = match pane {
        PaneId::Queues => queues::rows(model, sort),
        PaneId::Extensions => extensions::rows(model, sort),
        PaneId::Calls => calls::rows(model, sort),
    };
    table::prepare(raw, model.table(pane))
}
