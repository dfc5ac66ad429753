//! `update` for the Live screen: focus, filter, zoom, sort and selection of
//! its panes, by key and by mouse.

use super::{columns, rows};
use crate::ui::keymap::Action;
use crate::ui::model::{Mode, Model, PaneId};
use crate::ui::nav;
use crate::ui::table::{self, TableRow};
use crate::ui::update::{Outcome, global_action, go};
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

fn focused_height(model: &Model) -> usize {
    crate::ui::layout::areas(model.size, model)
        .pane(model.focus)
        .map(table::body_height)
        .unwrap_or(1)
}

/// Moves the focused pane's selection by `delta` rows.
fn move_by(model: &mut Model, delta: isize) {
    let pane = model.focus;
    let height = focused_height(model);
    let keys = table::keys(&rows(model, pane));
    nav::move_selection(&keys, model.table_mut(pane), delta, height);
}

/// A normal-mode action on the Live screen.
pub fn action(model: &mut Model, action: Action) -> Outcome {
    if let Some(outcome) = global_action(model, action) {
        return outcome;
    }
    let page = focused_height(model).max(1) as isize;
    match action {
        Action::FocusNext => model.focus = model.focus.cycle(1),
        Action::FocusPrev => model.focus = model.focus.cycle(-1),
        Action::FocusExtensions => model.focus = PaneId::Extensions,
        Action::FocusQueues => model.focus = PaneId::Queues,
        Action::FocusCalls => model.focus = PaneId::Calls,
        Action::Filter => model.mode = Mode::Filter,
        Action::ClearFilter => {
            let st = model.table_mut(model.focus);
            if st.filter.is_empty() {
                return go(false);
            }
            st.filter.clear();
        }
        Action::Zoom => model.zoom = !model.zoom,
        Action::Actions => return crate::ui::supervise::update::open_menu(model),
        _ if nav::is_movement(action) => move_by(model, nav::steps(action, page)),
        Action::SortNext => {
            let n = columns(model, model.focus).len();
            let st = model.table_mut(model.focus);
            st.sort = (st.sort + 1) % n;
        }
        Action::SortReverse => {
            let st = model.table_mut(model.focus);
            st.reverse = !st.reverse;
        }
        _ => return go(false),
    }
    go(true)
}

/// The mouse: the wheel scrolls the pane under it, a click focuses it and
/// selects the row.
pub fn mouse(model: &mut Model, ev: MouseEvent) -> Outcome {
    let areas = crate::ui::layout::areas(model.size, model);
    let at = Position::new(ev.column, ev.row);
    let Some((pane, rect)) = areas.panes.iter().find(|(_, r)| r.contains(at)).copied() else {
        return go(false);
    };
    match ev.kind {
        MouseEventKind::ScrollUp => {
            model.focus = pane;
            move_by(model, -1);
        }
        MouseEventKind::ScrollDown => {
            model.focus = pane;
            move_by(model, 1);
        }
        MouseEventKind::Down(MouseButton::Left) => {
            model.focus = pane;
            // Row 0 is the border, row 1 the column header.
            let Some(line) = ev.row.checked_sub(rect.y + 2) else {
                return go(true);
            };
            let index = model.table(pane).offset + usize::from(line);
            let key = rows(model, pane).get(index).map(TableRow::id);
            if key.is_some() {
                model.table_mut(pane).selected = key;
            }
        }
        _ => return go(false),
    }
    go(true)
}
