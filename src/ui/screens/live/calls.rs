//! Calls pane: live calls (channels grouped by Linkedid).

use crate::pbx::{Call, Channel, Pbx, calls};
use crate::ui::format::{duration, ramp_item};
use crate::ui::model::Model;
use crate::ui::table::{Column, SortKey, TableCell, TableRow};
use crate::ui::theme::Item;
use ratatui::layout::Constraint;
use std::collections::HashSet;
use std::rc::Rc;

/// Columns: From, To, Status, Time, Legs, Peer channel.
pub const COLUMNS: [Column; 6] = [
    Column {
        title: "From",
        width: Constraint::Min(14),
    },
    Column {
        title: "To",
        width: Constraint::Min(12),
    },
    Column {
        title: "Status",
        width: Constraint::Length(8),
    },
    Column {
        title: "Time",
        width: Constraint::Length(7),
    },
    Column {
        title: "Legs",
        width: Constraint::Length(4),
    },
    Column {
        title: "Channel",
        width: Constraint::Length(22),
    },
];

/// `Name <number>`, or whichever of the two there is.
pub fn party(name: &str, num: &str) -> String {
    match (name.is_empty(), num.is_empty()) {
        (false, false) if name != num => format!("{name} <{num}>"),
        (false, _) => name.to_string(),
        (true, false) => num.to_string(),
        (true, true) => String::new(),
    }
}

/// The calling party: the oldest channel that has a caller number.
pub fn caller<'a>(call: &Call<'a>) -> Option<&'a Channel> {
    call.channels
        .iter()
        .find(|c| !c.caller_num.is_empty())
        .or(call.channels.first())
        .copied()
}

/// One row per call of every PBX, sorting by column `sort`.
pub fn rows(model: &Model, sort: usize) -> Vec<TableRow<'_>> {
    model
        .visible_pbxs()
        .flat_map(|p| pbx_rows(model, p, sort))
        .collect()
}

/// One row per call of PBX `p`.
fn pbx_rows<'a>(model: &'a Model, p: &'a Pbx, sort: usize) -> Vec<TableRow<'a>> {
    let queued: Rc<HashSet<&str>> = Rc::new(
        p.state
            .queues
            .values()
            .flat_map(|q| q.callers.iter().map(|c| c.uniqueid.as_str()))
            .collect(),
    );
    let now = model.now_ms;
    let in_call = model.time_in_state.in_call;
    calls(p.state.channels.values())
        .into_iter()
        .filter(|call| model.sees_call(&p.state, call))
        .map(|call| {
            let queued = Rc::clone(&queued);
            let status = call.status(|u| queued.contains(u));
            let secs = now.saturating_sub(call.started_ms()) / 1000;
            let from = caller(&call);
            let key = match sort {
                0 => SortKey::Owned(
                    from.map(|c| party(&c.caller_name, &c.caller_num))
                        .unwrap_or_default(),
                ),
                1 => SortKey::Owned(to_text(from)),
                2 => SortKey::Owned(status.to_string()),
                3 => SortKey::Num(secs),
                4 => SortKey::Num(call.channels.len() as i64),
                _ => SortKey::Fold(call.peer().map(|c| c.name.as_str()).unwrap_or("")),
            };
            TableRow {
                pbx: &p.name,
                key: call.linkedid,
                sort: key,
                cells: Box::new(move || {
                    let from = caller(&call);
                    let item = match status {
                        "Talking" => Item::StateInCall,
                        "Ringing" | "Queued" => Item::StateRinging,
                        "On hold" => Item::StateOnHold,
                        _ => Item::Text,
                    };
                    vec![
                        TableCell::new(
                            from.map(|c| party(&c.caller_name, &c.caller_num))
                                .unwrap_or_default(),
                            Item::Text,
                        ),
                        TableCell::new(to_text(from), Item::Text),
                        TableCell::new(status, item),
                        TableCell::new(duration(secs), ramp_item(secs, Some(in_call))),
                        TableCell::new(call.channels.len().to_string(), Item::Muted),
                        TableCell::new(
                            call.peer().map(|c| c.name.clone()).unwrap_or_default(),
                            Item::Muted,
                        ),
                    ]
                }),
            }
        })
        .collect()
}

/// Who the caller reaches: its connected line, else the dialled extension.
fn to_text(from: Option<&Channel>) -> String {
    from.map(|c| {
        let connected = party(&c.connected_name, &c.connected_num);
        if connected.is_empty() {
            c.exten.clone()
        } else {
            connected
        }
    })
    .unwrap_or_default()
}
