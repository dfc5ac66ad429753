//! The Live screen: queues (with the selected queue's callers and members),
//! extensions and calls, from the PBX state the AMI events build.

pub mod calls;
pub mod extensions;
pub mod queues;
pub mod update;
pub mod view;

use crate::ui::keymap::{Action, Context};
use crate::ui::model::{Model, PaneId};
use crate::ui::table::{self, Column, SortKey, TableCell, TableRow};
use crate::ui::theme::Item;
use ratatui::layout::Constraint;
use std::borrow::Cow;

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

/// The PBX column, first in every live pane when the console follows
/// several PBXs (`[[pbx]]`).
const PBX_COLUMN: Column = Column {
    title: "PBX",
    width: Constraint::Length(8),
};

/// Columns of `pane`: its own, after the PBX column when there are several
/// PBXs.
pub fn columns(model: &Model, pane: PaneId) -> Cow<'static, [Column]> {
    let own: &'static [Column] = match pane {
        PaneId::Queues => &queues::COLUMNS,
        PaneId::Extensions => &extensions::COLUMNS,
        PaneId::Calls => &calls::COLUMNS,
    };
    if model.pbxs.is_many() {
        Cow::Owned([PBX_COLUMN].iter().chain(own).copied().collect())
    } else {
        Cow::Borrowed(own)
    }
}

/// The rows of `pane`, filtered and sorted as its table state says.
pub fn rows(model: &Model, pane: PaneId) -> Vec<TableRow<'_>> {
    let many = model.pbxs.is_many();
    let sort = model.table(pane).sort;
    // With the PBX column first, the pane's own columns are one further.
    let own_sort = if many { sort.saturating_sub(1) } else { sort };
    let raw = match pane {
        PaneId::Queues => queues::rows(model, own_sort),
        PaneId::Extensions => extensions::rows(model, own_sort),
        PaneId::Calls => calls::rows(model, own_sort),
    };
    let raw = if many {
        raw.into_iter().map(|r| with_pbx(r, sort == 0)).collect()
    } else {
        raw
    };
    table::prepare(raw, model.table(pane))
}

/// `row` with its PBX's name as its first cell (and its sort key, when the
/// PBX column is the sort column).
fn with_pbx(row: TableRow<'_>, by_pbx: bool) -> TableRow<'_> {
    let TableRow {
        pbx,
        key,
        sort,
        cells,
    } = row;
    TableRow {
        pbx,
        key,
        sort: if by_pbx { SortKey::Natural(pbx) } else { sort },
        cells: Box::new(move || {
            let mut all = vec![TableCell::new(pbx, Item::Muted)];
            all.extend(cells());
            all
        }),
    }
}
