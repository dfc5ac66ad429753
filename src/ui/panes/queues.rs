//! Queues pane: one row per queue with its live figures; beside it the
//! selected queue's waiting callers and members.

use crate::pbx::{DeviceState, Health, Queue, QueueMember};
use crate::ui::format::{duration, ramp_item};
use crate::ui::model::{Model, PaneId};
use crate::ui::table::{self, Column, Decor, SortKey, TableCell, TableRow, TableState};
use crate::ui::theme::{Item, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

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
    Column {
        title: "SL%",
        width: Constraint::Length(4),
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

const CALLER_COLUMNS: [Column; 4] = [
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

const MEMBER_COLUMNS: [Column; 6] = [
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

/// One row per queue, sorting by column `sort`.
pub fn rows(model: &Model, sort: usize) -> Vec<TableRow<'_>> {
    model
        .pbx
        .queues
        .values()
        .filter(|q| model.sees_queue(&q.name))
        .map(|q| {
            let f = q.figures(model.now_ms, &model.health);
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
                key: &q.name,
                sort: key,
                cells: Box::new(move || {
                    let sl = f
                        .service_level
                        .map(|v| format!("{v:.0}"))
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

/// The queue selected in the Queues pane, if any.
pub fn selected_queue<'a>(model: &'a Model, rows: &[TableRow<'_>]) -> Option<&'a Queue> {
    let st = model.table(PaneId::Queues);
    rows.get(table::selected_index(rows, st))
        .and_then(|r| model.pbx.queues.get(r.key))
}

/// Draws the selected queue's callers (top) and members (bottom) in `area`.
pub fn draw_detail(f: &mut Frame, area: Rect, model: &Model, queue: Option<&Queue>, theme: &Theme) {
    let Some(q) = queue else {
        let empty = TableState::default();
        let decor = Decor {
            title: "No queue".into(),
            focused: false,
            theme,
        };
        table::render(f, area, &MEMBER_COLUMNS, &[], &empty, decor);
        return;
    };
    let callers_height = (q.callers.len() as u16 + 3).max(4).min(area.height / 2);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(callers_height), Constraint::Min(3)]).areas(area);
    let now = model.now_ms;
    let waiting_ramp = model.time_in_state.waiting;
    let callers: Vec<TableRow<'_>> = q
        .callers
        .positioned()
        .map(|(position, c)| TableRow {
            key: &c.uniqueid,
            sort: SortKey::Num(i64::from(position)),
            cells: Box::new(move || {
                let wait = c.wait_s(now);
                vec![
                    TableCell::new(position.to_string(), Item::Text),
                    TableCell::new(c.caller_name.clone(), Item::Text),
                    TableCell::new(c.caller_num.clone(), Item::Muted),
                    TableCell::new(duration(wait), ramp_item(wait, Some(waiting_ramp))),
                ]
            }),
        })
        .collect();
    let st = TableState::default();
    let title = format!("{}: callers", q.name);
    table::render(
        f,
        top,
        &CALLER_COLUMNS,
        &callers,
        &st,
        Decor {
            title,
            focused: false,
            theme,
        },
    );
    let members: Vec<TableRow<'_>> = q
        .members
        .values()
        .map(|m| TableRow {
            key: &m.interface,
            sort: SortKey::Fold(if m.name.is_empty() {
                &m.interface
            } else {
                &m.name
            }),
            cells: Box::new(move || member_cells(m, now)),
        })
        .collect();
    let members = table::prepare(members, &st);
    let title = format!("{}: members", q.name);
    table::render(
        f,
        bottom,
        &MEMBER_COLUMNS,
        &members,
        &st,
        Decor {
            title,
            focused: false,
            theme,
        },
    );
}

fn member_cells(m: &QueueMember, now_ms: i64) -> Vec<TableCell> {
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
