//! The Audit table: one row per action, newest first: time (the PBX's
//! zone), user, PBX, action, target, reason or value, result, Asterisk's
//! answer (or the refusal's words).

use crate::ui::model::Model;
use crate::ui::table::{Column, SortKey, TableCell, TableRow};
use crate::ui::theme::Item;
use ratatui::layout::Constraint;

const fn col(title: &'static str, width: u16) -> Column {
    Column {
        title,
        width: Constraint::Length(width),
    }
}

/// Columns: Time, User, Action, Result, Target, Detail, PBX, Answer (a
/// narrow terminal cuts from the right).
pub const COLUMNS: [Column; 8] = [
    col("Time", 19),
    col("User", 10),
    col("Action", 9),
    col("Result", 8),
    col("Target", 28),
    col("Detail", 14),
    col("PBX", 8),
    Column {
        title: "Answer",
        width: Constraint::Min(20),
    },
];

fn result_item(result: &str) -> Item {
    match result {
        "ok" => Item::HealthOk,
        "refused" => Item::RampWarn,
        "failed" | "sent" => Item::HealthCritical,
        _ => Item::Text,
    }
}

/// One row per audit row, newest first.
pub fn rows(model: &Model) -> Vec<TableRow<'_>> {
    let tz = model.tz;
    model
        .audit
        .rows
        .iter()
        .rev()
        .map(move |(key, r)| TableRow {
            pbx: "",
            key,
            sort: SortKey::Num(r.at),
            cells: Box::new(move || {
                let at = chrono::DateTime::from_timestamp_millis(r.at)
                    .unwrap_or_default()
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string();
                vec![
                    TableCell::new(at, Item::Muted),
                    TableCell::new(r.login.clone(), Item::Text),
                    TableCell::new(r.action.clone(), Item::Text),
                    TableCell::new(r.result.clone(), result_item(&r.result)),
                    TableCell::new(r.target.clone(), Item::Text),
                    TableCell::new(r.detail.clone(), Item::Muted),
                    TableCell::new(r.pbx.clone(), Item::Muted),
                    TableCell::new(r.answer.clone(), Item::Muted),
                ]
            }),
        })
        .collect()
}
