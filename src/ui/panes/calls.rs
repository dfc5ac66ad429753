//! Calls pane: live calls (channels grouped by Linkedid).

use crate::pbx::{Call, Channel, calls};
use crate::ui::format::{duration, ramp_item};
use crate::ui::model::Model;
use crate::ui::table::{Column, SortKey, TableCell, TableRow};
use crate::ui::theme::Item;
use ratatui::layout::Constraint;
use std::collections::HashSet;

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

fn party(name: &str, num: &str) -> String {
    match (name.is_empty(), num.is_empty()) {
        (false, false) if name != num => format!("{name} <{num}>"),
        (false, _) => name.to_string(),
        (true, false) => num.to_string(),
        (true, true) => String::new(),
    }
}

/// The calling party: the oldest channel that has a caller number.
fn caller<'a>(call: &'a Call<'a>) -> Option<&'a Channel> {
    call.channels
        .iter()
        .find(|c| !c.caller_num.is_empty())
        .or(call.channels.first())
        .copied()
}

/// One row per call.
pub fn rows(model: &Model) -> Vec<TableRow> {
    let queued: HashSet<&str> = model
        .pbx
        .queues
        .values()
        .flat_map(|q| q.callers.iter().map(|c| c.uniqueid.as_str()))
        .collect();
    calls(model.pbx.channels.values())
        .iter()
        .map(|call| {
            let from = caller(call);
            let from_text = from
                .map(|c| party(&c.caller_name, &c.caller_num))
                .unwrap_or_default();
            let to_text = from
                .map(|c| {
                    let connected = party(&c.connected_name, &c.connected_num);
                    if connected.is_empty() {
                        c.exten.clone()
                    } else {
                        connected
                    }
                })
                .unwrap_or_default();
            let secs = (model.now_ms - call.started_ms()) / 1000;
            let status = call.status(|u| queued.contains(u));
            let item = match status {
                "Talking" => Item::StateInCall,
                "Ringing" | "Queued" => Item::StateRinging,
                "On hold" => Item::StateOnHold,
                _ => Item::Text,
            };
            let peer = call.peer().map(|c| c.name.clone()).unwrap_or_default();
            TableRow {
                key: call.linkedid.to_string(),
                sort: vec![
                    SortKey::Num(call.started_ms()),
                    SortKey::Text(to_text.to_lowercase()),
                    SortKey::Text(status.to_string()),
                    SortKey::Num(secs),
                    SortKey::Num(call.channels.len() as i64),
                    SortKey::Text(peer.clone()),
                ],
                cells: vec![
                    TableCell::new(from_text, Item::Text),
                    TableCell::new(to_text, Item::Text),
                    TableCell::new(status, item),
                    TableCell::new(
                        duration(secs),
                        ramp_item(secs, Some(model.time_in_state.in_call)),
                    ),
                    TableCell::new(call.channels.len().to_string(), Item::Muted),
                    TableCell::new(peer, Item::Muted),
                ],
            }
        })
        .collect()
}
