//! Queues pane: one row per queue with its live figures; beside it the
//! selected queue's waiting callers and members.

use crate::pbx::{DeviceState, Health, Pbx, Queue, QueueMember};
use crate::ui::format::{duration, ramp_item};
use crate::ui::model::{Model, PaneId};
use crate::ui::table::{self, Column, SortKey, TableCell, TableRow};
use crate::ui::theme::Item;
use ratatui::layout::Constraint;

/// Columns of the queue list.
pub const COLUMNS: [Column; 10] = [
    Column {
        title: "Queue",
        width: Constraint::Min(8),
    },
    Column {
        title: "Wait",
        width: Constraint::Length(4),
    },
    Column {
        title: "Longest",
        width: Constraint::Length(7),
    },
    Column {
        title: "Avail",
        width: Constraint::Length(5),
    },
    Column {
        title: "Busy",
        width: Constraint::Length(4),
    },
    Column {
        title: "Paus",
        width: Constraint::Length(4),
    },
    // The figure as `queue show` prints it, with its variant's name:
    // `93.3 SL2`, `100 SL` (docs/kpi.md).
    Column {
        title: "SL %",
        width: Constraint::Length(8),
    },
    Column {
        title: "Done",
        width: Constraint::Length(4),
    },
    Column {
        title: "Aband",
        width: Constraint::Length(5),
    },
    Column {
        title: "Health",
        width: Constraint::Length(6),
    },
];

/// Columns of the selected queue's callers.
pub(super) const CALLER_COLUMNS: [Column; 4] = [
    Column {
        title: "Pos",
        width: Constraint::Length(3),
    },
    Column {
        title: "Caller",
        width: Constraint::Min(12),
    },
    Column {
        title: "Number",
        width: Constraint::Length(14),
    },
    Column {
        title: "Wait",
        width: Constraint::Length(7),
    },
];

/// Columns of the selected queue's members.
pub(super) const MEMBER_COLUMNS: [Column; 6] = [
    Column {
        title: "Member",
        width: Constraint::Length(14),
    },
    Column {
        title: "State",
        width: Constraint::Length(11),
    },
    Column {
        title: "Calls",
        width: Constraint::Length(5),
    },
    Column {
        title: "Last",
        width: Constraint::Length(6),
    },
    Column {
        title: "Reason",
        width: Constraint::Length(9),
    },
    Column {
        title: "Interface",
        width: Constraint::Min(6),
    },
];

/// Theme item for a health level.
pub fn health_item(h: Health) -> Item {
    match h {
        Health::Ok => Item::HealthOk,
        Health::Warn => Item::HealthWarn,
        Health::Critical => Item::HealthCritical,
    }
}

/// One row per queue of every PBX, sorting by column `sort`.
pub fn rows(model: &Model, sort: usize) -> Vec<TableRow<'_>> {
    model
        .visible_pbxs()
        .flat_map(|p| p.state.queues.values().map(move |q| (p, q)))
        .filter(|(_, q)| model.sees_queue(&q.name))
        .map(|(p, q)| {
            let f = q.figures(
                model.now_ms,
                &model.health,
                model.sl_targets.variant(&q.name),
            );
            let key = match sort {
                1 => SortKey::Num(f.waiting as i64),
                2 => SortKey::Num(f.longest_wait_s),
                3 => SortKey::Num(f.available as i64),
                4 => SortKey::Num(f.busy as i64),
                5 => SortKey::Num(f.paused as i64),
                6 => SortKey::Num(f.service_level.map(|v| (v * 10.0) as i64).unwrap_or(-1)),
                7 => SortKey::Num(i64::from(q.completed)),
                8 => SortKey::Num(i64::from(q.abandoned)),
                9 => SortKey::Num(f.health as i64),
                _ => SortKey::Natural(&q.name),
            };
            let waiting_ramp = model.time_in_state.waiting;
            TableRow {
                pbx: &p.name,
                key: &q.name,
                sort: key,
                cells: Box::new(move || {
                    let sl = f
                        .service_level
                        .map(|v| {
                            let v = format!("{v:.1}");
                            let v = v.strip_suffix(".0").unwrap_or(&v);
                            format!("{v} {}", f.sl_variant.label())
                        })
                        .unwrap_or_else(|| "-".into());
                    let health = match f.health {
                        Health::Ok => "OK",
                        Health::Warn => "WARN",
                        Health::Critical => "CRIT",
                    };
                    vec![
                        TableCell::new(q.name.clone(), Item::Text),
                        TableCell::new(
                            f.waiting.to_string(),
                            if f.waiting > 0 {
                                Item::StateRinging
                            } else {
                                Item::Text
                            },
                        ),
                        TableCell::new(
                            duration(f.longest_wait_s),
                            ramp_item(f.longest_wait_s, Some(waiting_ramp)),
                        ),
                        TableCell::new(f.available.to_string(), Item::StateIdle),
                        TableCell::new(f.busy.to_string(), Item::StateInCall),
                        TableCell::new(f.paused.to_string(), Item::StatePaused),
                        TableCell::new(sl, Item::Text),
                        TableCell::new(q.completed.to_string(), Item::Text),
                        TableCell::new(q.abandoned.to_string(), Item::Text),
                        TableCell::new(health, health_item(f.health)),
                    ]
                }),
            }
        })
        .collect()
}

/// A member's state for the screen, with its theme item.
pub fn member_state(m: &QueueMember, now_ms: i64) -> (&'static str, Item) {
    if m.paused {
        ("Paused", Item::StatePaused)
    } else if !m.is_staffed() {
        ("Unavailable", Item::StateOffline)
    } else if matches!(m.status, DeviceState::Ringing | DeviceState::RingInUse) {
        ("Ringing", Item::StateRinging)
    } else if m.in_call {
        ("In call", Item::StateInCall)
    } else if m.status != DeviceState::NotInUse {
        ("In use", Item::StateBusy)
    } else if m.in_wrapup(now_ms, 0) {
        ("Wrap-up", Item::StateOnHold)
    } else {
        ("Available", Item::StateIdle)
    }
}

/// The queue selected in the Queues pane, if any, with its PBX.
pub fn selected_queue<'a>(model: &'a Model, rows: &[TableRow<'_>]) -> Option<(&'a Pbx, &'a Queue)> {
    let st = model.table(PaneId::Queues);
    let row = rows.get(table::selected_index(rows, st))?;
    let p = model.pbxs.by_name(row.pbx)?;
    p.state.queues.get(row.key).map(|q| (p, q))
}

/// The cells of a member row.
pub(super) fn member_cells(m: &QueueMember, now_ms: i64) -> Vec<TableCell> {
    let (state, item) = member_state(m, now_ms);
    let last = if m.last_call > 0 {
        duration(now_ms / 1000 - m.last_call)
    } else {
        "-".into()
    };
    let name = if m.name.is_empty() {
        &m.interface
    } else {
        &m.name
    };
    vec![
        TableCell::new(name.clone(), Item::Text),
        TableCell::new(state, item),
        TableCell::new(m.calls_taken.to_string(), Item::Text),
        TableCell::new(last, Item::Muted),
        TableCell::new(m.paused_reason.clone(), Item::StatePaused),
        TableCell::new(m.interface.clone(), Item::Muted),
    ]
}
