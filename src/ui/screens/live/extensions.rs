//! Extensions pane: every phone with its derived state and time in state.

use crate::pbx::{Extension, ExtensionState};
use crate::ui::format::{duration, ramp_item};
use crate::ui::model::Model;
use crate::ui::table::{Column, SortKey, TableCell, TableRow};
use crate::ui::theme::Item;
use ratatui::layout::Constraint;

/// Columns: Ext, Name, State, Time (in state), Device.
pub const COLUMNS: [Column; 5] = [
    Column {
        title: "Ext",
        width: Constraint::Length(7),
    },
    Column {
        title: "Name",
        width: Constraint::Min(10),
    },
    Column {
        title: "State",
        width: Constraint::Length(18),
    },
    Column {
        title: "Time",
        width: Constraint::Length(8),
    },
    Column {
        title: "Device",
        width: Constraint::Length(14),
    },
];

/// Theme item for an extension state.
pub fn state_item(s: &ExtensionState) -> Item {
    match s {
        ExtensionState::Offline => Item::StateOffline,
        ExtensionState::Idle => Item::StateIdle,
        ExtensionState::Ringing => Item::StateRinging,
        ExtensionState::InCall => Item::StateInCall,
        ExtensionState::OnHold => Item::StateOnHold,
        ExtensionState::Busy => Item::StateBusy,
        ExtensionState::Paused(_) => Item::StatePaused,
        ExtensionState::Unknown => Item::StateUnknown,
    }
}

fn state_text(e: &Extension) -> String {
    match &e.state {
        ExtensionState::Paused(r) if !r.is_empty() => format!("Paused ({r})"),
        s => s.label().to_string(),
    }
}

/// One row per extension of every PBX (unsorted, unfiltered), sorting by column `sort`.
pub fn rows(model: &Model, sort: usize) -> Vec<TableRow<'_>> {
    let ramps = &model.time_in_state;
    let now = model.now_ms;
    model
        .visible_pbxs()
        .flat_map(|p| p.state.extensions.values().map(move |e| (p, e)))
        .filter(|(_, e)| model.shows_extension(e))
        .map(|(p, e)| {
            let secs = e.seconds_in_state(now);
            let key = match sort {
                1 => SortKey::Fold(&e.name),
                2 => SortKey::Owned(state_text(e)),
                3 => SortKey::Num(secs),
                4 => SortKey::Natural(&e.device),
                _ => SortKey::Natural(&e.exten),
            };
            TableRow {
                pbx: &p.name,
                key: &e.device,
                sort: key,
                cells: Box::new(move || {
                    let ramp = match e.state {
                        ExtensionState::Ringing => Some(ramps.ringing),
                        ExtensionState::InCall => Some(ramps.in_call),
                        ExtensionState::OnHold => Some(ramps.on_hold),
                        ExtensionState::Paused(_) => Some(ramps.paused),
                        _ => None,
                    };
                    vec![
                        TableCell::new(e.exten.clone(), Item::Text),
                        TableCell::new(e.name.clone(), Item::Text),
                        TableCell::new(state_text(e), state_item(&e.state)),
                        TableCell::new(duration(secs), ramp_item(secs, ramp)),
                        TableCell::new(e.device.clone(), Item::Muted),
                    ]
                }),
            }
        })
        .collect()
}
